# Case 28, sourced by report.sh: interference on a reserved core, measured
# with the real units (make bench line 7b reads these keys). A fixed
# CPU-bound job runs in a scope under the DPI service's slice (the plan's
# AllowedCPUs=4-5) while a noisy load runs in system.slice: one busy shell
# per online CPU and a loop of O_DIRECT reads of the root disk (NVMe queue
# interrupts follow the CPU that submits). WITH the partition system.slice
# keeps its AllowedCPUs=0-3; WITHOUT it is widened to every CPU at runtime
# (systemctl set-property --runtime), then put back. Rounds alternate
# (with, without; then without, with; ...). Per run: the job's wall time,
# its involuntary context switches (/proc/PID/status) and its schedstat
# run and wait times. No timing is asserted by the host: it checks that the
# runs completed and what was in effect.
#
# Why a job server and a frozen noise: a first version started a scope per
# run and changed system.slice with the noise running, and systemctl and
# systemd-run, starved by it, took 5 of the case's 6.5 minutes. Now one
# bash in one scope runs the job on request, and the noise is frozen
# (cgroup.freeze) while systemd is asked anything.
rounds=4
online=$(cat /sys/devices/system/cpu/online)
ncpu=$(nproc --all)
cmd=/run/bench-cmd out=/run/bench-out
rm -f "$cmd" "$out" /run/bench-rounds
mkfifo "$cmd" "$out"
# The server: for each N read from $cmd, N shell arithmetic steps, then
# "wall_us nonvoluntary_switches cpus_allowed run_ns wait_ns" on $out, the
# counts as differences over the steps (schedstat: time on a CPU, and time
# runnable but waiting for one; under TCG the host's contention stretches
# wall and run time alike, the wait is the guest's own contention).
systemd-run --quiet --scope --slice=ransomeye-dpi.slice --unit=bench-job bash -c '
  counts() {
    while read -r k v; do
      case $k in nonvoluntary_ctxt_switches:) nv=$v ;; Cpus_allowed_list:) c=$v ;; esac
    done </proc/$$/status
    read -r run wait _ </proc/$$/schedstat
  }
  while read -r n <"$1"; do
    [ "$n" = quit ] && exit 0
    counts; nv0=$nv run0=$run wait0=$wait
    s=$EPOCHREALTIME; i=0
    while (( i < n )); do (( i++ )); done
    e=$EPOCHREALTIME
    counts
    echo "$(( 10#${e/./} - 10#${s/./} )) $(( nv - nv0 )) $c $(( run - run0 )) $(( wait - wait0 ))" >"$2"
  done' _ "$cmd" "$out" &
job() { echo "$1" >"$cmd"; cat "$out"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
cpus_of() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }

# Calibrate the fixed work once, unloaded: about 1 s of one guest CPU.
read -r cal _ <<<"$(job 20000)"
iters=$(( 20000 * 1000000 / (cal > 0 ? cal : 1) ))
(( iters < 10000 )) && iters=10000
(( iters > 3000000 )) && iters=3000000
kv case.bench.calibration_us "$cal"
kv case.bench.iterations "$iters"
kv case.bench.online "$online"

systemd-run --quiet --unit=bench-noise.service --slice=system.slice bash -c '
  for i in $(seq '"$ncpu"'); do ( while :; do :; done ) & done
  while :; do dd if=/dev/nvme0n1 of=/dev/null bs=64k count=128 iflag=direct status=none; done'
noise=/sys/fs/cgroup/system.slice/bench-noise.service
noisepid=$(systemctl show -P MainPID bench-noise.service)
freeze() { echo "$1" >"$noise/cgroup.freeze"; }
n=0
for r in $(seq "$rounds"); do
  order="with without"
  (( r % 2 == 0 )) && order="without with"
  for mode in $order; do
    freeze 1
    if [ "$mode" = with ]; then
      systemctl set-property --runtime system.slice AllowedCPUs=0-3
    else
      systemctl set-property --runtime system.slice AllowedCPUs="$online"
    fi
    n=$((n + 1))
    kv "case.bench.$n.mode" "$mode"
    kv "case.bench.$n.system_slice_cpus" "$(cat /sys/fs/cgroup/system.slice/cpuset.cpus.effective)"
    kv "case.bench.$n.noise_cpus" "$(cpus_of "$noisepid")"
    freeze 0
    sleep 1
    read -r wall nv cpus run wait <<<"$(job "$iters")"
    kv "case.bench.$n.wall_us" "$wall"
    kv "case.bench.$n.nvcsw" "$nv"
    kv "case.bench.$n.job_cpus" "$cpus"
    kv "case.bench.$n.run_ns" "$run"
    kv "case.bench.$n.wait_ns" "$wait"
    printf '%s %s %s %s %s\n' "$mode" "$wall" "$nv" "$run" "$wait" >>/run/bench-rounds
  done
done
freeze 1
systemctl stop bench-noise.service
echo quit >"$cmd"
wait
systemctl set-property --runtime system.slice AllowedCPUs=0-3
systemctl revert system.slice >/dev/null 2>&1
kv case.bench.runs "$n"
for mode in with without; do
  kv "case.bench.$mode.median_wall_us" "$(awk -v m="$mode" '$1 == m { print $2 }' /run/bench-rounds | median)"
  kv "case.bench.$mode.median_nvcsw" "$(awk -v m="$mode" '$1 == m { print $3 }' /run/bench-rounds | median)"
  kv "case.bench.$mode.median_wait_ns" "$(awk -v m="$mode" '$1 == m { print $5 }' /run/bench-rounds | median)"
done
kv case.bench.system_slice_after "$(cat /sys/fs/cgroup/system.slice/cpuset.cpus.effective)"
kv case.bench.system_slice_allowed_after "$(systemctl show -P AllowedCPUs system.slice)"
kv case.bench_rc 0
