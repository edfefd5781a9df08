# Case 43, sourced by report.sh: tuned with its default reapply_sysctl = 1.
. /usr/lib/ransomeye-test/tuned.sh
