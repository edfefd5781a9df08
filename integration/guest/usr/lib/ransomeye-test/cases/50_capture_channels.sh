# Case 50, sourced by report.sh: 8 vCPUs, a two-queue virtio-net NIC (eth0,
# net.ifnames=0) named in [CPU] DPIInterface= with DPIChannels=1, up with
# 10.99.0.2/24 (systemd-networkd).
# 1. Wait until ransomeye-tuner-place.service is done, then record the NIC's
#    queues, which run set the channels, whether the DPI stub started after
#    the placement, status (text and JSON) and the plan file.
# 2. place --undo: the channel count given back (two queues).
# 3. place while the DPI stub runs: the change waits (still two queues).
# 4. The DPI stub stopped, place: one queue again; the stub started again.
nic=eth0
rxq() { ls -d "/sys/class/net/$nic/queues/rx-"* 2>/dev/null | wc -l; }
waited=0
while [ "$(systemctl show -P ActiveState ransomeye-tuner-place.service)" = activating ] ||
  [ "$(systemctl show -P ExecMainExitTimestampMonotonic ransomeye-tuner-place.service)" = 0 ]; do
  [ "$waited" -ge 180 ] && { kv case.wait_gave_up "ransomeye-tuner-place $(systemctl show -P ActiveState ransomeye-tuner-place.service)"; break; }
  sleep 2
  waited=$((waited + 2))
done
kv case.waited_s "$waited"
kv case.place_result "$(systemctl show -P Result ransomeye-tuner-place.service)"
kv case.boot_rx_queues "$(rxq)"
kv case.boot_driver "$(basename "$(readlink -f "/sys/class/net/$nic/device/driver")")"
kv case.dpi_after "$(systemctl show -P After ransomeye-dpi.service)"
kv case.dpi_dropins "$(systemctl show -P DropInPaths ransomeye-dpi.service)"
kv case.place_exit_mono "$(systemctl show -P ExecMainExitTimestampMonotonic ransomeye-tuner-place.service)"
kv case.dpi_start_mono "$(systemctl show -P ExecMainStartTimestampMonotonic ransomeye-dpi.service)"
block case-channels-journal journalctl -b -o cat --no-pager -u ransomeye-tuner.service -u ransomeye-tuner-place.service --grep 'channels'
block case-status /usr/sbin/ransomeye-tuner status
block case-status-json /usr/sbin/ransomeye-tuner status --json
block case-plan-file cat /run/ransomeye-tuner/plan.json

/usr/sbin/ransomeye-tuner place --undo >/tmp/undo.log 2>&1
kv case.undo_rc $?
block case-undo-log cat /tmp/undo.log
kv case.undo_rx_queues "$(rxq)"
block case-undo-status-json /usr/sbin/ransomeye-tuner status --json

/usr/sbin/ransomeye-tuner place >/tmp/pending.log 2>&1
kv case.pending_rc $?
block case-pending-log cat /tmp/pending.log
kv case.pending_rx_queues "$(rxq)"

systemctl stop ransomeye-dpi.service
/usr/sbin/ransomeye-tuner place >/tmp/stopped.log 2>&1
kv case.stopped_rc $?
block case-stopped-log cat /tmp/stopped.log
kv case.stopped_rx_queues "$(rxq)"
systemctl start ransomeye-dpi.service
block case-end-status-json /usr/sbin/ransomeye-tuner status --json
