# Case 47, sourced by report.sh: what the kernel applied of the memory
# drop-ins and what this systemd reports for them (the properties), on a
# kernel booted with psi=0: per unit case.UNIT.PROPERTY and
# case.UNIT.cg.FILE.
for u in ransomeye-core.service system.slice ransomeye-training.service ransomeye-dpi.service; do
  systemctl show "$u" -p MemoryMin -p MemoryLow -p MemoryHigh -p MemorySwapMax -p DefaultMemoryLow -p ControlGroup |
    sed "s/^/case.$u./"
  cgp=$(systemctl show -P ControlGroup "$u")
  for f in memory.min memory.low memory.high memory.swap.max memory.pressure; do
    kv "case.$u.cg.$f" "$(cat "/sys/fs/cgroup$cgp/$f" 2>/dev/null || echo absent)"
  done
done
