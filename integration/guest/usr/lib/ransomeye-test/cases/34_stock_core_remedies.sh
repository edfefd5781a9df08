# Case 34, sourced by report.sh: the stock core kept down twice in one
# boot, and each time the remedy the tool prints followed word for word,
# taken from its own output. At boot the configuration is invalid (a
# MinSize= that is not a size, written before the generators ran) and the
# data disk full (early/34_...sh: an operator's 18 GiB file).
. /usr/lib/ransomeye-test/remedy.sh
core=ransomeye-core.service
# core_record PREFIX: the core's state, and whether the gate said no.
core_record() {
  kv "$1.core_state" "$(systemctl show -P ActiveState $core)"
  kv "$1.core_result" "$(systemctl show -P Result $core)"
  kv "$1.core_condition" "$(systemctl show -P ConditionResult $core)"
  kv "$1.core_main_pid" "$(systemctl show -P MainPID $core)"
  kv "$1.swap" "$(systemctl show -P ActiveState ransomeye-swap.swap)"
  kv "$1.marker" "$([ -e /var/lock/ransomeye-resource-fail ] && echo present || echo absent)"
  kv "$1.cpu_dropin" "$([ -e /run/systemd/generator/$core.d/cpu-isolation.conf ] && echo yes || echo no)"
}

# At boot: the configuration invalid.
core_record case.boot
block case-boot-status /usr/sbin/ransomeye-tuner status
block case-boot-marker cat /var/lock/ransomeye-resource-fail
kv case.boot.remedy "$(printed_remedies | head -n 1)"
kv case.boot.marker_remedy "$(marker_remedy)"

# 1. The operator fixes the file, then runs the remedy as printed: the
# generator must run before activate (no CPU drop-in was written for the
# invalid file); activate then meets the full disk.
sed -i 's/^MinSize=.*/MinSize=16G/' /etc/ransomeye/tuner.conf
fix1=$(printed_remedies | head -n 1)
kv case.fix1.remedy "$fix1"
kv case.fix1.marker_remedy "$(marker_remedy)"
block case-fix1-output sh -c "$fix1"
core_record case.fix1
block case-fix1-status /usr/sbin/ransomeye-tuner status
block case-fix1-marker cat /var/lock/ransomeye-resource-fail

# 2. The operator frees the space, then runs the remedy as printed again.
rm -f /ransomeye/old-backup.tar
fix2=$(printed_remedies | head -n 1)
kv case.fix2.remedy "$fix2"
kv case.fix2.marker_remedy "$(marker_remedy)"
block case-fix2-output sh -c "$fix2"
core_record case.fix2
block case-fix2-status /usr/sbin/ransomeye-tuner status

# 3. status run by another user on the healthy machine: what needs root is
# not read, and no verdict is made from it (exit 4); root's says 0.
block case-nobody-status setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/ransomeye-tuner status
block case-nobody-status-json setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/ransomeye-tuner status --json
