# postinstall: deb postinst (configure, abort-upgrade, abort-remove,
# abort-deconfigure) and rpm %post ($1 = 1 on install, 2 on upgrade).
#
# Apply at once, so that no reboot is needed: reload (which runs the
# generator), then run the activator and start the swap unit. A failure here
# does not fail the package: the activator writes the marker with the reason,
# and ransomeye-core.service does not start until it is fixed.
#
# Against Fedora's %systemd_post (preset on install only): the units have no
# [Install] section, so a preset would do nothing; starting on install is
# deliberate (the guarantees hold without a reboot). On an RPM upgrade
# ($1 = 2) the restart is here, with the new files in place, and not in
# %postun as %systemd_postun_with_restart does it: the same script is
# Debian's postinst, which restarts on upgrade, and one restart is enough.
# policy-rc.d is honoured (rt_invoke).

rt_postinstall() {
	# Before anything runs the tuner: the policy module it needs under an
	# enforcing SELinux (also in an image build, which labels and boots later).
	rt_selinux_install
	# The journal catalog (journalctl -x) works without a running systemd.
	if command -v journalctl >/dev/null 2>&1; then
		journalctl --update-catalog || rt_log "warning: journalctl --update-catalog failed"
	fi
	if ! rt_systemd_running; then
		rt_log "systemd is not running here (chroot or image build): the tuner runs at the next boot"
		return 0
	fi
	systemctl daemon-reload || {
		rt_log "warning: systemctl daemon-reload failed; reboot or run it by hand"
		return 0
	}
	# irqbalance reads its drop-in (the banned CPUs, the policy script),
	# which the reload just wrote, only when it starts: restarted now, before
	# the activator places the interrupts, its next pass keeps off the
	# reserved CPUs. try-restart: one that does not run stays stopped.
	rt_invoke try-restart irqbalance.service ||
		rt_log "warning: restarting irqbalance.service failed; it applies the reserved CPUs at its next restart"
	# restart, not start: after an upgrade the new binary checks again. The
	# core is only Wants=/After= the activator, so it is not restarted.
	rt_invoke restart ransomeye-tuner.service ||
		rt_log "warning: ransomeye-tuner.service failed; see 'ransomeye-tuner status' and 'journalctl -u ransomeye-tuner'"
	rt_invoke start ransomeye-tuner-metrics.timer ||
		rt_log "warning: ransomeye-tuner-metrics.timer failed to start; the metrics refresh at the next boot"
	# Armed now: network device changes are placed again without a reboot.
	rt_invoke start ransomeye-tuner-netdev.service ||
		rt_log "warning: ransomeye-tuner-netdev.service failed to start; network device changes are placed again after the next boot"
	_unit=$(systemd-escape --path --suffix=swap -- "$(rt_swap_path)" 2>/dev/null) || _unit=
	# The generator writes no swap unit when ransomeye.tuner=0 is on the
	# kernel command line or the configuration is invalid.
	if [ -n "$_unit" ] && [ "$(systemctl show -p LoadState --value -- "$_unit" 2>/dev/null)" = loaded ]; then
		rt_invoke start "$_unit" ||
			rt_log "warning: $_unit failed to start; see 'ransomeye-tuner status'"
	fi
	return 0
}

case "${1:-}" in
configure | abort-upgrade | abort-remove | abort-deconfigure | [0-9]*)
	rt_postinstall
	;;
esac
exit 0
