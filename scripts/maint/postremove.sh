# postremove: deb postrm (remove, purge, upgrade, failed-upgrade,
# abort-install, abort-upgrade, disappear) and rpm %postun ($1 = 0 on erase,
# 1 on upgrade). As Fedora's %systemd_postun, it reloads systemd; the
# restart %systemd_postun_with_restart would do on upgrade is done by the new
# package's %post (postinstall.sh).

rt_reload() {
	if rt_systemd_running; then
		systemctl daemon-reload || rt_log "warning: systemctl daemon-reload failed"
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
	rm -f -- "$RT_STATE" "$RT_STATE.new"
	rmdir -- "$RT_STATE_DIR" 2>/dev/null || true
	rt_reload
	;;
remove | abort-install | 0 | 1)
	rt_reload
	;;
esac
exit 0
