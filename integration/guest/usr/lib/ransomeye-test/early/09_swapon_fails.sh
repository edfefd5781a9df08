# Case 9: someone else leaves at the swapfile's path a file that passes every
# check the activator makes (regular, root:root 0600, SWAPSPACE2 signature,
# version 1, 16 GiB, fully allocated) but that the kernel's swapon refuses:
# its header says last_page=0 ("Empty swap-file"). So it is swapon itself
# that fails, and the marker must come from the swap unit's OnFailure=.
set -e
f=/ransomeye/swap
rm -f "$f"
fallocate -l 16G "$f"
chmod 600 "$f"
mkswap -L someone-else "$f"
# struct swap_header: bootbits[1024], version (u32), last_page (u32) at 1028.
printf '\0\0\0\0' | dd of="$f" bs=1 seek=1028 conv=notrunc status=none
sync
stat -c '%n %s bytes, %b blocks, %a %U' "$f"
od -A d -t u4 -j 1024 -N 8 "$f"
