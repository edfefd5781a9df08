# Case 32b, sourced by report.sh: the same PostgreSQL core, the data disk
# filled by an operator's 18 GiB file (early/32b_...sh) before the
# activator: the swapfile cannot be made, the core is kept down with the
# reason in the marker and in status. Then what an operator does: remove the
# cause (the file), run the remedy status prints, word for word, and check
# that the core runs.
. /usr/lib/ransomeye-test/postgresql.sh
. /usr/lib/ransomeye-test/remedy.sh
pg_record case.down
block case-down-status /usr/sbin/ransomeye-tuner status
block case-down-status-json /usr/sbin/ransomeye-tuner status --json
block case-down-marker cat /var/lock/ransomeye-resource-fail
block case-down-unit-status systemctl status --no-pager -l postgresql@15-main.service
kv case.marker_header "$(head -n 1 /var/lock/ransomeye-resource-fail)"
# The remedies as printed: each failing guarantee's "then: COMMAND" in
# status --json (the text report prints the same), and the marker's
# "then run: COMMAND".
remedies=$(printed_remedies)
kv case.status_remedies "$(echo "$remedies" | paste -sd '|' -)"
kv case.marker_remedy "$(marker_remedy)"
# The cause: the operator's file.
rm -f /ransomeye/old-backup.tar
kv case.free_after_rm "$(df --output=avail -B1 /ransomeye | tail -n 1 | tr -d ' ')"
# The remedy, word for word: status's first (the swap's), as the operator
# reads it first. Its exit status, what it printed, and what it left.
first=$(echo "$remedies" | head -n 1)
kv case.remedy_run "$first"
block case-remedy-output sh -c "$first"
kv case.after.swap "$(systemctl show -P ActiveState ransomeye-swap.swap)"
kv case.after.tuner "$(systemctl show -P ActiveState ransomeye-tuner.service)/$(systemctl show -P Result ransomeye-tuner.service)"
kv case.after.marker "$([ -e /var/lock/ransomeye-resource-fail ] && echo present || echo absent)"
pg_record case.after
block case-after-status /usr/sbin/ransomeye-tuner status
block case-after-unit-status systemctl status --no-pager -l postgresql@15-main.service
