// Package marker writes, reads and clears the failure marker that keeps the
// core from starting. Its directory, /var/lock -> /run/lock, is world-
// writable and sticky, so it is resolved through safefs and the marker
// reached only with *at calls that follow no link: a genuine marker is a
// regular file of root's with one link; anything else at the name is
// planted, and removed rather than believed. Where it cannot be written,
// the fallback in rundir.Path, which only root can write and the gate
// checks too, keeps the core down.
package marker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/rundir"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// RunLockDir is where /var/lock points; used while /var/lock is missing.
const RunLockDir = "/run/lock"

// FallbackPath is the marker when names.MarkerPath cannot be written.
const FallbackPath = rundir.Path + "/resource-fail"

// maxEntries bounds the failures one marker keeps: the first (the cause)
// and the latest.
const maxEntries = 20

// maxRead bounds how much of an existing marker is read.
const maxRead = 64 << 10

// Entry is one recorded failure.
type Entry struct {
	Reason string
	Time   time.Time
	BootID string
	Source string // what wrote it: "activate", "fail-closed", ...
	// Core is the unit the marker keeps down ([CPU] CoreService=); the
	// header names the newest entry's.
	Core string
	// Step is the step of activate that failed (one of the Step
	// constants; "" for other sources): what it did not get to, it did
	// not change.
	Step string
}

// The steps of activate, in order, as an Entry records where it stopped.
const (
	StepConfig  = "configuration"
	StepSwap    = "swap"
	StepSysctls = "sysctls"
	StepMemory  = "core-memory"
	StepCPU     = "cpu"
	StepRecords = "records"
)

// Before reports whether activate stopped at step before it reached
// StepSysctls: the sysctls were not set.
func Before(step, of string) bool {
	order := []string{StepConfig, StepSwap, StepSysctls, StepMemory, StepCPU, StepRecords}
	i, j := slices.Index(order, step), slices.Index(order, of)
	return i >= 0 && j >= 0 && i < j
}

// header is the marker's first lines: what it keeps down and the one
// command that clears it once the cause is fixed.
func header(core string) string {
	if core == "" {
		core = names.CoreService
	}
	return "# ransomeye-tuner: " + clean(core) + " does not start while this file exists.\n" +
		"# Fix the cause below, then run: " + names.RecoverCommand + "\n" +
		"# (it activates again, which removes this file and records the success the\n" +
		"# core's gate also needs, and starts the core: removing this file by hand is\n" +
		"# not enough).\n"
}

// clean makes a value one marker line: a newline could forge an entry.
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
	core := ""
	if len(entries) > 0 {
		core = entries[len(entries)-1].Core
	}
	b.WriteString(header(core))
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
		if e.Core != "" {
			fmt.Fprintf(&b, "core: %s\n", clean(e.Core))
		}
		if e.Step != "" {
			fmt.Fprintf(&b, "step: %s\n", clean(e.Step))
		}
	}
	return b.String()
}

// Parse reads the entries back; text without a "reason:" line (a marker
// written by hand) is one entry of the whole text.
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
		case "core":
			if cur != nil {
				cur.Core = val
			}
		case "step":
			if cur != nil {
				cur.Step = val
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

// BootID returns the running boot's id, "" when it cannot be read.
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

// openDir opens a marker location's directory through safefs (the system's
// root-made /var/lock link followed, another user's never; the fallback's
// by rundir.Open). A missing /var/lock means /run/lock: early in the boot a
// directory made under an unmounted /var would hide the marker once it
// mounts. With create, a missing lock directory is made 0755, and the
// directory must keep others from removing the marker. Missing without
// create: an error wrapping fs.ErrNotExist.
func openDir(root hostroot.Root, loc location, create bool) (*safefs.Dir, error) {
	var opt safefs.Options
	if create {
		opt.Create = 0o755
	}
	var d *safefs.Dir
	var err error
	if loc.fallback {
		d, err = rundir.Open(root, create)
	} else {
		d, err = safefs.OpenDir(root, filepath.Dir(loc.host), safefs.Options{})
		if errors.Is(err, fs.ErrNotExist) {
			d, err = safefs.OpenDir(root, RunLockDir, opt)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("marker directory: %w", err)
	}
	fail := func(format string, a ...any) (*safefs.Dir, error) {
		d.Close()
		return nil, fmt.Errorf(format, a...)
	}
	var st unix.Stat_t
	switch err := unix.Fstat(d.Fd(), &st); {
	case err != nil:
		return fail("fstat marker directory %q: %w", d.Path, err)
	case st.Uid != 0 && create:
		return fail("marker directory %q is owned by uid %d, not root: refusing it (anyone owning it could remove the marker)", d.Path, st.Uid)
	case st.Mode&0o002 != 0 && st.Mode&unix.S_ISVTX == 0 && create:
		return fail("marker directory %q is world-writable without the sticky bit: anyone could remove the marker; run chmod +t %q", d.Path, d.Path)
	}
	return d, nil
}

// examine looks at name in d without following it.
func examine(d *safefs.Dir, name, host string) State {
	s := State{Path: host}
	var st unix.Stat_t
	if err := unix.Fstatat(d.Fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
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
		// Only root can have put it there: it keeps the core down.
		s.Genuine = true
		s.Entries = []Entry{{Reason: fmt.Sprintf("%q is not a regular file (mode %o): remove it by hand", host, st.Mode)}}
		return s
	case st.Nlink != 1:
		s.Planted = fmt.Sprintf("a hard link (%d links) to another file", st.Nlink)
		return s
	}
	fd, err := unix.Openat(d.Fd(), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
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
func Inspect(root hostroot.Root) []State { return visit(root, nil) }

// visit examines every location, calling act (if any) on what is there; a
// location that cannot be examined is a State with its Err.
func visit(root hostroot.Root, act func(d *safefs.Dir, name string, st State)) []State {
	var out []State
	for _, loc := range locations() {
		d, err := openDir(root, loc, false)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			out = append(out, State{Path: loc.host, Err: err})
			continue
		}
		name := filepath.Base(loc.host)
		st := examine(d, name, loc.host)
		if act != nil {
			act(d, name, st)
		}
		d.Close()
		out = append(out, st)
	}
	return out
}

// Result tells what Write, RemovePlanted or Clear did.
type Result struct {
	// Written is where the marker went; Removed the genuine markers
	// removed; Planted what was planted and removed (for an ALERT);
	// Problems the locations that could not be handled.
	Written  string
	Removed  []string
	Planted  []string
	Problems []error
}

// Write adds e to the marker (keeping a genuine marker's entries) with
// safefs's atomic replace, which never follows what is planted; the
// fallback when the main location fails. An error: neither was written.
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
	defer d.Close()
	name := filepath.Base(loc.host)
	st := examine(d, name, loc.host)
	var entries []Entry
	if st.Genuine {
		entries = st.Entries
	} else if st.Present {
		res.Planted = append(res.Planted, fmt.Sprintf("%s (%s)", loc.host, st.Planted))
	}
	entries = trim(append(entries, e))
	// A directory planted at the name is moved aside: the marker must be.
	return d.WriteFile(name, []byte(Format(entries)), 0o644, safefs.WriteOptions{MoveAsideDir: true})
}

// removeAt removes name in d without following it; a directory that cannot
// be removed is moved aside.
func removeAt(d *safefs.Dir, name string) error {
	err := unix.Unlinkat(d.Fd(), name, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(d.Fd(), name, unix.AT_REMOVEDIR)
		if err != nil {
			_, err = d.MoveAside(name)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %q in %q: %w", name, d.Path, err)
	}
	return nil
}

// RemovePlanted removes, unfollowed, what is planted at every location and
// lists it for an ALERT: the gate's first step, so that something planted
// in /run/lock keeps no core down. What cannot be examined is a problem.
func RemovePlanted(root hostroot.Root) Result {
	var res Result
	res.remove(root, func(st State) bool { return !st.Genuine })
	return res
}

// Clear removes the marker at every location (a planted one reported as
// such): a successful activation's step.
func Clear(root hostroot.Root) (Result, error) {
	var res Result
	res.remove(root, func(State) bool { return true })
	return res, errors.Join(res.Problems...)
}

// remove removes what which selects at every location, recording in res
// what it did and could not.
func (res *Result) remove(root hostroot.Root, which func(State) bool) {
	states := visit(root, func(d *safefs.Dir, name string, st State) {
		if !st.Present || !which(st) {
			return
		}
		switch err := removeAt(d, name); {
		case err != nil:
			res.Problems = append(res.Problems, err)
		case st.Genuine:
			res.Removed = append(res.Removed, st.Path)
		default:
			res.Planted = append(res.Planted, fmt.Sprintf("%s (%s)", st.Path, st.Planted))
		}
		if err := unix.Fsync(d.Fd()); err != nil {
			res.Problems = append(res.Problems, fmt.Errorf("fsync marker directory %q: %w", d.Path, err))
		}
	})
	for _, st := range states {
		if st.Err != nil {
			res.Problems = append(res.Problems, st.Err)
		}
	}
}
