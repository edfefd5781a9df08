// Package mounts tells whether the filesystem meant to hold a path is
// mounted: /etc/fstab and native mount units say where a filesystem should
// be, and
// /proc/self/mountinfo what is mounted now, both under the root prefix.
//
// Why: with its data disk missing, /ransomeye is an empty directory on the
// root filesystem. Run by hand then, activate would create the swapfile
// there, on the wrong disk, hidden once the disk is mounted; and status
// reported the root filesystem's free space as the reason (seen in the boot
// suite's case 10).
package mounts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// maxFstab bounds what is read of /etc/fstab, and maxMountinfo of
// /proc/self/mountinfo (about 150 bytes a mount: some 200,000 mounts, ten
// times what a busy container host shows). A larger file is an error, and
// Check then fails closed. Why: past the old 4 MiB bound for both, Check
// took the read error for "cannot tell" and skipped the data-disk check.
const (
	maxFstab     = 4 << 20
	maxMountinfo = 32 << 20
)

// FstabMountFor returns the mount point in /etc/fstab that holds dir: the
// longest one that is dir or one of its parents, other than "/" (always
// mounted) and swap entries. ok is false when fstab names none.
func FstabMountFor(root hostroot.Root, dir string) (mountPoint string, ok bool, err error) {
	b, err := readfile.Regular(root.Path("/etc/fstab"), maxFstab)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %q: %w", "/etc/fstab", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := blankFields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[2] == "swap" {
			continue
		}
		mp := filepath.Clean(Unescape(f[1]))
		if !filepath.IsAbs(mp) || mp == "/" {
			continue
		}
		if (dir == mp || strings.HasPrefix(dir, mp+"/")) && len(mp) > len(mountPoint) {
			mountPoint, ok = mp, true
		}
	}
	return mountPoint, ok, nil
}

// SwapLine returns the path of the swap line of fstab (the contents of
// /etc/fstab) that names the file at swapPath: that path, or another that
// leads to the same file once root's links in its directory are followed
// (safefs.Resolve), as /data/ransomeye/swap does for /ransomeye/swap with
// /ransomeye -> /data/ransomeye. A line naming swapPath itself wins. ok is
// false when there is none.
//
// Resolved: systemd-fstab-generator makes a swap unit named after the
// line's path; a second one for the same file (ours, named after the
// configured path) would fail its swapon with EBUSY once the other had run
// (the kernel refuses a second swapon of an active file), and its
// OnFailure= would keep the core down.
func SwapLine(root hostroot.Root, fstab []byte, swapPath string) (string, bool) {
	var lines []string
	for _, line := range strings.Split(string(fstab), "\n") {
		f := blankFields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[2] != "swap" {
			continue
		}
		if what := Unescape(f[0]); filepath.IsAbs(what) {
			what = filepath.Clean(what)
			if what == swapPath {
				return what, true
			}
			lines = append(lines, what)
		}
	}
	want := resolvedPath(root, swapPath)
	for _, what := range lines {
		if resolvedPath(root, what) == want {
			return what, true
		}
	}
	return "", false
}

// resolvedPath is p with root's links in its directory followed, or p when
// they cannot be.
func resolvedPath(root hostroot.Root, p string) string {
	dir, err := safefs.Resolve(root, filepath.Dir(p))
	if err != nil {
		return p
	}
	return filepath.Join(dir, filepath.Base(p))
}

// Mounted reports whether mountPoint is a mount point now, from
// /proc/self/mountinfo. An error wrapping fs.ErrNotExist means there is no
// mountinfo (a fake root without it): the caller cannot tell. Any other
// error (unreadable, larger than the bound) must not be taken as either
// answer.
func Mounted(root hostroot.Root, mountPoint string) (bool, error) {
	b, err := readfile.Regular(root.Path("/proc/self/mountinfo"), maxMountinfo)
	if err != nil {
		return false, fmt.Errorf("read %q: %w", "/proc/self/mountinfo", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, " ")
		if len(f) > 4 && Unescape(f[4]) == mountPoint {
			return true, nil
		}
	}
	return false, nil
}

// UnitDirs are the directories systemd loads an administrator's or a
// package's unit files from (the persistent and runtime ones; generated
// units come from /etc/fstab, read above), the first one holding a name
// winning.
var UnitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// UnitMountsFor returns the mount points among dir and its parents, other
// than "/", that a native mount unit describes: "<escaped path>.mount"
// (names.MountUnitName) in UnitDirs, not masked (a link to /dev/null or an
// empty file); deepest first, each with the unit file's host path.
// systemd requires a mount unit's name to be its Where=, so the name says
// where it mounts.
func UnitMountsFor(root hostroot.Root, dir string) (mountPoints, files []string, err error) {
	for mp := dir; mp != "/" && mp != "." && mp != ""; mp = filepath.Dir(mp) {
		name := names.MountUnitName(mp)
		for _, ud := range UnitDirs {
			f := filepath.Join(ud, name)
			fi, err := os.Lstat(root.Path(f))
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("look for the mount unit %q: %w", f, err)
			}
			masked := fi.Mode().IsRegular() && fi.Size() == 0
			if fi.Mode()&fs.ModeSymlink != 0 {
				t, err := os.Readlink(root.Path(f))
				masked = err == nil && t == "/dev/null"
			}
			if !masked {
				mountPoints, files = append(mountPoints, mp), append(files, f)
			}
			break // the first directory holding the name wins, a mask too
		}
	}
	return mountPoints, files, nil
}

// Check returns an error naming the mount point and the remedy when
// /etc/fstab, or a native mount unit (UnitMountsFor), puts dir on a
// filesystem that is not mounted now, or when they or mountinfo cannot be
// read to tell (fail closed); nil when it is mounted, when neither names
// one, and on a root that has no mountinfo at all (a fake root). Why the
// mount units: a data disk described by /etc/systemd/system/data.mount, not
// mounted, let a hand-run activate create the swapfile on the root
// filesystem underneath.
func Check(root hostroot.Root, dir string) error {
	mp, ok, err := FstabMountFor(root, dir)
	if err != nil {
		return fmt.Errorf("cannot tell which filesystem should hold %q: %w; nothing is created until it can be told", dir, err)
	}
	if ok {
		if err := checkMounted(root, dir, mp, "in /etc/fstab"); err != nil {
			return err
		}
	}
	mps, files, err := UnitMountsFor(root, dir)
	if err != nil {
		return fmt.Errorf("cannot tell which filesystem should hold %q: %w; nothing is created until it can be told", dir, err)
	}
	for i, mp := range mps {
		if err := checkMounted(root, dir, mp, "the mount unit "+files[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkMounted is Check for one mount point mp, which source describes.
func checkMounted(root hostroot.Root, dir, mp, source string) error {
	mounted, err := Mounted(root, mp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot tell whether the filesystem for %q (%q %s) is mounted: %w; nothing is created until it can be told", dir, mp, source, err)
	case !mounted:
		return fmt.Errorf("the filesystem for %q (%q %s) is not mounted: is its disk there? (systemctl status %s); nothing is created on the filesystem underneath", dir, mp, source, names.MountUnitName(mp))
	}
	return nil
}

// blankFields splits on spaces and tabs only, as libmount does.
func blankFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

// Unescape undoes the \ooo escaping fstab and mountinfo use (\040 for a
// space).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
