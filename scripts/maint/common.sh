# Shared by the maintainer scripts of the .deb and the .rpm (POSIX sh).
# scripts/package.sh puts this text at the top of each script; it defines
# functions and constants only. The scripts run under `set -e`: every command
# that may fail is guarded, because a package install must not fail on what
# the tuner records in its marker anyway.

LC_ALL=C
export LC_ALL

RT_CONF=/etc/ransomeye/tuner.conf
RT_CONF_D=/etc/ransomeye/tuner.conf.d
RT_DEFAULT_SWAP=/ransomeye/swap
RT_DEFAULT_METRICS=/var/lib/prometheus/node-exporter/ransomeye_tuner.prom
RT_MARKER=/var/lock/ransomeye-resource-fail
RT_LABEL=ransomeye-swap
RT_STATE_DIR=/var/lib/ransomeye-tuner
RT_STATE="$RT_STATE_DIR/purge-paths"

rt_log() {
	echo "ransomeye-tuner: $*" >&2
}

# rt_systemd_running: true when systemd is PID 1 here (not in a chroot or an
# image build), as sd_booted(3) checks it.
rt_systemd_running() {
	[ -d /run/systemd/system ]
}

# rt_policy_allows ACTION UNIT: false when /usr/sbin/policy-rc.d forbids
# ACTION on UNIT (exit 101), asked the way deb-systemd-invoke and
# invoke-rc.d ask it; an image build or a chroot often installs one that
# forbids every start. RPM systems have none: always true there.
rt_policy_allows() {
	[ -x /usr/sbin/policy-rc.d ] || return 0
	_prc=0
	/usr/sbin/policy-rc.d "$2" "$1" >/dev/null 2>&1 || _prc=$?
	if [ "$_prc" = 101 ]; then
		rt_log "policy-rc.d forbids '$1 $2': not done"
		return 1
	fi
	return 0
}

# rt_invoke ACTION UNIT: systemctl ACTION UNIT, honouring policy-rc.d on
# Debian. A stop goes through deb-systemd-invoke where it exists. A start or
# restart cannot: deb-systemd-invoke starts only enabled units (or restarts
# running ones), and the activator is static (pulled in by the generated swap
# unit) and the swap unit generated, so it would never start them on a first
# install; policy-rc.d is asked as deb-systemd-invoke asks it, then systemctl.
rt_invoke() {
	if [ "$1" = stop ] && command -v deb-systemd-invoke >/dev/null 2>&1; then
		deb-systemd-invoke stop "$2"
		return
	fi
	rt_policy_allows "$1" "$2" || return 0
	systemctl "$1" -- "$2"
}

# rt_conf_value SECTION KEY DEFAULT [ROOT]: the value ransomeye-tuner uses for
# KEY in [SECTION]: the last assignment in tuner.conf, then in
# tuner.conf.d/*.conf in byte order; an empty value means the default.
# ROOT prefixes the paths (tests).
rt_conf_value() {
	_sec=$1 _key=$2 _def=$3 _root=${4:-}
	set --
	[ -f "$_root$RT_CONF" ] && set -- "$_root$RT_CONF"
	# The glob skips dot files and sorts in byte order (LC_ALL=C), as the tuner does.
	for _f in "$_root$RT_CONF_D"/*.conf; do
		[ -f "$_f" ] && set -- "$@" "$_f"
	done
	if [ $# -eq 0 ]; then
		printf '%s\n' "$_def"
		return 0
	fi
	awk -v want_sec="$_sec" -v want_key="$_key" -v def="$_def" '
		BEGIN { v = def; ws = "[ \t\r\f\v]+" }
		FNR == 1 { sec = "" }
		{
			line = $0
			sub(ws "$", "", line)
			while (line ~ /\\$/) {
				if ((getline nxt) <= 0) break
				sub("^" ws, "", nxt)
				line = substr(line, 1, length(line) - 1) " " nxt
				sub(ws "$", "", line)
			}
			sub("^" ws, "", line)
			if (line == "" || line ~ /^[#;]/) next
			if (line ~ /^\[/) {
				if (line ~ /\]$/ && length(line) >= 3) sec = substr(line, 2, length(line) - 2)
				else sec = "\001invalid"
				next
			}
			eq = index(line, "=")
			if (eq <= 1) next
			k = substr(line, 1, eq - 1)
			sub(ws "$", "", k)
			if (sec == want_sec && k == want_key) {
				v = substr(line, eq + 1)
				sub("^" ws, "", v)
				if (v == "") v = def
			}
		}
		END { print v }
	' "$@"
}

# rt_swap_path [ROOT]: the configured swapfile path (absolute), or the default.
rt_swap_path() {
	_p=$(rt_conf_value Swap Path "$RT_DEFAULT_SWAP" "${1:-}") || _p=$RT_DEFAULT_SWAP
	case "$_p" in
	/?*) printf '%s\n' "$_p" ;;
	*) printf '%s\n' "$RT_DEFAULT_SWAP" ;;
	esac
}

# rt_metrics_path [ROOT]: the configured metrics file, or nothing when off.
rt_metrics_path() {
	_p=$(rt_conf_value Metrics TextfilePath "$RT_DEFAULT_METRICS" "${1:-}") || _p=$RT_DEFAULT_METRICS
	case "$_p" in
	off | no) ;;
	/?*) printf '%s\n' "$_p" ;;
	esac
}

# rt_is_our_swapfile PATH: true when PATH is a regular file (not a symlink),
# owned by root, holding a swap area labelled ransomeye-swap: the file the
# tuner made, and nothing else.
rt_is_our_swapfile() {
	[ -f "$1" ] && [ ! -L "$1" ] || return 1
	[ "$(stat -c %u -- "$1" 2>/dev/null)" = 0 ] || return 1
	command -v blkid >/dev/null 2>&1 || return 1
	[ "$(blkid -p -o value -s TYPE -- "$1" 2>/dev/null)" = swap ] || return 1
	[ "$(blkid -p -o value -s LABEL -- "$1" 2>/dev/null)" = "$RT_LABEL" ]
}

# rt_swap_active PATH: true when /proc/swaps lists PATH (the kernel writes
# spaces in names as \040).
rt_swap_active() {
	[ -r /proc/swaps ] || return 1
	awk -v p="$1" 'NR > 1 { n = $1; gsub(/\\040/, " ", n); if (n == p) found = 1 } END { exit !found }' /proc/swaps
}

# rt_purge SWAPFILE METRICS: turn the tuner's swapfile off and remove it, the
# failure marker and the metrics file. Nothing else, and the swapfile only
# when rt_is_our_swapfile says it is ours.
rt_purge() {
	_swap=$1 _metrics=$2
	if [ -n "$_swap" ] && [ -e "$_swap" ]; then
		if rt_is_our_swapfile "$_swap"; then
			if rt_swap_active "$_swap"; then
				swapoff -- "$_swap" || rt_log "warning: swapoff $_swap failed"
			fi
			if rt_swap_active "$_swap"; then
				rt_log "warning: $_swap is still active swap; not removing it (remove it after swapoff)"
			else
				rm -f -- "$_swap" && rt_log "removed the swapfile $_swap"
			fi
		else
			rt_log "leaving $_swap alone: it is not a root-owned swap area labelled $RT_LABEL"
		fi
	fi
	if [ -f "$RT_MARKER" ] || [ -L "$RT_MARKER" ]; then
		rm -f -- "$RT_MARKER" && rt_log "removed the failure marker $RT_MARKER"
	fi
	if [ -n "$_metrics" ] && [ -f "$_metrics" ] && [ ! -L "$_metrics" ] &&
		head -n 1 -- "$_metrics" 2>/dev/null | grep -q '^# HELP ransomeye_tuner_'; then
		rm -f -- "$_metrics"
	fi
}

# The SELinux policy module (selinux/ransomeye_tuner.cil in the source):
# what the tuner cannot avoid asking of the reference policy.
RT_SELINUX_MODULE=ransomeye_tuner
RT_SELINUX_CIL=/usr/share/selinux/packages/ransomeye-tuner/ransomeye_tuner.cil
RT_SELINUX_DIR=/etc/selinux

# rt_selinux_present: semodule exists and a policy is configured
# (/etc/selinux/config names a policy whose directory exists), whether or
# not SELinux is on now (an image build labels and boots it later).
rt_selinux_present() {
	command -v semodule >/dev/null 2>&1 || return 1
	[ -r "$RT_SELINUX_DIR/config" ] || return 1
	_setype=$(sed -n 's/^[[:space:]]*SELINUXTYPE[[:space:]]*=[[:space:]]*//p' "$RT_SELINUX_DIR/config" | tail -n 1)
	[ -n "$_setype" ] && [ -d "$RT_SELINUX_DIR/$_setype" ]
}

# rt_selinux_install: semodule -i of the module; a failure (a policy without
# a type the module names) is logged, never fatal: the tuner works without
# it wherever SELinux only logs.
rt_selinux_install() {
	rt_selinux_present || return 0
	if _seout=$(semodule -i "$RT_SELINUX_CIL" 2>&1); then
		rt_log "SELinux policy module $RT_SELINUX_MODULE installed"
	else
		rt_log "warning: semodule -i $RT_SELINUX_CIL failed; enforcing SELinux may deny the generator (see ransomeye-tuner(8)): $_seout"
	fi
	return 0
}

# rt_selinux_remove: semodule -r of the module when it is installed.
rt_selinux_remove() {
	rt_selinux_present || return 0
	semodule -l 2>/dev/null | awk '{print $1}' | grep -qx "$RT_SELINUX_MODULE" || return 0
	semodule -r "$RT_SELINUX_MODULE" >/dev/null 2>&1 ||
		rt_log "warning: semodule -r $RT_SELINUX_MODULE failed; remove it by hand"
	return 0
}
