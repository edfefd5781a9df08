#!/bin/bash
# Test-only (fault matrix row 13): reset the machine at once (sysrq b: no
# sync, no unmount, like a power loss) at a step of the swapfile's creation,
# chosen by ransomeye.test.crash= on the kernel command line:
#   create  (default) the first entry that appears in /ransomeye (the
#           activator's temporary file, as early as the poll sees it);
#   mkswap  a temporary file that already has the swap signature;
#   rename  the final /ransomeye/swap, before swapon;
#   createsync  as create, but the activator is stopped (SIGSTOP) and the
#           filesystem synced first (sync -f), as when the power goes some
#           seconds later, after a commit: the
#           temporary file is then certain to be there at the next boot
#           (btrfs keeps nothing of a file its transaction did not commit).
# A poll can be late (the activator is fast): what was seen is printed on the
# console, and the host's test logs it.
mode=$(sed -n 's/.*ransomeye\.test\.crash=\([a-z]*\).*/\1/p' /proc/cmdline)
mode=${mode:-create}
cd /ransomeye || exit 1
crash() {
  echo "ransomeye-test-crash: mode $mode: saw $(stat -c '%n %s bytes %b blocks' "$1" 2>&1): power loss now" >/dev/console
  echo b >/proc/sysrq-trigger
  sleep 60
}
signed() { [ "$(dd if="$1" bs=1 skip=4086 count=10 status=none 2>/dev/null)" = SWAPSPACE2 ]; }
while :; do
  for e in * .[!.]*; do
    case $e in
    '*' | '.[!.]*' | lost+found) continue ;;
    esac
    case $mode in
    create) crash "$e" ;;
    createsync)
      # Once the space is allocated (one fallocate), hold the activator
      # (its pid ends the temporary file's name) so that the sync cannot
      # let it finish the file first.
      [ "$e" = swap ] && crash "$e"
      # Stop first, then look: a stopped activator cannot rename the file
      # between the look and the stop (a stop takes effect only after the
      # one fallocate returns). Not allocated yet: let it go on, look again.
      pid=${e##*.}
      kill -STOP "$pid" 2>/dev/null || continue
      if [ "$(stat -c %b "$e" 2>/dev/null || echo 0)" -lt 2097152 ]; then
        kill -CONT "$pid"
        continue
      fi
      sync -f "$e"
      crash "$e" ;;
    mkswap) if [ "$e" != swap ] && signed "$e"; then crash "$e"; fi
      # Too late for the temporary file: the next best point.
      if [ "$e" = swap ]; then crash "$e"; fi ;;
    rename) if [ "$e" = swap ]; then crash "$e"; fi ;;
    esac
  done
done
