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

// OKPath records that activate succeeded in this boot; the gate opens only
// with it for the running boot id. A full /run can keep any marker from
// being written, and removing needs no space: activate removes the record
// first and at every failure, and only a complete run writes it. Anyone
// may read it (status run by any user says whether activation succeeded).
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
	defer d.Close()
	if err := unix.Unlinkat(d.Fd(), filepath.Base(OKPath), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
	defer d.Close()
	content := fmt.Sprintf("boot_id: %s\ntime: %s\n", clean(bootID), now.UTC().Format(time.RFC3339))
	if err := d.WriteFile(filepath.Base(OKPath), []byte(content), 0o644, safefs.WriteOptions{}); err != nil {
		return fmt.Errorf("record %q: %w", OKPath, err)
	}
	return nil
}

// CheckOK reports whether the success record exists for bootID, and why
// not; only a root-owned single-link file in a directory only root can
// write counts.
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
	defer d.Close()
	var st unix.Stat_t
	if err := unix.Fstat(d.Fd(), &st); err != nil || st.Uid != 0 || st.Mode&0o022 != 0 {
		return false, fmt.Sprintf("%q is not a directory only root can write: its record is not trusted", filepath.Dir(OKPath))
	}
	name := filepath.Base(OKPath)
	fd, err := unix.Openat(d.Fd(), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
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

// Lock serialises activations with a flock on LockName (rundir.Lock: 0600,
// so no other user can open it to block the boot): a second activate would
// remove the first's temporary swapfile as a leftover and fail it.
func Lock(root hostroot.Root) (unlock func(), err error) {
	return rundir.Lock(root, LockName)
}
