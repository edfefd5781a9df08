package swapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Extent is one mapping of a file's bytes to the device, as FS_IOC_FIEMAP
// reports it.
type Extent struct {
	Logical  int64 // offset in the file, bytes
	Physical int64 // offset on the device, bytes
	Length   int64 // bytes
}

// KernelPages returns how many pages swapon will take from a file of size
// bytes whose header allows at most maxPages (last_page+1), given its
// extents in file order: the way the kernel's iomap_swapfile_activate does
// it (fs/iomap/swapfile.c; ext4 and xfs swap through it, btrfs rounds the
// same way). Only [0, size rounded down to a page) counts; extents that
// follow each other on the device are merged first; each merged run then
// loses the part before its first page boundary on the device and after its
// last one. The result counts the header page, like maxPages, so a
// swap area gives (KernelPages-1) pages to /proc/swaps.
//
// Why: on ext4 with 1 KiB blocks the block groups' metadata leaves extents
// starting off a page boundary; a 64 MiB file made 16379 usable pages, not
// 16384, and /proc/swaps showed 65512 KiB: counting the file's size instead
// kept a file the gate then refused at every boot. A hole (a gap in the
// logical offsets) makes swapon refuse the file: 0.
func KernelPages(extents []Extent, size int64, pageSize int, maxPages int64) int64 {
	ps := int64(pageSize)
	end := size / ps * ps
	var pages, next int64
	var runStart, runLen int64 = 0, 0
	flush := func() {
		if runLen == 0 {
			return
		}
		first := (runStart + ps - 1) / ps
		last := (runStart + runLen) / ps
		if last > first {
			pages += last - first
		}
		runLen = 0
	}
	for _, e := range extents {
		if next >= end {
			break
		}
		if e.Logical != next {
			return 0 // a hole: swapon refuses the file
		}
		l := min(e.Length, end-e.Logical)
		if runLen > 0 && runStart+runLen == e.Physical {
			runLen += l
		} else {
			flush()
			runStart, runLen = e.Physical, l
		}
		next = e.Logical + l
	}
	if next < end {
		return 0 // the extents do not cover the file
	}
	flush()
	return min(pages, maxPages)
}

// ErrNoFIEMAP is returned when the filesystem does not report extents.
var ErrNoFIEMAP = errors.New("the filesystem does not report extents (FIEMAP)")

// fiemap constants from linux/fiemap.h (x/sys does not define the ioctl).
const (
	fsIocFiemap      = 0xC020660B
	fiemapFlagSync   = 0x1
	fiemapHeaderSize = 32
	fiemapExtentSize = 56
	fiemapBatch      = 128
	fiemapLast       = 0x1
	// Extents whose place on the device is not known yet: delayed
	// allocation, inline data, encoded. swapon refuses those.
	fiemapUnknown   = 0x2
	fiemapDelalloc  = 0x4
	fiemapEncoded   = 0x8
	fiemapNotAlign  = 0x100
	fiemapDataInl   = 0x200
	fiemapNotOnDisk = fiemapUnknown | fiemapDelalloc | fiemapEncoded | fiemapNotAlign | fiemapDataInl
	// FiemapShared (FIEMAP_EXTENT_SHARED) marks an extent another file or
	// a snapshot also uses: swapon refuses a file with any such extent
	// (btrfs: "swapfile must not be copy-on-write"; iomap: "swapfile has
	// shared extents").
	FiemapShared = 0x2000
)

// Extents reads the extents of the open file fd covering [0, size), after
// syncing its mapping (FIEMAP_FLAG_SYNC), in file order; shared says that
// one of them is FIEMAP_EXTENT_SHARED.
func Extents(fd int, size int64) (_ []Extent, shared bool, _ error) {
	var out []Extent
	buf := make([]byte, fiemapHeaderSize+fiemapBatch*fiemapExtentSize)
	var start int64
	for start < size {
		clear(buf)
		binary.NativeEndian.PutUint64(buf[0:], uint64(start))
		binary.NativeEndian.PutUint64(buf[8:], uint64(size-start))
		binary.NativeEndian.PutUint32(buf[16:], fiemapFlagSync)
		binary.NativeEndian.PutUint32(buf[24:], fiemapBatch)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			if errno == unix.EOPNOTSUPP || errno == unix.ENOTTY {
				return nil, false, fmt.Errorf("%w: %w", ErrNoFIEMAP, errno)
			}
			return nil, false, fmt.Errorf("FS_IOC_FIEMAP: %w", errno)
		}
		n := int(binary.NativeEndian.Uint32(buf[20:]))
		if n == 0 {
			return out, shared, nil
		}
		for i := range n {
			e := buf[fiemapHeaderSize+i*fiemapExtentSize:]
			flags := binary.NativeEndian.Uint32(e[40:])
			x := Extent{
				Logical:  int64(binary.NativeEndian.Uint64(e[0:])),
				Physical: int64(binary.NativeEndian.Uint64(e[8:])),
				Length:   int64(binary.NativeEndian.Uint64(e[16:])),
			}
			shared = shared || flags&FiemapShared != 0
			if flags&fiemapNotOnDisk != 0 {
				return nil, false, fmt.Errorf("an extent at offset %d is not on the device yet (FIEMAP flags %#x)", x.Logical, flags)
			}
			out = append(out, x)
			start = x.Logical + x.Length
			if flags&fiemapLast != 0 {
				return out, shared, nil
			}
		}
	}
	return out, shared, nil
}

// usablePages returns KernelPages for the open file fd of size bytes, and
// whether any of its extents is shared (which swapon refuses whatever the
// pages).
func usablePages(fd int, size int64, pageSize int, maxPages int64) (int64, bool, error) {
	ext, shared, err := Extents(fd, size)
	if err != nil {
		return 0, false, err
	}
	return KernelPages(ext, size, pageSize, maxPages), shared, nil
}
