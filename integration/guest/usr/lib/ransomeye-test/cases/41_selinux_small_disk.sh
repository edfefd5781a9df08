# Case 41_selinux_small_disk, sourced by report.sh (boot_selinux_test.go).
. /usr/lib/ransomeye-test/selinux.sh
