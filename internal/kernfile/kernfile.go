// Package kernfile reads and writes the kernel's own files (/proc/sys,
// /proc/irq, the workqueue files and cgroup attributes in /sys) under the
// root prefix: values, and CPU files as hex masks
// (/proc/irq/default_smp_affinity, the workqueue cpumask files).
//
// The directory is opened with safefs.OpenDir from the root prefix's
// descriptor, and refused when any component of its path is a symbolic
// link, whoever made it: the kernel's directories hold none, so a link
// there does not lead to the kernel's file. The file is then opened
// relative to that directory with O_NOFOLLOW|O_NONBLOCK and used only when
// it is a regular file (every proc and sysfs attribute is one). Why:
// opening the path string with O_NOFOLLOW guards its last component only;
// with proc/sys/vm a link to a directory of ordinary files under a root
// prefix, activate would overwrite the start of files it did not create.
//
// A write goes only to a file that exists, never creating anything, and
// every mask write is read back: the kernel may apply something else (an
// isolcpus= housekeeping mask, a CPU gone offline).
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

// Open opens the kernel file hostPath (absolute, as on the host) under root
// with mode (unix.O_RDONLY or unix.O_WRONLY; nothing is created or
// truncated) and returns its descriptor. A missing file or directory wraps
// fs.ErrNotExist; a link anywhere on the path, a FIFO, a device or a
// directory is refused with an error naming the path.
func Open(root hostroot.Root, hostPath string, mode int) (int, error) {
	p := root.Path(hostPath)
	flags := mode | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	fd, ok := openNoLinks(root, hostPath, flags)
	if !ok {
		d, err := safefs.OpenDir(root, path.Dir(path.Clean("/"+hostPath)), safefs.Options{NoLinks: true})
		if err != nil {
			return -1, fmt.Errorf("%q: %w", p, err)
		}
		defer d.Close()
		fd, err = unix.Openat(d.Fd(), path.Base(hostPath), flags, 0)
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

// openNoLinks opens hostPath under root with flags in one resolution:
// openat2(2) with RESOLVE_NO_SYMLINKS refuses a link in any component, the
// last included, as the walk through safefs does, which costs a dozen
// system calls each time (and sysctls are opened several times per
// activate: read, write, read back). It reports false when it could not
// open the file (a link, a missing file, a kernel older than 5.6): Open then
// walks, and says exactly what is wrong.
func openNoLinks(root hostroot.Root, hostPath string, flags int) (int, bool) {
	rootfd, err := unix.Open(root.String(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	defer unix.Close(rootfd)
	fd, err := unix.Openat2(rootfd, strings.TrimPrefix(path.Clean("/"+hostPath), "/"), &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH,
	})
	return fd, err == nil
}

// Read reads a small kernel file (whitespace trimmed) without following a
// link.
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

// WriteMask writes set as a hex mask to a kernel mask file under root
// (default_smp_affinity, a workqueue cpumask) and reads it back.
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

// WriteFile writes value and a newline to the kernel file hostPath under
// root: it must exist and be a regular file, reached with no link in any
// component of its path (Open); nothing is created. It is
// truncated only once it is known to be such a file: truncating is a no-op
// for proc and sysfs, which take a write at offset 0 as the whole value,
// and keeps a fake tree's file whole. Why: O_TRUNC at open, with
// O_NOFOLLOW on the last component only, would cut a file reached through
// a linked directory before anything was checked.
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
