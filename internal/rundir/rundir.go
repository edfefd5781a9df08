// Package rundir is the tuner's directory under /run: one path, one mode,
// opened one way by everything that keeps a file there (the success record,
// the fallback marker, the plan file, the capture device, the placement's
// hold and the locks).
//
// The directory is root's, mode 0755: the plan file is for the services it
// pins (they run as their own users), and the success record and the
// fallback marker let status say what holds when any user runs it. None of
// them is secret, and only root can write there. What other users must not
// touch is kept from them by the file's own mode: the locks are 0600 files,
// because whoever can open a file can flock it, and a user holding the
// activation's lock would hold every activation up. (The lock was the
// directory itself while it was root-only; code that made the directory
// first chose its mode, 0700 or 0755, and the plan file offered to services
// was unreadable behind a 0700 one.)
package rundir

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// Path is the directory, a host path.
const Path = "/run/ransomeye-tuner"

// Mode is the directory's mode.
const Mode os.FileMode = 0o755

// Open opens Path under root: every directory on the way root's and closed
// to other users' writes, no link followed. With create a missing directory
// is made with Mode, and one an earlier version made with another mode gets
// Mode (it lasts until the next boot otherwise). A missing directory
// without create is an error that wraps fs.ErrNotExist.
func Open(root hostroot.Root, create bool) (*safefs.Dir, error) {
	opt := safefs.Options{RootOnly: true, NoLinks: true}
	if create {
		opt.Create = Mode
	}
	d, err := safefs.OpenDir(root, Path, opt)
	if err != nil {
		return nil, err
	}
	if !create {
		return d, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(d.Fd(), &st); err != nil {
		d.Close()
		return nil, fmt.Errorf("fstat %q: %w", d.Path, err)
	}
	if os.FileMode(st.Mode&0o7777) != Mode {
		if err := unix.Fchmod(d.Fd(), uint32(Mode)); err != nil {
			d.Close()
			return nil, fmt.Errorf("chmod %q to %04o: %w", d.Path, Mode, err)
		}
	}
	return d, nil
}

// Lock takes an exclusive flock on the file name in Path (made, mode 0600,
// when missing; opened without following a link, and it must be a regular
// file) and returns the function that releases it.
func Lock(root hostroot.Root, name string) (unlock func(), err error) {
	dir, err := Open(root, true)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	p := dir.Path + "/" + name
	fd, err := unix.Openat(dir.Fd(), name, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("%q is not a regular file only root can open (%v): remove it (ransomeye-tuner makes it)", p, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %q: %w", p, err)
	}
	return func() { unix.Close(fd) }, nil
}
