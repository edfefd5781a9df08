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

// ours reports whether f is the package's shipped file or activate's.
func ours(f string) bool { return f == ShippedFile || f == RunFile }

// beforeHeader says what the record of earlier values is.
const beforeHeader = `The value of each sysctl before ransomeye-tuner activate first set it on this
machine (key=value), given back at the package's removal when no remaining
sysctl.d file sets the key; written by ransomeye-tuner.`

// RecordBefore records found as key's value before activate first sets
// it; not when the record holds key, nor when found is the package's own
// value (systemd-sysctl applied the shipped or run file before activate).
// Errors wrap statedir.ErrNotNow while /var is not mounted.
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
	// Set is the value activate set (from RunFile); Now the value after.
	Set, Now string
	// Changed: GiveBack wrote Now.
	Changed bool
	// Why says, for the log, where Now comes from or why it was left.
	Why string
	// Err is a failed read or write.
	Err error
}

// GiveBack gives back, at the package's removal, the sysctls activate set
// in this boot (RunFile): each still at that value gets what `sysctl
// --system` sets without the package's files, else its recorded earlier
// value, else it keeps its value until the next boot. RunFile (only when
// activate wrote it) and the record are removed; without RunFile nothing
// is touched.
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

// removeRun removes RunFile when activate wrote it and returns its
// settings; anything else there is left, and gives none.
func removeRun(root hostroot.Root) ([]Setting, error) {
	// None is the common case in a chroot, where the checks below cannot
	// even read a directory's ACL.
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

// lastSetter is LastSetter with the files in skip as if not there.
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

// sameFile reports whether host paths a and b are one file.
func sameFile(root hostroot.Root, a, b string) bool {
	var sa, sb unix.Stat_t
	return unix.Stat(root.Path(a), &sa) == nil && unix.Stat(root.Path(b), &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
