# The SELinux cases (40_* to 42_*, boot_selinux_test.go) source this from their
# case script: the mode the kernel runs in, the labels of the swapfile, its
# directory and the project's files, what plan says, and every AVC denial.
kv case.selinux_enforce "$(cat /sys/fs/selinux/enforce 2>/dev/null)"
kv case.selinux_mls "$(cat /sys/fs/selinux/mls 2>/dev/null)"
kv case.context_swapfile "$(stat -c %C "$swappath" 2>/dev/null)"
kv case.context_dir "$(stat -c %C "$(dirname "$swappath")" 2>/dev/null)"
kv case.context_activator "$(stat -c %C /usr/sbin/ransomeye-tuner 2>/dev/null)"
kv case.context_generator "$(stat -c %C /usr/lib/systemd/system-generators/ransomeye-tuner-generator 2>/dev/null)"
kv case.temporaries "$(find "$(dirname "$swappath")" -maxdepth 1 -name '.ransomeye-swap*' | wc -l)"
block plan /usr/sbin/ransomeye-tuner plan
block semodule bash -c 'semodule -l 2>&1 | grep -i ransomeye'
# Kernel log and audit socket both: journald has whichever reached it.
block avc bash -c "journalctl -b -o short-monotonic --no-pager | grep -E 'avc: +denied'"
