// Package kernfile reads and writes the kernel's own files (/proc/sys,
// /proc/irq, workqueue and cgroup attributes) under the root prefix. The
// directory is reached with no link in any component (the kernel's hold
// none; O_NOFOLLOW on a path string guards its last component only) and
// the file used only when regular; nothing is created, and every mask
// write is read back, as the kernel may apply another.
package kernfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// Open opens the kernel file hostPath under root with mode (O_RDONLY or
// O_WRONLY) as the package says; a missing one wraps fs.ErrNotExist.
func Open(root hostroot.Root, hostPath string, mode int) (int, error) {
	p := root.Path(hostPath)
	flags := mode | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	fd, err := openNoLinks(root, hostPath, flags)
	if walk(err) {
		var d *safefs.Dir
		if d, err = safefs.OpenDir(root, path.Dir(path.Clean("/"+hostPath)), safefs.Options{NoLinks: true}); err != nil {
			return -1, fmt.Errorf("%q: %w", p, err)
		}
		defer d.Close()
		fd, err = unix.Openat(d.Fd(), path.Base(hostPath), flags, 0)
	}
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			return -1, fmt.Errorf("%q: %w", p, fs.ErrNotExist)
		case errors.Is(err, unix.ELOOP):
			return -1, fmt.Errorf("%q is a symbolic link: refusing to follow it", p)
		case errors.Is(err, unix.ENXIO):
			return -1, fmt.Errorf("%q is not a kernel file (a FIFO or socket): refusing it", p)
		}
		return -1, fmt.Errorf("open %q: %w", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("fstat %q: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, fmt.Errorf("%q is not a kernel file (not a regular file): refusing it", p)
	}
	return fd, nil
}

// openNoLinks opens hostPath under root in one resolution (openat2 with
// RESOLVE_NO_SYMLINKS, the same refusal as the walk through safefs at a
// fraction of its calls).
func openNoLinks(root hostroot.Root, hostPath string, flags int) (int, error) {
	rootfd, err := unix.Open(root.String(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, errRootNotOpened
	}
	defer unix.Close(rootfd)
	return unix.Openat2(rootfd, strings.TrimPrefix(path.Clean("/"+hostPath), "/"), &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH,
	})
}

// walk reports whether Open must walk the path component by component
// after openNoLinks failed with err: openat2 is missing (ENOSYS: a kernel
// before 5.6, or a seccomp filter that hides it), refused (EPERM: a
// seccomp filter), or does not know what it was asked (E2BIG, EINVAL: an
// older kernel's open_how or resolve flags); or the path holds a link
// (ELOOP, EXDEV), which only the walk can name. Any other error, a missing
// file first, is the answer: the walk would only fail again.
func walk(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM), errors.Is(err, unix.E2BIG), errors.Is(err, unix.EINVAL),
		errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV), err == errRootNotOpened:
		return true
	}
	return false
}

// errRootNotOpened: openNoLinks could not open the root; the walk says why.
var errRootNotOpened = errors.New("the root prefix cannot be opened")

// Read reads a small kernel file, whitespace trimmed.
func Read(root hostroot.Root, hostPath string) (string, error) {
	fd, err := Open(root, hostPath, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return "", fmt.Errorf("read %q: %w", root.Path(hostPath), err)
	}
	return strings.TrimSpace(string(buf[:max(n, 0)])), nil
}

// ReadMask reads a hex CPU mask file under root.
func ReadMask(root hostroot.Root, p string) (cpuset.Set, error) {
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("read %q: %w", p, err)
	}
	s, err := cpuset.ParseMask(strings.TrimSpace(string(b)))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("%q: %w", p, err)
	}
	return s, nil
}

// WriteMask writes set to a kernel mask file and reads it back.
func WriteMask(root hostroot.Root, hostPath string, set cpuset.Set) error {
	if err := WriteFile(root, hostPath, set.Mask()); err != nil {
		return fmt.Errorf("set %q to %s (%s): %w", hostPath, set.Mask(), set, err)
	}
	got, err := ReadMask(root, hostPath)
	if err != nil {
		return fmt.Errorf("set %q: read back: %w", hostPath, err)
	}
	if !got.Equal(set) {
		return fmt.Errorf("set %q to %s (%s): the kernel applies %s (%s) instead", hostPath, set.Mask(), set, got.Mask(), got)
	}
	return nil
}

// WriteFile writes value and a newline to an existing kernel file, reached
// as Open does, truncating only once it is known to be one (a no-op for
// proc and sysfs; it keeps a fake tree's file whole).
func WriteFile(root hostroot.Root, hostPath, value string) error {
	fd, err := Open(root, hostPath, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	p := root.Path(hostPath)
	if err := unix.Ftruncate(fd, 0); err != nil {
		return fmt.Errorf("truncate %q: %w", p, err)
	}
	data := []byte(value + "\n")
	n, err := unix.Write(fd, data)
	if err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	if n != len(data) {
		return fmt.Errorf("short write to %q (%d of %d bytes)", p, n, len(data))
	}
	return nil
}
