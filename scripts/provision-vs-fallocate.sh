#!/usr/bin/env bash
# Time to provision a 16 GiB swapfile on an ext4 loop device:
#   A: ransomeye-tuner activate (temp root, fake 4 GiB MemTotal) then swapon
#   B: fallocate -l 16G f && chmod 600 f && mkswap f && swapon f
# on the same filesystem, alternating A and B, RUNS times each; prints each
# run, the medians and the ratio, then `ransomeye-tuner status` for the last
# A run while its swapfile is on. Never touches this machine's own swap,
# sysctls or /etc: swap is turned on only for files on the loop device (and
# off again), sysctls go to a fake proc/sys under the temp root.
#
# Usage: sudo scripts/provision-vs-fallocate.sh [RUNS]   (default 7)
# Env:   TUNER=path/to/ransomeye-tuner (default: bin/ransomeye-tuner, built
#        if missing), WORKDIR=dir for the sparse image (default /tmp).
set -euo pipefail
RUNS=${1:-7}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root (loop device, mount, swapon)" >&2; exit 2; }
[ -e /dev/loop-control ] || { echo "no /dev/loop-control: no loop devices" >&2; exit 2; }
TUNER=${TUNER:-bin/ransomeye-tuner}
if [ ! -x "$TUNER" ]; then
	mkdir -p bin
	CGO_ENABLED=0 go build -trimpath -o "$TUNER" ./activator
fi
TUNER=$(readlink -f "$TUNER")

work=$(mktemp -d "${WORKDIR:-/tmp}/provision-bench.XXXXXX")
root=$work/root
mnt=$root/ransomeye
dev=
cleanup() {
	for f in "$mnt/swap" "$mnt/f"; do swapoff "$f" 2>/dev/null || true; done
	umount "$mnt" 2>/dev/null || true
	[ -n "$dev" ] && losetup -d "$dev" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

truncate -s 20G "$work/ext4.img"
dev=$(losetup -f --show "$work/ext4.img")
mkfs.ext4 -q -F "$dev"
mkdir -p "$mnt" "$root/proc/sys/vm" "$root/proc/sys/kernel/random" "$root/run/lock" "$root/var"
mount "$dev" "$mnt"
printf 'MemTotal:        4194304 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n' >"$root/proc/meminfo"
printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$root/proc/swaps"
echo "root=/dev/vda ro" >"$root/proc/cmdline"
cat /proc/sys/kernel/random/boot_id >"$root/proc/sys/kernel/random/boot_id"
ln -s /sys "$root/sys"
cp /proc/cpuinfo "$root/proc/cpuinfo"
ln -s ../run/lock "$root/var/lock"
chmod 1777 "$root/run/lock"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
a_times=() b_times=()
echo "ext4 on $dev (20 GiB sparse image), 16 GiB swapfile, $RUNS runs each, alternating"
for i in $(seq 1 "$RUNS"); do
	echo 60 >"$root/proc/sys/vm/swappiness"; echo 100 >"$root/proc/sys/vm/vfs_cache_pressure"
	sync
	t0=$(now)
	RANSOMEYE_TUNER_ROOT=$root "$TUNER" activate 2>"$work/activate.log"
	swapon "$mnt/swap"
	t1=$(now)
	a=$(( (t1 - t0) / 1000000 ))
	if [ "$i" = "$RUNS" ]; then
		# The kernel names the file by its real path; status accepts it under a root.
		cp /proc/swaps "$root/proc/swaps"
		echo; echo "== ransomeye-tuner status (last run, swapfile on)"
		RANSOMEYE_TUNER_ROOT=$root "$TUNER" status --no-metrics || true
		echo; echo "== activate log (last run)"; cat "$work/activate.log"; echo
		printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$root/proc/swaps"
	fi
	swapoff "$mnt/swap"; rm -f "$mnt/swap"; sync

	t0=$(now)
	fallocate -l 16G "$mnt/f" && chmod 600 "$mnt/f" && mkswap -q "$mnt/f" >/dev/null && swapon "$mnt/f"
	t1=$(now)
	b=$(( (t1 - t0) / 1000000 ))
	swapoff "$mnt/f"; rm -f "$mnt/f"; sync
	echo "run $i: activate+swapon ${a} ms, fallocate+chmod+mkswap+swapon ${b} ms"
	a_times+=("$a") b_times+=("$b")
done
ma=$(printf '%s\n' "${a_times[@]}" | median)
mb=$(printf '%s\n' "${b_times[@]}" | median)
echo
echo "median: activate+swapon ${ma} ms; fallocate+chmod+mkswap+swapon ${mb} ms; ratio $(awk -v a="$ma" -v b="$mb" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')x"
