# Case 40_selinux_healthy, sourced by report.sh (boot_selinux_test.go).
. /usr/lib/ransomeye-test/selinux.sh
