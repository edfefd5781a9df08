# Case 14b, sourced by report.sh: on a healthy machine that got the .deb
# (MinSize=1G: the target is the 4 GiB of RAM), the administrator moves the
# swapfile with [Swap] Path=/swaplink/swap2, where /swaplink -> ransomeye
# is root's link, as the man page says (daemon-reload, restart, start the
# new swap unit): the kernel names the new file /ransomeye/swap2, and the
# first one, /ransomeye/swap, stays active. An /etc/sysctl.d file sets
# vm.swappiness = 30 and sorts before the package's. dpkg --purge must turn
# off and remove both swapfiles, remove /run/sysctl.d/60-ransomeye-tuner.conf
# and give vm.swappiness back the administrator's 30.
ln -s ransomeye /swaplink
printf '[Swap]\nPath=/swaplink/swap2\n' >/etc/ransomeye/tuner.conf.d/60-path.conf
systemctl daemon-reload
systemctl restart ransomeye-tuner.service
kv case.restart_rc $?
systemctl start swaplink-swap2.swap
kv case.start_swap2_rc $?
kv case.installed "$(dpkg-query -W -f '${Status} ${Version}' ransomeye-tuner 2>&1)"
kv case.swaps_before "$(awk 'NR > 1 { printf "%s ", $1 }' /proc/swaps)"
kv case.run_sysctl_before "$([ -e /run/sysctl.d/60-ransomeye-tuner.conf ] && echo yes || echo no)"
kv case.swappiness_before "$(cat /proc/sys/vm/swappiness)"
kv case.record "$(grep -v '^#' /var/lib/ransomeye-tuner/swapfiles 2>&1 | tr '\n' ' ')"
dpkg --purge ransomeye-tuner >/tmp/purge.log 2>&1
kv case.purge_rc $?
kv case.purge_log "$(tr '\n' '|' </tmp/purge.log)"
kv case.installed_after "$(dpkg-query -W -f '${Status}' ransomeye-tuner 2>&1 | tr '\n' ' ')"
kv case.swaps_after "$(awk 'NR > 1 { printf "%s ", $1 }' /proc/swaps)"
kv case.swapfile_after "$([ -e /ransomeye/swap ] && echo yes || echo no)"
kv case.swap2_after "$([ -e /ransomeye/swap2 ] && echo yes || echo no)"
kv case.run_sysctl_after "$([ -e /run/sysctl.d/60-ransomeye-tuner.conf ] && echo yes || echo no)"
kv case.swappiness_after "$(cat /proc/sys/vm/swappiness)"
kv case.vfs_cache_pressure_after "$(cat /proc/sys/vm/vfs_cache_pressure)"
kv case.state_dir_after "$([ -e /var/lib/ransomeye-tuner ] && echo yes || echo no)"
