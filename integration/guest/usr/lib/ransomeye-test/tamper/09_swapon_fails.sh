# Case 9: after the activator made a good swapfile and succeeded, someone
# replaces it, before swapon, with a file the kernel refuses: a swap header
# that says last_page=0 ("Empty swap-file"). The activator itself replaces
# such a file (and one whose header is shorter than the file, or lists bad
# pages), so only a change between its checks and swapon gets this far. It is
# swapon itself that fails, and the marker must come from the swap unit's
# OnFailure=, before the core's gate is asked.
set -e
f=/ransomeye/swap
stat -c 'the activator left: %n %s bytes, %a %U' "$f"
rm -f "$f"
fallocate -l 16G "$f"
chmod 600 "$f"
mkswap -L someone-else "$f"
# struct swap_header: bootbits[1024], version (u32), last_page (u32) at 1028.
printf '\0\0\0\0' | dd of="$f" bs=1 seek=1028 conv=notrunc status=none
sync
stat -c '%n %s bytes, %b blocks, %a %U' "$f"
od -A d -t u4 -j 1024 -N 8 "$f"
