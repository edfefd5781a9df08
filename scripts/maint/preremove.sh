# preremove: deb prerm (remove, upgrade, deconfigure, failed-upgrade) and
# rpm %preun ($1 = 0 on erase, 1 on upgrade).

# rt_stop: stop the activator while its binary is still installed (its
# ExecStopPost= needs it), and the metrics timer, before rt_uninstall gives
# back what they apply: stopped after it, an activation in progress (the
# unit's) finished after the give-back and applied the sysctls and their
# /run/sysctl.d file again, which the removal then left. Swap stays on and
# the core keeps running: neither depends on the activator with Requires=.
# This is Fedora's %systemd_preun (disable --now on erase) for a unit
# without [Install]: nothing to disable. An activation run by hand is
# waited for by the uninstall itself (the activation lock).
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

# rt_stop_place: stop the place unit, after rt_uninstall. Not before: a
# placement killed between moving the interrupts and writing its record
# leaves moves that no undo knows; the uninstall waits for a running one
# instead (the placement lock), and after it marks the placement withdrawn
# any later one places nothing (a DPI engine's ExecStartPost= too).
rt_stop_place() {
	if rt_systemd_running; then
		rt_invoke stop ransomeye-tuner-place.service ||
			rt_log "warning: stopping ransomeye-tuner-place.service failed"
	fi
	return 0
}

case "${1:-}" in
remove)
	# Debian: a purge may follow, after dpkg has deleted the package's
	# files (the binary too) and its configuration files. Give back now
	# what the binary gives back, and remember which files a purge removes.
	rt_stop
	rt_uninstall
	rt_stop_place
	if mkdir -p "$RT_STATE_DIR"; then
		{
			printf 'swap=%s\n' "$(rt_swap_path)"
			printf 'metrics=%s\n' "$(rt_metrics_path)"
		} >"$RT_STATE.new" && mv -f "$RT_STATE.new" "$RT_STATE" ||
			rt_log "warning: cannot record the swapfile path in $RT_STATE"
	fi
	;;
0)
	# RPM erase is the purge: the configuration is still readable here, and
	# the binary still installed. A swapfile of the tuner's that cannot be
	# removed fails the scriptlet, which refuses the erase: the package
	# stays installed and a later rpm -e finishes the work (RPM has no
	# "config-files" state to come back to, as dpkg has).
	rt_stop
	rt_uninstall
	rt_stop_place
	RT_AGAIN="rpm -e ransomeye-tuner"
	if ! rt_purge "$(rt_swap_path)" "$(rt_metrics_path)"; then
		rt_log "error: the erase is refused and ransomeye-tuner stays installed, its service stopped and its sysctls given back; once the swapfile above can go: rpm -e ransomeye-tuner (to keep the tuner instead: ransomeye-tuner recover)"
		exit 1
	fi
	rt_selinux_remove
	rm -f -- "$RT_STATE" "$RT_STATE.new" "$RT_STATE_DIR/$RT_SYSCTL_RECORD"
	rmdir -- "$RT_STATE_DIR" 2>/dev/null || true
	;;
esac
exit 0
