#!/bin/sh
# scripts/test-package-chroot.sh ROOTFS DEB [RPM]: install, remove and purge the
# .deb with the real dpkg in a copy of a Debian root file system (for example
# the boot suite's debootstrap base, vmwork/base-*/rootfs), as in an image
# build: no running systemd. With RPM, also install, upgrade and erase the
# .rpm with rpm --root in a second copy (rpm runs its scriptlets chrooted
# there with the copy's /bin/sh). Needs root, losetup and mkfs.ext4.
#
# The swapfile lives on an ext4 loop device this script creates and removes,
# mounted at <copy>/ransomeye, and is really swapped on (so that the purge has
# to swapoff it); cleanup swaps it off, unmounts and detaches in every case.
# Nothing of the host's own swap, units or /etc is touched.
#
# Checks:
#   install:  dpkg -i succeeds without systemd; files in place; tuner.conf is
#             a conffile; the binary runs.
#   install:  dpkg -S finds the units by the /lib/systemd path the base's
#             systemd uses for its own.
#   remove:   dpkg -r keeps tuner.conf, the swapfile (still active) and the marker.
#   purge:    dpkg --purge turns the swapfile off and removes it, the marker
#             and the metrics file; keeps the administrator's drop-in and a
#             foreign file next to the swapfile; leaves no file of the package
#             and warns about no directory it could not remove but
#             /etc/ransomeye.
#   guard:    a swap area at the path that is not labelled ransomeye-swap
#             survives a purge.
#   systemctl: with /run/systemd/system present and a FAKE systemctl that
#             logs its arguments (real systemd behaviour is the boot suite's
#             job): postinst reloads, restarts a running irqbalance (its
#             drop-in, written by that reload, applies only at its start),
#             restarts ransomeye-tuner.service and starts the swap unit named
#             from the configured path; a failing
#             systemctl does not fail dpkg; prerm stops the activator;
#             postrm reloads and restarts irqbalance (its drop-in is gone).
#   selinux:  only when ROOTFS has semodule and a policy (the boot suite's
#             bookworm-selinux base): dpkg -i installs the policy module
#             ransomeye_tuner, dpkg -r keeps it, dpkg --purge removes it;
#             rpm -i installs it, rpm -e removes it.
#   rpm:      install runs without systemd; an upgrade ($1=1 for the old
#             package's scriptlets) keeps the swapfile; erase ($1=0) removes
#             it, every directory of the package, and keeps a foreign file.
set -eu
rootfs=${1:?usage: scripts/test-package-chroot.sh ROOTFS DEB [RPM]}
deb=${2:?usage: scripts/test-package-chroot.sh ROOTFS DEB [RPM]}
rpmfile=${3:-}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
[ -e /dev/loop-control ] || { echo "SKIP: no loop devices" >&2; exit 77; }
[ -x "$rootfs/usr/bin/dpkg" ] || { echo "test-package-chroot: $rootfs has no dpkg" >&2; exit 2; }

work=$(mktemp -d /tmp/ransomeye-pkgtest.XXXXXX)
root=$work/root
loop=
fails=0
cleanup() {
	set +e
	if [ -n "$loop" ] && grep -q "^$root/ransomeye/swap " /proc/swaps; then swapoff "$root/ransomeye/swap"; fi
	for m in "$root/proc" "$root/ransomeye"; do
		mountpoint -q "$m" && umount "$m"
	done
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
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
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }

echo "== copy of $rootfs in $root"
cp -a "$rootfs" "$root"
# As in an image build: systemd is not running here.
rm -rf "$root/run/systemd/system"
mkdir -p "$root/run/lock"

truncate -s 256M "$work/disk.img"
loop=$(losetup -f --show "$work/disk.img")
mkfs.ext4 -q -L ransomeye "$loop"
mkdir -p "$root/ransomeye"
mount "$loop" "$root/ransomeye"
mount -t proc proc "$root/proc"

echo "== install"
cp "$deb" "$root/tmp/pkg.deb"
check "dpkg -i without systemd" in_root dpkg -i /tmp/pkg.deb
for f in /usr/sbin/ransomeye-tuner /usr/lib/systemd/system-generators/ransomeye-tuner-generator \
	/usr/lib/systemd/system/ransomeye-tuner.service /usr/lib/systemd/system/ransomeye-core.service.d/ransomeye-tuner-gate.conf \
	/usr/lib/sysctl.d/60-ransomeye-tuner.conf /etc/ransomeye/tuner.conf /usr/share/man/man8/ransomeye-tuner.8.gz; do
	check "installed $f" test -e "$root$f"
done
check "ransomeye-tuner --version runs" in_root ransomeye-tuner --version
# dpkg knows the units by the path the base's systemd uses for its own
# (Debian 11 and 12: /lib/systemd/system, what systemctl status shows).
for f in /lib/systemd/system/ransomeye-tuner.service /lib/systemd/system-generators/ransomeye-tuner-generator \
	/lib/systemd/system/timers.target.wants/ransomeye-tuner-metrics.timer; do
	check "dpkg -S $f names the package" sh -c "chroot '$root' dpkg -S '$f' | grep -q '^ransomeye-tuner: '"
done
check "tuner.conf is a conffile" grep -q /etc/ransomeye/tuner.conf "$root/var/lib/dpkg/info/ransomeye-tuner.conffiles"
selinux=
if [ -x "$root/usr/sbin/semodule" ] && [ -r "$root/etc/selinux/config" ]; then
	selinux=yes
fi
semodule_has() { in_root semodule -l | awk '{print $1}' | grep -qx ransomeye_tuner; }
[ -z "$selinux" ] || check "SELinux policy module installed" semodule_has

echo "== the state a running system would have"
# The swapfile as the activator makes it (label ransomeye-swap, 0600 root),
# active; a foreign file beside it; the marker; metrics; an admin drop-in.
fallocate -l 64M "$root/ransomeye/swap"
chmod 0600 "$root/ransomeye/swap"
mkswap -q -L ransomeye-swap "$root/ransomeye/swap"
swapon "$root/ransomeye/swap"
echo "precious" >"$root/ransomeye/data"
printf 'failed: test\n' >"$root/run/lock/ransomeye-resource-fail"
mkdir -p "$root/var/lib/prometheus/node-exporter"
printf '# HELP ransomeye_tuner_compliant x\n# TYPE ransomeye_tuner_compliant gauge\nransomeye_tuner_compliant 0\n' \
	>"$root/var/lib/prometheus/node-exporter/ransomeye_tuner.prom"
mkdir -p "$root/etc/ransomeye/tuner.conf.d"
printf '[Swap]\nMinSize=16G\n' >"$root/etc/ransomeye/tuner.conf.d/50-site.conf"
echo "# edited by the administrator" >>"$root/etc/ransomeye/tuner.conf"
check "swapfile active in the chroot's /proc/swaps" in_root grep -q '^/ransomeye/swap ' /proc/swaps

echo "== remove (dpkg -r)"
check "dpkg -r" in_root dpkg -r ransomeye-tuner
check "binary removed" test ! -e "$root/usr/sbin/ransomeye-tuner"
check "tuner.conf kept (with the edit)" grep -q 'edited by the administrator' "$root/etc/ransomeye/tuner.conf"
check "swapfile kept and still active" grep -q "^$root/ransomeye/swap " /proc/swaps
check "marker kept" test -f "$root/run/lock/ransomeye-resource-fail"
check "swapfile path recorded for the purge" grep -qx 'swap=/ransomeye/swap' "$root/var/lib/ransomeye-tuner/purge-paths"
[ -z "$selinux" ] || check "SELinux policy module kept on remove" semodule_has

echo "== purge (dpkg --purge)"
check "dpkg --purge" sh -c "chroot '$root' /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C dpkg --purge ransomeye-tuner >'$work/purge.log' 2>&1"
cat "$work/purge.log"
# dpkg removes the directories it thinks only this package has; one that
# holds other packages' files under the aliased path (/lib and /usr/lib on a
# merged /usr) it cannot, and warns. /etc/ransomeye stays on purpose: it
# holds the administrator's drop-in.
check "dpkg --purge warns about no directory but /etc/ransomeye" \
	sh -c "! grep 'not empty so not removed' '$work/purge.log' | grep -v \"directory '/etc/ransomeye' \""
check "swapfile off" sh -c "! grep -q '^$root/ransomeye/swap ' /proc/swaps"
check "swapfile removed" test ! -e "$root/ransomeye/swap"
check "marker removed" test ! -e "$root/run/lock/ransomeye-resource-fail"
check "metrics file removed" test ! -e "$root/var/lib/prometheus/node-exporter/ransomeye_tuner.prom"
check "metrics directory kept (not ours)" test -d "$root/var/lib/prometheus/node-exporter"
check "state directory removed" test ! -e "$root/var/lib/ransomeye-tuner"
check "tuner.conf removed (conffile)" test ! -e "$root/etc/ransomeye/tuner.conf"
check "administrator's drop-in kept" test -f "$root/etc/ransomeye/tuner.conf.d/50-site.conf"
check "foreign file kept" grep -qx precious "$root/ransomeye/data"
check "package unknown to dpkg" sh -c "! chroot '$root' dpkg-query -W ransomeye-tuner 2>/dev/null"
[ -z "$selinux" ] || check "SELinux policy module removed on purge" sh -c "! { chroot '$root' semodule -l | grep -q '^ransomeye_tuner'; }"
echo "what is left of the package's paths:"
(cd "$root" && find etc/ransomeye usr/lib/systemd/system/ransomeye-core.service.d var/lib/ransomeye-tuner ransomeye 2>/dev/null | sed 's/^/  \//')

echo "== guard: a swap area that is not ours survives a purge"
check "dpkg -i again" in_root dpkg -i /tmp/pkg.deb
fallocate -l 64M "$root/ransomeye/swap"
chmod 0600 "$root/ransomeye/swap"
mkswap -q -L someone-else "$root/ransomeye/swap"
check "dpkg --purge" in_root dpkg --purge ransomeye-tuner
check "foreign swap area at the path kept" test -f "$root/ransomeye/swap"

echo "== systemd running (FAKE systemctl that logs its calls)"
mkdir -p "$root/run/systemd/system"
mv "$root/usr/bin/systemctl" "$root/usr/bin/systemctl.real"
cat >"$root/usr/bin/systemctl" <<'FAKE'
#!/bin/sh
# FAKE systemctl for test-package-chroot.sh: logs, answers LoadState, and
# fails "restart" to show that a failure does not fail the installation.
echo "systemctl $*" >>/tmp/systemctl.log
case "$*" in
*"show -p LoadState --value -- swapfile.swap"*) echo loaded ;;
*"show -p LoadState"*) echo not-found ;;
restart*) exit 1 ;;
esac
exit 0
FAKE
chmod 0755 "$root/usr/bin/systemctl"
printf '[Swap]\nPath=/swapfile\n' >"$root/etc/ransomeye/tuner.conf.d/60-path.conf"
check "dpkg -i with systemd 'running' and restart failing" in_root dpkg -i /tmp/pkg.deb
cat "$root/tmp/systemctl.log"
want="systemctl daemon-reload
systemctl try-restart -- irqbalance.service
systemctl restart -- ransomeye-tuner.service
systemctl start -- ransomeye-tuner-metrics.timer
systemctl start -- ransomeye-tuner-netdev.service
systemctl show -p LoadState --value -- swapfile.swap
systemctl start -- swapfile.swap"
check "postinst: reload, restart irqbalance (its drop-in) and the activator, start swapfile.swap" test "$(cat "$root/tmp/systemctl.log")" = "$want"
: >"$root/tmp/systemctl.log"
check "dpkg -r" in_root dpkg -r ransomeye-tuner
cat "$root/tmp/systemctl.log"
want="systemctl stop ransomeye-tuner.service
systemctl stop ransomeye-tuner-metrics.timer
systemctl stop ransomeye-tuner-metrics.service
systemctl stop ransomeye-tuner-netdev.service
systemctl stop ransomeye-tuner-place.service
systemctl daemon-reload
systemctl try-restart -- irqbalance.service"
check "prerm stops the activator and the timer, postrm reloads and restarts irqbalance" test "$(cat "$root/tmp/systemctl.log")" = "$want"
check "dpkg --purge" in_root dpkg --purge ransomeye-tuner

echo "== policy-rc.d forbids (exit 101): no start, restart or stop"
printf '#!/bin/sh\necho "policy-rc.d $*" >>/tmp/systemctl.log\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
: >"$root/tmp/systemctl.log"
check "dpkg -i with a policy-rc.d that forbids" in_root dpkg -i /tmp/pkg.deb
check "dpkg -r with a policy-rc.d that forbids" in_root dpkg -r ransomeye-tuner
cat "$root/tmp/systemctl.log"
want="systemctl daemon-reload
policy-rc.d irqbalance.service try-restart
policy-rc.d ransomeye-tuner.service restart
policy-rc.d ransomeye-tuner-metrics.timer start
policy-rc.d ransomeye-tuner-netdev.service start
systemctl show -p LoadState --value -- swapfile.swap
policy-rc.d swapfile.swap start
policy-rc.d ransomeye-tuner.service stop
policy-rc.d ransomeye-tuner-metrics.timer stop
policy-rc.d ransomeye-tuner-metrics.service stop
policy-rc.d ransomeye-tuner-netdev.service stop
policy-rc.d ransomeye-tuner-place.service stop
systemctl daemon-reload
policy-rc.d irqbalance.service try-restart"
check "policy-rc.d asked before each start, restart and stop; none done" test "$(cat "$root/tmp/systemctl.log")" = "$want"
check "dpkg --purge" in_root dpkg --purge ransomeye-tuner
rm -f "$root/usr/sbin/policy-rc.d"
mv "$root/usr/bin/systemctl.real" "$root/usr/bin/systemctl"
rm -rf "$root/run/systemd/system"

if [ -n "$rpmfile" ]; then
	echo "== rpm: install, upgrade, erase"
	rroot=$work/rpmroot
	cp -a "$rootfs" "$rroot"
	rm -rf "$rroot/run/systemd/system"
	mkdir -p "$rroot/ransomeye"
	rpm --root "$rroot" --initdb
	# --nodeps: the copy is a Debian system, its packages are not in rpm's database.
	check "rpm -i without systemd" rpm --root "$rroot" -i --nodeps "$rpmfile"
	check "installed /usr/sbin/ransomeye-tuner" test -x "$rroot/usr/sbin/ransomeye-tuner"
	rpm_semodule_has() { chroot "$rroot" semodule -l | awk '{print $1}' | grep -qx ransomeye_tuner; }
	[ -z "$selinux" ] || check "rpm %post installed the SELinux policy module" rpm_semodule_has
	fallocate -l 64M "$rroot/ransomeye/swap"
	chmod 0600 "$rroot/ransomeye/swap"
	mkswap -q -L ransomeye-swap "$rroot/ransomeye/swap"
	echo "precious" >"$rroot/ransomeye/data"
	check "rpm -U (reinstall as an upgrade)" rpm --root "$rroot" -U --replacepkgs --nodeps "$rpmfile"
	check "upgrade keeps the swapfile" test -f "$rroot/ransomeye/swap"
	check "rpm -e" rpm --root "$rroot" -e ransomeye-tuner
	check "erase removes the swapfile" test ! -e "$rroot/ransomeye/swap"
	check "erase keeps a foreign file" grep -qx precious "$rroot/ransomeye/data"
	check "erase removes the binary" test ! -e "$rroot/usr/sbin/ransomeye-tuner"
	[ -z "$selinux" ] || check "erase removed the SELinux policy module" sh -c "! { chroot '$rroot' semodule -l | grep -q '^ransomeye_tuner'; }"
	for d in /etc/ransomeye /usr/lib/systemd/system/ransomeye-core.service.d /usr/share/doc/ransomeye-tuner /usr/share/licenses/ransomeye-tuner /usr/share/selinux/packages/ransomeye-tuner \
		/usr/lib/ransomeye-tuner /usr/share/ransomeye-tuner; do
		check "erase removes the directory $d" test ! -e "$rroot$d"
	done
fi

echo
if [ "$fails" -ne 0 ]; then
	echo "test-package-chroot: $fails check(s) FAILED"
	exit 1
fi
echo "test-package-chroot: all checks passed"
