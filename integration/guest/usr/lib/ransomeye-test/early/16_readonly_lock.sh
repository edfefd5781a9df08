# Case 16 (fault matrix row 9): /var/lock (/run/lock) is read-only when the
# activator fails (the data disk is too small): the marker cannot be written
# there, and the core must still not start.
set -e
mkdir -p /run/lock
mount -t tmpfs -o ro,mode=1777,size=1m ransomeye-test-ro /run/lock
findmnt /run/lock
