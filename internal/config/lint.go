package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/suggest"
)

// What the parser says of what it does not take: unknown sections and keys
// (warnings, never errors: a newer setting must not keep the core down
// after a downgrade; docs/design.md, "Configuration"), drop-ins not read,
// quoted values or comments after them, links to nothing. Each says what
// was probably meant; status, JSON and metrics carry every warning.

// sectionNames are the sections the file takes, in the manual's order.
func sectionNames() []string {
	var out []string
	for _, s := range []string{"Swap", "Sysctl", "CPU", "Memory", "Metrics"} {
		if _, ok := keys[s]; ok {
			out = append(out, s)
		}
	}
	listed := len(out)
	for s := range keys {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out[listed:])
	return out
}

// keyNames are the keys section takes (its setters; for [CPU] the roles').
func keyNames(section string) []string {
	var out []string
	for k := range keys[section] {
		out = append(out, k)
	}
	if section == "CPU" {
		for _, r := range roles.Table {
			out = append(out, r.Key)
			if r.CPUsKey != "" {
				out = append(out, r.CPUsKey)
			}
		}
	}
	slices.Sort(out)
	return out
}

// sectionOf returns the section that takes key.
func sectionOf(key string) (string, bool) {
	for _, s := range sectionNames() {
		if slices.Contains(keyNames(s), key) {
			return s, true
		}
	}
	return "", false
}

// Settings lists every setting the file takes ("Section/Key", sorted): what
// the manual and the shipped tuner.conf must name.
func Settings() []string {
	var out []string
	for _, s := range sectionNames() {
		for _, k := range keyNames(s) {
			out = append(out, s+"/"+k)
		}
	}
	slices.Sort(out)
	return out
}

// roleOfCPUsKey returns the role whose CPUs setting is key.
func roleOfCPUsKey(key string) (roles.Role, bool) {
	for _, r := range roles.Table {
		if r.CPUsKey != "" && r.CPUsKey == key {
			return r, true
		}
	}
	return roles.Role{}, false
}

// lostSettings is an unknown section being read: its header's place and
// the keys ignored with it.
type lostSettings struct {
	at      Problem
	section string
	keys    []string
}

// warning is an unknown section's one warning: what it was probably meant
// to be, and every setting lost with it.
func (l *lostSettings) warning() Problem {
	p := l.at
	p.Message = fmt.Sprintf("unknown section [%s]%s, ignoring it", l.section, didYouMeanSection(l.section))
	if len(l.keys) > 0 {
		p.Message += " and the settings under it: " + strings.Join(l.keys, ", ")
	}
	return p
}

// didYouMeanSection is ` (did you mean [Swap]?)` for a section name close
// to a known one, else "" (letter case counts, as in systemd).
func didYouMeanSection(section string) string {
	if s := suggest.Fold(section, sectionNames()); s != "" {
		return fmt.Sprintf(" (did you mean [%s]?)", s)
	}
	return ""
}

// unknownKey is the warning for key in section: the section that takes it,
// or the known key it is close to (case, separators and "vm." ignored).
func unknownKey(section, key string) string {
	msg := fmt.Sprintf("unknown key %q in [%s], ignoring it", key, section)
	if s, ok := sectionOf(key); ok {
		return msg + fmt.Sprintf(": %s= is a setting of [%s]; move it there", key, s)
	}
	name := strings.TrimPrefix(strings.ToLower(key), "vm.")
	if k := suggest.Fold(name, keyNames(section)); k != "" {
		msg += fmt.Sprintf(" (did you mean %s=?)", k)
	} else {
		var all []string
		for _, s := range sectionNames() {
			all = append(all, keyNames(s)...)
		}
		if k := suggest.Fold(name, all); k != "" {
			s, _ := sectionOf(k)
			msg += fmt.Sprintf(" (did you mean [%s] %s=?)", s, k)
		}
	}
	if strings.Contains(key, ".") {
		msg += "; this file names the tuner's settings, not sysctl keys (see ransomeye-tuner.conf(5))"
	}
	return msg
}

// whereToPut says where a setting found outside any section goes.
func whereToPut(key string) string {
	if s, ok := sectionOf(key); ok {
		return fmt.Sprintf("put it under [%s]", s)
	}
	names := sectionNames()
	for i := range names {
		names[i] = "[" + names[i] + "]"
	}
	return "put it under " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// quotedValue returns v without surrounding quotes, and whether it had
// them: kept by the parser, as by systemd's, so Path="/data/swap" is a
// relative path.
func quotedValue(v string) (string, bool) {
	for _, q := range []string{`"`, `'`} {
		if len(v) >= 2 && strings.HasPrefix(v, q) && strings.HasSuffix(v, q) {
			return v[1 : len(v)-1], true
		}
	}
	return "", false
}

// commentHint is "; comments go on their own line ..." when v seems to hold
// a comment after the value: in systemd's syntax a comment is a whole line.
func commentHint(v string) string {
	for i, c := range v {
		if unicode.IsSpace(c) {
			if rest := strings.TrimLeftFunc(v[i:], unicode.IsSpace); strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, ";") {
				return fmt.Sprintf("; comments go on their own line: %q is part of the value, since '#' and ';' start a comment only at the start of a line", rest)
			}
		}
	}
	return ""
}

// missingFile is the problem with the configuration file f (opened as p)
// that does not exist: when required, or when it is a link to nothing.
func missingFile(f, p string, required bool) *Problem {
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(p)
		return &Problem{File: f, Message: fmt.Sprintf("is a symbolic link to %q, which does not exist: the settings it should hold cannot be read; restore that file, point the link at one that exists, or remove the link to use the built-in defaults", target)}
	}
	if required {
		return &Problem{File: f, Message: "cannot read: no such file"}
	}
	return nil
}

// notDropIn is the warning for a drop-in directory entry not read (only
// *.conf files are).
func notDropIn(path string, dir bool) Problem {
	if dir {
		return Problem{File: path, Message: "is a directory: not read (only *.conf files in " + filepath.Dir(path) + " are)"}
	}
	return Problem{File: path, Message: fmt.Sprintf("is not read: only files whose names end in .conf are; rename it to %s.conf to use it, or remove it", filepath.Base(path))}
}

// cpusSetting sets the CPUs of role r ([CPU] DPICPUs=, TrainingCPUs=) as
// cpuset(7) writes a list; CPU 0 is refused (the core service's). What
// depends on the machine the CPU plan checks, at every boot.
func cpusSetting(r roles.Role) setter {
	return func(c *Config, v string) error {
		if v == "" {
			delete(c.CPUs, r.Name)
			return nil
		}
		set, err := ParseCPUs(v)
		if err != nil {
			return err
		}
		if set.Contains(0) {
			return fmt.Errorf("CPU 0 stays with the core service (%s=): name other CPUs", roles.Core().Key)
		}
		c.CPUs[r.Name] = set
		return nil
	}
}

// ParseCPUs parses a configured CPU list ("4-5,12-13", "4 5").
func ParseCPUs(v string) (cpuset.Set, error) {
	parts := strings.FieldsFunc(v, func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	set, err := cpuset.Parse(strings.Join(parts, ","))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("not a CPU list (%v): write CPU numbers and ranges such as 4-5,12-13", err)
	}
	return set, nil
}

// distinctCPUs refuses two roles naming the same CPU.
func distinctCPUs(cfg Config, set *assignments) []Problem {
	var problems []Problem
	for i, a := range roles.Table {
		for _, b := range roles.Table[i+1:] {
			sa, oka := cfg.CPUs[a.Name]
			sb, okb := cfg.CPUs[b.Name]
			if !oka || !okb || sa.Intersect(sb).IsEmpty() {
				continue
			}
			later, other := b, a
			if set.seq[a.CPUsKey] > set.seq[b.CPUsKey] {
				later, other = a, b
			}
			p := set.at[later.CPUsKey]
			p.Key = later.CPUsKey
			p.Message = fmt.Sprintf("%s=%s and %s=%s (%s) both name %s: each CPU goes to one role; name other CPUs in one of them",
				later.CPUsKey, cfg.CPUs[later.Name], other.CPUsKey, cfg.CPUs[other.Name], cfg.CPUsAt[other.Name].Where(), sa.Intersect(sb).Phrase())
			problems = append(problems, p)
		}
	}
	return problems
}
