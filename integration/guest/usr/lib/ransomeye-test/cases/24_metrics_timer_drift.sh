# Case 24, sourced by report.sh: drift after a healthy boot. An administrator
# (or "sysctl --system" with another file) sets vm.swappiness back to 60; the
# shipped metrics timer must turn that into
# ransomeye_tuner_guarantee_ok{guarantee="sysctl:vm.swappiness"} 0 in the
# textfile within about a minute, without anyone running status.
prom=/var/lib/prometheus/node-exporter/ransomeye_tuner.prom
line='ransomeye_tuner_guarantee_ok{guarantee="sysctl:vm.swappiness"}'
kv case.timer_active "$(systemctl is-active ransomeye-tuner-metrics.timer)"
# The timer's first run (OnBootSec=1min) can still be going when the report
# starts (run 20261201T190112Z: it ran from 69.6 s to 82.2 s, the report
# started at 81.5 s): if it read the sysctl after the change below, it wrote
# the 0 under the invocation read here and the case failed for no defect.
for _ in $(seq 1 60); do
  [ "$(systemctl is-active ransomeye-tuner-metrics.service)" = activating ] || break
  sleep 1
done
kv case.ok_before "$(grep -F "$line" "$prom" | awk '{print $2}')"
kv case.mtime_before "$(stat -c %Y "$prom" 2>/dev/null)"
inv_before=$(systemctl show ransomeye-tuner-metrics.service -p InvocationID --value)
sysctl -q -w vm.swappiness=60
t0=$(cut -d. -f1 /proc/uptime)
# The timer fires every minute (AccuracySec=10s); allow three periods under
# emulation. Poll, do not sleep a fixed time.
got=
for _ in $(seq 1 120); do
  got=$(grep -F "$line" "$prom" | awk '{print $2}')
  [ "$got" = 0 ] && break
  sleep 2
done
kv case.ok_after "$got"
kv case.drift_seconds "$(( $(cut -d. -f1 /proc/uptime) - t0 ))"
kv case.mtime_after "$(stat -c %Y "$prom" 2>/dev/null)"
kv case.metrics_invocation_changed "$([ "$inv_before" != "$(systemctl show ransomeye-tuner-metrics.service -p InvocationID --value)" ] && echo yes || echo no)"
kv case.metrics_result "$(systemctl show ransomeye-tuner-metrics.service -p Result --value)"
kv case.swappiness_after "$(sysctl -n vm.swappiness)"
kv case.core_state_after "$(systemctl show ransomeye-core.service -p ActiveState --value)"
block metrics-textfile cat "$prom"
