# Case 33, sourced by report.sh: 8 vCPUs (DPI CPUs 4-5), a four-queue
# virtio-net NIC on a host tap, [CPU] DPIInterface=eth0, virtio_net kept from
# loading at boot (modprobe.blacklist=virtio_net), systemd-networkd to bring
# eth0 up when it appears. Each step changes the capture NIC after every boot
# placement ran, then waits (polling /proc, 0.25 s) until its queue
# interrupts are asked onto the DPI CPUs again (queue K on CPU 4+K%2) and
# records how long that took:
#   late     modprobe virtio_net: the NIC appears after ransomeye-tuner-place
#   L2, L4   ethtool -L eth0 combined 2, then 4 (virtio_net re-spreads them)
#   reprobe  unbind and bind of the virtio device (a driver reload)
#   away     rename eth0 -> cap9: no longer the capture interface, its queues
#            go to the core CPUs 0-3
#   back     rename cap9 -> eth0: the capture interface again
nic=eth0
# queue_irqs: "IRQ NAME" of each queue interrupt of $nic's queues in use
# (the PCI function's msi_irqs: virtio's device is a child of it). After
# ethtool -L 2 virtio_net keeps the vectors of queues 2 and 3, unused.
queue_irqs() {
  local dev irq name queues
  dev=$(readlink -f "/sys/class/net/$nic/device" 2>/dev/null) || return 0
  queues=$(ls -d "/sys/class/net/$nic/queues/rx-"* 2>/dev/null | wc -l)
  for irq in $(ls "$dev/../msi_irqs" 2>/dev/null | sort -n); do
    name=$(awk -v n="$irq:" '$1 == n { print $NF }' /proc/interrupts)
    case $name in *-input.* | *-output.*) [ "${name##*.}" -lt "$queues" ] && echo "$irq $name" ;; esac
  done
}
# affinities: "name=smp_affinity_list" of each queue interrupt, one line.
affinities() {
  local irq name out=
  while read -r irq name; do
    out="$out $name=$(cat "/proc/irq/$irq/smp_affinity_list" 2>/dev/null)"
  done < <(queue_irqs)
  echo "${out# }"
}
# placed WANT: every queue interrupt of $nic, one per queue pair of its
# current count, is asked onto WANT: "dpi" (queue K on 4+K%2) or a CPU list.
placed() {
  local irq name k want n=0 queues
  queues=$(ls -d "/sys/class/net/$nic/queues/rx-"* 2>/dev/null | wc -l)
  [ "$queues" -gt 0 ] || return 1
  while read -r irq name; do
    k=${name##*.}
    want=$1
    [ "$want" = dpi ] && want=$((4 + k % 2))
    [ "$(cat "/proc/irq/$irq/smp_affinity_list" 2>/dev/null)" = "$want" ] || return 1
    n=$((n + 1))
  done < <(queue_irqs)
  [ "$n" -eq $((2 * queues)) ]
}
now() { cut -d' ' -f1 /proc/uptime; }
# How long a step waits (ransomeye.test.steer_bound=S on the command line:
# a boot without the udev rule, to see the case fail, need not wait long).
bound=$(arg ransomeye.test.steer_bound)
bound=${bound:-180}
# step NAME WANT CMD...: run CMD (the change), record the affinities right
# after it, then wait up to $bound s until placed WANT; record the seconds.
step() {
  local name=$1 want=$2 t0 t1 ok=no
  shift 2
  kv "case.$name.command" "$*"
  kv "case.$name.reloads_before" "$(journalctl -b -q --no-pager -u ransomeye-tuner-netdev.service | grep -c 'Reloading ')"
  "$@"
  kv "case.$name.rc" $?
  t0=$(now)
  kv "case.$name.after_change" "$(affinities)"
  while :; do
    if placed "$want"; then ok=yes; break; fi
    [ "$(awk -v a="$(now)" -v b="$t0" -v m="$bound" 'BEGIN { print (a - b > m) }')" = 1 ] && break
    sleep 0.25
  done
  t1=$(now)
  kv "case.$name.placed" "$ok"
  kv "case.$name.seconds" "$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')"
  kv "case.$name.final" "$(affinities)"
  kv "case.$name.queues" "$(ls -d "/sys/class/net/$nic/queues/rx-"* 2>/dev/null | wc -l)"
  # Let the netdev unit's reloads end before the next change (a reload
  # queued behind the one that placed would read the next change too).
  while [ "$(systemctl show -P ActiveState ransomeye-tuner-netdev.service)" = reloading ]; do sleep 0.25; done
  kv "case.$name.reloads_after" "$(journalctl -b -q --no-pager -u ransomeye-tuner-netdev.service | grep -c 'Reloading ')"
}

# Before: every boot placement ran without the NIC.
kv case.place_result "$(systemctl show -P Result ransomeye-tuner-place.service)"
kv case.place_done_at_us "$(systemctl show -P ExecMainExitTimestampMonotonic ransomeye-tuner-place.service)"
kv case.netdev_state "$(systemctl show -P ActiveState ransomeye-tuner-netdev.service)"
kv case.nic_before "$([ -e /sys/class/net/$nic ] && echo present || echo absent)"
kv case.late_at_us "$(awk '{ printf "%d", $1 * 1000000 }' /proc/uptime)"
step late dpi modprobe virtio_net
kv case.nic_device "$(basename "$(readlink -f /sys/class/net/$nic/device)")"
step L2 dpi ethtool -L "$nic" combined 2
step L4 dpi ethtool -L "$nic" combined 4
dev=$(basename "$(readlink -f /sys/class/net/$nic/device)")
reprobe() {
  echo "$dev" >/sys/bus/virtio/drivers/virtio_net/unbind && echo "$dev" >/sys/bus/virtio/drivers/virtio_net/bind
}
step reprobe dpi reprobe
rename() { ip link set "$1" down && ip link set "$1" name "$2" && ip link set "$2" up; }
nic=cap9 step away 0-3 rename eth0 cap9
step back dpi rename cap9 eth0
# Then two of irqbalance's passes (every 10 s): the queues stay placed, for
# irqbalance bans them once it has run its policy script again.
sleep 25
kv case.settled.irqbalance "$(systemctl show -P ActiveState irqbalance.service)"
# How often irqbalance started this boot: the reloads restart it, and a
# check that passed with irqbalance never restarted would show nothing.
kv case.settled.irqbalance_starts "$(journalctl -b -q --no-pager -u irqbalance.service | grep -c 'Started irqbalance')"
kv case.settled.placed "$(placed dpi && echo yes || echo no)"
kv case.settled.final "$(affinities)"

# The state at the end: the tuner's view and every interrupt.
while read -r num rest; do
  num=${num%:}
  case $num in '' | *[!0-9]*) continue ;; esac
  name=$(awk -v n="$num:" '$1 == n { print $NF }' /proc/interrupts)
  kv "case.irq.$num" "$name|$(cat "/proc/irq/$num/smp_affinity_list" 2>/dev/null)|$(cat "/proc/irq/$num/effective_affinity_list" 2>/dev/null)"
done </proc/interrupts
kv case.netdev_state_end "$(systemctl show -P ActiveState ransomeye-tuner-netdev.service)"
kv case.netdev_result_end "$(systemctl show -P Result ransomeye-tuner-netdev.service)"
block case-status-json /usr/sbin/ransomeye-tuner status --json
block case-netdev-journal journalctl -b -o short-monotonic --no-pager -u ransomeye-tuner-place.service -u ransomeye-tuner-netdev.service
block case-plan cat /run/ransomeye-tuner/plan.json

# Undo (what the package's removal does): the queue interrupts the reloads
# placed go back to where the driver put them (virtio_net's affinity hint),
# default_smp_affinity to every CPU.
block case-undo /usr/sbin/ransomeye-tuner place --undo
kv case.undo.final "$(affinities)"
hints=
while read -r irq name; do
  hints="$hints $name=$(cat "/proc/irq/$irq/affinity_hint" 2>/dev/null)"
done < <(queue_irqs)
kv case.undo.hints "${hints# }"
kv case.undo.default_smp_affinity "$(cat /proc/irq/default_smp_affinity)"
