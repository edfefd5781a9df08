package fsinfo

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Btrfs is what a btrfs filesystem says of its layout, as far as swap
// cares. The kernel judges a swapfile by its extents (btrfs_swap_activate:
// every chunk single, first stripes on one device), so a file stays usable
// after `btrfs device add`; the layout decides only where a new file's
// extents land (CheckNewFile). An existing file: BtrfsPlacement.CheckSwap.
type Btrfs struct {
	// DataProfiles are the data block groups' profiles ("single", "dup",
	// ...), in the kernel's order; more than one during a conversion.
	DataProfiles []string
	Devices      uint64
	// Mixed: data and metadata share block groups, and convert together.
	Mixed bool
}

// The ioctls of linux/btrfs.h that tell the layout, and the block group
// flags of linux/btrfs_tree.h: on any descriptor in the filesystem, with
// no privilege.
const (
	btrfsIocSpaceInfo = 0xC0109414 // _IOWR(0x94, 20, struct btrfs_ioctl_space_args)
	btrfsIocFsInfo    = 0x8400941F // _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args)
	btrfsSpaceArgs    = 16         // space_slots, total_spaces
	btrfsSpaceInfo    = 24         // flags, total_bytes, used_bytes
	btrfsFsInfoArgs   = 1024

	btrfsBlockGroupData     = 1 << 0
	btrfsBlockGroupMetadata = 1 << 2
	btrfsProfileMask        = 0x7f8 // raid0 ... raid1c4: the bits of btrfsProfiles
)

// btrfsProfiles are the profile bits of a block group's flags, by name.
var btrfsProfiles = []struct {
	bit  uint64
	name string
}{
	{1 << 3, "raid0"}, {1 << 4, "raid1"}, {1 << 5, "dup"}, {1 << 6, "raid10"},
	{1 << 7, "raid5"}, {1 << 8, "raid6"}, {1 << 9, "raid1c3"}, {1 << 10, "raid1c4"},
}

// ReadBtrfs asks the btrfs filesystem holding fd for its data profiles
// (BTRFS_IOC_SPACE_INFO) and number of devices (BTRFS_IOC_FS_INFO).
func ReadBtrfs(fd int) (Btrfs, error) {
	var b Btrfs
	head := make([]byte, btrfsSpaceArgs)
	if err := ioctl(fd, btrfsIocSpaceInfo, head); err != nil {
		return b, fmt.Errorf("BTRFS_IOC_SPACE_INFO: %w", err)
	}
	// The count can grow between the calls: a few more slots cover it.
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
		b.Mixed = b.Mixed || flags&btrfsBlockGroupMetadata != 0
		b.DataProfiles = append(b.DataProfiles, profileName(flags))
	}
	fi := make([]byte, btrfsFsInfoArgs)
	if err := ioctl(fd, btrfsIocFsInfo, fi); err != nil {
		return b, fmt.Errorf("BTRFS_IOC_FS_INFO: %w", err)
	}
	b.Devices = binary.NativeEndian.Uint64(fi[8:]) // after max_id
	return b, nil
}

// profileName names the profile of a block group's flags.
func profileName(flags uint64) string {
	for _, p := range btrfsProfiles {
		if flags&p.bit != 0 {
			return p.name
		}
	}
	return "single"
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

// CheckNewFile reports why the kernel would refuse a swapfile made now on
// this filesystem, holding dir (nil: it would not), with a remedy that
// works as written: new data goes to the most redundant data profile
// present, and on several devices the single profile spreads a large file
// over them (converting does not help: another filesystem does).
func (b Btrfs) CheckNewFile(dir string) error {
	profiles := strings.Join(b.DataProfiles, " and ")
	switch {
	case b.Devices > 1:
		return fmt.Errorf("the btrfs filesystem holding %q spans %d devices (data profile %s), and the kernel swaps only to a btrfs file whose extents are all on one device in block groups of the single profile (\"swapfile must be on one device\", \"swapfile must have single data profile\"); a new file's extents may land on any of the devices: put [Swap] Path= on another filesystem (ext4, xfs, or a single-device btrfs)", dir, b.Devices, profiles)
	case !b.Single():
		return fmt.Errorf("the btrfs filesystem holding %q has the data profile %s, and the kernel swaps only to a btrfs file whose data profile is single (\"swapfile must have single data profile\"): %s; or put [Swap] Path= on another filesystem", dir, profiles, b.convertRemedy(dir))
	}
	return nil
}

// convertRemedy is the balance converting the data of dir's filesystem to
// single as it must be written: mixed block groups convert data and
// metadata together, and lowering the metadata's redundancy needs -f.
func (b Btrfs) convertRemedy(dir string) string {
	if b.Mixed {
		return fmt.Sprintf("its block groups hold data and metadata together (mixed), so both are converted, and -f allows the metadata fewer copies: btrfs balance start -f -dconvert=single -mconvert=single %q", dir)
	}
	return fmt.Sprintf("convert its data with: btrfs balance start -dconvert=single %q", dir)
}

// BtrfsChunk is one chunk of the chunk tree: the logical range it maps,
// its block group flags, and its first stripe's device, where swap goes.
type BtrfsChunk struct {
	Start, Length uint64
	Flags         uint64
	Devid         uint64
}

// The chunk tree search of linux/btrfs.h and linux/btrfs_tree.h.
const (
	btrfsIocTreeSearch      = 0xD0009411 // _IOWR(0x94, 17, struct btrfs_ioctl_search_args), 4096 bytes
	btrfsSearchArgs         = 4096
	btrfsSearchKey          = 104 // struct btrfs_ioctl_search_key
	btrfsSearchHeader       = 32  // struct btrfs_ioctl_search_header
	btrfsChunkTreeObjectID  = 3
	btrfsFirstChunkObjectID = 256
	btrfsChunkItemKey       = 228
	btrfsChunkItem          = 48 + 32 // struct btrfs_chunk with its first stripe
)

// ReadBtrfsChunks reads the chunk tree of fd's filesystem in logical order
// (BTRFS_IOC_TREE_SEARCH: CAP_SYS_ADMIN).
func ReadBtrfsChunks(fd int) ([]BtrfsChunk, error) {
	var out []BtrfsChunk
	buf := make([]byte, btrfsSearchArgs)
	var minOffset uint64
	for {
		clear(buf)
		k := binary.NativeEndian
		k.PutUint64(buf[0:], btrfsChunkTreeObjectID)
		k.PutUint64(buf[8:], btrfsFirstChunkObjectID)  // min_objectid
		k.PutUint64(buf[16:], btrfsFirstChunkObjectID) // max_objectid
		k.PutUint64(buf[24:], minOffset)
		k.PutUint64(buf[32:], ^uint64(0)) // max_offset
		k.PutUint64(buf[48:], ^uint64(0)) // max_transid
		k.PutUint32(buf[56:], btrfsChunkItemKey)
		k.PutUint32(buf[60:], btrfsChunkItemKey)
		k.PutUint32(buf[64:], 4096) // nr_items: as many as fit
		if err := ioctl(fd, btrfsIocTreeSearch, buf); err != nil {
			return nil, fmt.Errorf("BTRFS_IOC_TREE_SEARCH of the chunk tree: %w", err)
		}
		n := k.Uint32(buf[64:])
		if n == 0 {
			return out, nil
		}
		off := btrfsSearchKey
		var last uint64
		for range n {
			if off+btrfsSearchHeader > len(buf) {
				return nil, fmt.Errorf("BTRFS_IOC_TREE_SEARCH: an item runs past the buffer")
			}
			h := buf[off:]
			offset, typ, l := k.Uint64(h[16:]), k.Uint32(h[24:]), int(k.Uint32(h[28:]))
			item := buf[off+btrfsSearchHeader:]
			if l > len(item) {
				return nil, fmt.Errorf("BTRFS_IOC_TREE_SEARCH: an item runs past the buffer")
			}
			if typ == btrfsChunkItemKey && l >= btrfsChunkItem {
				// The item is the on-disk struct btrfs_chunk: little-endian.
				le := binary.LittleEndian
				out = append(out, BtrfsChunk{Start: offset, Length: le.Uint64(item[0:]), Flags: le.Uint64(item[24:]), Devid: le.Uint64(item[48:])})
			}
			last = offset
			off += btrfsSearchHeader + l
		}
		if last == ^uint64(0) {
			return out, nil
		}
		minOffset = last + 1
	}
}

// BtrfsPlacement is where a file's extents lie: the profiles and first
// stripes' devices of their block groups, each once, in order met.
type BtrfsPlacement struct {
	Profiles []string
	Devids   []uint64
}

// PlaceBtrfs maps a file's btrfs logical ranges (FIEMAP's on btrfs) to the
// chunks holding them (ReadBtrfsChunks'); a range none holds is an error.
func PlaceBtrfs(chunks []BtrfsChunk, ranges [][2]uint64) (BtrfsPlacement, error) {
	var pl BtrfsPlacement
	for _, r := range ranges {
		for at, end := r[0], r[0]+r[1]; at < end; {
			i, ok := slices.BinarySearchFunc(chunks, at, func(c BtrfsChunk, x uint64) int {
				switch {
				case c.Start+c.Length <= x:
					return -1
				case c.Start > x:
					return 1
				}
				return 0
			})
			if !ok {
				return pl, fmt.Errorf("no btrfs chunk holds the logical address %d of an extent", at)
			}
			c := chunks[i]
			if p := profileName(c.Flags & btrfsProfileMask); !slices.Contains(pl.Profiles, p) {
				pl.Profiles = append(pl.Profiles, p)
			}
			if !slices.Contains(pl.Devids, c.Devid) {
				pl.Devids = append(pl.Devids, c.Devid)
			}
			at = c.Start + c.Length
		}
	}
	return pl, nil
}

// CheckSwap reports why the kernel would refuse the swapfile at path whose
// extents lie as pl says (the kernel's own test), with a remedy that works
// as written.
func (pl BtrfsPlacement) CheckSwap(path, dir string, fs Btrfs) error {
	var other []string
	for _, p := range pl.Profiles {
		if p != "single" {
			other = append(other, p)
		}
	}
	switch {
	case len(other) > 0 && fs.Devices > 1:
		return fmt.Errorf("the swapfile %q lies in btrfs block groups of the data profile %s, and the kernel swaps only to a file whose extents are all in single block groups on one device (\"swapfile must have single data profile\"); the filesystem holding %q spans %d devices, where converting does not keep a file on one device: put [Swap] Path= on another filesystem (ext4, xfs, or a single-device btrfs)", path, strings.Join(other, " and "), dir, fs.Devices)
	case len(other) > 0:
		return fmt.Errorf("the swapfile %q lies in btrfs block groups of the data profile %s, and the kernel swaps only to a file whose extents are all in single block groups (\"swapfile must have single data profile\"): %s; or put [Swap] Path= on another filesystem", path, strings.Join(other, " and "), fs.convertRemedy(dir))
	}
	if len(pl.Devids) > 1 {
		ids := make([]string, len(pl.Devids))
		for i, d := range pl.Devids {
			ids[i] = strconv.FormatUint(d, 10)
		}
		return fmt.Errorf("the swapfile %q has extents on %d btrfs devices (devids %s), and the kernel swaps only to a file on one device (\"swapfile must be on one device\"): put [Swap] Path= on another filesystem (ext4, xfs, or a single-device btrfs)", path, len(pl.Devids), strings.Join(ids, ", "))
	}
	return nil
}
