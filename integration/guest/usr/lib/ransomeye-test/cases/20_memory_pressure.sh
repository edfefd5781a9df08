# Fault matrix row 20, sourced by report.sh: fill memory beyond RAM (a tmpfs,
# whose pages can only go to swap), then show swap in use and the core alive.
total_mib=$(( $(awk '/^MemTotal:/{print $2}' /proc/meminfo) / 1024 ))
fill_mib=$(( total_mib + 256 ))
kv case.fill_mib "$fill_mib"
mkdir -p /tmp/pressure
mount -t tmpfs -o size=$(( fill_mib + 64 ))m pressure /tmp/pressure
kv case.core_pid_before "$(systemctl show ransomeye-core.service -p MainPID --value)"
dd if=/dev/zero of=/tmp/pressure/fill bs=1M count="$fill_mib" status=none
kv case.fill_rc $?
kv case.swap_used_kib "$(awk -v p="$swappath" '$1==p{print $4}' /proc/swaps)"
kv case.core_pid_after "$(systemctl show ransomeye-core.service -p MainPID --value)"
kv case.core_state_after "$(systemctl show ransomeye-core.service -p ActiveState --value)"
kv case.oom_kills "$(journalctl -k -b -q --no-pager | grep -c 'Out of memory' || true)"
rm -f /tmp/pressure/fill
umount /tmp/pressure
