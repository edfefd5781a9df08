package marker

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/rundir"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// OKPath records that activate succeeded in this boot: the gate lets the
// core start only when it exists for the running boot id (and no genuine
// marker is present).
//
// Why a record of success besides the marker of failure: the marker lives
// in the world-writable /run/lock, on the /run tmpfs, which a local user can
// fill; then no marker (nor its fallback on the same tmpfs) can be written,
// and a gate that only looks for a marker opens after a failure
// (fail-open). Removing a file needs no space, so activate removes this
// record when it starts and every failure path removes it again; only a
// complete, successful run writes it. Only root can write the directory
// (internal/rundir); anyone may read the record, so that status run by any
// user can say whether the activation succeeded.
const OKPath = rundir.Path + "/ok"

func okLocation() location { return location{host: OKPath, fallback: true} }

// RemoveOK removes the success record; a missing one is no error.
func RemoveOK(root hostroot.Root) error {
	d, err := openDir(root, okLocation(), false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	defer d.close()
	if err := unix.Unlinkat(d.fd, filepath.Base(OKPath), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %q: %w", OKPath, err)
	}
	return nil
}

// WriteOK records a successful activation for bootID, atomically.
func WriteOK(root hostroot.Root, bootID string, now time.Time) error {
	d, err := openDir(root, okLocation(), true)
	if err != nil {
		return err
	}
	defer d.close()
	content := fmt.Sprintf("boot_id: %s\ntime: %s\n", clean(bootID), now.UTC().Format(time.RFC3339))
	if err := d.WriteFile(filepath.Base(OKPath), []byte(content), 0o644, safefs.WriteOptions{}); err != nil {
		return fmt.Errorf("record %q: %w", OKPath, err)
	}
	return nil
}

// CheckOK reports whether the success record exists for bootID, and why
// not. Only a regular file owned by root, with one link, in a root-owned
// directory that nobody else can write, counts.
func CheckOK(root hostroot.Root, bootID string) (bool, string) {
	ok, why, _ := ReadOK(root, bootID)
	return ok, why
}

// ReadOK is CheckOK that also returns the error that kept the record
// from being examined (its directory or the file could not be opened),
// nil when it was examined or is not there.
func ReadOK(root hostroot.Root, bootID string) (ok bool, why string, unread error) {
	ok, why = checkOK(root, bootID, &unread)
	return ok, why, unread
}

func checkOK(root hostroot.Root, bootID string, unread *error) (bool, string) {
	d, err := openDir(root, okLocation(), false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Sprintf("no %s: it has not succeeded in this boot", OKPath)
		}
		*unread = err
		return false, err.Error()
	}
	defer d.close()
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil || st.Uid != 0 || st.Mode&0o022 != 0 {
		return false, fmt.Sprintf("%q is not a directory only root can write: its record is not trusted", filepath.Dir(OKPath))
	}
	name := filepath.Base(OKPath)
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Sprintf("no %s: it has not succeeded in this boot", OKPath)
		}
		*unread = fmt.Errorf("%s: %w", OKPath, err)
		return false, (*unread).Error()
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil || st.Uid != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		return false, fmt.Sprintf("%s is not a regular file owned by root: not trusted", OKPath)
	}
	buf := make([]byte, 4096)
	n, _ := unix.Pread(fd, buf, 0)
	for _, line := range strings.Split(string(buf[:max(n, 0)]), "\n") {
		if v, ok := strings.CutPrefix(line, "boot_id: "); ok {
			if v == bootID {
				return true, ""
			}
			return false, fmt.Sprintf("%s is from another boot (%s)", OKPath, v)
		}
	}
	return false, fmt.Sprintf("%s records no boot id", OKPath)
}

// LockName, in rundir.Path, is the file whose flock makes activations one
// at a time.
const LockName = "activate.lock"

// Lock serialises activations: it takes an exclusive flock on LockName
// (rundir.Lock: a 0600 file, which no other user can open to hold the lock
// and block the boot) and returns the function that releases it. A second
// activate started by hand while the unit's run is creating the swapfile
// waits here, instead of removing that run's temporary file as a leftover
// and so failing it.
func Lock(root hostroot.Root) (unlock func(), err error) {
	return rundir.Lock(root, LockName)
}
