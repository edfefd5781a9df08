#!/bin/bash
# Test-only (fault matrix row 13): reset the machine, without sync, at the
# first entry that appears in /ransomeye (the activator's temporary file, or
# the swapfile itself if the poll is late), and say what was seen.
cd /ransomeye || exit 1
while :; do
  for e in * .[!.]*; do
    case $e in
    '*' | '.[!.]*' | lost+found) ;;
    *)
      echo "ransomeye-test-crash: saw $(stat -c '%n %s bytes %b blocks' "$e" 2>&1): power loss now" >/dev/console
      echo b >/proc/sysrq-trigger
      ;;
    esac
  done
done
