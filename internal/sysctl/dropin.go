package sysctl

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// This file is the tuner's side of the sysctl.d(5) files that
// `sysctl --system` and systemd-sysctl apply: the file activate writes in
// /run/sysctl.d so that they apply the configured values, and which file
// sets a key last, for remedies that name it.
//
// Why: the package ships /usr/lib/sysctl.d/60-ransomeye-tuner.conf with
// the default values; with [Sysctl] Swappiness=1 and nothing else, any
// later `sysctl --system` puts 10 back (and the gate keeps the core down),
// and a remedy that names no file sends the administrator to
// /etc/sysctl.conf, where the value is not. A file of the same name in
// /run/sysctl.d overrides the one in /usr/lib/sysctl.d.

// FileName is the name of the package's sysctl.d file, shipped in
// /usr/lib/sysctl.d and written by activate in /run/sysctl.d.
const FileName = "60-ransomeye-tuner.conf"

// RunDir is where activate writes FileName with the configured values.
const RunDir = "/run/sysctl.d"

// header starts the file activate writes; a file at the name that does not
// start with it is not the tuner's, and is left alone.
const header = "# Written by ransomeye-tuner activate from [Sysctl] of /etc/ransomeye/tuner.conf:\n"

// Dirs are the sysctl.d directories in systemd-sysctl's order of precedence
// (sysctl.d(5)): a file name in an earlier one masks the same name in the
// later ones.
var Dirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// SysctlConf is read by `sysctl --system` (procps) after every sysctl.d
// file (Debian links it as /etc/sysctl.d/99-sysctl.conf for systemd-sysctl).
const SysctlConf = "/etc/sysctl.conf"

// maxFile bounds what is read of one sysctl.d file.
const maxFile = 1 << 20

// Content is the file activate writes for the settings.
func Content(settings []Setting) []byte {
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "# it overrides %s/%s, so that sysctl --system applies these values.\n", "/usr/lib/sysctl.d", FileName)
	b.WriteString("# Change them in tuner.conf, not here.\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "%s = %s\n", s.Key, s.Value)
	}
	return []byte(b.String())
}

// WriteRun writes RunDir/FileName under root with the settings, through a
// directory only root can change (safefs), replacing only a file the tuner
// wrote.
func WriteRun(root hostroot.Root, settings []Setting) error {
	d, err := safefs.OpenDir(root, RunDir, safefs.Options{Create: 0o755, RootOnly: true})
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", RunDir, FileName, err)
	}
	defer d.Close()
	if err := checkOurs(d); err != nil {
		return err
	}
	if err := d.WriteFile(FileName, Content(settings), 0o644, safefs.WriteOptions{}); err != nil {
		return fmt.Errorf("write %s/%s: %w", RunDir, FileName, err)
	}
	return nil
}

// checkOurs refuses a file at FileName in d that the tuner did not write.
func checkOurs(d *safefs.Dir) error {
	fd, err := unix.Openat(d.Fd(), FileName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	p := path.Join(RunDir, FileName)
	if err != nil {
		return fmt.Errorf("%q is there and cannot be read (%v): not the tuner's, left as it is; remove it", p, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	buf := make([]byte, len(header))
	n, _ := unix.Read(fd, buf)
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || string(buf[:max(n, 0)]) != header {
		return fmt.Errorf("%q is there and was not written by ransomeye-tuner: left as it is; remove it, then: %s", p, names.RecoverCommand)
	}
	return nil
}

// Setter is an assignment of a key in a sysctl.d file.
type Setter struct {
	// File is the host path of the file.
	File string
	// Value is the value it assigns.
	Value string
}

// Files lists the files `sysctl --system` applies, in order (a later
// file's assignment wins): the *.conf of Dirs by name, each name from the
// first directory that has it, then SysctlConf.
func Files(root hostroot.Root) []string { return files(root, nil) }

// files is Files without the host paths in skip, as if they were not
// there: a file of the same name in a later directory then counts.
func files(root hostroot.Root, skip map[string]bool) []string {
	byName := map[string]string{}
	for _, dir := range Dirs {
		ents, err := os.ReadDir(root.Path(dir))
		if err != nil {
			continue
		}
		for _, e := range ents {
			f := path.Join(dir, e.Name())
			if _, seen := byName[e.Name()]; !seen && strings.HasSuffix(e.Name(), ".conf") && !skip[f] {
				byName[e.Name()] = f
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	files := make([]string, 0, len(names)+1)
	for _, n := range names {
		files = append(files, byName[n])
	}
	return append(files, SysctlConf)
}

// LastSetter returns the file that `sysctl --system` would apply last for
// key, and its value; ok is false when none sets it. A file masked by a
// link to /dev/null, or that cannot be read, sets nothing.
func LastSetter(root hostroot.Root, key string) (Setter, bool) {
	return lastSetter(root, key, nil)
}

// assignment is one "key = value" line of a sysctl.d file.
type assignment struct{ key, value string }

// assignments reads the assignments of the sysctl.d file f; one that
// cannot be read (a link to /dev/null masks) has none.
func assignments(root hostroot.Root, f string) []assignment {
	b, err := readfile.Regular(root.Path(f), maxFile)
	if err != nil {
		return nil
	}
	var out []assignment
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out = append(out, assignment{key: strings.TrimSpace(k), value: strings.TrimSpace(v)})
	}
	return out
}

// matches reports whether the sysctl.d key k (dots or slashes, perhaps a
// glob) names key (dotted).
func matches(k, key string) bool {
	if i := strings.IndexAny(k, "./"); i >= 0 && k[i] == '/' {
		// The first separator a slash: slashes separate, dots are part
		// of names (sysctl.d(5)).
		k = strings.Map(func(r rune) rune {
			switch r {
			case '/':
				return '.'
			case '.':
				return '/'
			}
			return r
		}, k)
	}
	if k == key {
		return true
	}
	ok, err := path.Match(strings.ReplaceAll(k, ".", "/"), strings.ReplaceAll(key, ".", "/"))
	return err == nil && ok
}
