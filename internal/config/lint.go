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

// What the parser says about what it does not take: an unknown section or
// key, a drop-in that is not read, a value in quotes or with a comment
// after it, a configuration file that is a link to nothing. Unknown
// sections and keys are warnings, never errors (docs/design.md,
// "Configuration": a setting a newer version added must not keep the core
// down after a downgrade, nor at the next boot for a typo), so each says
// what it was probably meant to be, and status, its JSON and the metrics
// carry every warning.

// sectionNames are the sections the file takes, in the order the manual
// lists them.
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

// keyNames are the keys section takes: its setters and, for [CPU], the
// roles table's.
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

// Settings lists every setting the file takes, as "Section/Key", sorted:
// what the manual and the shipped tuner.conf must name.
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

// roleOfCPUsKey returns the role whose [CPU] setting naming its CPUs is
// key.
func roleOfCPUsKey(key string) (roles.Role, bool) {
	for _, r := range roles.Table {
		if r.CPUsKey != "" && r.CPUsKey == key {
			return r, true
		}
	}
	return roles.Role{}, false
}

// lostSettings is an unknown section being read: where its header is, and
// the keys under it, which are ignored with it.
type lostSettings struct {
	at      Problem
	section string
	keys    []string
}

// warning is the one warning of an unknown section, naming the section it
// was probably meant to be and every setting lost with it.
func (l *lostSettings) warning() Problem {
	p := l.at
	p.Message = fmt.Sprintf("unknown section [%s]%s, ignoring it", l.section, didYouMeanSection(l.section))
	if len(l.keys) > 0 {
		p.Message += " and the settings under it: " + strings.Join(l.keys, ", ")
	}
	return p
}

// didYouMeanSection is ` (did you mean [Swap]?)` for a section name close
// to a known one ("swap", "Swapp"), else "". Section names are matched as
// systemd matches them, letter case included: "[swap]" is not "[Swap]".
func didYouMeanSection(section string) string {
	if s := suggest.Fold(section, sectionNames()); s != "" {
		return fmt.Sprintf(" (did you mean [%s]?)", s)
	}
	return ""
}

// unknownKey is the warning for key in section, which does not take it:
// the key another section takes, or the known key it is close to (letter
// case, separators and sysctl's "vm." ignored: "vm.swappiness" is
// Swappiness=).
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

// quotedValue returns v without the double or single quotes around it,
// and whether it is quoted. systemd's parser keeps quotes in most
// settings, and so does this one: Path="/data/swap" would be a relative
// path, DPIInterface="eth1" an interface whose name holds quotes.
func quotedValue(v string) (string, bool) {
	for _, q := range []string{`"`, `'`} {
		if len(v) >= 2 && strings.HasPrefix(v, q) && strings.HasSuffix(v, q) {
			return v[1 : len(v)-1], true
		}
	}
	return "", false
}

// commentHint is "; comments go on their own line ..." when v holds what
// looks like a comment after the value (a blank, then '#' or ';'), else "".
// In systemd's syntax a comment is a whole line: "MinSize=32G # more" is
// the value "32G # more".
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
// that does not exist: always when it was required, else only when it is
// a symbolic link to nothing (its settings were meant, and are lost).
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

// notDropIn is the warning for an entry of the drop-in directory that is
// not read: only *.conf files are.
func notDropIn(path string, dir bool) Problem {
	if dir {
		return Problem{File: path, Message: "is a directory: not read (only *.conf files in " + filepath.Dir(path) + " are)"}
	}
	return Problem{File: path, Message: fmt.Sprintf("is not read: only files whose names end in .conf are; rename it to %s.conf to use it, or remove it", filepath.Base(path))}
}

// cpusSetting sets the CPUs of role r ([CPU] DPICPUs=, TrainingCPUs=): a
// CPU list as cpuset(7) and systemd's AllowedCPUs= write it ("4-5,12-13";
// commas or blanks between the parts). CPU 0 is refused: it stays with
// the core service. What depends on the machine (online, whole cores, in
// the root cpuset) is checked by the CPU plan, at every boot.
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

// ParseCPUs parses a CPU list as the configuration takes it: ranges and
// single CPUs separated by commas or blanks ("4-5,12-13", "4 5").
func ParseCPUs(v string) (cpuset.Set, error) {
	parts := strings.FieldsFunc(v, func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	set, err := cpuset.Parse(strings.Join(parts, ","))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("not a CPU list (%v): write CPU numbers and ranges such as 4-5,12-13", err)
	}
	return set, nil
}

// distinctCPUs refuses two roles naming the same CPU: each CPU is one
// role's.
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
