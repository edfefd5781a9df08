# Case 31, sourced by report.sh: case 30's actions on cgroup v1 (Debian 13's
# systemd 257 forced onto it), where the DPI service is fenced only by
# CPUAffinity=, which a process may widen.
. /usr/lib/ransomeye-test/cases/30_suricata_dpi.sh
