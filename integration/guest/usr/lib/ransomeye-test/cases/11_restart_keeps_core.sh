# Case 11, sourced by report.sh: restart the activator on a healthy machine;
# the core must keep its PID and swap must stay on.
kv case.core_pid_before "$(systemctl show ransomeye-core.service -p MainPID --value)"
kv case.swap_enter_before "$(systemctl show "$swapunit" -p ActiveEnterTimestampMonotonic --value)"
systemctl restart ransomeye-tuner.service
kv case.restart_rc $?
kv case.tuner_state_after "$(systemctl show ransomeye-tuner.service -p ActiveState --value)"
kv case.core_pid_after "$(systemctl show ransomeye-core.service -p MainPID --value)"
kv case.swap_enter_after "$(systemctl show "$swapunit" -p ActiveEnterTimestampMonotonic --value)"
kv case.swap_state_after "$(systemctl show "$swapunit" -p ActiveState --value)"
