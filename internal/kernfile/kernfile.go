// Package kernfile opens the kernel's own files (/proc/sys, /proc/irq, the
// workqueue files in /sys) under the root prefix, for reading or writing.
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
package kernfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// Open opens the kernel file hostPath (absolute, as on the host) under root
// with mode (unix.O_RDONLY or unix.O_WRONLY; nothing is created or
// truncated) and returns its descriptor. A missing file or directory wraps
// fs.ErrNotExist; a link anywhere on the path, a FIFO, a device or a
// directory is refused with an error naming the path.
func Open(root hostroot.Root, hostPath string, mode int) (int, error) {
	p := root.Path(hostPath)
	d, err := safefs.OpenDir(root, path.Dir(path.Clean("/"+hostPath)), safefs.Options{NoLinks: true})
	if err != nil {
		return -1, fmt.Errorf("%q: %w", p, err)
	}
	defer d.Close()
	fd, err := unix.Openat(d.Fd(), path.Base(hostPath), mode|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
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
