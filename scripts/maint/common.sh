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
# Written by ransomeye-tuner (internal/statedir): the sysctl values before
# activate first set them; ransomeye-tuner uninstall removes it.
RT_SYSCTL_RECORD=sysctl-before

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
		# A UTF-8 byte order mark at the start of a file (editors on
		# Windows save one) is skipped, as the tuner skips it: else a
		# section header on the first line is not one. LC_ALL=C (above)
		# makes awk match the three bytes, not a character.
		FNR == 1 { sec = ""; sub(/^\357\273\277/, "") }
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

# RT_ROOT prefixes every host path the purge functions below touch (the
# tests run them against a fake root with a fake /proc/swaps); empty in the
# packages' scripts. RT_AGAIN is the command that finishes an interrupted
# purge, for the messages: the postrm and %preun set it.
RT_ROOT=${RT_ROOT:-}
RT_AGAIN=${RT_AGAIN:-"purge the package again"}
RT_SWAPFILES="$RT_STATE_DIR/swapfiles"

# rt_is_our_swapfile PATH: true when PATH is a regular file (not a symlink),
# owned by root, holding a swap area labelled ransomeye-swap: the file the
# tuner made, and nothing else. A stale hibernation image in it (blkid's
# TYPE="swsuspend": the kernel's swsusp replaced the swap signature and kept
# the rest of the header, label included) leaves it the tuner's, as activate
# takes it. Why: taken for someone else's, the RAM-sized file, memory image
# and all, stayed on disk and left the record, so no later purge found it.
rt_is_our_swapfile() {
	[ -f "$1" ] && [ ! -L "$1" ] || return 1
	[ "$(stat -c %u -- "$1" 2>/dev/null)" = 0 ] || return 1
	command -v blkid >/dev/null 2>&1 || return 1
	case $(blkid -p -o value -s TYPE -- "$1" 2>/dev/null) in
	swap | swsuspend) ;;
	*) return 1 ;;
	esac
	[ "$(blkid -p -o value -s LABEL -- "$1" 2>/dev/null)" = "$RT_LABEL" ]
}

# rt_dir_check DIR: prints why DIR (a host path under $RT_ROOT) is not a
# directory the purge may remove a file from, and fails; succeeds silently
# otherwise. Every directory from / to DIR must be a real directory (no
# symbolic link on the way: the purge never follows one), owned by root and
# not writable by other users (an ancestor may be when it is sticky): what
# activate requires of the swapfile's directory (but for POSIX ACLs, which sh
# cannot read portably; the owner and label checks of the file still hold),
# checked again, since the purge works on path strings and anyone who can
# change a directory on the way could swap the file for another between the
# check and the rm.
rt_dir_check() {
	_at= _rest=
	case $1 in
	/*) _rest=${1#/} ;;
	*)
		echo "$1 is not an absolute path"
		return 1
		;;
	esac
	while :; do
		_here=$RT_ROOT${_at:-/}
		if [ -L "$_here" ] || [ ! -d "$_here" ]; then
			echo "${_at:-/} is a symbolic link or not a directory"
			return 1
		fi
		_st=$(stat -c '%u %a' -- "$_here" 2>/dev/null) || _st=
		_uid=${_st%% *} _mode=${_st#* }
		if [ "$_uid" != 0 ]; then
			echo "${_at:-/} is not owned by root"
			return 1
		fi
		# Octal mode: 022 is the group's and others' write, 01000 sticky.
		if [ $((0$_mode & 022)) -ne 0 ] && { [ -z "$_rest" ] || [ $((0$_mode & 01000)) -eq 0 ]; }; then
			echo "${_at:-/} is writable by users other than root"
			return 1
		fi
		[ -n "$_rest" ] || return 0
		_c=${_rest%%/*}
		case $_rest in
		*/*) _rest=${_rest#*/} ;;
		*) _rest= ;;
		esac
		case $_c in
		'' | .) ;;
		..)
			echo "$1 holds '..'"
			return 1
			;;
		*) _at=$_at/$_c ;;
		esac
	done
}

# rt_swap_active FILE: true when the kernel has FILE (a host path under
# $RT_ROOT) as an active swap area: a file /proc/swaps names has FILE's
# device and inode. Compared by identity, as activate compares them, never
# by name: the kernel names the path it resolved (/data/ransomeye/swap for
# /ransomeye/swap when /ransomeye is a link to data/ransomeye), and a chroot
# sees another name than the host. It writes a space as \040.
rt_swap_active() {
	_id=$(stat -c '%d:%i' -- "$RT_ROOT$1" 2>/dev/null) || return 1
	[ -r "$RT_ROOT/proc/swaps" ] || return 1
	_names=$(awk 'NR > 1 && $2 == "file" { n = $1; gsub(/\\040/, " ", n); print n }' "$RT_ROOT/proc/swaps")
	while IFS= read -r _n; do
		[ -n "$_n" ] || continue
		_p=$RT_ROOT$_n
		# Under a root prefix the kernel may name the real path, already in it.
		if [ -n "$RT_ROOT" ]; then
			case $_n in "$RT_ROOT"/*) _p=$_n ;; esac
		fi
		[ "$(stat -c '%d:%i' -- "$_p" 2>/dev/null)" = "$_id" ] && return 0
	done <<SWAPS
$_names
SWAPS
	return 1
}

# rt_purge_swapfile FILE: turn the swapfile FILE off and remove it when it
# is the tuner's. A file that is not the tuner's, or that the purge cannot
# examine without following a link, is left alone and said so (success). A
# swapfile of the tuner's that is still there afterwards (swapoff failed,
# for want of free memory, or rm did) is an error on stderr that names it
# and what to do, and fails.
rt_purge_swapfile() {
	_f=$1
	[ -e "$RT_ROOT$_f" ] || [ -L "$RT_ROOT$_f" ] || return 0
	_dir=${_f%/*}
	if ! _why=$(rt_dir_check "${_dir:-/}"); then
		rt_log "warning: not removing $_f: $_why, and a purge follows no link; if it is the tuner's swapfile, remove it yourself: swapoff '$_f'; rm '$_f'"
		return 0
	fi
	if ! rt_is_our_swapfile "$RT_ROOT$_f"; then
		rt_log "leaving $_f alone: it is not a root-owned swap area labelled $RT_LABEL"
		return 0
	fi
	if rt_swap_active "$_f"; then
		swapoff -- "$RT_ROOT$_f" || rt_log "swapoff $_f failed"
	fi
	if rt_swap_active "$_f"; then
		rt_log "error: the swapfile $_f is still active swap (swapoff failed: not enough free memory to take its pages back?), so it was not removed; free memory, then: $RT_AGAIN"
		return 1
	fi
	if ! rm -f -- "$RT_ROOT$_f" || [ -e "$RT_ROOT$_f" ]; then
		rt_log "error: cannot remove the swapfile $_f (see above); fix the cause, then: $RT_AGAIN"
		return 1
	fi
	rt_log "removed the swapfile $_f"
}

# rt_purge_swapfiles CONFIGURED: rt_purge_swapfile for every swapfile the
# tuner recorded (activate and the prerm record each one it provides, by
# its resolved path: also those at an earlier [Swap] Path=), then for the
# configured path. The record is rewritten to hold only those that remain,
# so that a later purge finishes the work; fails when any remains.
rt_purge_swapfiles() {
	_rc=0 _left= _rec=
	_done='
'
	if [ -f "$RT_ROOT$RT_SWAPFILES" ] && [ ! -L "$RT_ROOT$RT_SWAPFILES" ]; then
		_rec=$(grep -v '^#' -- "$RT_ROOT$RT_SWAPFILES" || true)
	fi
	while IFS= read -r _s; do
		case $_s in
		/?*) ;;
		*) continue ;;
		esac
		case $_done in
		*"
$_s
"*) continue ;;
		esac
		_done="$_done$_s
"
		if ! rt_purge_swapfile "$_s"; then
			_rc=1
			_left="$_left$_s
"
		fi
	done <<RECORD
$_rec
$1
RECORD
	if [ "$_rc" -eq 0 ]; then
		rm -f -- "$RT_ROOT$RT_SWAPFILES"
	elif mkdir -p -- "$RT_ROOT$RT_STATE_DIR" && {
		echo "# Swapfiles of ransomeye-tuner that a purge could not remove yet: the next purge tries again."
		printf '%s' "$_left"
	} >"$RT_ROOT$RT_SWAPFILES.new" && mv -f -- "$RT_ROOT$RT_SWAPFILES.new" "$RT_ROOT$RT_SWAPFILES"; then
		:
	else
		rt_log "warning: cannot record the swapfiles left in $RT_SWAPFILES"
	fi
	return "$_rc"
}

# rt_purge SWAPFILE METRICS: turn the tuner's swapfiles off and remove them
# (rt_purge_swapfiles; SWAPFILE is the configured one), the failure marker
# and the metrics file. Nothing else, and a swapfile only when it is the
# tuner's. Fails when a swapfile of the tuner's remains (said on stderr).
rt_purge() {
	_prc=0
	rt_purge_swapfiles "$1" || _prc=1
	if [ -f "$RT_ROOT$RT_MARKER" ] || [ -L "$RT_ROOT$RT_MARKER" ]; then
		rm -f -- "$RT_ROOT$RT_MARKER" && rt_log "removed the failure marker $RT_MARKER"
	fi
	_metrics=$2
	if [ -n "$_metrics" ] && [ -f "$RT_ROOT$_metrics" ] && [ ! -L "$RT_ROOT$_metrics" ] &&
		head -n 1 -- "$RT_ROOT$_metrics" 2>/dev/null | grep -q '^# HELP ransomeye_tuner_'; then
		rm -f -- "$RT_ROOT$_metrics"
	fi
	return "$_prc"
}

# rt_uninstall: what the binary gives back before the package's files go
# (ransomeye-tuner uninstall): the placement of interrupts and kernel work,
# the sysctls and their /run/sysctl.d file; it also records the configured
# swapfile, resolved, for a purge. By name, as Debian policy wants in
# maintainer scripts (dpkg's PATH holds /usr/sbin).
# ransomeye-tuner-netdev.service is stopped first: the udev rule, installed
# until dpkg removes it, reloads that unit on a network device event, and a
# placement after the give-back would stay.
rt_uninstall() {
	if rt_systemd_running; then
		rt_invoke stop ransomeye-tuner-netdev.service ||
			rt_log "warning: stopping ransomeye-tuner-netdev.service failed"
	fi
	if command -v ransomeye-tuner >/dev/null 2>&1; then
		ransomeye-tuner uninstall ||
			rt_log "warning: ransomeye-tuner uninstall did not give everything back (see above)"
	fi
	return 0
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
