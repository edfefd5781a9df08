# postremove: deb postrm (remove, purge, upgrade, failed-upgrade,
# abort-install, abort-upgrade, disappear) and rpm %postun ($1 = 0 on erase,
# 1 on upgrade). As Fedora's %systemd_postun, it reloads systemd; the
# restart %systemd_postun_with_restart would do on upgrade is done by the new
# package's %post (postinstall.sh).

rt_reload() {
	# Drop the removed catalog's entries from journalctl -x.
	if command -v journalctl >/dev/null 2>&1; then
		journalctl --update-catalog || rt_log "warning: journalctl --update-catalog failed"
	fi
	if rt_systemd_running; then
		systemctl daemon-reload || rt_log "warning: systemctl daemon-reload failed"
	fi
	return 0
}

# rt_unplan: after removal the plan file describes a plan nothing enforces
# any more (prerm restored what it recorded); services must not read it.
# irqbalance still runs with the banned CPUs and policy script of the
# removed drop-in: restart it so that it balances over every CPU again.
rt_unplan() {
	rm -f /run/ransomeye-tuner/plan.json /run/ransomeye-tuner/capture-device /run/ransomeye-tuner/place.lock /run/ransomeye-tuner/activate.lock /run/ransomeye-tuner/withdrawn
	rmdir /run/ransomeye-tuner 2>/dev/null || true
	if rt_systemd_running; then
		rt_invoke try-restart irqbalance.service ||
			rt_log "warning: restarting irqbalance.service failed"
	fi
	return 0
}

case "${1:-}" in
purge)
	# The administrator's own files (tuner.conf.d/*.conf) are kept. A
	# swapfile of the tuner's that cannot be removed fails the purge: dpkg
	# then keeps the package in the "config-files" state with this script,
	# and the state directory stays, so that "dpkg --purge ransomeye-tuner"
	# finishes the work once the cause is fixed (a purge that exits 0 would
	# forget the file for good).
	_swap= _metrics=
	if [ -f "$RT_STATE" ]; then
		_swap=$(sed -n 's/^swap=//p' "$RT_STATE")
		_metrics=$(sed -n 's/^metrics=//p' "$RT_STATE")
	fi
	case "$_swap" in
	/?*) ;;
	*) _swap=$RT_DEFAULT_SWAP ;;
	esac
	RT_AGAIN="dpkg --purge ransomeye-tuner"
	_rc=0
	rt_purge "$_swap" "$_metrics" || _rc=1
	rt_selinux_remove
	rt_reload
	if [ "$_rc" -ne 0 ]; then
		rt_log "error: the purge is not complete: dpkg keeps ransomeye-tuner as config-files until 'dpkg --purge ransomeye-tuner' succeeds"
		exit 1
	fi
	rm -f -- "$RT_STATE" "$RT_STATE.new" "$RT_STATE_DIR/$RT_SYSCTL_RECORD"
	rmdir -- "$RT_STATE_DIR" 2>/dev/null || true
	;;
remove | 0)
	rt_reload
	rt_unplan
	;;
abort-install | 1)
	rt_reload
	;;
esac
exit 0
