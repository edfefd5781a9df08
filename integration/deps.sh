#!/usr/bin/env bash
# Installs what the boot suite needs on a fresh Debian 12 machine (make demo,
# make integration): qemu, debootstrap, e2fsprogs (mkfs.ext4 -d, debugfs,
# resize2fs), xfsprogs and btrfs-progs (data disks). Does nothing when they
# are there. Needs root for apt-get.
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v debugfs >/dev/null && command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
# Data disks of the XFS and btrfs cases are made on the host.
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v mkfs.btrfs >/dev/null || need+=(btrfs-progs)
# The tap NIC of case 26 (ip tuntap; the case skips without it).
command -v ip >/dev/null || need+=(iproute2)
# The image builder downloads Debian's cloud kernel with apt-get download.
apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || need+=(apt-lists)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing ${need[*]}; run as root, or: apt-get install --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
pkgs=()
for p in "${need[@]}"; do [ "$p" = apt-lists ] || pkgs+=("$p"); done
if [ ${#pkgs[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
