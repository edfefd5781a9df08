# preremove: deb prerm (remove, upgrade, deconfigure, failed-upgrade) and
# rpm %preun ($1 = 0 on erase, 1 on upgrade).

# rt_stop: stop the activator while its binary is still installed (its
# ExecStopPost= needs it). Swap stays on and the core keeps running: neither
# depends on the activator with Requires=. This is Fedora's %systemd_preun
# (disable --now on erase) for a unit without [Install]: nothing to disable.
# Departure: an RPM erase ($1 = 0) also removes the swapfile, marker and
# metrics (rt_purge): RPM has no purge, and the swapfile is the package's.
rt_stop() {
	if rt_systemd_running; then
		rt_invoke stop ransomeye-tuner.service ||
			rt_log "warning: stopping ransomeye-tuner.service failed"
		rt_invoke stop ransomeye-tuner-metrics.timer ||
			rt_log "warning: stopping ransomeye-tuner-metrics.timer failed"
		rt_invoke stop ransomeye-tuner-metrics.service ||
			rt_log "warning: stopping ransomeye-tuner-metrics.service failed"
	fi
	return 0
}

# rt_unplace: restore the interrupts and unbound kernel work the tuner
# placed (the record is in /run/ransomeye-tuner/plan.json) while the binary
# that reads the record is still installed; without the file nothing was
# placed in this boot. ransomeye-tuner-netdev.service is stopped first: the
# udev rule, still installed until dpkg removes it, reloads that unit on a
# network device event, and a placement after the undo would stay.
rt_unplace() {
	if rt_systemd_running; then
		rt_invoke stop ransomeye-tuner-netdev.service ||
			rt_log "warning: stopping ransomeye-tuner-netdev.service failed"
	fi
	# By name, as Debian policy wants in maintainer scripts (dpkg's PATH
	# holds /usr/sbin).
	if [ -f /run/ransomeye-tuner/plan.json ] && command -v ransomeye-tuner >/dev/null 2>&1; then
		ransomeye-tuner place --undo ||
			rt_log "warning: restoring the interrupt and kernel-work placement failed"
	fi
	return 0
}

case "${1:-}" in
remove)
	# Debian: a purge may follow, after dpkg has deleted the configuration
	# files. Remember now which files a purge removes.
	rt_unplace
	rt_stop
	if mkdir -p "$RT_STATE_DIR"; then
		{
			printf 'swap=%s\n' "$(rt_swap_path)"
			printf 'metrics=%s\n' "$(rt_metrics_path)"
		} >"$RT_STATE.new" && mv -f "$RT_STATE.new" "$RT_STATE" ||
			rt_log "warning: cannot record the swapfile path in $RT_STATE"
	fi
	;;
0)
	# RPM erase is the purge: the configuration is still readable here.
	rt_unplace
	rt_stop
	rt_purge "$(rt_swap_path)" "$(rt_metrics_path)"
	rt_selinux_remove
	;;
esac
exit 0
