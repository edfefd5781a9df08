// Package config reads /etc/ransomeye/tuner.conf and its drop-ins.
//
// The syntax is systemd's INI dialect: [Section] headers, Key=Value lines,
// '#' and ';' comments, a trailing backslash continues a line, and an empty
// value resets a key to its default. Files are applied in order (the main
// file, then tuner.conf.d/*.conf sorted by name); a later assignment of a key
// overrides an earlier one. Unknown sections and keys are warnings; a value
// that cannot be used is an error that names the file and line, and a
// configuration with errors must not be acted on.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

// Isolation is the CPU isolation mode.
type Isolation string

const (
	// IsolationStrict pins the three services and limits system.slice,
	// user.slice, machine.slice and init.scope to the core set.
	IsolationStrict Isolation = "strict"
	// IsolationServices pins the three services only.
	IsolationServices Isolation = "services"
	// IsolationOff writes no CPU drop-ins.
	IsolationOff Isolation = "off"
)

const (
	// GiB is 2^30 bytes.
	GiB = int64(1) << 30
	// MinSwapSize is the smallest MinSize= accepted: mkswap needs at least
	// ten pages, and anything under 1 MiB is a typo.
	MinSwapSize = int64(1) << 20
	// MaxSize bounds every size setting (64 TiB): larger is a typo, and it
	// keeps arithmetic on sizes far from overflow.
	MaxSize = int64(1) << 46
)

// Config is the tuner's configuration after defaults and all files.
type Config struct {
	// SwapPath is the swapfile ([Swap] Path=).
	SwapPath string
	// MinSize is the smallest swap target in bytes ([Swap] MinSize=); the
	// target is max(MinSize, MemTotal).
	MinSize int64
	// Reserve is the free space left on the filesystem after the swapfile
	// is allocated ([Swap] Reserve=).
	Reserve int64
	// Swappiness is vm.swappiness ([Sysctl] Swappiness=).
	Swappiness int
	// VFSCachePressure is vm.vfs_cache_pressure ([Sysctl] VFSCachePressure=).
	VFSCachePressure int
	// Isolation is the CPU isolation mode ([CPU] Isolation=).
	Isolation Isolation
	// Units maps each role of the roles table to its unit ([CPU]
	// CoreService=, DPIService=, TrainingService=: the role's Key).
	Units map[string]string
	// DPIInterface is the capture NIC, for NUMA placement ([CPU] DPIInterface=).
	DPIInterface string
	// CPUs maps a role of the roles table to the CPUs its CPUsKey names
	// ([CPU] DPICPUs=, TrainingCPUs=); a role not in it gets the CPUs the
	// CPU plan chooses. CPUsAt says where each was set (File and Line),
	// for messages about them.
	CPUs   map[string]cpuset.Set
	CPUsAt map[string]Problem
	// DPIChannels is how many receive channels the capture NIC is given
	// ([CPU] DPIChannels=): ChannelsOff, ChannelsAuto or a count.
	DPIChannels int
	// MetricsPath is the node_exporter textfile ([Metrics] TextfilePath=); empty turns metrics off.
	MetricsPath string
	// Memory maps each role of the roles table to its memory settings
	// ([Memory] CoreLow=, TrainingHigh=, ...: memory.go), by setting.
	Memory map[string]map[string]Amount
	// Files lists the files that were read, in order, as host paths.
	Files []string
}

// Default returns the built-in configuration.
func Default() Config {
	c := Config{
		SwapPath:         names.DefaultSwapPath,
		MinSize:          16 * GiB,
		Reserve:          1 * GiB,
		Swappiness:       10,
		VFSCachePressure: 50,
		Isolation:        IsolationStrict,
		Units:            map[string]string{},
		MetricsPath:      names.DefaultMetricsPath,
		CPUs:             map[string]cpuset.Set{},
		CPUsAt:           map[string]Problem{},
		Memory:           defaultMemory(),
	}
	for _, r := range roles.Table {
		c.Units[r.Name] = r.Unit
	}
	return c
}

// CoreService is the gated core's unit.
func (c Config) CoreService() string { return c.Units[roles.Core().Name] }

// Roles returns the roles table with the CPUs the configuration names for
// each role (roles.Role.CPUs): what the CPU plan is made for.
func (c Config) Roles() []roles.Role {
	out := append([]roles.Role(nil), roles.Table...)
	for i := range out {
		out[i].CPUs = c.CPUs[out[i].Name]
	}
	return out
}

// roleOfKey returns the role whose [CPU] setting is key.
func roleOfKey(key string) (roles.Role, bool) {
	for _, r := range roles.Table {
		if r.Key == key {
			return r, true
		}
	}
	return roles.Role{}, false
}

// Problem is one thing wrong in a configuration file.
type Problem struct {
	File    string // host path of the file
	Line    int    // 1-based; 0 when the problem is the whole file
	Message string
	// Key is the setting the problem is about ("CoreService"), when the
	// line names one.
	Key string
}

func (p Problem) String() string {
	return p.Where() + ": " + p.Message
}

// Where is "FILE:LINE", or "FILE" for a whole file.
func (p Problem) Where() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Error is returned by Load when a file holds values that cannot be used.
type Error struct {
	Problems []Problem
	// CoreService is the core's unit name when the configuration settles
	// it despite the problems: no CoreService= line was refused and no file
	// that could hold one went unread (the built-in name when none sets
	// it). "" when it is not known. Why: the generator still writes the
	// gate drop-in for it; without it a core named in tuner.conf whose
	// configuration is invalid elsewhere (a typo in [Sysctl]) starts
	// ungated, since an invalid configuration writes no other unit.
	CoreService string
	// Cores is every valid unit name that a CoreService= line of the files
	// read assigns, found lexically (each physical line and each line
	// joined by a trailing backslash, in any section or none), sorted,
	// without duplicates. The generator gates each of them when the
	// configuration is invalid, rather than trusting the section parser.
	// Why: a trailing backslash after a typo swallows the "[CPU]" header,
	// CoreService=mydb.service is then read under [Sysctl], and with only
	// the section parser's answer mydb.service starts ungated. Gating a
	// unit that turns out not to be the core only keeps it down while the
	// configuration is invalid, which is the safe side.
	Cores []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	b.WriteString(" (fix the file, or remove the setting to use its default; see ransomeye-tuner.conf(5))")
	return b.String()
}

// Load reads the configuration under root. It returns the configuration,
// the warnings (unknown keys and sections, which are ignored), and an *Error
// when any value is invalid or a file cannot be read. On error the returned
// configuration must not be acted on.
func Load(root hostroot.Root) (Config, []Problem, error) {
	files, ignored, listErr := configFiles(root)
	var problems []Problem
	if listErr != nil {
		problems = append(problems, *listErr)
	}
	cfg, warnings, err := load(files, root.Path, false, problems)
	return cfg, append(warnings, ignored...), err
}

// LoadFiles reads the files given, in order, as one configuration: the
// first as tuner.conf, the others as its drop-ins in the order given. The
// paths are opened as given (relative ones from the working directory, not
// under a root prefix) and named so in the problems: a file not installed
// yet can be checked. A file that does not exist is a problem.
func LoadFiles(paths []string) (Config, []Problem, error) {
	if len(paths) == 0 {
		return Load(hostroot.Root("/"))
	}
	return load(paths, func(p string) string { return p }, true, nil)
}

// load reads files (path gives the path to open for each) as one
// configuration, on top of the problems already found. With
// required, a file that does not exist is a problem; otherwise it is
// skipped (the main file and the drop-ins are optional), unless it is a
// symbolic link to nothing: its settings were meant and cannot be read.
func load(files []string, path func(string) string, required bool, problems []Problem) (Config, []Problem, error) {
	var warnings []Problem
	cfg := Default()
	set := newAssignments()
	var cores []string
	for _, f := range files {
		data, err := readFile(path(f))
		if errors.Is(err, fs.ErrNotExist) {
			if p := missingFile(f, path(f), required); p != nil {
				problems = append(problems, *p)
			}
			continue
		}
		if err != nil {
			problems = append(problems, Problem{File: f, Message: fmt.Sprintf("cannot read: %v", unwrapPath(err))})
			continue
		}
		cfg.Files = append(cfg.Files, f)
		cores = append(cores, coreNames(string(data))...)
		w, p := apply(&cfg, f, string(data), set)
		warnings = append(warnings, w...)
		problems = append(problems, p...)
	}
	problems = append(problems, crossChecks(cfg, set, files[0])...)
	if len(problems) > 0 {
		return cfg, warnings, newError(cfg, problems, cores)
	}
	return cfg, warnings, nil
}

// newError is the *Error for problems found while reading cfg; cores are
// the names coreNames found in the files read.
func newError(cfg Config, problems []Problem, cores []string) *Error {
	e := &Error{Problems: problems, CoreService: cfg.CoreService()}
	for _, p := range problems {
		if p.Key == roles.Core().Key || p.Line == 0 {
			e.CoreService = ""
		}
	}
	if e.CoreService != "" {
		cores = append(cores, e.CoreService)
	}
	slices.Sort(cores)
	e.Cores = slices.Compact(cores)
	return e
}

// coreNames returns the valid unit names that CoreService= lines of text
// assign, read lexically: every physical line, and every line as joined by
// trailing backslashes, whatever section it is in. A value whose trailing
// backslash would join the next line counts without it.
func coreNames(text string) []string {
	var out []string
	look := func(line string) {
		line, cut := strings.CutSuffix(strings.TrimSpace(line), "\\")
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if v = salvageName(v, !cut); ok && strings.TrimSpace(k) == roles.Core().Key && names.CheckServiceName(v) == nil {
			out = append(out, v)
		}
	}
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		look(l)
	}
	for i := 0; i < len(lines); i++ {
		var line string
		line, i = joinLine(lines, i)
		look(line)
	}
	return out
}

// salvageName reads a refused CoreService= value the way a person meant it
// (as systemctl and a shell would): a trailing " # comment" or " ; comment"
// dropped, surrounding double or single quotes stripped, ".service" added
// to a name without a unit type suffix (only when the value is complete: a
// value cut at a trailing backslash may be the start of a name). Why:
// CoreService=mydb, "mydb.service", 'mydb.service' or "mydb.service # the
// database" are refused, and unless the salvage reads them as meant, no
// gate is written and mydb.service starts with no guarantee. Only for the
// salvage: gating a unit that is not the core merely keeps it down while
// the configuration is invalid.
func salvageName(v string, complete bool) string {
	if i := strings.IndexFunc(v, unicode.IsSpace); i >= 0 {
		if rest := strings.TrimLeftFunc(v[i:], unicode.IsSpace); strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, ";") {
			v = v[:i]
		}
	}
	v = strings.TrimSpace(v)
	for _, q := range []string{`"`, `'`} {
		if len(v) >= 2 && strings.HasPrefix(v, q) && strings.HasSuffix(v, q) {
			v = strings.TrimSpace(v[1 : len(v)-1])
			break
		}
	}
	if i := strings.LastIndexByte(v, '.'); complete && v != "" && (i < 0 || !slices.Contains(unitTypes, v[i+1:])) {
		v += ".service"
	}
	return v
}

// unitTypes are systemd's unit type suffixes (systemd.unit(5)).
var unitTypes = []string{"service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"}

// joinLine returns line i of lines with the lines that trailing
// backslashes join to it, as in systemd, and the index of the last line
// used.
func joinLine(lines []string, i int) (string, int) {
	line := strings.TrimRightFunc(lines[i], unicode.IsSpace)
	for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
		i++
		line = line[:len(line)-1] + " " + strings.TrimSpace(lines[i])
		line = strings.TrimRightFunc(line, unicode.IsSpace)
	}
	return line, i
}

// MaxFileSize bounds a configuration file (systemd refuses lines longer
// than 1 MiB too).
const MaxFileSize = 1 << 20

// readFile reads one configuration file with readfile.Regular (never
// blocking on a FIFO nor reading /dev/zero without end: fault matrix row
// 1), at most MaxFileSize bytes. A symlink to /dev/null reads as empty, as
// systemd treats a masked drop-in.
func readFile(p string) ([]byte, error) {
	if fi, err := os.Stat(p); err == nil && isDevNull(fi) {
		return nil, nil
	}
	return readfile.Regular(p, MaxFileSize)
}

// isDevNull reports whether fi is the null device (character device 1:3).
func isDevNull(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&fs.ModeCharDevice != 0 && unix.Major(uint64(st.Rdev)) == 1 && unix.Minor(uint64(st.Rdev)) == 3
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// configFiles lists the main file and the drop-ins, as host paths, and a
// warning for each entry of the drop-in directory that is not read (a name
// not ending in .conf; hidden files are skipped without one).
func configFiles(root hostroot.Root) ([]string, []Problem, *Problem) {
	files := []string{names.ConfigFile}
	entries, err := os.ReadDir(root.Path(names.ConfigDropInDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return files, nil, &Problem{File: names.ConfigDropInDir, Message: fmt.Sprintf("cannot list: %v", unwrapPath(err))}
	}
	var dropins []string
	var ignored []Problem
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case strings.HasSuffix(e.Name(), ".conf"):
			dropins = append(dropins, e.Name())
		default:
			ignored = append(ignored, notDropIn(filepath.Join(names.ConfigDropInDir, e.Name()), e.IsDir()))
		}
	}
	sort.Strings(dropins)
	for _, d := range dropins {
		files = append(files, filepath.Join(names.ConfigDropInDir, d))
	}
	return files, ignored, nil
}

// maxValueLen bounds a single value; anything longer is a mistake.
const maxValueLen = 4096

// assignments records where each [CPU] service key was last set: the file
// and line, in the order the assignments were read (a key back at its
// default is not in it).
type assignments struct {
	at  map[string]Problem
	seq map[string]int
	n   int
}

func newAssignments() *assignments {
	return &assignments{at: map[string]Problem{}, seq: map[string]int{}}
}

func (a *assignments) set(key, value, file string, line int) {
	if value == "" {
		delete(a.at, key)
		delete(a.seq, key)
		return
	}
	a.n++
	a.at[key], a.seq[key] = Problem{File: file, Line: line}, a.n
}

// distinctServices refuses a configuration in which two of CoreService=,
// DPIService= and TrainingService= name the same unit. Why: with
// DPIService=ransomeye-core.service the core got two CPU drop-ins and
// activate failed at every boot, telling the administrator to run
// daemon-reload, which could not help. The problem is reported at the later
// of the two assignments (at firstFile when both are defaults, which
// cannot collide today).
func distinctServices(cfg Config, set *assignments, firstFile string) []Problem {
	origin := func(r roles.Role) string {
		if w, ok := set.at[r.Key]; ok {
			return fmt.Sprintf("%s=%s (%s:%d)", r.Key, cfg.Units[r.Name], w.File, w.Line)
		}
		return fmt.Sprintf("%s=%s (the default)", r.Key, cfg.Units[r.Name])
	}
	var problems []Problem
	for i, a := range roles.Table {
		for _, b := range roles.Table[i+1:] {
			if cfg.Units[a.Name] != cfg.Units[b.Name] {
				continue
			}
			later, earlier := b, a
			if set.seq[a.Key] > set.seq[b.Key] {
				later, earlier = a, b
			}
			at, ok := set.at[later.Key]
			if !ok {
				at = Problem{File: firstFile}
			}
			at.Message = fmt.Sprintf("%s names the same unit as %s: %s must each name a different service, since each gets its own CPU set; set %s= to that service's own unit name, or remove the line to use its default %s",
				origin(later), origin(earlier), serviceKeyList(), later.Key, later.Unit)
			problems = append(problems, at)
		}
	}
	return problems
}

// crossChecks are the problems of settings taken together, once every file
// is read (firstFile: where to report one that no line set).
func crossChecks(cfg Config, set *assignments, firstFile string) []Problem {
	return append(distinctServices(cfg, set, firstFile), distinctCPUs(cfg, set)...)
}

// serviceKeyList names the roles' settings: "CoreService=, DPIService=
// and TrainingService=".
func serviceKeyList() string {
	var b strings.Builder
	for i, r := range roles.Table {
		switch {
		case i == len(roles.Table)-1 && i > 0:
			b.WriteString(" and ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(r.Key + "=")
	}
	return b.String()
}

func apply(cfg *Config, file, text string, set *assignments) (warnings, problems []Problem) {
	section := ""
	var lost *lostSettings // the unknown section being read, and the settings it loses
	flush := func() {
		if lost != nil {
			warnings = append(warnings, lost.warning())
			lost = nil
		}
	}
	defer flush()
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		var line string
		line, i = joinLine(lines, i)
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key := ""
		bad := func(format string, a ...any) {
			problems = append(problems, Problem{File: file, Line: lineNo, Message: fmt.Sprintf(format, a...), Key: key})
		}
		if line[0] == '[' {
			flush()
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				bad("malformed section header %q", line)
				section = "\x00invalid"
				continue
			}
			section = line[1 : len(line)-1]
			if _, ok := keys[section]; !ok {
				lost = &lostSettings{at: Problem{File: file, Line: lineNo}, section: section}
			}
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			if strings.Contains(line, roles.Core().Key) {
				key = roles.Core().Key // perhaps a CoreService= line: the core is not known
			}
			bad("expected Key=Value, found %q", line)
			continue
		}
		key = strings.TrimSpace(line[:eq])
		value := strings.TrimSpace(line[eq+1:])
		if section == "" {
			bad("assignment %q outside any section: %s", key, whereToPut(key))
			continue
		}
		role, isService := roleOfKey(key)
		if isService && section != "CPU" {
			// An error, not a warning: a service name read nowhere
			// leaves that service without its CPU set, and the core
			// without its gate. Why: as a warning, CoreService=mydb.service
			// under [Sysctl] (or under a "[CPU]" header swallowed by a
			// line continuation) would leave the configuration valid and
			// naming ransomeye-core.service, and mydb.service would start
			// ungated.
			where := "[" + section + "]"
			if section == "\x00invalid" {
				where = "a malformed section header"
			}
			bad("%s= under %s is not read: it belongs under [CPU] (a line ending in a backslash joins the next line, a section header too)", key, where)
			continue
		}
		known, ok := keys[section]
		if !ok {
			if lost != nil {
				lost.keys = append(lost.keys, key+"=")
			}
			continue
		}
		setter, ok := known[key]
		cpusRole, isCPUs := roleOfCPUsKey(key)
		switch {
		case isService:
			setter, ok = serviceSetting(role), true
		case isCPUs && section == "CPU":
			setter, ok = cpusSetting(cpusRole), true
		}
		if !ok {
			warnings = append(warnings, Problem{File: file, Line: lineNo, Message: unknownKey(section, key), Key: key})
			continue
		}
		if len(value) > maxValueLen {
			bad("value of %s= is %d bytes long: at most %d", key, len(value), maxValueLen)
			continue
		}
		if strings.ContainsFunc(value, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			bad("value of %s= holds a control character", key)
			continue
		}
		if q, ok := quotedValue(value); ok {
			bad("%s=%s: remove the quotes (%s=%s): values are taken as written, as systemd reads its own files (systemd.syntax(7)), so the quotes would be part of the value", key, value, key, q)
			continue
		}
		if err := setter(cfg, value); err != nil {
			bad("%s=%s: %v%s", key, value, err, commentHint(value))
			continue
		}
		if h := commentHint(value); h != "" {
			warnings = append(warnings, Problem{File: file, Line: lineNo, Message: fmt.Sprintf("%s=%s is taken whole%s", key, value, h), Key: key})
		}
		if isService || isCPUs {
			set.set(key, value, file, lineNo)
		}
		if isCPUs {
			delete(cfg.CPUsAt, cpusRole.Name)
			if value != "" {
				cfg.CPUsAt[cpusRole.Name] = Problem{File: file, Line: lineNo, Key: key}
			}
		}
	}
	return warnings, problems
}

type setter func(cfg *Config, value string) error

var keys = map[string]map[string]setter{
	"Swap": {
		"Path": func(c *Config, v string) error {
			if v == "" {
				c.SwapPath = Default().SwapPath
				return nil
			}
			if err := names.CheckPath(v); err != nil {
				return err
			}
			c.SwapPath = v
			return nil
		},
		"MinSize": func(c *Config, v string) error {
			if v == "" {
				c.MinSize = Default().MinSize
				return nil
			}
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			if n < MinSwapSize {
				return fmt.Errorf("swap of %d bytes is too small: at least 1M", n)
			}
			c.MinSize = n
			return nil
		},
		"Reserve": func(c *Config, v string) error {
			if v == "" {
				c.Reserve = Default().Reserve
				return nil
			}
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			c.Reserve = n
			return nil
		},
	},
	"Sysctl": {
		"Swappiness": func(c *Config, v string) error {
			return intSetting(&c.Swappiness, Default().Swappiness, v, 0, 200)
		},
		"VFSCachePressure": func(c *Config, v string) error {
			return intSetting(&c.VFSCachePressure, Default().VFSCachePressure, v, 0, 100000)
		},
	},
	"CPU": {
		"Isolation": func(c *Config, v string) error {
			switch Isolation(v) {
			case "":
				c.Isolation = Default().Isolation
			case IsolationStrict, IsolationServices, IsolationOff:
				c.Isolation = Isolation(v)
			default:
				return fmt.Errorf("unknown mode: use %q, %q or %q", IsolationStrict, IsolationServices, IsolationOff)
			}
			return nil
		},
		"DPIInterface": func(c *Config, v string) error {
			if err := checkInterface(v); err != nil {
				return err
			}
			c.DPIInterface = v
			return nil
		},
		"DPIChannels": func(c *Config, v string) error {
			n, err := ParseChannels(v)
			if err != nil {
				return err
			}
			c.DPIChannels = n
			return nil
		},
	},
	"Metrics": {
		"TextfilePath": func(c *Config, v string) error {
			if v == "" || v == "off" || v == "no" {
				c.MetricsPath = ""
				return nil
			}
			if !filepath.IsAbs(v) || filepath.Clean(v) != v {
				return fmt.Errorf("must be an absolute, clean path, or \"off\"")
			}
			// Why: the metrics file is replaced as root every minute, so
			// a path such as /etc/passwd must not be accepted;
			// node_exporter's textfile collector reads only *.prom anyway.
			if !strings.HasSuffix(v, ".prom") || len(filepath.Base(v)) <= len(".prom") {
				return fmt.Errorf("%q must name a *.prom file (node_exporter's textfile collector reads only those): set it to e.g. %s, or to \"off\"", v, names.DefaultMetricsPath)
			}
			c.MetricsPath = v
			return nil
		},
	},
}

func intSetting(dst *int, def int, v string, lo, hi int) error {
	if v == "" {
		*dst = def
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("want a whole number from %d to %d", lo, hi)
	}
	*dst = n
	return nil
}

// serviceSetting sets the unit of role r (the roles table's keys are
// [CPU] settings).
func serviceSetting(r roles.Role) setter {
	return func(c *Config, v string) error {
		if v == "" {
			c.Units[r.Name] = r.Unit
			return nil
		}
		if err := names.CheckServiceName(v); err != nil {
			return err
		}
		c.Units[r.Name] = v
		return nil
	}
}

// checkInterface accepts what the kernel accepts as a network interface name.
func checkInterface(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 15 || v == "." || v == ".." {
		return fmt.Errorf("%q is not a network interface name (at most 15 bytes)", v)
	}
	for _, c := range v {
		if c == '/' || c == ':' || unicode.IsSpace(c) || c > unicode.MaxASCII {
			return fmt.Errorf("%q is not a network interface name", v)
		}
	}
	return nil
}
