// Package mounts tells whether the filesystem meant to hold a path is
// mounted (fstab and mount units against mountinfo): with its data disk
// missing, /ransomeye is a directory on the root filesystem, and a swapfile
// made there is on the wrong disk and hidden once the disk mounts.
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
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// Bounds of what is read (mountinfo: some 200,000 mounts); a larger file is
// an error, and Check fails closed rather than skip the data-disk check.
const (
	maxFstab     = 4 << 20
	maxMountinfo = 32 << 20
)

// FstabMountFor returns the longest fstab mount point, other than "/" and
// swap, that is dir or a parent of it; ok is false when there is none.
func FstabMountFor(root hostroot.Root, dir string) (mountPoint string, ok bool, err error) {
	b, err := readfile.Regular(root.Path("/etc/fstab"), maxFstab)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %q: %w", "/etc/fstab", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := procfs.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[2] == "swap" {
			continue
		}
		mp := filepath.Clean(procfs.Unescape(f[1]))
		if !filepath.IsAbs(mp) || mp == "/" {
			continue
		}
		if (dir == mp || strings.HasPrefix(dir, mp+"/")) && len(mp) > len(mountPoint) {
			mountPoint, ok = mp, true
		}
	}
	return mountPoint, ok, nil
}

// SwapLine returns the path of fstab's swap line for the file at swapPath:
// that path, else one leading to the same file through root's links. Such a
// line's unit is the swap unit: a second unit for the same file fails its
// swapon (EBUSY) and its OnFailure= keeps the core down.
func SwapLine(root hostroot.Root, fstab []byte, swapPath string) (string, bool) {
	var lines []string
	for _, line := range strings.Split(string(fstab), "\n") {
		f := procfs.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[2] != "swap" {
			continue
		}
		if what := procfs.Unescape(f[0]); filepath.IsAbs(what) {
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

// resolvedPath is p with root's links in its directory followed.
func resolvedPath(root hostroot.Root, p string) string {
	dir, err := safefs.Resolve(root, filepath.Dir(p))
	if err != nil {
		return p
	}
	return filepath.Join(dir, filepath.Base(p))
}

// Mounted reports whether mountPoint is mounted now. An error wrapping
// fs.ErrNotExist means no mountinfo (a fake root); any other error is
// neither answer.
func Mounted(root hostroot.Root, mountPoint string) (bool, error) {
	b, err := readfile.Regular(root.Path("/proc/self/mountinfo"), maxMountinfo)
	if err != nil {
		return false, fmt.Errorf("read %q: %w", "/proc/self/mountinfo", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, " ")
		if len(f) > 4 && procfs.Unescape(f[4]) == mountPoint {
			return true, nil
		}
	}
	return false, nil
}

// UnitDirs are where systemd loads unit files from, the first holding a
// name winning.
var UnitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// UnitMountsFor returns the mount points among dir and its parents (not
// "/") that an unmasked native mount unit in UnitDirs describes, deepest
// first, with the unit files: a mount unit's name is its Where=.
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

// Check returns an error naming the mount point and the remedy when fstab
// or a mount unit puts dir on a filesystem not mounted now, or when that
// cannot be told (fail closed); nil on a root without mountinfo.
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
