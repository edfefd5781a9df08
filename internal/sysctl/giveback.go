package sysctl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/statedir"
)

// ShippedFile is the package's sysctl.d file with the default values.
const ShippedFile = "/usr/lib/sysctl.d/" + FileName

// RunFile is the file activate writes with the configured values.
const RunFile = RunDir + "/" + FileName

// ours reports whether a file that sysctl --system applies is one of the
// package's: the shipped file or activate's.
func ours(f string) bool { return f == ShippedFile || f == RunFile }

// beforeHeader says what the record of earlier values is.
const beforeHeader = `The value of each sysctl before ransomeye-tuner activate first set it on this
machine (key=value), given back at the package's removal when no remaining
sysctl.d file sets the key; written by ransomeye-tuner.`

// RecordBefore notes found as key's value before activate sets it, the
// first time only: nothing is written when the record already holds key,
// or when found is the package's own value (the file sysctl --system
// applies last for key is the shipped one or activate's, and gives found:
// at boot systemd-sysctl applied it before activate ran, so it is not what
// the machine had without the package). Errors wrap statedir.ErrNotNow
// when the record cannot be written yet (/var not mounted).
func RecordBefore(root hostroot.Root, key, found string) error {
	if set, ok := LastSetter(root, key); ok && ours(set.File) && set.Value == found {
		return nil
	}
	have, err := statedir.Read(root, statedir.SysctlsBefore)
	if err != nil {
		return err
	}
	for _, l := range have {
		if k, _, _ := strings.Cut(l, "="); k == key {
			return nil
		}
	}
	return statedir.Write(root, statedir.SysctlsBefore, beforeHeader, append(have, key+"="+found))
}

// GivenBack is what GiveBack did for one sysctl.
type GivenBack struct {
	Key string
	// Set is the value activate set (from RunFile); Now the value the
	// key has after GiveBack.
	Set, Now string
	// Changed: GiveBack wrote Now.
	Changed bool
	// Why says where Now comes from, or why the value was left alone, in
	// words for the log.
	Why string
	// Err is a failed read or write.
	Err error
}

// GiveBack gives back the sysctls activate set in this boot, for the
// package's removal: each key still at the value activate set (as its
// RunFile says) gets what `sysctl --system` would set without the
// package's files (the last remaining sysctl.d file that sets it), else
// the value recorded before activate first set it (RecordBefore); with
// neither, it is left as it is, and the kernel keeps it until the next
// boot. A key changed since activate set it is left alone. RunFile is
// removed (only when activate wrote it; never through a link), and so is
// the record of earlier values. Without RunFile activate set nothing in
// this boot, and no value is touched.
func GiveBack(root hostroot.Root) ([]GivenBack, error) {
	set, err := removeRun(root)
	var out []GivenBack
	before := map[string]string{}
	if len(set) > 0 {
		recorded, rerr := statedir.Read(root, statedir.SysctlsBefore)
		err = errors.Join(err, rerr)
		for _, l := range recorded {
			if k, v, ok := strings.Cut(l, "="); ok {
				before[k] = v
			}
		}
	}
	skip := map[string]bool{ShippedFile: true, RunFile: true}
	// /lib/sysctl.d is /usr/lib/sysctl.d on a merged /usr: the same file.
	if other := "/lib/sysctl.d/" + FileName; sameFile(root, other, ShippedFile) {
		skip[other] = true
	}
	for _, s := range set {
		g := GivenBack{Key: s.Key, Set: s.Value}
		cur, rerr := Read(root, s.Key)
		switch {
		case rerr != nil:
			g.Err = rerr
		case cur != s.Value:
			g.Now, g.Why = cur, fmt.Sprintf("left at %s: changed since ransomeye-tuner set %s", cur, s.Value)
		default:
			g.Now = cur
			var target string
			if st, ok := lastSetter(root, s.Key, skip); ok {
				target, g.Why = st.Value, fmt.Sprintf("what sysctl --system sets without the package (%s)", st.File)
			} else if v, ok := before[s.Key]; ok {
				target, g.Why = v, "the value before ransomeye-tuner first set it"
			} else {
				g.Why = fmt.Sprintf("stays %s: no remaining sysctl.d file sets it and its value before ransomeye-tuner is not known; the kernel keeps it until the next boot, which starts from the kernel's default", cur)
				break
			}
			if target == cur {
				g.Why = fmt.Sprintf("stays %s, %s", cur, g.Why)
				break
			}
			if aerr := Apply(root, Setting{Key: s.Key, Value: target}); aerr != nil {
				g.Err = aerr
				break
			}
			g.Now, g.Changed = target, true
		}
		out = append(out, g)
	}
	if rerr := statedir.Remove(root, statedir.SysctlsBefore); rerr != nil && !errors.Is(rerr, statedir.ErrNotNow) {
		err = errors.Join(err, rerr)
	}
	return out, err
}

// removeRun removes RunFile when activate wrote it, and returns the
// settings it held; no file, or one activate did not write (left as it
// is), gives none.
func removeRun(root hostroot.Root) ([]Setting, error) {
	// Nothing there is the common case in a chroot (an image build),
	// where the checks below cannot even read a directory's ACL.
	if _, err := os.Lstat(root.Path(RunFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	d, err := safefs.OpenDir(root, RunDir, safefs.Options{RootOnly: true})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remove %s: %w", RunFile, err)
	}
	defer d.Close()
	fd, err := unix.Openat(d.Fd(), FileName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%q is there and cannot be read (%v): not the tuner's, left as it is", RunFile, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxFile {
		unix.Close(fd)
		return nil, fmt.Errorf("%q is not a file ransomeye-tuner wrote: left as it is", RunFile)
	}
	buf := make([]byte, st.Size+1)
	n, _ := unix.Read(fd, buf)
	unix.Close(fd)
	text := string(buf[:max(n, 0)])
	if !strings.HasPrefix(text, header) {
		return nil, fmt.Errorf("%q was not written by ransomeye-tuner: left as it is", RunFile)
	}
	if err := unix.Unlinkat(d.Fd(), FileName, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("remove %s: %w", RunFile, err)
	}
	var set []Setting
	for _, l := range strings.Split(text, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			set = append(set, Setting{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		}
	}
	return set, nil
}

// lastSetter is LastSetter with the files in skip left out, as if they
// were not there (a file of the same name in a later directory then
// counts).
func lastSetter(root hostroot.Root, key string, skip map[string]bool) (Setter, bool) {
	var last Setter
	found := false
	for _, f := range files(root, skip) {
		for _, a := range assignments(root, f) {
			if matches(strings.TrimPrefix(a.key, "-"), key) {
				last, found = Setter{File: f, Value: a.value}, true
			}
		}
	}
	return last, found
}

// sameFile reports whether the host paths a and b are the same file.
func sameFile(root hostroot.Root, a, b string) bool {
	var sa, sb unix.Stat_t
	return unix.Stat(root.Path(a), &sa) == nil && unix.Stat(root.Path(b), &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
