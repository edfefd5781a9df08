# Case 31, sourced by report.sh: interference on a reserved core, measured
# with the real units (make bench line 7b reads these keys). A fixed
# CPU-bound job runs in a scope under the DPI service's slice (the plan's
# AllowedCPUs=4-5) while a noisy load runs in system.slice: one busy shell
# per online CPU and a loop of O_DIRECT reads of the root disk (NVMe queue
# interrupts follow the CPU that submits). WITH the partition system.slice
# keeps its AllowedCPUs=0-3; WITHOUT it is widened to every CPU at runtime
# (systemctl set-property --runtime), then put back. Rounds alternate
# (with, without; then without, with; ...). Per run: the job's wall time and
# its involuntary context switches (/proc/PID/status). No timing is asserted
# by the host: it checks that the rounds completed and what was in effect.
rounds=4
online=$(cat /sys/devices/system/cpu/online)
ncpu=$(nproc --all)
# job N TAG: N shell arithmetic steps in bench-job-TAG.scope under the DPI
# slice; prints "wall_us nonvoluntary_ctxt_switches cpus_allowed run_ns
# wait_ns": the last two from /proc/PID/schedstat, time on a CPU and time
# runnable but waiting for one. Why both: under TCG each busy vCPU is a host
# thread on a shared host, and the host's contention stretches wall and run
# time alike; the wait is the guest's own contention for the job's CPU.
job() {
  systemd-run --quiet --scope --slice=ransomeye-dpi.slice --unit="bench-job-$2" bash -c '
    n=$1; s=$EPOCHREALTIME; i=0
    while (( i < n )); do (( i++ )); done
    e=$EPOCHREALTIME
    while read -r k v; do
      case $k in nonvoluntary_ctxt_switches:) nv=$v ;; Cpus_allowed_list:) c=$v ;; esac
    done </proc/$$/status
    read -r run wait _ </proc/$$/schedstat
    echo "$(( 10#${e/./} - 10#${s/./} )) $nv $c $run $wait"' _ "$1"
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
cpus_of() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }

# Calibrate the fixed work once, unloaded: about 1.5 s of one guest CPU.
read -r cal _ <<<"$(job 20000 cal)"
iters=$(( 20000 * 1500000 / (cal > 0 ? cal : 1) ))
(( iters < 20000 )) && iters=20000
(( iters > 3000000 )) && iters=3000000
kv case.bench.calibration_us "$cal"
kv case.bench.iterations "$iters"
kv case.bench.online "$online"

systemd-run --quiet --unit=bench-noise.service --slice=system.slice bash -c '
  for i in $(seq '"$ncpu"'); do ( while :; do :; done ) & done
  while :; do dd if=/dev/nvme0n1 of=/dev/null bs=64k count=128 iflag=direct status=none; done'
sleep 2
noisepid=$(systemctl show -P MainPID bench-noise.service)
setmode() {
  if [ "$1" = with ]; then
    systemctl set-property --runtime system.slice AllowedCPUs=0-3
  else
    systemctl set-property --runtime system.slice AllowedCPUs="$online"
  fi
  sleep 1
}
n=0
for r in $(seq "$rounds"); do
  order="with without"
  (( r % 2 == 0 )) && order="without with"
  for mode in $order; do
    setmode "$mode"
    n=$((n + 1))
    kv "case.bench.$n.mode" "$mode"
    kv "case.bench.$n.system_slice_cpus" "$(cat /sys/fs/cgroup/system.slice/cpuset.cpus.effective)"
    kv "case.bench.$n.noise_cpus" "$(cpus_of "$noisepid")"
    read -r wall nv cpus run wait <<<"$(job "$iters" "$n")"
    kv "case.bench.$n.wall_us" "$wall"
    kv "case.bench.$n.nvcsw" "$nv"
    kv "case.bench.$n.job_cpus" "$cpus"
    kv "case.bench.$n.run_ns" "$run"
    kv "case.bench.$n.wait_ns" "$wait"
    printf '%s %s %s %s %s\n' "$mode" "$wall" "$nv" "$run" "$wait" >>/run/bench-rounds
  done
done
systemctl stop bench-noise.service
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
