// Package config reads /etc/ransomeye/tuner.conf and its drop-ins, in
// systemd's INI dialect (an empty value resets a key, a trailing backslash
// continues a line; later files win). Unknown sections and keys are
// warnings; an unusable value is an error naming file and line, and a
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
	// IsolationStrict also limits system.slice, user.slice, machine.slice
	// and init.scope to the core set.
	IsolationStrict Isolation = "strict"
	// IsolationServices pins the three services only.
	IsolationServices Isolation = "services"
	// IsolationOff writes no CPU drop-ins.
	IsolationOff Isolation = "off"
)

const (
	// GiB is 2^30 bytes.
	GiB = int64(1) << 30
	// MinSwapSize is the smallest MinSize= (under 1 MiB is a typo); MaxSize
	// bounds every size (64 TiB), keeping size arithmetic from overflow.
	MinSwapSize = int64(1) << 20
	MaxSize     = int64(1) << 46
)

// Config is the tuner's configuration after defaults and all files.
type Config struct {
	// SwapPath is the swapfile ([Swap] Path=).
	SwapPath string
	// MinSize is the least swap target ([Swap] MinSize=); the target is
	// max(MinSize, MemTotal). Reserve is left free ([Swap] Reserve=).
	MinSize int64
	Reserve int64
	// Swappiness is vm.swappiness ([Sysctl] Swappiness=).
	Swappiness int
	// VFSCachePressure is vm.vfs_cache_pressure ([Sysctl] VFSCachePressure=).
	VFSCachePressure int
	// Isolation is the CPU isolation mode ([CPU] Isolation=).
	Isolation Isolation
	// Units maps each role to its unit ([CPU] CoreService= etc.).
	Units map[string]string
	// DPIInterface is the capture NIC ([CPU] DPIInterface=).
	DPIInterface string
	// CPUs maps a role to the CPUs its CPUsKey names ([CPU] DPICPUs=,
	// TrainingCPUs=); others get what the CPU plan chooses. CPUsAt says
	// where each was set, for messages.
	CPUs   map[string]cpuset.Set
	CPUsAt map[string]Problem
	// DPIChannels is [CPU] DPIChannels=: ChannelsOff, ChannelsAuto or a
	// count of receive channels for the capture NIC.
	DPIChannels int
	// MetricsPath is [Metrics] TextfilePath= ("": metrics off).
	MetricsPath string
	// Memory maps each role to its [Memory] settings (memory.go).
	Memory map[string]map[string]Amount
	Files  []string
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
	// Key is the setting the problem is about, when the line names one.
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
	// CoreService is the core's unit when the configuration settles it
	// despite the problems, "" when not: its gate is still written.
	CoreService string
	// Cores is every valid unit a CoreService= line of the files assigns,
	// found lexically in any section (a backslash can swallow "[CPU]"),
	// sorted: each is gated while the configuration is invalid, the safe
	// side.
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

// Load reads the configuration under root: the warnings (ignored), and an
// *Error when a value is invalid or a file unreadable, when the returned
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

// MetricsPath is the textfile the configuration names ([Metrics]
// TextfilePath=, "" for off) as Load returned it with err, also when err
// says another setting is invalid: the metrics must still reach the
// directory node_exporter reads, to say that the core is kept down. The
// files that could not be read contribute nothing (the built-in default,
// or what the readable files say, stands). An error when TextfilePath=
// itself is invalid: its file and line and why.
func MetricsPath(cfg Config, err error) (string, error) {
	var ce *Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			if p.Key == metricsPathKey {
				return "", fmt.Errorf("%s: nothing written, so no metrics say that the core is kept down; fix [Metrics] %s= (a *.prom file in node_exporter's --collector.textfile.directory, or off)", p, metricsPathKey)
			}
		}
	}
	return cfg.MetricsPath, nil
}

// metricsPathKey is the key of [Metrics] that names the textfile.
const metricsPathKey = "TextfilePath"

// LoadFiles reads the files given as one configuration, the first as
// tuner.conf and the rest as its drop-ins, opened as given (not under a
// root prefix), so that a file not installed yet can be checked.
func LoadFiles(paths []string) (Config, []Problem, error) {
	if len(paths) == 0 {
		return Load(hostroot.Root("/"))
	}
	return load(paths, func(p string) string { return p }, true, nil)
}

// load reads files (path gives where to open each) as one configuration on
// top of problems; with required a missing file is a problem, else skipped
// unless it is a link to nothing (its settings were meant).
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
		// A UTF-8 byte order mark at the start of a file (Notepad and other
		// Windows editors write one) is skipped, as systemd's own parser
		// does for unit files (config_parse in src/shared/conf-parser.c
		// drops UTF8_BYTE_ORDER_MARK from the first line): without it,
		// "[Swap]" reads as an unknown section and its settings are lost.
		text := strings.TrimPrefix(string(data), "\ufeff")
		cores = append(cores, coreNames(text)...)
		w, p := apply(&cfg, f, text, set)
		warnings = append(warnings, w...)
		problems = append(problems, p...)
	}
	problems = append(problems, crossChecks(cfg, set, files[0])...)
	if len(problems) > 0 {
		return cfg, warnings, newError(cfg, problems, cores)
	}
	return cfg, warnings, nil
}

// newError is the *Error for problems found reading cfg, with the cores
// coreNames found.
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

// coreNames returns the valid unit names CoreService= lines of text assign,
// read lexically: every physical line and every joined line, any section.
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

// salvageName reads a refused CoreService= value as a person meant it
// ("mydb", quoted, "# comment" after it), or no gate would be written for
// it; ".service" is added only to a complete value. Gating a unit that is
// not the core merely keeps it down while the configuration is invalid.
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

// joinLine returns line i joined with its backslash continuations, as
// systemd does, and the index of the last line used.
func joinLine(lines []string, i int) (string, int) {
	line := strings.TrimRightFunc(lines[i], unicode.IsSpace)
	for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
		i++
		line = line[:len(line)-1] + " " + strings.TrimSpace(lines[i])
		line = strings.TrimRightFunc(line, unicode.IsSpace)
	}
	return line, i
}

// MaxFileSize bounds a configuration file (systemd's line limit too).
const MaxFileSize = 1 << 20

// readFile reads one configuration file (readfile.Regular); a link to
// /dev/null is empty, a masked drop-in, as in systemd.
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

// assignments records where each [CPU] service key was last set, in order
// (a key back at its default is not in it).
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

// distinctServices refuses two roles naming the same unit (it would get two
// CPU drop-ins, and activate fail at every boot), reported at the later
// assignment.
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

// serviceKeyList names the roles' settings ("CoreService=, DPIService=
// and TrainingService=").
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
			// An error, not a warning: a service name read nowhere leaves
			// the core without its gate.
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
			return sizeSetting(&c.MinSize, Default().MinSize, v, MinSwapSize)
		},
		"Reserve": func(c *Config, v string) error {
			return sizeSetting(&c.Reserve, Default().Reserve, v, 0)
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
		metricsPathKey: func(c *Config, v string) error {
			if v == "" || v == "off" || v == "no" {
				c.MetricsPath = ""
				return nil
			}
			if !filepath.IsAbs(v) || filepath.Clean(v) != v {
				return fmt.Errorf("must be an absolute, clean path, or \"off\"")
			}
			// Replaced as root every minute: only a *.prom file.
			if !strings.HasSuffix(v, ".prom") || len(filepath.Base(v)) <= len(".prom") {
				return fmt.Errorf("%q must name a *.prom file (node_exporter's textfile collector reads only those): set it to e.g. %s, or to \"off\"", v, names.DefaultMetricsPath)
			}
			c.MetricsPath = v
			return nil
		},
	},
}

func sizeSetting(dst *int64, def int64, v string, least int64) error {
	if v == "" {
		*dst = def
		return nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	if n < least {
		return fmt.Errorf("swap of %d bytes is too small: at least 1M", n)
	}
	*dst = n
	return nil
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

// serviceSetting sets the unit of role r.
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
