# Sourced by the tuned cases (43, 44) from report.sh: wait until tuned has
# applied its profile (its log says "static tuning from profile ...
# applied"; python under TCG takes a while), then record what tuned did to
# vm.swappiness and what the next start of the core meets.
log=/var/log/tuned/tuned.log
applied=no
for _ in $(seq 1 600); do
  if grep -q "static tuning from profile '.*' applied" "$log" 2>/dev/null; then
    applied=yes
    break
  fi
  sleep 1
done
kv case.tuned_applied "$applied"
kv case.tuned_state "$(systemctl show tuned.service -p ActiveState --value)"
kv case.tuned_profile "$(cat /etc/tuned/active_profile 2>/dev/null)"
kv case.tuned_main_reapply_sysctl "$(sed -n "s/^[[:space:]]*reapply_sysctl[[:space:]]*=[[:space:]]*//p" /etc/tuned/tuned-main.conf)"
kv case.tuned_reapplied_sysctl "$(grep -c 'reapplying system sysctl' "$log" 2>/dev/null)"
# Did tuned apply its profile after the core had started (the order the
# drop-in pins)? Both monotonic, in microseconds.
kv case.core_started_us "$(systemctl show ransomeye-core.service -p ExecMainStartTimestampMonotonic --value)"
kv case.tuned_started_us "$(systemctl show tuned.service -p ExecMainStartTimestampMonotonic --value)"
kv case.swappiness_after_tuned "$(sysctl -n vm.swappiness)"
block case-tuned-log cat "$log"
# The status before the core is restarted (report.sh's own status block
# comes after the restart).
block case-status-before-restart /usr/sbin/ransomeye-tuner status
# The next start of the core, as an administrator or a package upgrade
# would do it: the gate (ExecCondition=) decides.
systemctl restart ransomeye-core.service
kv case.core_restart_rc $?
kv case.core_state_after_restart "$(systemctl show ransomeye-core.service -p ActiveState --value)"
kv case.core_result_after_restart "$(systemctl show ransomeye-core.service -p Result --value)"
block case-core-status systemctl status --no-pager -l ransomeye-core.service
