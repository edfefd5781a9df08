# Case 32, sourced by report.sh: Debian 12's PostgreSQL 15 as the core
# ([CPU] CoreService=postgresql@15-main.service), 8 vCPUs (the core's CPUs
# 0-3), a healthy data disk: the gate lets it start, and it and every
# process of its cgroup, a client backend included, run on 0-3.
. /usr/lib/ransomeye-test/postgresql.sh
pg_record case.pg
block case-pg-unit-status systemctl status --no-pager -l postgresql@15-main.service
block case-pg-dropins bash -c 'systemctl show -P DropInPaths postgresql@15-main.service | tr " " "\n"'
