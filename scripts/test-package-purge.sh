#!/bin/sh
# scripts/test-package-purge.sh ROOTFS DEB [RPM]: the package's removal and
# purge with the real dpkg (and rpm --root with RPM) in copies of a Debian
# root file system (the boot suite's debootstrap base,
# vmwork/base-*/rootfs), for what test-package-chroot.sh does not show:
#
#   link:     the swapfile's directory reached through root's link
#             (/ransomeye -> data/ransomeye): the purge turns the file off
#             and removes it, where the kernel names /data/ransomeye/swap.
#   moved:    a swapfile left at an earlier [Swap] Path= is removed too.
#   sysctls:  removal removes /run/sysctl.d/60-ransomeye-tuner.conf and
#             gives the sysctls back: what a remaining sysctl.d file sets,
#             else the value before the tuner first set it.
#   refused:  a swapfile that swapoff cannot turn off fails the purge loudly
#             (naming the file and the command that finishes the work), dpkg
#             keeps the package as config-files and the record of the file;
#             the next dpkg --purge finishes. RPM: the erase is refused and
#             the next rpm -e finishes.
#
# No real swap: nothing here swaps on, so that a host whose own swap must
# not change can run it. Each copy's /proc is a directory of plain files (a
# FAKE), which the real binary (activate, run in the chroot) and the
# maintainer scripts read as they read the kernel's. A swapfile is "active"
# when the fake /proc/swaps lists it by the path the kernel would print and
# it carries the immutable attribute (the kernel refuses to unlink an active
# swap area with EPERM, as it refuses an immutable file); /sbin/swapoff in
# the copy is a FAKE that drops both, or fails as swapoff does when memory
# cannot take the swapped pages back (when /tmp/swapoff-fails exists). The
# swapfiles live on an ext4 loop device this script creates and removes.
# Needs root, losetup, mkfs.ext4 and chattr; skips (exit 77) without them.
set -eu
rootfs=${1:?usage: scripts/test-package-purge.sh ROOTFS DEB [RPM]}
deb=${2:?usage: scripts/test-package-purge.sh ROOTFS DEB [RPM]}
rpmfile=${3:-}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
[ -e /dev/loop-control ] || { echo "SKIP: no loop devices" >&2; exit 77; }
command -v chattr >/dev/null 2>&1 || { echo "SKIP: no chattr" >&2; exit 77; }
[ -x "$rootfs/usr/bin/dpkg" ] || { echo "test-package-purge: $rootfs has no dpkg" >&2; exit 2; }

work=$(mktemp -d /tmp/ransomeye-purgetest.XXXXXX)
loops=
mounts=
fails=0
cleanup() {
	set +e
	for m in "$work"/*/data; do
		[ -d "$m" ] || continue
		find "$m" -xdev -type f -exec chattr -i {} + 2>/dev/null
		mountpoint -q "$m" && umount "$m"
	done
	for m in $mounts; do umount -R "$m"; done
	for l in $loops; do losetup -d "$l"; done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM

ok() { echo "ok:   $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}

# copy NAME: a copy of the root file system at $work/NAME with the fake
# swapoff, a 256 MiB ext4 loop filesystem on /data, /ransomeye ->
# data/ransomeye (root's link), and a /proc that is the kernel's (the binary
# reads an open directory's ACL through /proc/self/fd) but for FAKES: /proc/sys
# and /proc/irq are empty tmpfs mounts holding only swappiness 60 and
# vfs_cache_pressure 100 (the kernel's defaults, before the package), and
# /proc/meminfo (16 MiB of RAM), /proc/swaps and /proc/cmdline are plain
# files bound over the kernel's. Each fake is checked before anything runs:
# nothing in the copy can reach this host's sysctls, interrupts or swap.
copy() {
	r=$work/$1
	cp -a "$rootfs" "$r"
	rm -rf "$r/run/systemd/system" "$r/ransomeye"
	mkdir -p "$r/run/lock"
	mount -t proc proc "$r/proc"
	mounts="$mounts $r/proc"
	mount -t tmpfs -o mode=0755 tmpfs "$r/proc/sys"
	mount -t tmpfs -o mode=0755 tmpfs "$r/proc/irq"
	mkdir -p "$r/proc/sys/vm" "$r/proc/sys/kernel/random"
	echo 60 >"$r/proc/sys/vm/swappiness"
	echo 100 >"$r/proc/sys/vm/vfs_cache_pressure"
	echo 5c0f7a0e-6c3b-4a8e-9f3e-0123456789ab >"$r/proc/sys/kernel/random/boot_id"
	printf 'MemTotal:       16384 kB\nMemFree:        8192 kB\n' >"$work/$1.meminfo"
	printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$work/$1.swaps"
	echo "BOOT_IMAGE=/vmlinuz root=/dev/vda ro" >"$work/$1.cmdline"
	for f in meminfo swaps cmdline; do
		mount --bind "$work/$1.$f" "$r/proc/$f"
	done
	for f in /proc/sys /proc/sys/vm/swappiness /proc/irq /proc/meminfo /proc/swaps /proc/cmdline; do
		if [ "$(stat -f -c %T "$r$f")" = proc ]; then
			echo "test-package-purge: $r$f is the kernel's, not a fake: stopping" >&2
			exit 2
		fi
	done
	cat >"$r/usr/sbin/swapoff" <<'FAKE'
#!/bin/sh
# FAKE swapoff for test-package-purge.sh: takes FILE off the fake
# /proc/swaps and clears its immutable attribute (the stand-in for "active");
# fails, changing nothing, while /tmp/swapoff-fails exists.
[ "$1" = -- ] && shift
echo "swapoff $1" >>/tmp/swapoff.log
if [ -e /tmp/swapoff-fails ]; then
	echo "swapoff: $1: swapoff failed: Cannot allocate memory" >&2
	exit 255
fi
grep -q "^$1[[:space:]]" /proc/swaps || { echo "swapoff: $1: not an active swap area" >&2; exit 255; }
grep -v "^$1[[:space:]]" /proc/swaps >/tmp/swaps.new
cat /tmp/swaps.new >/proc/swaps
rm -f /tmp/swaps.new
chattr -i "$1"
FAKE
	chmod 0755 "$r/usr/sbin/swapoff"
	truncate -s 256M "$work/$1.img"
	l=$(losetup -f --show "$work/$1.img")
	loops="$loops $l"
	mkfs.ext4 -q -L data "$l"
	mkdir -p "$r/data"
	mount "$l" "$r/data"
	mkdir -p "$r/data/ransomeye"
	ln -s data/ransomeye "$r/ransomeye"
}

# active ROOT FILE: FILE (as the kernel names it: resolved) becomes active
# swap in the fake /proc/swaps, and cannot be unlinked.
active() {
	printf '%s\tfile\t\t16380\t\t0\t\t-2\n' "$2" >>"$1/proc/swaps"
	chattr +i "$1$2"
}
in_chroot() { # in_chroot ROOT COMMAND...
	r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
}

# generate ROOT: the package's generator into ROOT's /run/systemd, as
# systemd runs it at boot and at daemon-reload (the .deb ships it under /lib,
# the .rpm under /usr/lib).
generate() {
	g=/usr/lib/systemd/system-generators/ransomeye-tuner-generator
	[ -x "$1$g" ] || g=/lib/systemd/system-generators/ransomeye-tuner-generator
	in_chroot "$1" "$g" /run/systemd/generator /run/systemd/generator.early /run/systemd/generator.late
}

# stage ROOT: the state of a running machine: the tuner's swapfile made by
# the real activate through the link, then [Swap] Path= moved and a second
# one made; both active; an administrator's sysctl.d file that sorts before
# the package's.
stage() {
	r=$1
	mkdir -p "$r/etc/ransomeye/tuner.conf.d"
	printf '[Swap]\nMinSize=16M\nReserve=0\n[CPU]\nIsolation=off\n' >"$r/etc/ransomeye/tuner.conf.d/50-site.conf"
	# The generator first, as systemd runs it at boot: activate checks the
	# drop-ins it writes (the memory ones, with [Memory]'s defaults).
	check "generator writes the units" generate "$r"
	check "activate through /ransomeye -> data/ransomeye" in_chroot "$r" ransomeye-tuner activate
	check "swapfile made at /data/ransomeye/swap" test -f "$r/data/ransomeye/swap"
	check "activate recorded /data/ransomeye/swap" grep -qx /data/ransomeye/swap "$r/var/lib/ransomeye-tuner/swapfiles"
	check "activate recorded swappiness 60 before it set it" grep -qx vm.swappiness=60 "$r/var/lib/ransomeye-tuner/sysctl-before"
	check "activate set swappiness 10" test "$(cat "$r/proc/sys/vm/swappiness")" = 10
	check "activate wrote /run/sysctl.d/60-ransomeye-tuner.conf" test -f "$r/run/sysctl.d/60-ransomeye-tuner.conf"
	active "$r" /data/ransomeye/swap
	printf '[Swap]\nPath=/data/moved/swap\n' >"$r/etc/ransomeye/tuner.conf.d/60-path.conf"
	check "generator after Path= moved" generate "$r"
	check "activate after Path= moved" in_chroot "$r" ransomeye-tuner activate
	check "activate recorded /data/moved/swap too" grep -qx /data/moved/swap "$r/var/lib/ransomeye-tuner/swapfiles"
	active "$r" /data/moved/swap
	printf '# the administrator\nvm.swappiness = 30\n' >"$r/etc/sysctl.d/50-admin.conf"
	echo "precious" >"$r/data/ransomeye/data"
}

echo "== dpkg: copy of $rootfs"
copy deb
r=$work/deb
cp "$deb" "$r/tmp/pkg.deb"
check "dpkg -i without systemd" in_chroot "$r" dpkg -i /tmp/pkg.deb
stage "$r"

echo "== dpkg -r: sysctls given back, /run/sysctl.d file gone, swapfiles kept"
check "dpkg -r" in_chroot "$r" dpkg -r ransomeye-tuner
check "/run/sysctl.d/60-ransomeye-tuner.conf removed" test ! -e "$r/run/sysctl.d/60-ransomeye-tuner.conf"
check "swappiness 30: the administrator's file, what sysctl --system sets now" test "$(cat "$r/proc/sys/vm/swappiness")" = 30
check "vfs_cache_pressure 100: its value before the tuner" test "$(cat "$r/proc/sys/vm/vfs_cache_pressure")" = 100
check "both swapfiles kept and active" sh -c "test -f '$r/data/ransomeye/swap' && test -f '$r/data/moved/swap'"
check "the swapfile record kept for the purge" grep -qx /data/ransomeye/swap "$r/var/lib/ransomeye-tuner/swapfiles"

echo "== dpkg --purge while swapoff fails: refused loudly, nothing forgotten"
touch "$r/tmp/swapoff-fails"
rc=0
in_chroot "$r" dpkg --purge ransomeye-tuner >"$work/purge1.log" 2>&1 || rc=$?
sed 's/^/  | /' "$work/purge1.log"
check "dpkg --purge fails" test "$rc" -ne 0
check "the message names the swapfile" grep -q 'the swapfile /data/ransomeye/swap is still active swap' "$work/purge1.log"
check "the message names the command that finishes it" grep -q 'dpkg --purge ransomeye-tuner' "$work/purge1.log"
check "dpkg keeps the package as config-files" test "$(in_chroot "$r" dpkg-query -W -f '${Status}' ransomeye-tuner)" = "purge ok config-files"
check "both swapfiles still there" sh -c "test -f '$r/data/ransomeye/swap' && test -f '$r/data/moved/swap'"
check "the record still lists both" sh -c "grep -qx /data/ransomeye/swap '$r/var/lib/ransomeye-tuner/swapfiles' && grep -qx /data/moved/swap '$r/var/lib/ransomeye-tuner/swapfiles'"

echo "== dpkg --purge again, swapoff works: both swapfiles off and gone"
rm -f "$r/tmp/swapoff-fails" "$r/tmp/swapoff.log"
check "dpkg --purge" in_chroot "$r" dpkg --purge ransomeye-tuner
[ ! -f "$r/tmp/swapoff.log" ] || sed 's/^/  | /' "$r/tmp/swapoff.log"
check "swapoff of the file the kernel names (through the link)" grep -qx 'swapoff /data/ransomeye/swap' "$r/tmp/swapoff.log"
check "swapoff of the file at the earlier Path=" grep -qx 'swapoff /data/moved/swap' "$r/tmp/swapoff.log"
check "no swap active in the fake /proc/swaps" sh -c "! grep -q '^/data' '$r/proc/swaps'"
check "/data/ransomeye/swap removed" test ! -e "$r/data/ransomeye/swap"
check "/data/moved/swap removed" test ! -e "$r/data/moved/swap"
check "a foreign file beside it kept" grep -qx precious "$r/data/ransomeye/data"
check "state directory removed" test ! -e "$r/var/lib/ransomeye-tuner"
check "package unknown to dpkg" sh -c "! chroot '$r' dpkg-query -W ransomeye-tuner 2>/dev/null"

if [ -n "$rpmfile" ]; then
	echo "== rpm: copy of $rootfs"
	copy rpm
	r=$work/rpm
	rpm --root "$r" --initdb
	# --nodeps: the copy is a Debian system, its packages are not in rpm's database.
	check "rpm -i without systemd" rpm --root "$r" -i --nodeps "$rpmfile"
	stage "$r"
	touch "$r/tmp/swapoff-fails"
	rc=0
	rpm --root "$r" -e ransomeye-tuner >"$work/erase1.log" 2>&1 || rc=$?
	sed 's/^/  | /' "$work/erase1.log"
	check "rpm -e fails while swapoff fails" test "$rc" -ne 0
	check "the message names the swapfile and rpm -e" sh -c "grep -q 'the swapfile /data/ransomeye/swap is still active swap' '$work/erase1.log' && grep -q 'rpm -e ransomeye-tuner' '$work/erase1.log'"
	check "the package stays installed" rpm --root "$r" -q ransomeye-tuner
	check "both swapfiles still there" sh -c "test -f '$r/data/ransomeye/swap' && test -f '$r/data/moved/swap'"
	rm -f "$r/tmp/swapoff-fails"
	check "rpm -e" rpm --root "$r" -e ransomeye-tuner
	check "erase removed both swapfiles" sh -c "test ! -e '$r/data/ransomeye/swap' && test ! -e '$r/data/moved/swap'"
	check "erase removed /run/sysctl.d/60-ransomeye-tuner.conf" test ! -e "$r/run/sysctl.d/60-ransomeye-tuner.conf"
	check "erase gave swappiness back (30, the administrator's file)" test "$(cat "$r/proc/sys/vm/swappiness")" = 30
	check "erase gave vfs_cache_pressure back (100)" test "$(cat "$r/proc/sys/vm/vfs_cache_pressure")" = 100
	check "erase removed the state directory" test ! -e "$r/var/lib/ransomeye-tuner"
	check "a foreign file beside it kept" grep -qx precious "$r/data/ransomeye/data"
fi

echo
if [ "$fails" -ne 0 ]; then
	echo "test-package-purge: $fails check(s) FAILED"
	exit 1
fi
echo "test-package-purge: all checks passed"
