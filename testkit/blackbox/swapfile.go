package blackbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CheckSwapfile asserts a complete swapfile of our making at p: a regular
// file of size bytes, 0600 root:root, fully allocated without holes, with
// the swap signature and our label.
//
// Holes are checked, with FIEMAP: the kernel refuses a swapfile with a hole
// (swapon fails with EINVAL, "swapfile has holes": the iomap and bmap
// activation paths accept only mapped or unwritten extents), and activate
// promises a file that swapon takes, so a file with a hole is a defect even
// where no test runs swapon on it. st_blocks alone cannot show a hole (a
// preallocation past the end makes up the count). What must not be used is
// lseek(SEEK_HOLE): ext4 reports preallocated (unwritten) extents as holes
// there, though swapon accepts them; FIEMAP reports them as extents.
func CheckSwapfile(t *testing.T, p string, size int64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("swapfile: %v", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("%s is not a regular file (mode %o)", p, st.Mode)
	}
	if st.Size != size {
		t.Errorf("%s has %d bytes, want %d", p, st.Size, size)
	}
	if st.Mode&0o7777 != 0o600 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("%s has mode %04o owner %d:%d, want 0600 0:0", p, st.Mode&0o7777, st.Uid, st.Gid)
	}
	if st.Blocks*512 < size {
		t.Errorf("%s is not fully allocated: %d of %d bytes", p, st.Blocks*512, size)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if covered, err := mappedPrefix(int(f.Fd()), size); err != nil || covered < size {
		t.Errorf("%s: extents cover %d of %d bytes without a gap (%v): the file has holes", p, covered, size, err)
	}
	page := make([]byte, os.Getpagesize())
	if _, err := f.ReadAt(page, 0); err != nil {
		t.Fatal(err)
	}
	if string(page[len(page)-10:]) != "SWAPSPACE2" {
		t.Errorf("%s has no SWAPSPACE2 signature", p)
	}
	if got := string(bytes.TrimRight(page[1052:1068], "\x00")); got != "ransomeye-swap" {
		t.Errorf("%s label %q, want ransomeye-swap", p, got)
	}
}

// mappedPrefix returns how many bytes from offset 0 are covered by extents
// without a gap, from FS_IOC_FIEMAP (linux/fiemap.h).
func mappedPrefix(fd int, size int64) (int64, error) {
	const (
		fiemapIoctl = 0xC020660B
		extents     = 64
		extentSize  = 56
		headerSize  = 32
		flagLast    = 0x1
	)
	var next int64
	buf := make([]byte, headerSize+extents*extentSize)
	for next < size {
		clear(buf)
		binary.LittleEndian.PutUint64(buf[0:], uint64(next))
		binary.LittleEndian.PutUint64(buf[8:], uint64(size-next))
		binary.LittleEndian.PutUint32(buf[16:], 1) // FIEMAP_FLAG_SYNC
		binary.LittleEndian.PutUint32(buf[24:], extents)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fiemapIoctl, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			return next, errno
		}
		n := int(binary.LittleEndian.Uint32(buf[20:]))
		if n == 0 {
			return next, nil
		}
		for i := range n {
			e := buf[headerSize+i*extentSize:]
			logical := int64(binary.LittleEndian.Uint64(e[0:]))
			length := int64(binary.LittleEndian.Uint64(e[16:]))
			flags := binary.LittleEndian.Uint32(e[40:])
			if logical > next {
				return next, nil // a gap
			}
			next = max(next, logical+length)
			if flags&flagLast != 0 {
				return min(next, size), nil
			}
		}
	}
	return min(next, size), nil
}

// SwaponOff proves the file at p usable with the real swapon, then turns
// it off (also at cleanup, should the test stop in between).
func SwaponOff(t *testing.T, p string) {
	t.Helper()
	t.Cleanup(func() { exec.Command("swapoff", p).Run() })
	Sh(t, "swapon", p)
	b, _ := os.ReadFile("/proc/swaps")
	if !strings.Contains(string(b), p) {
		t.Errorf("swapon %s: not in /proc/swaps:\n%s", p, b)
	}
	Sh(t, "swapoff", p)
}

// MakeSwapArea makes a swap area that is not of activate's making at p:
// fallocate(1) of size ("64M"), mode 0600, then mkswap with mkswapArgs
// before the path (a label: "-L", "x") and after it (a size in KiB).
func MakeSwapArea(t *testing.T, p, size string, mkswapArgs []string, sizeKiB ...string) {
	t.Helper()
	Sh(t, "fallocate", "-l", size, p)
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	Sh(t, "mkswap", append(append(append([]string{}, mkswapArgs...), p), sizeKiB...)...)
}

// TempEntries lists activate's temporary files in dir.
func TempEntries(dir string) []string {
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".ransomeye-swap.tmp.") {
			out = append(out, e.Name())
		}
	}
	return out
}

// StatOf returns lstat(2) of p.
func StatOf(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Inode returns the inode number of p, following links.
func Inode(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
