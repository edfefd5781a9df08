# Case 46, sourced by report.sh: on the cgroup v1 hierarchy no memory
# protection exists; what the core's memory cgroup reclaims with.
kv case.core_memcg_swappiness "$(cat "/sys/fs/cgroup/memory$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' "/proc/$(systemctl show -P MainPID ransomeye-core.service)/cgroup")/memory.swappiness" 2>/dev/null)"
kv case.core_memory_low_exists "$(ls /sys/fs/cgroup/memory/system.slice/memory.low 2>/dev/null && echo yes || echo no)"
