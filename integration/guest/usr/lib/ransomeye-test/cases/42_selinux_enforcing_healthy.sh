# Case 42_selinux_enforcing_healthy, sourced by report.sh (boot_selinux_test.go).
. /usr/lib/ransomeye-test/selinux.sh
