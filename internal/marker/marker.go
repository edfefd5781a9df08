// Package marker writes, reads and clears the failure marker that keeps the
// RansomEye core from starting (/var/lock/ransomeye-resource-fail).
//
// /var/lock is normally a root-owned symlink to /run/lock, a world-writable
// sticky directory: anyone may plant a file or a symlink at the marker's
// name there. So the marker directory is resolved once (the system symlink
// /var/lock is followed only when root owns it), opened with
// O_DIRECTORY|O_NOFOLLOW, and every operation on the marker itself uses the
// *at system calls without following a symlink. A marker counts as genuine
// only when it is a regular file owned by root with a single link; anything
// else at its name is planted, and is removed rather than believed.
//
// When the marker cannot be written there (a read-only /var/lock), it is
// written to a root-only fallback directory, /run/ransomeye-tuner, which the
// gate checks as well, so that a failure still keeps the core down.
package marker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// RunLockDir is where /var/lock points on systemd distributions; it is used
// when /var/lock does not exist (yet).
const RunLockDir = "/run/lock"

// FallbackPath is where the marker goes when names.MarkerPath cannot be
// written. Its directory is created root-only (0700).
const FallbackPath = "/run/ransomeye-tuner/resource-fail"

// maxEntries bounds how many failures one marker file keeps: the first (the
// original cause) and the latest ones.
const maxEntries = 20

// maxRead bounds how much of an existing marker is read.
const maxRead = 64 << 10

// Entry is one recorded failure.
type Entry struct {
	Reason string
	Time   time.Time
	BootID string
	Source string // what wrote it: "activate", "fail-closed", ...
}

const header = "# ransomeye-tuner: ransomeye-core.service does not start while this file exists.\n" +
	"# Fix the cause below, then run: systemctl restart ransomeye-tuner.service\n" +
	"# (a successful run removes this file and records its success, which the\n" +
	"# core's gate also needs: removing this file by hand is not enough).\n"

// clean makes a value safe for one line of the marker: control characters
// (a newline in a reason could forge another entry) become spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Format renders entries as the marker's content.
func Format(entries []Entry) string {
	var b strings.Builder
	b.WriteString(header)
	for _, e := range entries {
		b.WriteString("\n")
		fmt.Fprintf(&b, "reason: %s\n", clean(e.Reason))
		fmt.Fprintf(&b, "time: %s\n", e.Time.UTC().Format(time.RFC3339))
		if e.BootID != "" {
			fmt.Fprintf(&b, "boot_id: %s\n", clean(e.BootID))
		}
		if e.Source != "" {
			fmt.Fprintf(&b, "source: %s\n", clean(e.Source))
		}
	}
	return b.String()
}

// Parse reads the entries back from a marker's content. Lines it does not
// know are ignored; text without any "reason:" line yields one entry whose
// reason is the whole text (a marker written by hand still says something).
func Parse(text string) []Entry {
	var out []Entry
	var cur *Entry
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch key {
		case "reason":
			out = append(out, Entry{Reason: val})
			cur = &out[len(out)-1]
		case "time":
			if cur != nil {
				cur.Time, _ = time.Parse(time.RFC3339, val)
			}
		case "boot_id":
			if cur != nil {
				cur.BootID = val
			}
		case "source":
			if cur != nil {
				cur.Source = val
			}
		}
	}
	if len(out) == 0 && strings.TrimSpace(text) != "" {
		out = append(out, Entry{Reason: clean(strings.TrimSpace(text))})
	}
	return out
}

// trim keeps the first entry and the latest ones, at most maxEntries.
func trim(entries []Entry) []Entry {
	if len(entries) <= maxEntries {
		return entries
	}
	return append([]Entry{entries[0]}, entries[len(entries)-maxEntries+1:]...)
}

// BootID returns the running boot's id from /proc/sys/kernel/random/boot_id
// under root, or "" when it cannot be read.
func BootID(root hostroot.Root) string {
	b, err := os.ReadFile(root.Path("/proc/sys/kernel/random/boot_id"))
	if err != nil {
		return ""
	}
	return clean(strings.TrimSpace(string(b)))
}

// location is one place a marker may be.
type location struct {
	host     string // host path of the marker
	fallback bool
}

func locations() []location {
	return []location{{host: names.MarkerPath}, {host: FallbackPath, fallback: true}}
}

// State is what sits at one marker location.
type State struct {
	Path    string  // host path
	Present bool    // something is at the name
	Genuine bool    // a regular file owned by root with one link
	Planted string  // when present and not genuine: what it is
	Entries []Entry // the genuine marker's entries
	Err     error   // the location could not be examined
}

// Reasons joins the genuine entries' reasons.
func (s State) Reasons() []string {
	var r []string
	for _, e := range s.Entries {
		r = append(r, e.Reason)
	}
	return r
}

// dir is an open marker directory.
type dir struct {
	fd   int
	path string // the resolved path under the root, for messages
}

func (d dir) close() { unix.Close(d.fd) }

// openDir resolves and opens the directory of a marker location. With
// create, a missing directory is made (root-only for the fallback, 0755 for
// the lock directory, as systemd-tmpfiles does) and the directory must keep
// others from removing the marker (root-owned; sticky when world-writable).
func openDir(root hostroot.Root, loc location, create bool) (dir, error) {
	hostDir := filepath.Dir(loc.host)
	p := root.Path(hostDir)
	if !loc.fallback {
		resolved, err := resolveLockDir(root, hostDir)
		if err != nil {
			return dir{}, err
		}
		p = resolved
	}
	perm := os.FileMode(0o755)
	if loc.fallback {
		perm = 0o700
	}
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) && create {
		if mkErr := os.MkdirAll(p, perm); mkErr != nil {
			return dir{}, fmt.Errorf("create marker directory %q: %w", p, mkErr)
		}
		fd, err = unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return dir{}, fmt.Errorf("marker directory %q is not a directory (a symlink?): refusing to follow it", p)
		}
		return dir{}, fmt.Errorf("open marker directory %q: %w", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return dir{}, fmt.Errorf("fstat marker directory %q: %w", p, err)
	}
	if st.Uid != 0 && create {
		unix.Close(fd)
		return dir{}, fmt.Errorf("marker directory %q is owned by uid %d, not root: refusing it (anyone owning it could remove the marker)", p, st.Uid)
	}
	if st.Mode&0o002 != 0 && st.Mode&unix.S_ISVTX == 0 && create {
		unix.Close(fd)
		return dir{}, fmt.Errorf("marker directory %q is world-writable without the sticky bit: anyone could remove the marker; run chmod +t %q", p, p)
	}
	return dir{fd: fd, path: p}, nil
}

// resolveLockDir maps /var/lock to a path under the root, following it when
// it is a symlink owned by root (normally to /run/lock or ../run/lock).
func resolveLockDir(root hostroot.Root, hostDir string) (string, error) {
	p := root.Path(hostDir)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			// Why: early in the boot /var may not be mounted yet, or
			// systemd-tmpfiles has not made the /var/lock -> ../run/lock
			// link; a directory made here would be hidden by the /var
			// mount (the marker lost: fail-open). /run/lock is where
			// /var/lock points on every systemd distribution.
			return root.Path(RunLockDir), nil
		}
		return "", fmt.Errorf("lstat %q: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return p, nil
	}
	if st.Uid != 0 {
		return "", fmt.Errorf("%q is a symlink owned by uid %d, not root: refusing to follow it", p, st.Uid)
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", fmt.Errorf("read symlink %q: %w", p, err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(hostDir), target)
	}
	return root.Path(filepath.Clean(target)), nil
}

// examine looks at name in d without following it. It returns the state and,
// for a genuine marker, its entries.
func examine(d dir, name, host string) State {
	s := State{Path: host}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if !errors.Is(err, unix.ENOENT) {
			s.Err = fmt.Errorf("stat marker %q: %w", host, err)
		}
		return s
	}
	s.Present = true
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		s.Planted = "a symbolic link"
		return s
	case st.Uid != 0:
		s.Planted = fmt.Sprintf("owned by uid %d, not root", st.Uid)
		return s
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		// Only root can have put it there: it keeps the core down, as a
		// marker does, but says what it is.
		s.Genuine = true
		s.Entries = []Entry{{Reason: fmt.Sprintf("%q is not a regular file (mode %o): remove it by hand", host, st.Mode)}}
		return s
	case st.Nlink != 1:
		s.Planted = fmt.Sprintf("a hard link (%d links) to another file", st.Nlink)
		return s
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		s.Genuine = true
		s.Entries = []Entry{{Reason: fmt.Sprintf("marker %q cannot be read: %v", host, err)}}
		return s
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil || st.Uid != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		s.Planted = "replaced while being read"
		return s
	}
	buf := make([]byte, maxRead)
	n, _ := unix.Pread(fd, buf, 0)
	s.Genuine = true
	s.Entries = Parse(string(buf[:max(n, 0)]))
	if len(s.Entries) == 0 {
		s.Entries = []Entry{{Reason: "empty marker file (no reason recorded)"}}
	}
	return s
}

// Inspect reports what sits at every marker location, changing nothing.
func Inspect(root hostroot.Root) []State {
	var out []State
	for _, loc := range locations() {
		d, err := openDir(root, loc, false)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				out = append(out, State{Path: loc.host})
				continue
			}
			out = append(out, State{Path: loc.host, Err: err})
			continue
		}
		out = append(out, examine(d, filepath.Base(loc.host), loc.host))
		d.close()
	}
	return out
}

// Result tells what Write, Gate or Clear did.
type Result struct {
	// Written is the host path the marker was written to.
	Written string
	// Removed lists host paths of genuine markers removed.
	Removed []string
	// Planted lists what was found planted and removed (for an ALERT).
	Planted []string
	// Problems lists locations that could not be handled.
	Problems []error
}

// Write records e in the marker, keeping the reasons of a genuine marker
// already there. It writes a temporary file in the marker's directory,
// fsyncs it and renames it over the name (replacing, never following, a
// planted symlink), then fsyncs the directory. When the main location
// fails, the fallback is used; an error means neither could be written.
func Write(root hostroot.Root, e Entry) (Result, error) {
	var res Result
	for _, loc := range locations() {
		err := writeAt(root, loc, e, &res)
		if err == nil {
			res.Written = loc.host
			return res, nil
		}
		res.Problems = append(res.Problems, err)
	}
	return res, errors.Join(res.Problems...)
}

func writeAt(root hostroot.Root, loc location, e Entry, res *Result) error {
	d, err := openDir(root, loc, true)
	if err != nil {
		return err
	}
	defer d.close()
	name := filepath.Base(loc.host)
	st := examine(d, name, loc.host)
	var entries []Entry
	if st.Genuine {
		entries = st.Entries
	} else if st.Present {
		res.Planted = append(res.Planted, fmt.Sprintf("%s (%s)", loc.host, st.Planted))
	}
	entries = trim(append(entries, e))
	content := []byte(Format(entries))

	tmp, fd, err := createTemp(d, name)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			unix.Unlinkat(d.fd, tmp, 0)
		}
	}()
	_, werr := unix.Write(fd, content)
	if werr == nil {
		werr = unix.Fsync(fd)
	}
	cerr := unix.Close(fd)
	if werr != nil || cerr != nil {
		return fmt.Errorf("write marker %q in %q: %w", tmp, d.path, errors.Join(werr, cerr))
	}
	if err := unix.Renameat(d.fd, tmp, d.fd, name); err != nil {
		if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("rename marker into place in %q: %w", d.path, err)
		}
		// A directory planted at the name: move it aside, then retry.
		aside := "." + name + ".planted." + randomSuffix()
		if err2 := unix.Renameat(d.fd, name, d.fd, aside); err2 != nil {
			return fmt.Errorf("rename marker into place in %q: %w (moving the directory at its name aside failed: %v)", d.path, err, err2)
		}
		if err := unix.Renameat(d.fd, tmp, d.fd, name); err != nil {
			return fmt.Errorf("rename marker into place in %q: %w", d.path, err)
		}
	}
	ok = true
	if err := unix.Fsync(d.fd); err != nil {
		return fmt.Errorf("fsync marker directory %q: %w", d.path, err)
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createTemp makes a new temporary file in d next to name, retrying with a
// new random suffix when a planted entry takes the name.
func createTemp(d dir, name string) (string, int, error) {
	var last error
	for range 8 {
		tmp := "." + name + ".tmp." + randomSuffix()
		fd, err := unix.Openat(d.fd, tmp, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err == nil {
			if err := unix.Fchmod(fd, 0o644); err != nil {
				unix.Close(fd)
				unix.Unlinkat(d.fd, tmp, 0)
				return "", -1, fmt.Errorf("chmod temporary marker in %q: %w", d.path, err)
			}
			return tmp, fd, nil
		}
		last = err
		if !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	return "", -1, fmt.Errorf("create a temporary marker in %q: %w", d.path, last)
}

// removeAt removes the entry at name in d without following it; a directory
// that cannot be removed is moved aside (in a sticky directory root may).
func removeAt(d dir, name string) error {
	err := unix.Unlinkat(d.fd, name, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(d.fd, name, unix.AT_REMOVEDIR)
		if err != nil {
			err = unix.Renameat(d.fd, name, d.fd, "."+name+".planted."+randomSuffix())
		}
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %q in %q: %w", name, d.path, err)
	}
	return nil
}

// Gate decides whether the core may start: blocked when a genuine marker is
// at any location, with the states to print. Planted entries are removed
// and listed in the result, for an ALERT. A location that cannot be
// examined (other than a missing directory) blocks as well: fail closed.
func Gate(root hostroot.Root) (blocked bool, states []State, res Result) {
	for _, loc := range locations() {
		d, err := openDir(root, loc, false)
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				res.Problems = append(res.Problems, err)
				states = append(states, State{Path: loc.host, Err: err})
				blocked = true
			}
			continue
		}
		name := filepath.Base(loc.host)
		st := examine(d, name, loc.host)
		if st.Present && !st.Genuine {
			if err := removeAt(d, name); err != nil {
				res.Problems = append(res.Problems, err)
			} else {
				res.Planted = append(res.Planted, fmt.Sprintf("%s (%s)", loc.host, st.Planted))
			}
		}
		if st.Err != nil {
			res.Problems = append(res.Problems, st.Err)
			blocked = true
		}
		if st.Genuine {
			blocked = true
		}
		states = append(states, st)
		d.close()
	}
	return blocked, states, res
}

// Clear removes the marker at every location (a planted one too, reported
// as such). It is what a successful activation does.
func Clear(root hostroot.Root) (Result, error) {
	var res Result
	for _, loc := range locations() {
		d, err := openDir(root, loc, false)
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				res.Problems = append(res.Problems, err)
			}
			continue
		}
		name := filepath.Base(loc.host)
		st := examine(d, name, loc.host)
		if st.Present {
			if err := removeAt(d, name); err != nil {
				res.Problems = append(res.Problems, err)
			} else if st.Genuine {
				res.Removed = append(res.Removed, loc.host)
			} else {
				res.Planted = append(res.Planted, fmt.Sprintf("%s (%s)", loc.host, st.Planted))
			}
			if err := unix.Fsync(d.fd); err != nil {
				res.Problems = append(res.Problems, fmt.Errorf("fsync marker directory %q: %w", d.path, err))
			}
		}
		d.close()
	}
	return res, errors.Join(res.Problems...)
}
