#!/bin/bash
# Whole-process wall time of ransomeye-tuner-generator next to systemd's
# systemd-fstab-generator (C), each run into fresh temporary output dirs,
# alternating the two, median of N runs each (issue 2 and issue 6 line 1).
#
# usage: scripts/gen-vs-fstab.sh [-n RUNS] [-r ROOT] [-f FSTAB] [-t DIR] [GENERATOR]
#   -n RUNS   runs of each (default 20)
#   -t DIR    where the output dirs go (default /dev/shm: a tmpfs, as
#             /run/systemd/generator* are at boot; fsync costs nothing there)
#   -r ROOT   RANSOMEYE_TUNER_ROOT for our generator (default: this machine, /);
#             a fake machine: go run ./internal/fakesys/cmd/fakesys -nodes 2
#             -cores 64 -threads 2 [-memblocks 8192] /dev/shm/fake256
#   -f FSTAB  fstab for systemd-fstab-generator (SYSTEMD_FSTAB; default /etc/fstab)
#   GENERATOR our binary (default bin/ransomeye-tuner-generator, built if missing)
# Prints one line per generator (median, min, max in microseconds) and the
# ratio of the medians. Times come from bash's $EPOCHREALTIME around each
# run (no fork for the clock), so both carry the same fork+exec cost.
# Read-only for the host: outputs go to a temporary directory, removed at
# exit; nothing under /run or /etc is touched.
set -euo pipefail

runs=20 root="" fstab="" tmpbase=/dev/shm
while getopts "n:r:f:t:" o; do
	case $o in
	n) runs=$OPTARG ;;
	t) tmpbase=$OPTARG ;;
	r) root=$OPTARG ;;
	f) fstab=$OPTARG ;;
	*) sed -n '2,18p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
cd "$(dirname "$0")/.."
gen=${1:-bin/ransomeye-tuner-generator}
if [ ! -x "$gen" ]; then
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$gen" ./generator
fi
fstabgen=/usr/lib/systemd/system-generators/systemd-fstab-generator
[ -x "$fstabgen" ] || { echo "no $fstabgen (apt-get install systemd)" >&2; exit 1; }

[ -d "$tmpbase" ] || tmpbase=${TMPDIR:-/tmp}
tmp=$(mktemp -d -p "$tmpbase")
trap 'rm -rf "$tmp"' EXIT

# one_run NAME CMD...: run CMD with three fresh output dirs appended, print µs.
one_run() {
	local d=$tmp/$1.$RANDOM$RANDOM
	mkdir -p "$d/n" "$d/e" "$d/l"
	shift
	local t0=$EPOCHREALTIME
	"$@" "$d/n" "$d/e" "$d/l" >/dev/null 2>&1 </dev/null || true
	local t1=$EPOCHREALTIME
	rm -rf "$d"
	echo $(( (${t1/./} - ${t0/./}) ))
}

ours=() theirs=()
for ((i = 0; i < runs; i++)); do
	if [ -n "$root" ]; then
		ours+=("$(one_run ours env RANSOMEYE_TUNER_ROOT="$root" "$gen")")
	else
		ours+=("$(one_run ours env -u RANSOMEYE_TUNER_ROOT "$gen")")
	fi
	if [ -n "$fstab" ]; then
		theirs+=("$(one_run fstab env SYSTEMD_FSTAB="$fstab" "$fstabgen")")
	else
		theirs+=("$(one_run fstab "$fstabgen")")
	fi
done

stats() { # prints "median min max" of the arguments
	printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2); print m, a[1], a[NR]}'
}
read -r om omin omax < <(stats "${ours[@]}")
read -r fm fmin fmax < <(stats "${theirs[@]}")
printf 'ransomeye-tuner-generator  median %6d us  min %6d  max %6d  (%d runs, root %s)\n' "$om" "$omin" "$omax" "$runs" "${root:-/}"
printf 'systemd-fstab-generator    median %6d us  min %6d  max %6d  (%d runs, fstab %s)\n' "$fm" "$fmin" "$fmax" "$runs" "${fstab:-/etc/fstab}"
awk -v a="$om" -v b="$fm" 'BEGIN { printf "ratio ours/fstab          %.2fx\n", a / b }'
echo "output dirs under $tmpbase ($(stat -f -c %T "$tmpbase")); load average $(cut -d' ' -f1-3 /proc/loadavg)"
