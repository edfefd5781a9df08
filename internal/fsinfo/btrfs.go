package fsinfo

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Btrfs is what a btrfs filesystem says of its layout, as far as swap
// cares: btrfs swaps only to a file whose extents all lie in block groups
// of the single profile, on one device (fs/btrfs/inode.c refuses the rest
// with EINVAL: "swapfile must have single data profile", "swapfile must be
// on one device"; btrfs-progs' swapfile chapter: "must be only single
// device", "must have only single data profile").
type Btrfs struct {
	// DataProfiles are the profiles of the data block groups that exist
	// ("single", "dup", "raid1", ...), in the kernel's order; more than one
	// during (or after an interrupted) conversion.
	DataProfiles []string
	// Devices is how many devices the filesystem has.
	Devices uint64
}

// The ioctls of linux/btrfs.h that tell the layout, and the block group
// flags of linux/btrfs_tree.h (x/sys names neither). Both ioctls work on
// any descriptor in the filesystem, the swapfile's directory's too, and
// need no privilege.
const (
	btrfsIocSpaceInfo = 0xC0109414 // _IOWR(0x94, 20, struct btrfs_ioctl_space_args)
	btrfsIocFsInfo    = 0x8400941F // _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args)
	btrfsSpaceArgs    = 16         // space_slots, total_spaces
	btrfsSpaceInfo    = 24         // flags, total_bytes, used_bytes
	btrfsFsInfoArgs   = 1024

	btrfsBlockGroupData = 1 << 0
)

// btrfsProfiles are the profile bits of a block group's flags, by name.
var btrfsProfiles = []struct {
	bit  uint64
	name string
}{
	{1 << 3, "raid0"}, {1 << 4, "raid1"}, {1 << 5, "dup"}, {1 << 6, "raid10"},
	{1 << 7, "raid5"}, {1 << 8, "raid6"}, {1 << 9, "raid1c3"}, {1 << 10, "raid1c4"},
}

// ReadBtrfs asks the btrfs filesystem holding the open descriptor fd for
// its data profiles (BTRFS_IOC_SPACE_INFO: one entry per block group type
// and profile that has block groups) and its number of devices
// (BTRFS_IOC_FS_INFO).
func ReadBtrfs(fd int) (Btrfs, error) {
	var b Btrfs
	head := make([]byte, btrfsSpaceArgs)
	if err := ioctl(fd, btrfsIocSpaceInfo, head); err != nil {
		return b, fmt.Errorf("BTRFS_IOC_SPACE_INFO: %w", err)
	}
	// The count can grow between the two calls; a few more slots cover
	// it, and the kernel fills no more than it is given.
	slots := binary.NativeEndian.Uint64(head[8:]) + 4
	buf := make([]byte, btrfsSpaceArgs+btrfsSpaceInfo*slots)
	binary.NativeEndian.PutUint64(buf, slots)
	if err := ioctl(fd, btrfsIocSpaceInfo, buf); err != nil {
		return b, fmt.Errorf("BTRFS_IOC_SPACE_INFO: %w", err)
	}
	n := min(binary.NativeEndian.Uint64(buf[8:]), slots)
	for i := range n {
		flags := binary.NativeEndian.Uint64(buf[btrfsSpaceArgs+btrfsSpaceInfo*i:])
		if flags&btrfsBlockGroupData == 0 {
			continue
		}
		name := "single"
		for _, p := range btrfsProfiles {
			if flags&p.bit != 0 {
				name = p.name
			}
		}
		b.DataProfiles = append(b.DataProfiles, name)
	}
	fi := make([]byte, btrfsFsInfoArgs)
	if err := ioctl(fd, btrfsIocFsInfo, fi); err != nil {
		return b, fmt.Errorf("BTRFS_IOC_FS_INFO: %w", err)
	}
	b.Devices = binary.NativeEndian.Uint64(fi[8:]) // after max_id
	return b, nil
}

func ioctl(fd int, req uintptr, buf []byte) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
		return errno
	}
	return nil
}

// Single reports whether every data block group is of the single profile.
func (b Btrfs) Single() bool {
	for _, p := range b.DataProfiles {
		if p != "single" {
			return false
		}
	}
	return true
}

// CheckSwap reports why the kernel would refuse a swapfile on this btrfs
// filesystem, holding dir, or nil; the error names the layout and a remedy
// that works as written.
func (b Btrfs) CheckSwap(dir string) error {
	profiles := strings.Join(b.DataProfiles, " and ")
	switch {
	case b.Devices > 1:
		// Converting the data to single is not enough here: a swapfile of
		// several GiB spans chunks on more than one device, and the kernel
		// refuses that too.
		return fmt.Errorf("the btrfs filesystem holding %q spans %d devices (data profile %s), and the kernel swaps only to a btrfs file on a single-device filesystem with the single data profile (\"swapfile must be on one device\", \"swapfile must have single data profile\"): put [Swap] Path= on another filesystem (ext4, xfs, or a single-device btrfs)", dir, b.Devices, profiles)
	case !b.Single():
		return fmt.Errorf("the btrfs filesystem holding %q has the data profile %s, and the kernel swaps only to a btrfs file whose data profile is single (\"swapfile must have single data profile\"): convert its data with: btrfs balance start -dconvert=single %q; or put [Swap] Path= on another filesystem", dir, profiles, dir)
	}
	return nil
}
