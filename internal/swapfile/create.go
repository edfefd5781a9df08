package swapfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/klog"
)

// Mkswap is the mkswap command Create runs: the host's util-linux binary,
// looked up in $PATH and then in /usr/sbin and /sbin. It is the one place
// to change it (tests may point it elsewhere).
var Mkswap = "mkswap"

// mkswapPath resolves Mkswap.
func mkswapPath() string {
	if filepath.IsAbs(Mkswap) {
		return Mkswap
	}
	if p, err := exec.LookPath(Mkswap); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, Mkswap)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return Mkswap
}

// Options tune Create.
type Options struct {
	// Label is the swap area's label (mkswap -L).
	Label string
	// NoCOW sets FS_NOCOW_FL on the empty file before allocation (btrfs)
	// and fails when it does not stick.
	NoCOW bool
	// Replace lets the rename replace what is at the path; without it an
	// entry that appeared meanwhile makes Create fail (RENAME_NOREPLACE).
	Replace bool
	// Log receives progress and the steps; may be nil.
	Log *klog.Logger
}

// ErrNoCOW is returned when the no-copy-on-write attribute cannot be set.
var ErrNoCOW = errors.New("cannot set the no-copy-on-write attribute")

// Create makes a swapfile of size bytes at path: a temporary file in the
// same directory, mode 0600 from its creation, no-copy-on-write when asked,
// preallocated with fallocate (zero-filled where that is not supported),
// mkswap, fsync, renamed into place, and the directory fsynced. On any
// error the temporary file is removed and path is left as it was.
func Create(path string, size int64, opt Options) (err error) {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, TempPrefix+strconv.Itoa(os.Getpid()))
	fd, err := unix.Open(tmp, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create temporary file %q: %w", tmp, err)
	}
	closed := false
	defer func() {
		if !closed {
			unix.Close(fd)
		}
		if err != nil {
			if rmErr := unix.Unlink(tmp); rmErr != nil && !errors.Is(rmErr, unix.ENOENT) {
				err = fmt.Errorf("%w (and removing the temporary file %q failed: %v)", err, tmp, rmErr)
			}
		}
	}()
	// The mode was 0600 from open(2); umask can only have narrowed it.
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return fmt.Errorf("chmod 0600 %q: %w", tmp, err)
	}
	if os.Geteuid() == 0 {
		if err := unix.Fchown(fd, 0, 0); err != nil {
			return fmt.Errorf("chown root:root %q: %w", tmp, err)
		}
	}
	if opt.NoCOW {
		if err := setNoCOW(fd); err != nil {
			return fmt.Errorf("%w on %q: %w (btrfs swaps only to a no-copy-on-write file, and the attribute takes effect only on an empty file)", ErrNoCOW, tmp, err)
		}
	}
	if err := allocate(fd, tmp, size, opt.Log); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %q: %w", tmp, err)
	}
	if st.Size != size || st.Blocks*512 < size {
		return fmt.Errorf("%q has %d bytes with %d allocated after preallocation, want %d fully allocated", tmp, st.Size, st.Blocks*512, size)
	}
	if err := runMkswap(tmp, opt.Label); err != nil {
		return err
	}
	page := make([]byte, os.Getpagesize())
	if n, err := unix.Pread(fd, page, 0); err != nil || !ParseHeader(page[:max(n, 0)], len(page)).Swap {
		return fmt.Errorf("%q has no swap signature after mkswap (read: %v)", tmp, err)
	}
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("fsync %q: %w", tmp, err)
	}
	closed = true
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close %q: %w", tmp, err)
	}
	flags := uint(unix.RENAME_NOREPLACE)
	if opt.Replace {
		flags = 0
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, flags); err != nil {
		return fmt.Errorf("rename %q to %q: %w", tmp, path, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	return nil
}

func setNoCOW(fd int) error {
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("FS_IOC_GETFLAGS: %w", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|FSNoCOWFlag)); err != nil {
		return fmt.Errorf("FS_IOC_SETFLAGS: %w", err)
	}
	flags, err = unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("FS_IOC_GETFLAGS after setting: %w", err)
	}
	if flags&FSNoCOWFlag == 0 {
		return errors.New("the flag did not stick")
	}
	return nil
}

// allocate preallocates size bytes with fallocate(mode 0), or writes zeros
// where the filesystem does not support it (ext3 without extents, ...).
func allocate(fd int, name string, size int64, log *klog.Logger) error {
	err := unix.Fallocate(fd, 0, 0, size)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("fallocate %d bytes for %q: %w", size, name, err)
	}
	log.Noticef("fallocate is not supported for %q (%v): writing %d bytes of zeros instead", name, err, size)
	return zeroFill(fd, name, size, log)
}

// zeroChunk is the write size of zeroFill.
const zeroChunk = 1 << 20

func zeroFill(fd int, name string, size int64, log *klog.Logger) error {
	buf := make([]byte, zeroChunk)
	var done int64
	nextReport := size / 10
	for done < size {
		n := int64(len(buf))
		if size-done < n {
			n = size - done
		}
		w, err := unix.Pwrite(fd, buf[:n], done)
		if err != nil {
			return fmt.Errorf("write zeros to %q at offset %d of %d: %w", name, done, size, err)
		}
		if w == 0 {
			return fmt.Errorf("write zeros to %q at offset %d of %d: no progress", name, done, size)
		}
		done += int64(w)
		if done >= nextReport && done < size {
			log.Infof("zero-filling %q: %d%% (%d of %d bytes)", name, done*100/size, done, size)
			nextReport += size / 10
		}
	}
	log.Infof("zero-filling %q: done (%d bytes)", name, size)
	return nil
}

func runMkswap(file, label string) error {
	args := []string{mkswapPath()}
	if label != "" {
		args = append(args, "-L", label)
	}
	args = append(args, file)
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed: %w; output: %q", quoteArgs(args), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
