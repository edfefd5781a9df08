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
	rm -f /run/ransomeye-tuner/plan.json /run/ransomeye-tuner/capture-device /run/ransomeye-tuner/place.lock
	rmdir /run/ransomeye-tuner 2>/dev/null || true
	if rt_systemd_running; then
		rt_invoke try-restart irqbalance.service ||
			rt_log "warning: restarting irqbalance.service failed"
	fi
	return 0
}

case "${1:-}" in
purge)
	# The administrator's own files (tuner.conf.d/*.conf) are kept.
	_swap= _metrics=
	if [ -f "$RT_STATE" ]; then
		_swap=$(sed -n 's/^swap=//p' "$RT_STATE")
		_metrics=$(sed -n 's/^metrics=//p' "$RT_STATE")
	fi
	case "$_swap" in
	/?*) ;;
	*) _swap=$RT_DEFAULT_SWAP ;;
	esac
	rt_purge "$_swap" "$_metrics"
	rt_selinux_remove
	rm -f -- "$RT_STATE" "$RT_STATE.new"
	rmdir -- "$RT_STATE_DIR" 2>/dev/null || true
	rt_reload
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
