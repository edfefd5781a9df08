# Case 14, sourced by report.sh: on a healthy machine that got the
# .deb, the administrator has a config drop-in; dpkg --purge must leave
# nothing of the package but that drop-in: swap off, swapfile and marker gone.
mkdir -p /etc/ransomeye/tuner.conf.d
printf '# the administrator'"'"'s own setting\n[Sysctl]\nSwappiness=10\n' >/etc/ransomeye/tuner.conf.d/50-admin.conf
kv case.installed "$(dpkg-query -W -f '${Status} ${Version}' ransomeye-tuner 2>&1)"
kv case.swap_active_before "$(grep -c "^$swappath " /proc/swaps)"
# The CPU placement before: interrupts and unbound kernel work on the core's CPUs.
kv case.irq_default_before "$(cat /proc/irq/default_smp_affinity)"
kv case.wq_before "$(cat /sys/devices/virtual/workqueue/cpumask)"
kv case.wq_writeback_before "$(cat /sys/devices/virtual/workqueue/writeback/cpumask)"
dpkg -L ransomeye-tuner >/tmp/pkg-files 2>&1
dpkg --purge ransomeye-tuner >/tmp/purge.log 2>&1
kv case.purge_rc $?
kv case.purge_log "$(tr '\n' '|' </tmp/purge.log)"
kv case.installed_after "$(dpkg-query -W -f '${Status}' ransomeye-tuner 2>&1 | tr '\n' ' ')"
left=
while read -r f; do
  [ -e "$f" ] && [ ! -d "$f" ] && left="$left $f"
done </tmp/pkg-files
kv case.left_files "${left# }"
kv case.left_in_etc "$(find /etc/ransomeye -type f 2>/dev/null | tr '\n' ' ')"
kv case.swap_active_after "$(grep -c "^$swappath " /proc/swaps)"
kv case.swapfile_after "$([ -e "$swappath" ] && echo yes || echo no)"
kv case.marker_after "$([ -e /var/lock/ransomeye-resource-fail ] && echo yes || echo no)"
kv case.generated_after "$(find /run/systemd/generator /run/systemd/generator.late -name '*ransomeye-swap*' 2>/dev/null | wc -l)"
# Removal undoes the placement: every CPU again.
kv case.irq_default_after "$(cat /proc/irq/default_smp_affinity)"
kv case.wq_after "$(cat /sys/devices/virtual/workqueue/cpumask)"
kv case.wq_writeback_after "$(cat /sys/devices/virtual/workqueue/writeback/cpumask)"
kv case.plan_file_after "$([ -e /run/ransomeye-tuner/plan.json ] && echo yes || echo no)"
