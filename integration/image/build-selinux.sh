#!/usr/bin/env bash
# Builds the SELinux variant of the boot-suite base (SUITE=bookworm-selinux)
# on top of the cached bookworm base: a copy of its root filesystem with the
# reference policy (selinux-policy-default, Debian's build of refpolicy),
# policycoreutils (setfiles, semodule) and selinux-utils installed with the
# image's own apt, and /etc/selinux/config saying permissive. The kernel is
# the bookworm base's (Debian's kernels build SELinux in; the boot's command
# line turns it on). The tree is NOT labelled here: the harness labels the
# whole staged root with setfiles after it installs the project, so that the
# project's files get their labels too.
#
# Usage: build-selinux.sh OUTDIR BASEDIR MIRROR
#   BASEDIR is the bookworm base (rootfs/, vmlinuz, packages.txt);
#   OUTDIR gets the same layout.
# Needs root, network access to MIRROR, chroot and mount.
set -euo pipefail
out=$1
base=$2
mirror=$3
packages="selinux-policy-default policycoreutils selinux-utils"

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
r="$tmp/rootfs"
cleanup() {
  umount "$r/proc" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cp -a "$base/rootfs" "$r"
cp "$base/vmlinuz" "$tmp/vmlinuz"
echo "deb $mirror bookworm main" >"$r/etc/apt/sources.list"
cp /etc/resolv.conf "$r/etc/resolv.conf"
mount -t proc proc "$r/proc"
echo "build-selinux: apt-get install $packages" >&2
{
  chroot "$r" apt-get update -q &&
    chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages
} >"$tmp/rootfs.log" 2>&1 || {
  tail -n 30 "$tmp/rootfs.log" >&2
  exit 1
}
umount "$r/proc"
: >"$r/etc/resolv.conf"
# Permissive unless the kernel's command line says enforcing=1; the
# reference policy's store, built by the package's postinst.
cat >"$r/etc/selinux/config" <<'CONF'
SELINUX=permissive
SELINUXTYPE=default
CONF
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
  "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/*
chroot "$r" dpkg-query -W >"$tmp/packages.txt"
grep '^kernel	' "$base/packages.txt" >>"$tmp/packages.txt"
trap - EXIT
rm -rf "$out"
mv "$tmp" "$out"
echo "build-selinux: done: $out" >&2
