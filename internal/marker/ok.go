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
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// OKPath records that activate succeeded in this boot; the gate opens only
// with it for the running boot id. A full /run can keep any marker from
// being written, and removing needs no space: activate removes the record
// first and at every failure, and only a complete run writes it.
const OKPath = "/run/ransomeye-tuner/ok"

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
// not; only a root-owned single-link file in a root-only directory counts.
func CheckOK(root hostroot.Root, bootID string) (bool, string) {
	d, err := openDir(root, okLocation(), false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Sprintf("no %s: it has not succeeded in this boot", OKPath)
		}
		return false, err.Error()
	}
	defer d.Close()
	var st unix.Stat_t
	if err := unix.Fstat(d.Fd(), &st); err != nil || st.Uid != 0 || st.Mode&0o022 != 0 {
		return false, fmt.Sprintf("%q is not a root-only directory: its record is not trusted", filepath.Dir(OKPath))
	}
	name := filepath.Base(OKPath)
	fd, err := unix.Openat(d.Fd(), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Sprintf("no %s: it has not succeeded in this boot", OKPath)
		}
		return false, fmt.Sprintf("%s: %v", OKPath, err)
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

// Lock serialises activations with a flock on OKPath's root-only directory
// (no other user can open it to block the boot): a second activate would
// remove the first's temporary swapfile as a leftover and fail it.
func Lock(root hostroot.Root) (unlock func(), err error) {
	d, err := openDir(root, okLocation(), true)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(d.Fd(), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("lock %q: %w", d.Path, err)
	}
	return func() { d.Close() }, nil
}
