package swapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Extent is one mapping of a file's bytes to the device (FS_IOC_FIEMAP).
type Extent struct {
	Logical  int64 // offset in the file, bytes
	Physical int64 // offset on the device, bytes
	Length   int64 // bytes
}

// KernelPages returns how many pages swapon takes from a file of size
// bytes, at most maxPages (last_page+1), given its extents in file order,
// as iomap_swapfile_activate counts (btrfs rounds alike): runs contiguous
// on the device merged, each losing what lies off its page boundaries on
// the device (ext4 with 1 KiB blocks loses pages so). The header page
// counts; a hole gives 0 (swapon refuses the file).
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
	// Extents not on the device yet, which swapon refuses.
	fiemapUnknown   = 0x2
	fiemapDelalloc  = 0x4
	fiemapEncoded   = 0x8
	fiemapNotAlign  = 0x100
	fiemapDataInl   = 0x200
	fiemapNotOnDisk = fiemapUnknown | fiemapDelalloc | fiemapEncoded | fiemapNotAlign | fiemapDataInl
	// FiemapShared marks an extent another file or a snapshot also uses,
	// which swapon refuses.
	FiemapShared = 0x2000
)

// Extents reads the extents of fd covering [0, size), synced, in file
// order; shared: one is FIEMAP_EXTENT_SHARED.
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

// usablePages returns KernelPages for fd, and whether an extent is shared.
func usablePages(fd int, size int64, pageSize int, maxPages int64) (int64, bool, error) {
	ext, shared, err := Extents(fd, size)
	if err != nil {
		return 0, false, err
	}
	return KernelPages(ext, size, pageSize, maxPages), shared, nil
}
