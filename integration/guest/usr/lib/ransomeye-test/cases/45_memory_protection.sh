# Case 45, sourced by report.sh: the core holds a working set it touched
# once (memload hold, the core's ExecStart= in this case), training
# (memload churn) keeps more than the RAM hot: each arm lets it run until
# it has touched as much as the RAM (or hog_wait seconds: under TCG,
# throttled at its ceiling, it would take many minutes to touch it all),
# then hog_secs more. Two arms in this one boot: with
# the tuner's memory drop-ins as the generator wrote them, then without
# them (set-property --runtime takes the core's and system.slice's
# MemoryLow= and training's MemoryHigh= and MemorySwapMax= away), each on
# a fresh working set. Per arm: what the kernel applied, where each
# service's memory went, training's memory.events, the pressure; then the
# hog stops and the core reads its working set again: the major faults
# (swap-ins) that took.
ws_mib=384
hog_wait=240
hog_secs=30
ram_mib=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
prom=/var/lib/prometheus/node-exporter/ransomeye_tuner.prom
mkdir -p "${prom%/*}"
cg=/sys/fs/cgroup
core=$cg/system.slice/ransomeye-core.service
train=$cg/ransomeye.slice/ransomeye-training.slice/ransomeye-training.service
kv case.ws_mib "$ws_mib"
kv case.hog_mib "$(sed -n 's/.*memload churn \([0-9]*\).*/\1/p' /etc/systemd/system/ransomeye-training.service.d/60-memload.conf)"
kv case.hog_secs "$hog_secs"
# waitfor FILE PATTERN SECONDS
waitfor() {
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}
# hogged SECONDS: wait until training has touched as much as the RAM.
hogged() {
  local i n
  for ((i = 0; i < $1; i++)); do
    grep -q allocated /run/memload-training 2>/dev/null && return 0
    n=$(sed -n 's/^touched \([0-9]*\)$/\1/p' /run/memload-training 2>/dev/null | tail -n 1)
    [ "${n:-0}" -ge "$ram_mib" ] && return 0
    sleep 1
  done
  return 1
}
event() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.events" 2>/dev/null; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
arm() {
  local a=$1 t0 line pin0
  rm -f /run/memload-core /run/memload-training
  systemctl restart ransomeye-core.service
  kv "case.$a.core_restart_rc" $?
  waitfor /run/memload-core ready 180
  kv "case.$a.core_ready_rc" $?
  kv "case.$a.core_low" "$(cat $core/memory.low)"
  kv "case.$a.slice_low" "$(cat $cg/system.slice/memory.low)"
  kv "case.$a.core_swap_before" "$(cat $core/memory.swap.current)"
  touch /run/ransomeye-test-hog
  t0=$(date +%s)
  systemctl start ransomeye-training.service
  kv "case.$a.hog_start_rc" $?
  hogged "$hog_wait"
  kv "case.$a.hogged_rc" $?
  kv "case.$a.hog_touch_s" $(($(date +%s) - t0))
  sleep "$hog_secs"
  kv "case.$a.hog_progress" "$(tail -n 1 /run/memload-training 2>/dev/null)"
  kv "case.$a.training_high" "$(cat $train/memory.high)"
  kv "case.$a.training_swap_max" "$(cat $train/memory.swap.max)"
  kv "case.$a.training_current" "$(cat $train/memory.current)"
  kv "case.$a.training_swap" "$(cat $train/memory.swap.current)"
  kv "case.$a.training_events_high" "$(event $train high)"
  kv "case.$a.core_current" "$(cat $core/memory.current)"
  kv "case.$a.core_swap" "$(cat $core/memory.swap.current)"
  kv "case.$a.core_events_low" "$(event $core low)"
  kv "case.$a.core_memory_pressure" "$(head -n 1 $core/memory.pressure 2>/dev/null)"
  kv "case.$a.training_memory_pressure" "$(head -n 1 $train/memory.pressure 2>/dev/null)"
  block "case-$a-status" /usr/sbin/ransomeye-tuner status
  /usr/sbin/ransomeye-tuner metrics
  block "case-$a-metrics" grep -E '^ransomeye_tuner_(memory|cgroup|pressure)_' "$prom"
  systemctl stop ransomeye-training.service
  rm -f /run/ransomeye-test-hog
  # The core reads its working set again: what the hog cost it.
  pin0=$(vmstat pswpin)
  t0=$(date +%s)
  kill -USR1 "$(systemctl show -P MainPID ransomeye-core.service)"
  waitfor /run/memload-core retouch 300
  kv "case.$a.retouch_rc" $?
  line=$(grep retouch /run/memload-core | tail -n 1)
  kv "case.$a.core_majflt" "$(sed -n 's/.*majflt=\([0-9]*\).*/\1/p' <<<"$line")"
  kv "case.$a.core_retouch_ms" "$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$line")"
  kv "case.$a.pswpin" $(($(vmstat pswpin) - pin0))
  kv "case.$a.retouch_s" $(($(date +%s) - t0))
}
kv case.with_start "$(cut -d" " -f1 /proc/uptime)"
arm with
# The control arm: the same boot without the protection and the ceiling.
systemctl set-property --runtime ransomeye-core.service MemoryLow=0
kv case.unset_core_rc $?
systemctl set-property --runtime system.slice MemoryLow=0
kv case.unset_slice_rc $?
systemctl set-property --runtime ransomeye-training.service MemoryHigh=infinity MemorySwapMax=infinity
kv case.unset_training_rc $?
kv case.without_start "$(cut -d" " -f1 /proc/uptime)"
arm without
kv case.end "$(cut -d" " -f1 /proc/uptime)"
