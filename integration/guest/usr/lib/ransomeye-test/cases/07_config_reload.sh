# Case 7, sourced by report.sh: change the configuration at runtime, then
# daemon-reload (reruns the generator) and restart the activator (applies).
kv case.swappiness_before "$(sysctl -n vm.swappiness)"
kv case.system_slice_allowed_before "$(systemctl show system.slice -p AllowedCPUs --value)"
kv case.system_slice_dropin_before "$([ -e /run/systemd/generator/system.slice.d/cpu-isolation.conf ] && echo yes || echo no)"
kv case.core_pid_before "$(systemctl show ransomeye-core.service -p MainPID --value)"
mkdir -p /etc/ransomeye
printf '# boot suite case 7\n[Sysctl]\nSwappiness=30\n[CPU]\nIsolation=services\n' >/etc/ransomeye/tuner.conf
systemctl daemon-reload
kv case.reload_rc $?
systemctl restart ransomeye-tuner.service
kv case.restart_rc $?
kv case.swappiness_after "$(sysctl -n vm.swappiness)"
kv case.system_slice_allowed_after "$(systemctl show system.slice -p AllowedCPUs --value)"
kv case.system_slice_dropin_after "$([ -e /run/systemd/generator/system.slice.d/cpu-isolation.conf ] && echo yes || echo no)"
kv case.core_pid_after "$(systemctl show ransomeye-core.service -p MainPID --value)"
