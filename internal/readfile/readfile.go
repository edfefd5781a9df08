// Package readfile reads small host files that must be what they claim.
package readfile

import (
	"fmt"
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// Regular reads a regular file of at most maxSize bytes: a FIFO would
// block the boot's generator, /dev/zero read until memory runs out, and
// opening a device can act, so it looks before it opens and checks what it
// opened. Errors are *fs.PathError naming p.
func Regular(p string, maxSize int64) ([]byte, error) {
	// Plain system calls, as Kernel: os.File would register each file
	// with the runtime's poller, and set the poller up for the first.
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Stat(p, &st) }); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, notRegular(p, modeOf(st.Mode))
	}
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, notRegular(p, modeOf(st.Mode))
	}
	// The size is a hint (files under /proc say 0): read to the end, and
	// one byte past max to tell a file that is too large.
	buf := make([]byte, 0, min(max(st.Size, 0)+1, maxSize+1, 1<<20))
	for {
		if int64(len(buf)) > maxSize {
			return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("larger than %d bytes", maxSize)}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, max(len(buf), 512))...)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):min(int64(cap(buf)), maxSize+1)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// ignoringEINTR retries f while it fails with EINTR (a signal arrived),
// as package os does for open and stat.
func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// modeOf is the fs.FileMode type bits of a stat(2) mode.
func modeOf(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return 0
}

// notRegular is the error for an entry that is not a regular file; a
// directory gives the same "is a directory" as reading one.
func notRegular(p string, m fs.FileMode) error {
	if m.IsDir() {
		return &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	return &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("is a %s, not a regular file: replace it with a file or remove it", kindOf(m))}
}

// kindOf names a non-regular file type for an error message.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}

// Kernel reads a file the kernel generates (under /proc or /sys) of at
// most max bytes, with plain open, read and close. Why not os.ReadFile:
// its extra fstat, fcntl and epoll calls (the runtime's poller tries every
// file it opens) tripled the system calls of a generator run on a 256-CPU
// machine, where sysfs is read per core. Opened non-blocking and without
// a controlling terminal, as Regular. Errors are *fs.PathError naming p.
func Kernel(p string, max int) ([]byte, error) {
	return KernelAt(unix.AT_FDCWD, "", p, max)
}

// OpenDir opens the directory p for KernelAt (O_PATH: nothing is read
// from it but the names under it). The caller closes the descriptor.
func OpenDir(p string) (int, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, nil
}

// KernelAt is Kernel for name under the directory dirfd (OpenDir), whose
// path is dir: the kernel then walks the path from there, not from "/",
// for each of the hundreds of per-CPU files of a big machine. Errors name
// dir/name.
func KernelAt(dirfd int, dir, name string, max int) ([]byte, error) {
	return kernelAt(dirfd, dir, name, max, false)
}

// AttrAt is KernelAt for a sysfs attribute (a per-CPU topology list, a
// node's cpulist): sysfs makes an attribute's whole text, at most a page,
// when it is read, so a read(2) that returns less than it asked for has
// reached the end, and the read that would return 0 is not made. One
// system call in four per file, for the hundreds of them of a big machine.
// A file that fills what was asked is read on to its end.
func AttrAt(dirfd int, dir, name string, max int) ([]byte, error) {
	return kernelAt(dirfd, dir, name, max, true)
}

func kernelAt(dirfd int, dir, name string, max int, attr bool) ([]byte, error) {
	full := func() string {
		if dir == "" {
			return name
		}
		return dir + "/" + name
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: full(), Err: err}
	}
	defer unix.Close(fd)
	// Most of these files are a line: read into the stack, and allocate
	// only what they hold.
	var small [128]byte
	lim := min(max+1, len(small))
	n := 0
	for n < lim {
		r, err := unix.Read(fd, small[n:lim])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: full(), Err: err}
		}
		if r == 0 || attr && n+r < lim {
			return append([]byte{}, small[:n+r]...), nil
		}
		n += r
	}
	buf := make([]byte, n, min(4*len(small), max+1))
	copy(buf, small[:n])
	for {
		if len(buf) > max {
			return nil, &fs.PathError{Op: "read", Path: full(), Err: fmt.Errorf("larger than %d bytes", max)}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		r, err := unix.Read(fd, buf[len(buf):min(cap(buf), max+1)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: full(), Err: err}
		}
		if r == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+r]
	}
}
