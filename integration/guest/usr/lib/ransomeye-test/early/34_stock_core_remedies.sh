# Case 34 (as 32b): an operator's large file (an old backup) fills the data disk
# before the activator runs: 18 GiB of the 20 GiB, so that the 16 GiB
# swapfile cannot be made. The case removes it later, as the cause.
set -e
fallocate -l 18G /ransomeye/old-backup.tar
df -h /ransomeye
