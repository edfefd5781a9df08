// Package statedir keeps what the tuner must still know when its package
// is removed, in /var/lib/ransomeye-tuner (root's, closed to other users):
// every swapfile activate made or kept as its own, so that a purge removes
// each of them, also those at an earlier [Swap] Path=; and the value of each
// sysctl before activate first set it, so that removal can give it back.
//
// A record is a small text file, one entry a line, lines starting with '#'
// ignored: the package's maintainer scripts read the swapfile record with
// sh (scripts/maint/common.sh), after the binary is gone.
//
// Why /var/lib is never created: activate runs early at boot, before /var
// is mounted when /var is a filesystem of its own; creating
// /var/lib/ransomeye-tuner then would write under the empty mount point,
// where the record is hidden once /var is mounted. Such a run writes no
// record (ErrNotNow); a later run, or the package's prerm, does.
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
	// Swapfiles lists the host path of every swapfile activate made or
	// kept labelled as its own, resolved (no link on the way), one a line.
	Swapfiles = "swapfiles"
	// SysctlsBefore holds "key=value" lines: each sysctl's value before
	// activate first set it on this machine.
	SysctlsBefore = "sysctl-before"
)

// ErrNotNow wraps the reason a record cannot be written at this time:
// /var/lib is not there, or the filesystem that should hold it is not
// mounted yet.
var ErrNotNow = errors.New("the record cannot be written now")

// maxRecord bounds what is read of a record.
const maxRecord = 1 << 20

// open opens Dir for writing, creating Dir (never its parents) when
// create is set.
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

// Read returns the entries of the record name: its lines, without blank
// and comment lines. A record (or Dir) that does not exist is empty.
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

// Write replaces the record name with header (comment lines, each
// starting with "# ") and entries, atomically. An entry holding a newline
// or another control character is refused: the scripts read one a line.
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

// swapfilesHeader says what the swapfile record is, for whoever reads it.
const swapfilesHeader = `Swapfiles ransomeye-tuner made or kept as its own (labelled ransomeye-swap),
one resolved host path a line. A purge of the package turns off and removes
each one still there that is still its own; written by ransomeye-tuner.`

// AddSwapfile adds the host path of a swapfile (resolved: no link on the
// way) to the Swapfiles record; added is false when it was there already.
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
