# Case 29, sourced by report.sh: the remedy status names for PID 1 on cgroup v1
# (CPUAffinity=0-3 in /etc/systemd/system.conf.d, put in the image by the
# host). What PID 1's affinity is at this point of the boot, after a
# daemon-reexec (which applies CPUAffinity= again) and after a
# daemon-reload (which realizes the cgroups again).
aff1() { taskset -cp 1 | sed 's/.*: //'; }
kv case.pid1_affinity_at_boot "$(aff1)"
kv case.manager_cpu_affinity "$(systemctl show -P CPUAffinity)"
systemctl daemon-reexec
kv case.reexec_rc $?
kv case.pid1_affinity_after_reexec "$(aff1)"
systemctl daemon-reload
kv case.reload_rc $?
kv case.pid1_affinity_after_reload "$(aff1)"
