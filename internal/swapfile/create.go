package swapfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/selinux"
)

// MkswapDirs are where FindMkswap looks for mkswap, in order: the system's
// directories, never $PATH, which a root shell may have kept from a user
// (an "mkswap" in their ~/bin would run as root).
var MkswapDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// TestMkswapEnv names an mkswap to run instead, for the black-box tests'
// fault injection only; honoured only for root's file in root's directory,
// neither writable by others.
const TestMkswapEnv = "RANSOMEYE_TUNER_TEST_MKSWAP"

// FindMkswap resolves the mkswap command: override (TestMkswapEnv's value)
// when set, else the first in MkswapDirs; root's executable, writable by
// no one else.
func FindMkswap(override string) (string, error) {
	if override != "" {
		if !filepath.IsAbs(override) {
			return "", fmt.Errorf("%s=%q is not an absolute path", TestMkswapEnv, override)
		}
		if err := rootOnlyExecutable(override, true); err != nil {
			return "", fmt.Errorf("%s=%q: %w", TestMkswapEnv, override, err)
		}
		return override, nil
	}
	var problems []string
	for _, d := range MkswapDirs {
		p := filepath.Join(d, "mkswap")
		err := rootOnlyExecutable(p, false)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("no usable mkswap in %s: %s", strings.Join(MkswapDirs, ", "), strings.Join(problems, "; "))
	}
	return "", fmt.Errorf("mkswap not found in %s: install util-linux", strings.Join(MkswapDirs, ", "))
}

// rootOnlyExecutable checks that p is root's executable regular file,
// writable by no one else; with dirToo, its directory likewise.
func rootOnlyExecutable(p string, dirToo bool) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0:
		return fmt.Errorf("%q is not an executable regular file", p)
	case !ok:
		return fmt.Errorf("%q: cannot tell its owner", p)
	case st.Uid != 0 || fi.Mode()&0o022 != 0:
		return fmt.Errorf("%q is not owned by root or is writable by others (owner %d, mode %04o)", p, st.Uid, uint32(fi.Mode().Perm()))
	}
	if !dirToo {
		return nil
	}
	di, err := os.Stat(filepath.Dir(p))
	if err != nil {
		return err
	}
	dst, ok := di.Sys().(*syscall.Stat_t)
	if !ok || dst.Uid != 0 || di.Mode()&0o022 != 0 {
		return fmt.Errorf("its directory %q is not owned by root or is writable by others", filepath.Dir(p))
	}
	return nil
}

// Options tune Create.
type Options struct {
	// Mkswap is the absolute path of the mkswap command (FindMkswap).
	Mkswap string
	// Label is the swap area's label (mkswap -L).
	Label string
	// NoCOW sets FS_NOCOW_FL on the empty file (btrfs), failing when it
	// does not stick.
	NoCOW bool
	// Replace lets the rename replace what is at the name; without it a
	// new entry there makes Create fail (RENAME_NOREPLACE).
	Replace bool
	// Context is the SELinux context the temporary file gets first, so
	// mkswap need not relabel it and the rename keeps it.
	Context string
	// Log receives progress and the steps; may be nil.
	Log *priolog.Logger
}

// ErrNoCOW is returned when the no-copy-on-write attribute cannot be set.
var ErrNoCOW = errors.New("cannot set the no-copy-on-write attribute")

// maxGrow bounds the rounds of growing a file whose extents lose pages.
const maxGrow = 8

// Create makes a swapfile named name in dir giving the kernel at least size
// bytes: a temporary file, 0600 and labelled from its creation, no-COW
// when asked, preallocated (zeros where fallocate is not supported), grown
// by the pages its extents lose, mkswap'd through its descriptor, fsynced
// and renamed into place. On error the temporary is removed and the name
// left as it was. It returns the file's size.
func Create(dir *safefs.Dir, name string, size int64, opt Options) (_ int64, err error) {
	if opt.Mkswap == "" || !filepath.IsAbs(opt.Mkswap) {
		return 0, fmt.Errorf("mkswap %q is not an absolute path", opt.Mkswap)
	}
	dirfd := dir.Fd()
	tmpName := names.SwapTempPrefix + strconv.Itoa(os.Getpid())
	tmp := filepath.Join(dir.Host, tmpName)
	// O_NOATIME: the header is read back after mkswap, which has just
	// written and fsynced the file; updating its access time then dirtied
	// the inode again, and the fsync below had a journal commit of its own
	// to wait for (tens of milliseconds on a busy disk) instead of finding
	// the file already durable.
	fd, err := unix.Openat(dirfd, tmpName, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOATIME, 0o600)
	if err != nil {
		return 0, fmt.Errorf("create temporary file %q: %w", tmp, err)
	}
	closed := false
	defer func() {
		if !closed {
			unix.Close(fd)
		}
		if err != nil {
			if rmErr := unix.Unlinkat(dirfd, tmpName, 0); rmErr != nil && !errors.Is(rmErr, unix.ENOENT) {
				err = fmt.Errorf("%w (and removing the temporary file %q failed: %v)", err, tmp, rmErr)
			}
		}
	}()
	// Labelled first: mkswap (fsadm_t) may not relabel it.
	if opt.Context != "" {
		if err := selinux.Set(fd, opt.Context); err != nil {
			return 0, fmt.Errorf("label the temporary file %q: %w", tmp, err)
		}
	}
	// The mode was 0600 from open(2); umask can only have narrowed it.
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return 0, fmt.Errorf("chmod 0600 %q: %w", tmp, err)
	}
	if os.Geteuid() == 0 {
		if err := unix.Fchown(fd, 0, 0); err != nil {
			return 0, fmt.Errorf("chown root:root %q: %w", tmp, err)
		}
	}
	if opt.NoCOW {
		if err := setNoCOW(fd); err != nil {
			return 0, fmt.Errorf("%w on %q: %w (btrfs swaps only to a no-copy-on-write file, and the attribute takes effect only on an empty file)", ErrNoCOW, tmp, err)
		}
	}
	if err := allocate(fd, tmp, 0, size, opt.Log); err != nil {
		return 0, err
	}
	ps := int64(os.Getpagesize())
	want := (size + ps - 1) / ps
	total, err := growToUsable(fd, tmp, size, want, opt.Log)
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("fstat %q: %w", tmp, err)
	}
	if st.Size != total || st.Blocks*512 < total {
		return 0, fmt.Errorf("%q has %d bytes with %d allocated after preallocation, want %d fully allocated", tmp, st.Size, st.Blocks*512, total)
	}
	if err := runMkswap(opt.Mkswap, fd, tmp, opt.Label); err != nil {
		return 0, err
	}
	page := make([]byte, ps)
	n, err := unix.Pread(fd, page, 0)
	h := ParseHeader(page[:max(n, 0)], len(page))
	if err != nil || !h.Swap {
		return 0, fmt.Errorf("%q has no swap signature after mkswap (read: %v)", tmp, err)
	}
	// The header now bounds what the kernel takes: count again.
	got, _, err := usablePages(fd, total, int(ps), int64(h.LastPage)+1)
	if err != nil {
		return 0, fmt.Errorf("read the extents of %q: %w", tmp, err)
	}
	if got < want {
		return 0, fmt.Errorf("after mkswap, %q gives the kernel %d pages, fewer than the %d wanted", tmp, got, want)
	}
	if err := unix.Fsync(fd); err != nil {
		return 0, fmt.Errorf("fsync %q: %w", tmp, err)
	}
	closed = true
	if err := unix.Close(fd); err != nil {
		return 0, fmt.Errorf("close %q: %w", tmp, err)
	}
	flags := uint(unix.RENAME_NOREPLACE)
	if opt.Replace {
		flags = 0
	}
	if err := unix.Renameat2(dirfd, tmpName, dirfd, name, flags); err != nil {
		return 0, fmt.Errorf("rename %q to %q: %w", tmp, filepath.Join(dir.Host, name), err)
	}
	if err := dir.Sync(); err != nil {
		return 0, err
	}
	return total, nil
}

// growToUsable grows the file until its extents give the kernel want pages
// (ext4 with 1 KiB blocks loses some), failing closed after maxGrow rounds;
// it returns the final size.
func growToUsable(fd int, name string, size, want int64, log *priolog.Logger) (int64, error) {
	ps := int64(os.Getpagesize())
	for round := 0; ; round++ {
		got, _, err := usablePages(fd, size, int(ps), size/ps)
		if err != nil {
			return 0, fmt.Errorf("read the extents of %q (to count the pages the kernel will use): %w", name, err)
		}
		if got >= want {
			return size, nil
		}
		if round == maxGrow {
			return 0, fmt.Errorf("%q (%d bytes) gives the kernel only %d of the %d pages wanted, even after growing it %d times: its extents start or end off page boundaries on the device; use a filesystem with a block size of at least the page size (%d bytes)", name, size, got, want, maxGrow, ps)
		}
		grow := (want - got) * ps
		log.Infof("%q: its extents give the kernel %d of %d pages (extents off page boundaries on the device): growing it by %d bytes", name, got, want, grow)
		if err := allocate(fd, name, size, grow, log); err != nil {
			// Say why: "no space left on device" alone misleads here.
			return 0, fmt.Errorf("%q gives the kernel only %d of the %d pages wanted (its extents start or end off page boundaries on the device, as on a filesystem whose block size is below the page size of %d bytes), and growing it by %d bytes to make up for them failed: %w; free more space, or use a filesystem with a block size of at least the page size", name, got, want, ps, grow, err)
		}
		size += grow
	}
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

// allocate preallocates size bytes from off with fallocate, or writes
// zeros where the filesystem does not support it.
func allocate(fd int, name string, off, size int64, log *priolog.Logger) error {
	err := unix.Fallocate(fd, 0, off, size)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("fallocate %d bytes for %q: %w", size, name, err)
	}
	log.Noticef("fallocate is not supported for %q (%v): writing %d bytes of zeros instead", name, err, size)
	return zeroFill(fd, name, off, size, log)
}

// zeroChunk is the write size of zeroFill.
const zeroChunk = 1 << 20

func zeroFill(fd int, name string, off, size int64, log *priolog.Logger) error {
	buf := make([]byte, zeroChunk)
	var done int64
	nextReport := size / 10
	for done < size {
		n := int64(len(buf))
		if size-done < n {
			n = size - done
		}
		w, err := unix.Pwrite(fd, buf[:n], off+done)
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

// runMkswap runs mkswap on fd as its fd 3, named /proc/self/fd/3: that name
// opens fd's file whatever happens in the directory meanwhile. ForkExec,
// wait4 and a memfd for its output: os/exec's pidfd probe and output pipe
// cost more than mkswap's own start.
func runMkswap(mkswap string, fd int, name, label string) error {
	args := []string{mkswap}
	if label != "" {
		args = append(args, "-L", label)
	}
	args = append(args, "/proc/self/fd/3")
	failed := func(err error, out []byte) error {
		return fmt.Errorf("%s (on %q) failed: %w; output: %q", quoteArgs(args), name, err, bytes.TrimSpace(out))
	}
	out, err := unix.MemfdCreate("mkswap-output", unix.MFD_CLOEXEC)
	if err != nil {
		return failed(fmt.Errorf("memfd for its output: %w", err), nil)
	}
	defer unix.Close(out)
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return failed(fmt.Errorf("open /dev/null for its input: %w", err), nil)
	}
	defer unix.Close(null)
	pid, err := syscall.ForkExec(mkswap, args, &syscall.ProcAttr{
		Env:   append(os.Environ(), "LC_ALL=C"),
		Files: []uintptr{uintptr(null), uintptr(out), uintptr(out), uintptr(fd)},
	})
	if err != nil {
		return failed(fmt.Errorf("start: %w", err), nil)
	}
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return failed(fmt.Errorf("wait: %w", err), nil)
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	outb := make([]byte, 4096)
	n, _ := unix.Pread(out, outb, 0)
	if ws.Signaled() {
		return failed(fmt.Errorf("signal: %v", ws.Signal()), outb[:max(n, 0)])
	}
	return failed(fmt.Errorf("exit status %d", ws.ExitStatus()), outb[:max(n, 0)])
}
