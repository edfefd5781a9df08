package sysctl

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// This file is the tuner's side of sysctl.d(5): activate's file in
// /run/sysctl.d, which overrides the package's defaults in /usr/lib so that
// a later `sysctl --system` keeps the configured values (else the gate
// keeps the core down), and which file sets a key last, for remedies.

// FileName is the package's sysctl.d file (shipped in /usr/lib/sysctl.d,
// written by activate in RunDir).
const FileName = "60-ransomeye-tuner.conf"

// RunDir is where activate writes FileName with the configured values.
const RunDir = "/run/sysctl.d"

// header starts activate's file; a file without it is not the tuner's.
const header = "# Written by ransomeye-tuner activate from [Sysctl] of /etc/ransomeye/tuner.conf:\n"

// Dirs are the sysctl.d directories by precedence (sysctl.d(5)): a name in
// an earlier one masks it in the later ones.
var Dirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// SysctlConf is read by `sysctl --system` after every sysctl.d file.
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

// WriteRun writes RunDir/FileName with the settings, through safefs,
// replacing only a file the tuner wrote.
func WriteRun(root hostroot.Root, settings []Setting) error {
	d, err := safefs.OpenDir(root, RunDir, safefs.Options{Create: 0o755, RootOnly: true})
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", RunDir, FileName, err)
	}
	defer d.Close()
	p := path.Join(RunDir, FileName)
	switch err := d.StartsWith(FileName, header); {
	case errors.Is(err, safefs.ErrNotOurs):
		return fmt.Errorf("%q is there and was not written by ransomeye-tuner: left as it is; remove it, then: %s", p, names.RecoverCommand)
	case err != nil:
		return fmt.Errorf("%q is there and cannot be read (%v): not the tuner's, left as it is; remove it", p, err)
	}
	if err := d.WriteFile(FileName, Content(settings), 0o644, safefs.WriteOptions{}); err != nil {
		return fmt.Errorf("write %s/%s: %w", RunDir, FileName, err)
	}
	return nil
}

// Setter is an assignment of a key in a sysctl.d file.
type Setter struct {
	// File is the host path of the file; Value what it assigns.
	File  string
	Value string
}

// files lists the files `sysctl --system` applies, in order: the *.conf of
// Dirs by name, each from the first directory holding it, then
// SysctlConf; those in skip as if not there.
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
	var out []string
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[n])
	}
	return append(out, SysctlConf)
}

// LastSetter returns the file `sysctl --system` applies last for key, and
// its value; ok is false when none sets it (an unreadable or masked file
// sets nothing).
func LastSetter(root hostroot.Root, key string) (Setter, bool) {
	return lastSetter(root, key, nil)
}

// assignment is one "key = value" line of a sysctl.d file.
type assignment struct{ key, value string }

// assignments reads the assignments of the sysctl.d file f.
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

// matches reports whether the sysctl.d key k (dots or slashes, maybe a
// glob) names key.
func matches(k, key string) bool {
	if i := strings.IndexAny(k, "./"); i >= 0 && k[i] == '/' {
		// A slash first: slashes separate, dots are part of names.
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
