// Package statedir keeps, in /var/lib/ransomeye-tuner, what the package's
// removal must still know: every swapfile activate made (a purge removes
// them, also those at an earlier Path=) and each sysctl's value before
// activate first set it. Records are text, one entry a line, '#' comments:
// the maintainer scripts read them with sh after the binary is gone.
// /var/lib is never created: before a separate /var mounts, a record made
// under the mount point would be hidden (ErrNotNow; a later run writes it).
package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/mounts"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// Dir is the directory of the records.
const Dir = "/var/lib/ransomeye-tuner"

// Record names, files in Dir.
const (
	// Swapfiles lists every swapfile activate made or kept labelled as
	// its own, by resolved host path.
	Swapfiles = "swapfiles"
	// SysctlsBefore holds "key=value": each sysctl before activate first
	// set it.
	SysctlsBefore = "sysctl-before"
)

// ErrNotNow wraps why a record cannot be written yet (/var/lib not there,
// or not mounted).
var ErrNotNow = errors.New("the record cannot be written now")

// maxRecord bounds what is read of a record.
const maxRecord = 1 << 20

// open opens Dir, creating Dir (never its parents) with create.
func open(root hostroot.Root, create bool) (*safefs.Dir, error) {
	if err := mounts.Check(root, Dir); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotNow, err)
	}
	parent, err := safefs.OpenDir(root, path.Dir(Dir), safefs.Options{RootOnly: true, PathOnly: true})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNotNow, err)
	}
	if err != nil {
		return nil, fmt.Errorf("record in %q: %w", Dir, err)
	}
	parent.Close()
	opt := safefs.Options{RootOnly: true}
	if create {
		opt.Create = 0o755
	}
	d, err := safefs.OpenDir(root, Dir, opt)
	if err != nil {
		return nil, fmt.Errorf("record in %q: %w", Dir, err)
	}
	return d, nil
}

// Read returns the record's lines without blanks and comments (nothing for
// a missing record).
func Read(root hostroot.Root, name string) ([]string, error) {
	b, err := readfile.Regular(root.Path(path.Join(Dir, name)), maxRecord)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the record %q: %w", path.Join(Dir, name), err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// Write replaces the record atomically with header (as "# " lines) and
// entries; a control character in an entry is refused (one a line).
func Write(root hostroot.Root, name, header string, entries []string) error {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(header, "\n"), "\n") {
		b.WriteString("# " + l + "\n")
	}
	for _, e := range entries {
		if strings.IndexFunc(e, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return fmt.Errorf("record %q: %q holds a control character: not recorded", path.Join(Dir, name), e)
		}
		b.WriteString(e + "\n")
	}
	d, err := open(root, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.WriteFile(name, []byte(b.String()), 0o644, safefs.WriteOptions{}); err != nil {
		return fmt.Errorf("write the record %q: %w", path.Join(Dir, name), err)
	}
	return nil
}

// Remove removes the record name; one that is not there is no error.
func Remove(root hostroot.Root, name string) error {
	if _, err := os.Lstat(root.Path(path.Join(Dir, name))); errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	d, err := open(root, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Unlinkat(d.Fd(), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove the record %q: %w", path.Join(Dir, name), err)
	}
	return nil
}

// swapfilesHeader says what the swapfile record is.
const swapfilesHeader = `Swapfiles ransomeye-tuner made or kept as its own (labelled ransomeye-swap),
one resolved host path a line. A purge of the package turns off and removes
each one still there that is still its own; written by ransomeye-tuner.`

// AddSwapfile adds a resolved host path to Swapfiles; added is false when
// it was there.
func AddSwapfile(root hostroot.Root, hostPath string) (added bool, err error) {
	if !path.IsAbs(hostPath) || path.Clean(hostPath) != hostPath {
		return false, fmt.Errorf("record the swapfile %q: not an absolute, clean path", hostPath)
	}
	have, err := Read(root, Swapfiles)
	if err != nil {
		return false, err
	}
	if slices.Contains(have, hostPath) {
		return false, nil
	}
	if err := Write(root, Swapfiles, swapfilesHeader, append(have, hostPath)); err != nil {
		return false, err
	}
	return true, nil
}
