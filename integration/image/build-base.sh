#!/usr/bin/env bash
# Builds the cached base of the boot-suite image: a Debian minbase root
# filesystem of SUITE (bullseye, bookworm or trixie) with systemd, and
# Debian 12's cloud kernel (NVMe, ext4 and the 8250 serial console built in,
# so it boots without an initrd; the same kernel for every suite, so that
# only systemd and userspace differ between them).
#
# Usage: build-base.sh OUTDIR MIRROR SUITE
#   OUTDIR/rootfs/   the root filesystem (no project files, no test units),
#                    with the kernel's modules (XFS and btrfs are modules)
#   OUTDIR/vmlinuz   the kernel
#   OUTDIR/packages.txt  dpkg-query -W of the root filesystem, plus the kernel
#
# Called by the Go harness (integration/image.go) when OUTDIR is missing; the
# harness names OUTDIR after a hash of this script and its inputs, so a change
# here rebuilds. Needs root, debootstrap, apt-get and dpkg.
set -euo pipefail
out=$1
mirror=$2
suite=${3:-bookworm}
# ethtool and iproute2: the capture-NIC cases change the queue count
# (ethtool -L) and rename the interface (ip link set ... name).
packages=systemd,systemd-sysv,udev,procps,e2fsprogs,util-linux,kmod,irqbalance,ethtool,iproute2
# The kernel comes from the host's apt (Debian 12): "apt-get download" and
# "dpkg -x", never installed into the image (that would pull an initramfs).
kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$kpkg" ]; then
  echo "build-base: apt-cache knows no linux-image-cloud-amd64: run apt-get update (Debian 12 apt sources needed)" >&2
  exit 1
fi

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

echo "build-base: debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
  tail -n 30 "$tmp/debootstrap.log" >&2
  exit 1
}

echo "build-base: kernel $kpkg" >&2
mkdir -p "$tmp/kernel"
( cd "$tmp/kernel" && apt-get download -q -o APT::Sandbox::User=root "$kpkg" >/dev/null )
dpkg -x "$tmp"/kernel/*.deb "$tmp/kernel/x"
cp "$tmp"/kernel/x/boot/vmlinuz-* "$tmp/vmlinuz"
kver=$(dpkg-deb -f "$tmp"/kernel/*.deb Version)

r="$tmp/rootfs"
# The kernel's modules: XFS and btrfs data disks (and their crc32c, zstd,
# raid6 helpers) are modules in the cloud kernel. udev loads them on demand
# through modules.alias, which depmod writes (the image's own kmod, in a
# chroot: the host may have none); kmod also runs kmod-static-nodes.service.
for d in "$tmp"/kernel/x/lib/modules/*; do
  mkdir -p "$r/lib/modules"
  cp -a "$d" "$r/lib/modules/"
  chroot "$r" /sbin/depmod -a "$(basename "$d")"
done
# Trim: apt lists and caches, docs, man pages, locales.
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
  "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
  "$r"/var/log/*.log
# Machine setup: hostname, root without password on the console (a test VM,
# never networked). The fstab is written per run by the harness.
echo ransomeye-test >"$r/etc/hostname"
: >"$r/etc/machine-id"
sed -i 's/^root:[^:]*:/root::/' "$r/etc/shadow"
mkdir -p "$r/ransomeye"
# Nothing in this image needs these at boot; they cost seconds under TCG.
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer; do
  rm -f "$r/etc/systemd/system/timers.target.wants/$u"
done
ln -sf /dev/null "$r/etc/systemd/system/getty@tty1.service"
ln -sf /dev/null "$r/etc/systemd/system/serial-getty@ttyS0.service"

chroot "$r" dpkg-query -W >"$tmp/packages.txt"
echo "kernel	$kpkg $kver" >>"$tmp/packages.txt"
mv "$tmp/debootstrap.log" "$tmp/rootfs.log"
trap - EXIT
rm -rf "$tmp/kernel"
rm -rf "$out"
mv "$tmp" "$out"
echo "build-base: done: $out" >&2
