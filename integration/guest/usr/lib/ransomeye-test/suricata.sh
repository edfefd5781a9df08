# Sourced by the Suricata cases (30, 31) after report.sh's helpers: wait for
# Suricata's workers in ransomeye-dpi.service and record its threads.

# suricata_wait PREFIX: wait (up to 300 s: under TCG Suricata takes 20-60 s
# or more before its W#NN threads exist) until the DPI service's main
# process has worker threads and their number has not changed for 10 s,
# then record PREFIX.* (the main PID, the number of workers, every thread's
# name and Cpus_allowed_list, the service's environment) and the status.
suricata_wait() {
  local p=$1 pid= n=0 last=-1 stable=0 start t comm cpus waited
  start=$(cut -d. -f1 /proc/uptime)
  while :; do
    pid=$(systemctl show -P MainPID ransomeye-dpi.service)
    n=0
    if [ "${pid:-0}" != 0 ]; then
      n=$(cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -c '^W#')
    fi
    if [ "$n" -gt 0 ] && [ "$n" = "$last" ]; then
      stable=$((stable + 1))
    else
      stable=0
    fi
    last=$n
    waited=$(( $(cut -d. -f1 /proc/uptime) - start ))
    [ "$stable" -ge 10 ] && break
    if [ "$waited" -ge 300 ]; then
      kv "$p.wait_gave_up" "after $waited s: $n workers, service $(systemctl show -P ActiveState ransomeye-dpi.service)"
      break
    fi
    sleep 1
  done
  kv "$p.waited_s" "$waited"
  kv "$p.state" "$(systemctl show -P ActiveState ransomeye-dpi.service)"
  kv "$p.main_pid" "$pid"
  kv "$p.main_comm" "$(cat /proc/"$pid"/comm 2>/dev/null)"
  kv "$p.workers" "$n"
  for t in /proc/"$pid"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status" 2>/dev/null)
    kv "$p.thread.${t##*/}" "$comm|$cpus"
  done
  for v in RANSOMEYE_CPUS RANSOMEYE_CPU_COUNT RANSOMEYE_CPUS_RESERVED; do
    kv "$p.env.$v" "$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n "s/^$v=//p")"
  done
  local cg
  cg=$(systemctl show -P ControlGroup ransomeye-dpi.service)
  kv "$p.cgroup_cpus" "$(cat "/sys/fs/cgroup$cg/cpuset.cpus.effective" 2>/dev/null)"
  block "$p-status" /usr/sbin/ransomeye-tuner status
  block "$p-status-json" /usr/sbin/ransomeye-tuner status --json
  # What Suricata said about its CPUs (sched_setaffinity refusals, its
  # worker count) in its own log and on its standard output.
  block "$p-suricata-log" bash -c "grep -i -E 'affinity|thread|cpu|worker|error|warn' /var/log/suricata/suricata.log | tail -n 60"
  block "$p-dpi-journal" journalctl -b -q --no-pager -o short-monotonic -u ransomeye-dpi.service
}
