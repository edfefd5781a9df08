# Case 25, sourced by report.sh: the SMT siblings the guest sees (the plan
# must keep each core's two threads together).
kv case.cpu0_siblings "$(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list)"
kv case.cpu15_siblings "$(cat /sys/devices/system/cpu/cpu15/topology/thread_siblings_list)"
kv case.smt_active "$(cat /sys/devices/system/cpu/smt/active 2>/dev/null)"
