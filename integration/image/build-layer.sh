#!/usr/bin/env bash
# Builds a package layer of the boot-suite base: a copy of a cached base's
# root filesystem with more Debian packages installed by the image's own apt
# (the packages' maintainer scripts run in a chroot, as in an image build:
# no service starts, enabled ones start at the boot). Only the cases that
# name the packages (bootCase.packages) boot it; the harness caches it under
# a hash of the base, this script and the package list.
#
# Usage: build-layer.sh OUTDIR BASEDIR MIRROR SUITE PACKAGE...
#   BASEDIR is the base (rootfs/, vmlinuz, packages.txt); OUTDIR gets the
#   same layout.
# Needs root, network access to MIRROR, chroot and mount.
set -euo pipefail
out=$1
base=$2
mirror=$3
suite=$4
shift 4
packages="$*"
[ -n "$packages" ] || { echo "build-layer: no packages named" >&2; exit 2; }

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
echo "deb $mirror $suite main" >"$r/etc/apt/sources.list"
cp /etc/resolv.conf "$r/etc/resolv.conf"
# Maintainer scripts that start what they install (postgresql's would start
# its cluster, which in a chroot is a process on the build host): a
# policy-rc.d that refuses every start, as image builds use.
printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
chmod 0755 "$r/usr/sbin/policy-rc.d"
mount -t proc proc "$r/proc"
echo "build-layer: apt-get install $packages" >&2
{
  chroot "$r" apt-get update -q &&
    chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages
} >"$tmp/rootfs.log" 2>&1 || {
  tail -n 30 "$tmp/rootfs.log" >&2
  exit 1
}
umount "$r/proc"
rm -f "$r/usr/sbin/policy-rc.d"
: >"$r/etc/resolv.conf"
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
  "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/*
chroot "$r" dpkg-query -W >"$tmp/packages.txt"
grep '^kernel	' "$base/packages.txt" >>"$tmp/packages.txt"
trap - EXIT
rm -rf "$out"
mv "$tmp" "$out"
echo "build-layer: done: $out" >&2
