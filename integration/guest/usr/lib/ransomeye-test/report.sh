#!/bin/bash
# Test-only (boot suite): run the case's actions, then write the machine's
# state as key=value lines and @@begin/@@end blocks between @@report-begin and
# @@report-end to stdout (the second serial port, the host's report file), and
# the whole journal to the third serial port. The host parses both
# (integration/report.go). Keys are documented in integration/README.md.
set -u
# Plain "\n" line ends in the host's files (the tty would write "\r\n").
stty -F /dev/ttyS1 -onlcr 2>/dev/null
stty -F /dev/ttyS2 -onlcr 2>/dev/null
export SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C
cmdline=$(cat /proc/cmdline)
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
kv() { printf '%s=%s\n' "$1" "$2"; }
# block NAME CMD...: the command's output verbatim, and its exit code.
block() {
  local name=$1; shift
  echo "@@begin $name"
  "$@" 2>&1
  local rc=$?
  echo "@@end $name rc=$rc"
}
# unitprops UNIT...: the properties the host checks, as unit.UNIT.Prop=value,
# in one systemctl call (each call costs a fraction of a second under TCG),
# then each unit's effective CPUs from its cgroup and its main process's
# affinity.
unitprops() {
  local props
  props=$(systemctl show "$@" -p LoadState -p ActiveState -p SubState -p Result -p MainPID \
    -p ExecMainStatus -p ConditionResult -p ActiveEnterTimestampMonotonic \
    -p ExecMainStartTimestampMonotonic -p InactiveExitTimestampMonotonic \
    -p ControlGroup -p AllowedCPUs -p EffectiveCPUs -p CPUAffinity -p FragmentPath \
    -p DropInPaths -p NRestarts -p What 2>/dev/null |
    awk -v names="$*" 'BEGIN { n = split(names, u, " "); i = 1 }
      /^$/ { i++; next }
      { print "unit." u[i] "." $0 }')
  echo "$props"
  local key val u
  while IFS='=' read -r key val; do
    u=${key#unit.}
    case $key in
    *.ControlGroup)
      u=${u%.ControlGroup}
      if [ -n "$val" ] && [ -r "/sys/fs/cgroup$val/cpuset.cpus.effective" ]; then
        kv "unit.$u.cgroup_cpus" "$(<"/sys/fs/cgroup$val/cpuset.cpus.effective")"
      fi ;;
    *.MainPID)
      u=${u%.MainPID}
      if [ -n "$val" ] && [ "$val" != 0 ]; then
        kv "unit.$u.affinity" "$(taskset -cp "$val" 2>/dev/null | sed 's/.*: //')"
      fi ;;
    esac
  done <<<"$props"
}
# fileinfo PATH: type, inode, size, allocated bytes, mode, owner, swap label.
fileinfo() {
  local p=$1
  if [ -e "$p" ] || [ -L "$p" ]; then
    kv "file.$p.exists" yes
    kv "file.$p.type" "$(stat -c %F "$p")"
    kv "file.$p.inode" "$(stat -c %i "$p")"
    kv "file.$p.size" "$(stat -c %s "$p")"
    kv "file.$p.allocated" "$(( $(stat -c '%b * %B' "$p") ))"
    kv "file.$p.mode" "$(stat -c %a "$p")"
    kv "file.$p.owner" "$(stat -c %U "$p")"
    kv "file.$p.label" "$(swaplabel "$p" 2>/dev/null | sed -n 's/^LABEL: //p')"
    kv "file.$p.lsattr" "$(lsattr -d "$p" 2>/dev/null | cut -d' ' -f1)"
    kv "file.$p.selinux" "$(stat -c %C "$p" 2>/dev/null)"
  else
    kv "file.$p.exists" no
  fi
}

case=$(arg ransomeye.test.case)
swappath=/ransomeye/swap
swapunit=ransomeye-swap.swap
if [ -r /etc/ransomeye/tuner.conf ] && grep -q '^Path=/swapfile' /etc/ransomeye/tuner.conf; then
  swappath=/swapfile swapunit=swapfile.swap
fi

echo "@@report-begin"
kv time.report_start "$(cut -d" " -f1 /proc/uptime)"
kv case "$case"
kv cmdline "$cmdline"
kv swap.path "$swappath"
kv swap.unit "$swapunit"
kv cpus.online "$(cat /sys/devices/system/cpu/online)"
kv mem.total_kib "$(awk '/^MemTotal:/{print $2}' /proc/meminfo)"
for n in /sys/devices/system/node/node[0-9]*; do
  [ -d "$n" ] && kv "numa.$(basename "$n").cpus" "$(cat "$n/cpulist")"
done
kv pid1.affinity "$(taskset -cp 1 | sed 's/.*: //')"
kv ransomeye.fstype "$(findmnt -n -o FSTYPE /ransomeye 2>/dev/null)"
kv tuner.installed "$([ -x /usr/sbin/ransomeye-tuner ] && echo yes || echo no)"

# The case's own actions come first (restart, reload, ...): what they print is
# part of the report, and the state below is read after them.
if [ -n "$case" ] && [ -r "/usr/lib/ransomeye-test/cases/$case.sh" ]; then
  # Not a block: the case's key=value lines are values like the others.
  kv case.actions "$case.sh"
  # shellcheck source=/dev/null
  . "/usr/lib/ransomeye-test/cases/$case.sh" 2>&1
  kv case.actions_rc $?
fi

systemctl show -p GeneratorsStartTimestampMonotonic -p GeneratorsFinishTimestampMonotonic \
  -p UnitsLoadStartTimestampMonotonic -p UnitsLoadFinishTimestampMonotonic \
  -p UserspaceTimestampMonotonic -p KernelTimestampMonotonic -p SystemState \
  | sed 's/^/manager./'
otherswap=swapfile.swap
[ "$swapunit" = swapfile.swap ] && otherswap=ransomeye-swap.swap
unitprops ransomeye-tuner.service ransomeye-tuner-fail-closed.service "$swapunit" "$otherswap" \
  ransomeye-core.service ransomeye-dpi.service ransomeye-training.service \
  ransomeye.mount multi-user.target swap.target system.slice user.slice init.scope \
  ransomeye-dpi.slice ransomeye-training.slice emergency.target rescue.target \
  ransomeye-test-plant.service ransomeye-test-early.service ransomeye-test-tamper.service
# The core's hardening (case 21) and the user its main process runs as.
systemctl show ransomeye-core.service -p User -p ProtectSystem -p ProcSubset -p PrivateTmp \
  -p NoNewPrivileges | sed 's/^/core./'
corepid=$(systemctl show -P MainPID ransomeye-core.service)
kv core.user "$([ "${corepid:-0}" != 0 ] && stat -c %U "/proc/$corepid")"
fileinfo "$swappath"
for s in vm.swappiness vm.vfs_cache_pressure; do
  kv "sysctl.$s" "$(sysctl -n "$s")"
done
m=/var/lock/ransomeye-resource-fail
if [ -e "$m" ] || [ -L "$m" ]; then
  kv marker.exists yes
  kv marker.type "$(stat -c %F "$m")"
  kv marker.owner "$(stat -c %U "$m")"
  block marker cat "$m"
else
  kv marker.exists no
fi
fileinfo /run/ransomeye-tuner/resource-fail
[ -r /run/ransomeye-tuner/resource-fail ] && block fallback-marker cat /run/ransomeye-tuner/resource-fail
# The last line is the mount on top (the one in effect).
kv run_lock.mount "$(findmnt -n -o FSTYPE,OPTIONS /run/lock 2>/dev/null | tail -n 1)"
kv journal.crit_count "$(journalctl -b -p crit -q --no-pager | wc -l)"
kv journal.alert_count "$(journalctl -b -p alert -q --no-pager | wc -l)"
block journal-crit journalctl -b -p crit -q --no-pager -o short-monotonic
block swaps cat /proc/swaps
block ransomeye-dir ls -la --time-style=+ /ransomeye
block run-lock ls -la --time-style=+ /run/lock
block status /usr/sbin/ransomeye-tuner status
block status-json /usr/sbin/ransomeye-tuner status --json
# The isolation metric, from a metrics run now (its textfile directory made
# here: the image has no node_exporter), and the activation's warning.
prom=/var/lib/prometheus/node-exporter/ransomeye_tuner.prom
[ -x /usr/sbin/ransomeye-tuner ] && mkdir -p "${prom%/*}" && /usr/sbin/ransomeye-tuner metrics &&
  kv metrics.isolation_degraded "$(sed -n 's/^ransomeye_tuner_isolation_degraded //p' "$prom")"
kv journal.isolation_degraded_count "$(journalctl -b -q --no-pager MESSAGE_ID=b5eda07fa7524e3a8ad45e6fd52893af | wc -l)"
# The memory protection and the pressure, from the same metrics run; the
# cgroup2 mount's options (memory_recursiveprot) as systemd mounted them.
if [ -r "$prom" ]; then
  kv metrics.memory_protection_degraded "$(sed -n 's/^ransomeye_tuner_memory_protection_degraded //p' "$prom")"
  kv metrics.pressure_available "$(sed -n 's/^ransomeye_tuner_pressure_available //p' "$prom")"
  kv metrics.pressure_series "$(grep -c '^ransomeye_tuner_pressure_stall_' "$prom")"
  block metrics-memory grep -E '^ransomeye_tuner_(memory|cgroup|pressure)_' "$prom"
fi
kv journal.memory_degraded_count "$(journalctl -b -q --no-pager MESSAGE_ID=02c0a835f78a430a806f5acafb6a907d | wc -l)"
kv cgroup2.options "$(findmnt -n -o OPTIONS -t cgroup2 /sys/fs/cgroup 2>/dev/null)"
kv proc_pressure "$([ -e /proc/pressure/memory ] && echo yes || echo no)"
block memory-dropins grep -r . --include=memory.conf /run/systemd/generator
block swap-unit-status systemctl status --no-pager -l "$swapunit"
block tuner-unit-status systemctl status --no-pager -l ransomeye-tuner.service
block failed-units systemctl --failed --no-pager --plain --no-legend
block generated bash -c "find /run/systemd/generator /run/systemd/generator.late | grep -E 'ransomeye|swap|slice|scope'"
block generated-swap-dropin cat "/run/systemd/generator/$swapunit.d/ransomeye-tuner.conf"
block cpu-dropins grep -r . --include=cpu-isolation.conf /run/systemd/generator
block packages dpkg-query -W
kv time.report_end "$(cut -d" " -f1 /proc/uptime)"
echo "@@report-end"

# The whole journal, for the host's checks (ordering cycles, failed
# generators, Go panics) and for reading a failure.
journalctl -b -o short-monotonic --no-pager >/dev/ttyS2 2>&1
exit 0
