# Case 27, sourced by report.sh: on the cgroup v1 memory hierarchy each
# memory cgroup copies its parent's memory.swappiness when it is made, and
# vm.swappiness reaches only the root's. What the core's memory cgroup
# reclaims with, and the cgroups above it; then the same after a restart of
# the core (its memory cgroup made again, from system.slice's value).
mem=/sys/fs/cgroup/memory
corememcg() {
  local pid
  pid=$(systemctl show -P MainPID ransomeye-core.service)
  [ "${pid:-0}" != 0 ] && sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' "/proc/$pid/cgroup"
}
kv case.vm_swappiness "$(cat /proc/sys/vm/swappiness)"
kv case.memcg_root_swappiness "$(cat "$mem/memory.swappiness" 2>/dev/null)"
kv case.memcg_system_slice_swappiness "$(cat "$mem/system.slice/memory.swappiness" 2>/dev/null)"
cg=$(corememcg)
kv case.core_memcg "$cg"
[ -n "$cg" ] && kv case.core_memcg_swappiness "$(cat "$mem$cg/memory.swappiness" 2>/dev/null)"
systemctl restart ransomeye-core.service
kv case.core_restart_rc $?
cg=$(corememcg)
kv case.core_memcg_after_restart "$cg"
[ -n "$cg" ] && kv case.core_memcg_swappiness_after_restart "$(cat "$mem$cg/memory.swappiness" 2>/dev/null)"
