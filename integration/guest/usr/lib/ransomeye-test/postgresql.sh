# Sourced by the PostgreSQL cases (32, 32b) after report.sh's helpers:
# record Debian's postgresql@15-main.service as the core, its processes'
# CPUs (the postmaster, its background processes and one client backend)
# and its cgroup's.

# pg_record PREFIX
pg_record() {
  local p=$1 u=postgresql@15-main.service cg pid comm cpus n=0 bg
  kv "$p.state" "$(systemctl show -P ActiveState "$u")"
  kv "$p.substate" "$(systemctl show -P SubState "$u")"
  kv "$p.condition" "$(systemctl show -P ConditionResult "$u")"
  kv "$p.main_start_us" "$(systemctl show -P ExecMainStartTimestampMonotonic "$u")"
  kv "$p.main_pid" "$(systemctl show -P MainPID "$u")"
  kv "$p.main_user" "$(ps -o user= -p "$(systemctl show -P MainPID "$u")" 2>/dev/null)"
  kv "$p.allowed_cpus" "$(systemctl show -P AllowedCPUs "$u")"
  cg=$(systemctl show -P ControlGroup "$u")
  kv "$p.cgroup_cpus" "$(cat "/sys/fs/cgroup$cg/cpuset.cpus.effective" 2>/dev/null)"
  [ "$(systemctl show -P ActiveState "$u")" = active ] || return 0
  # A client backend that lives while it is read: psql sleeping in a query.
  runuser -u postgres -- psql -XAtq -c "select pg_sleep(30)" >/dev/null 2>&1 &
  bg=$!
  for _ in $(seq 1 60); do
    grep -qs 'SELECT' /proc/[0-9]*/cmdline 2>/dev/null && pgrep -f 'postgres: 15/main: postgres postgres .*SELECT' >/dev/null && break
    sleep 0.5
  done
  for pid in $(cat "/sys/fs/cgroup$cg/cgroup.procs" 2>/dev/null); do
    comm=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ *$//')
    cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)
    kv "$p.proc.$pid" "$comm|$cpus"
    n=$((n + 1))
  done
  kv "$p.procs" "$n"
  kill "$bg" 2>/dev/null
  wait "$bg" 2>/dev/null
  kv "$p.select_one" "$(runuser -u postgres -- psql -XAtq -c 'select 1' 2>&1)"
}
