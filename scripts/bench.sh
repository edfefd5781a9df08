#!/usr/bin/env bash
# make bench: measures the generator and the activator side by side with the
# references (systemd-fstab-generator, fallocate+mkswap+swapon, dd), prints
# the table and writes BENCHMARKS.md (issue 6). The driver is
# scripts/benchrun (go run); its flags pass through, e.g.
#   scripts/bench.sh -runs 50 -skip provision
# Lines 3 and 4 need root and loop devices (they make, use and remove an ext4
# loop filesystem and swap only on files there); without root they say
# "skipped". Never touches this machine's own swap, sysctls, units or /etc.
# Installs what it needs with apt-get when it is missing (root only).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

need=()
[ -x /usr/lib/systemd/system-generators/systemd-fstab-generator ] || need+=(systemd)
command -v strace >/dev/null || need+=(strace)
[ -x /usr/bin/time ] || need+=(time)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v mkswap >/dev/null && command -v fallocate >/dev/null || need+=(util-linux)
# Debian ships losetup, swapon, swapoff and mount in "mount".
for t in losetup swapon swapoff mount; do
	command -v "$t" >/dev/null || { need+=(mount); break; }
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench: missing ${need[*]}; run as root, or: apt-get install --no-install-recommends ${need[*]}" >&2
		exit 1
	fi
	echo "bench: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x bin/ransomeye-tuner-generator ] || [ ! -x bin/ransomeye-tuner ]; then
	make build GO="$GO"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 "$GO" build -o "$tmp/benchrun" ./scripts/benchrun
GO="$GO" "$tmp/benchrun" -bin bin -out BENCHMARKS.md "$@"
