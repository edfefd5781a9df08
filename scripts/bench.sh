#!/usr/bin/env bash
# make bench: measures the generator and the activator side by side with the
# references (systemd-fstab-generator, fallocate+mkswap+swapon, dd), prints
# the table and writes BENCHMARKS.md. The driver is scripts/benchrun; its
# flags pass through, e.g.
#   scripts/bench.sh -runs 50 -skip provision
# Lines 3 and 4 need root and loop devices (they make, use and remove an ext4
# loop filesystem and swap only on files there); without root they say
# "skipped". Never touches this machine's own swap, sysctls, units or /etc.
# It installs nothing unless asked: it names the Debian packages it lacks and
# stops; with INSTALL=1 (make bench INSTALL=1, as root) it says what it
# installs, then runs apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

need=()
[ -x /usr/lib/systemd/system-generators/systemd-fstab-generator ] || need+=(systemd)
[ -x /usr/bin/time ] || need+=(time)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v mkswap >/dev/null && command -v fallocate >/dev/null || need+=(util-linux)
# Debian ships losetup, swapon, swapoff and mount in "mount".
for t in losetup swapon swapoff mount; do
	command -v "$t" >/dev/null || { need+=(mount); break; }
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "${INSTALL:-}" != 1 ] || [ "$(id -u)" != 0 ]; then
		echo "bench: missing Debian packages: ${need[*]}" >&2
		echo "bench: install them (apt-get install --no-install-recommends ${need[*]}), or run 'make bench INSTALL=1' as root to have apt-get do it" >&2
		exit 1
	fi
	echo "bench: INSTALL=1: installing ${need[*]} with apt-get install --no-install-recommends" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y --no-install-recommends "${need[@]}"
fi

if [ ! -x bin/ransomeye-tuner-generator ] || [ ! -x bin/ransomeye-tuner ]; then
	make build GO="$GO"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 "$GO" build -o "$tmp/benchrun" ./scripts/benchrun
GO="$GO" "$tmp/benchrun" -bin bin -out BENCHMARKS.md "$@"
