// Package units is the unit files the generator writes: their type, how
// they are serialized (file.go), and how they are written into an output
// directory: through a hidden temporary (".#NAME.RANDOM.tmp", which systemd
// never loads), synced and moved to its name without replacing anything
// (renameat2 RENAME_NOREPLACE, else link(2)), the directory synced. A name
// already taken keeps its file: an identical one is no error, another is
// ErrExists.
package units

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrExists reports that a different file already has the name.
var ErrExists = errors.New("a different file is already there; keeping it")

// checkRel refuses paths that would leave the directory.
func checkRel(rel string) error {
	if rel == "" || path.IsAbs(rel) || path.Clean(rel) != rel || rel == "." || strings.HasPrefix(rel, "../") || rel == ".." {
		return fmt.Errorf("output path %q is not a clean relative path", rel)
	}
	for _, c := range rel {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("output path %q holds a control character", rel)
		}
	}
	return nil
}

// WriteFile writes content to dir/rel (0644), making parents (0755).
func WriteFile(dir, rel string, content []byte) error {
	return write(dir, rel, func(tmp string) error {
		// Plain system calls, not os.File: the generator writes a dozen
		// files at every boot, and os.File's poller registration tries
		// (fcntl, epoll_ctl) doubled the calls per file.
		fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return &os.PathError{Op: "open", Path: tmp, Err: err}
		}
		werr := writeAll(fd, content)
		serr := unix.Fsync(fd)
		cerr := unix.Close(fd)
		return errors.Join(werr, serr, cerr)
	}, func(final string) bool {
		fi, err := os.Lstat(final)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(content)) {
			return false
		}
		b, err := os.ReadFile(final)
		return err == nil && bytes.Equal(b, content)
	})
}

// Symlink makes dir/rel a symlink to target, creating parent directories.
func Symlink(dir, rel, target string) error {
	return write(dir, rel, func(tmp string) error {
		return os.Symlink(target, tmp)
	}, func(final string) bool {
		t, err := os.Readlink(final)
		return err == nil && t == target
	})
}

func write(dir, rel string, make func(tmp string) error, same func(final string) bool) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	final := filepath.Join(dir, filepath.FromSlash(rel))
	parent := filepath.Dir(final)
	// The output directories are empty at every run (systemd empties them
	// before it runs the generators): one mkdir(2) makes a unit's drop-in
	// directory, where MkdirAll would first stat it and its parent.
	if err := unix.Mkdir(parent, 0o755); err != nil && !errors.Is(err, unix.EEXIST) || errors.Is(err, unix.EEXIST) && !isDir(parent) {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return fmt.Errorf("create directory for %q: %w", final, err)
		}
	}
	tmp := filepath.Join(parent, ".#"+filepath.Base(final)+"."+tempSuffix()+".tmp")
	if err := make(tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %q: %w", final, err)
	}
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// No RENAME_NOREPLACE here: link(2) never replaces a name either.
		err = os.Link(tmp, final)
		if err == nil {
			err = os.Remove(tmp)
		}
	}
	if err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, unix.EEXIST) || errors.Is(err, os.ErrExist) {
			if same(final) {
				return nil
			}
			return fmt.Errorf("%q: %w", final, ErrExists)
		}
		return fmt.Errorf("move %q into place: %w", final, err)
	}
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("sync directory %q: %w", parent, err)
	}
	return nil
}

// isDir reports whether p is a directory, a link to one included (as
// MkdirAll accepts it).
func isDir(p string) bool {
	var st unix.Stat_t
	return unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// tempSeed and tempSeq make the temporary names' 12 hex digits: random per
// process (one getrandom(2)), the count of names made mixed into the low
// bytes, so that a run writing a dozen files does not ask the kernel for
// randomness a dozen times. O_EXCL refuses a name taken anyway.
var (
	tempOnce sync.Once
	tempSeed [6]byte
	tempSeq  atomic.Uint32
)

func tempSuffix() string {
	tempOnce.Do(func() { _, _ = unix.Getrandom(tempSeed[:], 0) })
	b := tempSeed
	n := tempSeq.Add(1)
	b[3] ^= byte(n >> 16)
	b[4] ^= byte(n >> 8)
	b[5] ^= byte(n)
	return hex.EncodeToString(b[:])
}

func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	serr := unix.Fsync(fd)
	cerr := unix.Close(fd)
	return errors.Join(serr, cerr)
}

// writeAll writes b to fd, going on after a short write.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
