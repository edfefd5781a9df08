#!/bin/bash
# Test-only (fault matrix row 18), run as mallory (uid 1000, no privileges): plant a failure marker in
# the world-writable /run/lock. ransomeye.test.plant=file plants a regular
# file, =symlink a symlink to a file that root must never write through.
set -u
kind=$(sed -n 's/.*ransomeye\.test\.plant=\([a-z]*\).*/\1/p' /proc/cmdline)
id -u
case $kind in
symlink)
  echo "decoy owned by $(id -un)" >/tmp/ransomeye-decoy
  ln -s /tmp/ransomeye-decoy /run/lock/ransomeye-resource-fail ;;
*)
  echo "planted by $(id -un): keep the core down" >/run/lock/ransomeye-resource-fail ;;
esac
ls -l /run/lock/
