# Case 3, sourced by report.sh: a failed activation (2 GiB data disk). What an
# operator reads: the journal with its catalog explanation (journalctl -x),
# and why the core is down (systemctl status of the core).
block journal-x-tuner journalctl -x -b --no-pager -u ransomeye-tuner.service
block core-unit-status systemctl status --no-pager -l ransomeye-core.service
