# Case 26, sourced by report.sh: 8 vCPUs, irqbalance running, a two-queue
# virtio-net NIC (eth0, net.ifnames=0) named in [CPU] DPIInterface=, up with
# 10.99.0.2/24 (systemd-networkd); the host feeds it UDP from 16 flows.
# 1. Wait (polling) until irqbalance has run for at least 45 s (its passes
#    are 10 s apart), ransomeye-tuner-place.service is done and the NIC's
#    queue interrupts arrive where they were asked to, then record
#    every interrupt's affinity, the workqueue masks, the DPI service's
#    environment, irqbalance's command line and status --json.
# 2. An administrator's drop-in widens the core's AllowedCPUs=, daemon-reload,
#    restart of the core: status must name the unit and core-cpus.
# 3. That drop-in goes, one with an empty ExecCondition= comes: status must
#    name core-gate.
nic=eth0
# queues_moved: every queue interrupt of the NIC arrives where it was asked
# to (the host feeds the tap, so each fires and the kernel completes its
# move).
queues_moved() {
  local irq name
  for irq in $(ls "$(readlink -f "/sys/class/net/$nic/device")/../msi_irqs" 2>/dev/null); do
    name=$(awk -v n="$irq:" '$1 == n { print $NF }' /proc/interrupts)
    case $name in *-input.* | *-output.*) ;; *) continue ;; esac
    [ "$(cat "/proc/irq/$irq/smp_affinity_list")" = "$(cat "/proc/irq/$irq/effective_affinity_list")" ] || return 1
  done
  return 0
}
ibal_age() {
  local since now
  since=$(systemctl show -P ActiveEnterTimestampMonotonic irqbalance.service)
  now=$(cut -d' ' -f1 /proc/uptime)
  [ "${since:-0}" != 0 ] || { echo 0; return; }
  awk -v s="$since" -v n="$now" 'BEGIN { printf "%d", n - s / 1e6 }'
}
start=$(cut -d. -f1 /proc/uptime)
waited=0
while :; do
  age=$(ibal_age)
  place=$(systemctl show -P ActiveState ransomeye-tuner-place.service)
  if [ "$age" -ge 45 ] && [ "$place" != activating ] && queues_moved; then
    break
  fi
  if [ "$waited" -ge 300 ]; then
    kv case.wait_gave_up "irqbalance age $age s, ransomeye-tuner-place $place, capture queues moved: $(queues_moved && echo yes || echo no)"
    break
  fi
  # Datagrams to the host (static neighbour, see the case's .network): a
  # transmit queue's interrupt fires on completions, and this shell runs on
  # the core's CPUs, whose packets the driver's XPS map sends on queue 0;
  # the guest's ICMP replies to the host's datagrams go out from the CPUs
  # that receive them, the DPI CPUs once the receive queues moved.
  for i in 1 2 3 4; do echo tx 2>/dev/null >"/dev/udp/10.99.0.1/$((9000 + i))"; done
  sleep 3
  waited=$(( $(cut -d. -f1 /proc/uptime) - start ))
done
kv case.waited_s "$waited"
kv case.irqbalance_age_s "$(ibal_age)"
kv case.irqbalance_state "$(systemctl show -P ActiveState irqbalance.service)"
kv case.place_result "$(systemctl show -P Result ransomeye-tuner-place.service)"
ibpid=$(systemctl show -P MainPID irqbalance.service)
kv case.irqbalance_cmdline "$(tr '\0' ' ' <"/proc/$ibpid/cmdline" 2>/dev/null)"
kv case.irqbalance_banned "$(tr '\0' '\n' <"/proc/$ibpid/environ" 2>/dev/null | sed -n 's/^IRQBALANCE_BANNED_CPULIST=//p')"
# The NIC: its driver's device (virtioN) and the PCI function's vectors.
dev=$(readlink -f "/sys/class/net/$nic/device")
kv case.nic_device "$(basename "$dev")"
kv case.nic_msi "$(ls "${dev%/*}/msi_irqs" 2>/dev/null | sort -n | tr '\n' ' ')"
kv case.nic_operstate "$(cat "/sys/class/net/$nic/operstate")"
kv case.nic_rx_packets "$(cat "/sys/class/net/$nic/statistics/rx_packets")"
kv case.nic_tx_packets "$(cat "/sys/class/net/$nic/statistics/tx_packets")"
kv case.nic_rx_queues "$(ls -d "/sys/class/net/$nic/queues/rx-"* 2>/dev/null | wc -l)"
# Every numbered interrupt: name|smp_affinity_list|effective_affinity_list|w
# (w: its smp_affinity_list is writable) and its count per CPU.
while read -r num rest; do
  num=${num%:}
  case $num in '' | *[!0-9]*) continue ;; esac
  d=/proc/irq/$num
  w=ro
  [ -w "$d/smp_affinity_list" ] && [ "$(stat -c %a "$d/smp_affinity_list")" != 444 ] && w=w
  name=$(awk -v n="$num:" '$1 == n { s = ""; for (i = 2; i <= NF; i++) if ($i !~ /^[0-9]+$/) { s = $(i + 2); for (j = i + 3; j <= NF; j++) s = s " " $j; break }; print s }' /proc/interrupts)
  kv "case.irq.$num" "$name|$(cat "$d/smp_affinity_list" 2>/dev/null)|$(cat "$d/effective_affinity_list" 2>/dev/null)|$w"
done </proc/interrupts
block case-interrupts cat /proc/interrupts
kv case.wq_cpumask "$(cat /sys/devices/virtual/workqueue/cpumask)"
kv case.wq_writeback_cpumask "$(cat /sys/devices/virtual/workqueue/writeback/cpumask)"
kv case.default_smp_affinity "$(cat /proc/irq/default_smp_affinity)"
dpipid=$(systemctl show -P MainPID ransomeye-dpi.service)
for v in RANSOMEYE_CPUS RANSOMEYE_CPU_COUNT RANSOMEYE_NUMA_NODE RANSOMEYE_CPUS_RESERVED; do
  kv "case.dpi_env.$v" "$(tr '\0' '\n' <"/proc/$dpipid/environ" 2>/dev/null | sed -n "s/^$v=//p")"
done
block case-status /usr/sbin/ransomeye-tuner status
block case-status-json /usr/sbin/ransomeye-tuner status --json
block case-place-journal journalctl -b -o short-monotonic --no-pager -u ransomeye-tuner-place.service -u ransomeye-tuner.service -u irqbalance.service

# 2. The administrator widens the core. The drop-in's name sorts after the
# generator's cpu-isolation.conf: drop-ins apply in file-name order, and an
# earlier one would be overridden by ours.
d=/etc/systemd/system/ransomeye-core.service.d
mkdir -p "$d"
printf '# boot suite case 26: an administrator widens the core\n[Service]\nAllowedCPUs=0-7\n' >"$d/zz-admin-cpus.conf"
# ... and system.slice with it: under strict isolation the core alone widened
# stays within system.slice's 0-3, which is not an escape.
mkdir -p /etc/systemd/system/system.slice.d
printf '# boot suite case 26: an administrator undoes the fence\n[Slice]\nAllowedCPUs=0-7\n' >/etc/systemd/system/system.slice.d/zz-admin-cpus.conf
systemctl daemon-reload
kv case.widen_reload_rc $?
systemctl restart ransomeye-core.service
kv case.widen_restart_rc $?
kv case.widen_core_allowed "$(systemctl show -P AllowedCPUs ransomeye-core.service)"
kv case.widen_core_state "$(systemctl show -P ActiveState ransomeye-core.service)"
kv case.widen_core_condition "$(systemctl show -P ConditionResult ransomeye-core.service)"
cg=$(systemctl show -P ControlGroup ransomeye-core.service)
kv case.widen_core_cgroup_cpus "$(cat "/sys/fs/cgroup$cg/cpuset.cpus.effective" 2>/dev/null)"
block case-widen-status /usr/sbin/ransomeye-tuner status
block case-widen-status-json /usr/sbin/ransomeye-tuner status --json

# 3. The administrator drops the gate: an empty ExecCondition= resets the
# list (again a name after the shipped gate drop-in's).
rm -f "$d/zz-admin-cpus.conf" /etc/systemd/system/system.slice.d/zz-admin-cpus.conf
printf '# boot suite case 26: an administrator drops the gate\n[Service]\nExecCondition=\n' >"$d/zz-admin-nogate.conf"
systemctl daemon-reload
kv case.nogate_reload_rc $?
kv case.nogate_core_execcondition "$(systemctl show -P ExecCondition ransomeye-core.service)"
block case-nogate-status /usr/sbin/ransomeye-tuner status
block case-nogate-status-json /usr/sbin/ransomeye-tuner status --json
rm -f "$d/zz-admin-nogate.conf"
systemctl daemon-reload
# The gate kept the widened core down; with the drop-ins gone it starts.
systemctl start ransomeye-core.service
kv case.core_state_at_end "$(systemctl show -P ActiveState ransomeye-core.service)"
