#!/usr/bin/env bash
# Builds a package layer of the boot-suite base: a copy of a suite's cached
# base root filesystem with Debian packages installed by the image's own apt
# (the engines some cases run beside the tuner: Suricata, PostgreSQL). Only
# the cases that name the layer boot it (integration/README.md, Images).
#
# Usage: build-layer.sh OUTDIR BASEDIR MIRROR SUITE PACKAGE...
#   BASEDIR is the suite's base (rootfs/, vmlinuz, packages.txt); OUTDIR gets
#   the same layout. --no-install-recommends, as the base: what the package
#   needs to run, nothing it merely suggests.
# The harness names OUTDIR after a hash of the base's key, this script and
# the packages, so a change to any of them rebuilds. Needs root, network
# access to MIRROR, chroot and mount.
set -euo pipefail
out=$1
base=$2
mirror=$3
suite=$4
shift 4
[ $# -gt 0 ] || { echo "build-layer: no packages named" >&2; exit 2; }

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
# Maintainer scripts that would start the services they install (there is
# no running systemd here, and the cases decide what runs): policy-rc.d says
# no to every start, as in an image build.
printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
chmod 0755 "$r/usr/sbin/policy-rc.d"
mount -t proc proc "$r/proc"
echo "build-layer: apt-get install $* on $suite" >&2
{
  chroot "$r" apt-get update -q &&
    chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
} >"$tmp/layer.log" 2>&1 || {
  tail -n 30 "$tmp/layer.log" >&2
  exit 1
}
umount "$r/proc"
rm -f "$r/usr/sbin/policy-rc.d"
: >"$r/etc/resolv.conf"
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
  "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/* "$r"/var/log/*.log
chroot "$r" dpkg-query -W >"$tmp/packages.txt"
grep '^kernel	' "$base/packages.txt" >>"$tmp/packages.txt"
du -sm "$r" | awk '{print "build-layer: root filesystem " $1 " MB"}' >&2
trap - EXIT
rm -rf "$out"
mv "$tmp" "$out"
echo "build-layer: done: $out" >&2
