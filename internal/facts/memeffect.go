package facts

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// MemoryEffect is what the kernel applies of the memory settings (cgroup
// v2): every cgroup a role's service may run in and those above it, by
// path below the cgroup root; memory_recursiveprot; PSI.
type MemoryEffect struct {
	// Read: this run read it (ReadMemoryEffect, cgroup v2 memory).
	Read bool
	// Cgroups are the cgroups read, by path below the cgroup root.
	Cgroups map[string]CgroupMemory
	// Candidates are, per role, the cgroups its service may be in, most
	// likely first (its slice's, then the default's; the core's measured).
	Candidates map[string][]string
	// Mount is the cgroup2 mount's options (MountErr: not known).
	Mount    string
	MountErr error
	// PSI: the kernel keeps pressure stall information (NoPSI: why not).
	PSI   bool
	NoPSI string
}

// RecursiveProt reports whether the cgroup2 mount has memory_recursiveprot:
// a protection then covers the cgroups below it that set none.
func (e MemoryEffect) RecursiveProt() bool {
	return slices.Contains(strings.Split(e.Mount, ","), "memory_recursiveprot")
}

// CgroupMemory is one cgroup's memory files (Missing on a Value whose file
// is absent, as memory.swap.max without swap accounting).
type CgroupMemory struct {
	// Exists: the cgroup directory is there (a service that runs).
	Exists                                        bool
	Min, Low, High, SwapMax, Current, SwapCurrent Value
	// Events are memory.events' counters (low, high, max, oom_kill, ...).
	Events    map[string]uint64
	EventsErr error
	// Pressure is its cpu, memory and io pressure (own cgroup only).
	Pressure    map[string]Pressure
	PressureErr map[string]error
}

// Value is a memory file's value: bytes, or "max".
type Value struct {
	Bytes   uint64
	Max     bool
	Missing bool
	Err     error
}

// String writes the value as the kernel does, or why it is not known.
func (v Value) String() string {
	switch {
	case v.Err != nil:
		return "unreadable (" + v.Err.Error() + ")"
	case v.Missing:
		return "absent"
	case v.Max:
		return "max"
	}
	return strconv.FormatUint(v.Bytes, 10)
}

// AtLeast reports whether the value is known and at least b ("max" is).
func (v Value) AtLeast(b uint64) bool {
	return v.Err == nil && !v.Missing && (v.Max || v.Bytes >= b)
}

// PressureResources are the resources whose pressure is read, in order.
var PressureResources = []string{"cpu", "memory", "io"}

// Pressure is one pressure file: its "some" and "full" lines.
type Pressure struct {
	Some, Full PressureLine
}

// PressureLine is one pressure line: percent of time stalled over 10, 60
// and 300 s, and the total stall in microseconds.
type PressureLine struct {
	Present              bool
	Avg10, Avg60, Avg300 float64
	TotalUS              uint64
}

// readMemoryEffect reads what the kernel applies for every role, the core
// placed by m.
func (f *Facts) readMemoryEffect() {
	e := &f.MemoryEffect
	e.Cgroups, e.Candidates = map[string]CgroupMemory{}, map[string][]string{}
	e.PSI, e.NoPSI = psiAvailable(f.Root, f.Cmdline)
	if f.Memory.Kind != MemoryV2 {
		return
	}
	e.Read = true
	e.Mount, e.MountErr = cgroup2Options(f.Root)
	for _, r := range roles.Table {
		unit := f.Config.Units[r.Name]
		var cands []string
		if r.Name == roles.Core().Name {
			cands = []string{f.Memory.Cgroup}
		} else {
			for _, sl := range []string{r.Slice, names.DefaultSlice(unit)} {
				if sl != "" {
					cands = append(cands, "/"+path.Join(names.SlicePath(sl), names.CgroupEscape(unit)))
				}
			}
		}
		e.Candidates[r.Name] = cands
		for _, c := range cands {
			for p := c; p != "/" && p != "."; p = path.Dir(p) {
				if _, ok := e.Cgroups[p]; !ok {
					e.Cgroups[p] = readCgroupMemory(f.cgroups(), p, p == c && e.PSI)
				}
			}
		}
	}
}

// readCgroupMemory reads cg's memory files, and with pressure its
// pressure files.
func readCgroupMemory(files *CgroupFiles, cg string, pressure bool) CgroupMemory {
	root, dir := files.Root(), topology.CgroupDir+cg
	var m CgroupMemory
	if fi, err := os.Stat(root.Path(dir)); err != nil || !fi.IsDir() {
		return m
	}
	m.Exists = true
	for _, v := range []struct {
		file string
		dst  *Value
	}{{"memory.min", &m.Min}, {"memory.low", &m.Low}, {"memory.high", &m.High}, {"memory.swap.max", &m.SwapMax},
		{"memory.current", &m.Current}, {"memory.swap.current", &m.SwapCurrent}} {
		*v.dst = readValue(files, dir+"/"+v.file)
	}
	m.Events, m.EventsErr = readFlatKeyed(root, dir+"/memory.events")
	if pressure {
		m.Pressure, m.PressureErr = map[string]Pressure{}, map[string]error{}
		for _, res := range PressureResources {
			p, err := ReadPressure(root, dir+"/"+res+".pressure")
			if err != nil {
				m.PressureErr[res] = err
				continue
			}
			m.Pressure[res] = p
		}
	}
	return m
}

// readValue reads one memory file: a byte count or "max".
func readValue(files *CgroupFiles, p string) Value {
	b, err := files.Read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Value{Missing: true}
	}
	if err != nil {
		return Value{Err: fmt.Errorf("read %q: %w", p, err)}
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return Value{Max: true}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return Value{Err: fmt.Errorf("%q holds %q, not a byte count or \"max\"", p, s)}
	}
	return Value{Bytes: n}
}

// readFlatKeyed reads a "key value" file (memory.events).
func readFlatKeyed(root hostroot.Root, p string) (map[string]uint64, error) {
	b, err := readfile.Regular(root.Path(p), 4096)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", p, err)
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// ReadPressure reads a pressure file ("some avg10=... total=..." and
// "full", absent from cpu.pressure before Linux 5.13).
func ReadPressure(root hostroot.Root, p string) (Pressure, error) {
	var out Pressure
	b, err := readfile.Regular(root.Path(p), 4096)
	if err != nil {
		return out, fmt.Errorf("read %q: %w", p, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			continue
		}
		var line *PressureLine
		switch fields[0] {
		case "some":
			line = &out.Some
		case "full":
			line = &out.Full
		default:
			continue
		}
		seen := 0
		for _, kv := range fields[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var err error
			switch k {
			case "avg10":
				line.Avg10, err = strconv.ParseFloat(v, 64)
			case "avg60":
				line.Avg60, err = strconv.ParseFloat(v, 64)
			case "avg300":
				line.Avg300, err = strconv.ParseFloat(v, 64)
			case "total":
				line.TotalUS, err = strconv.ParseUint(v, 10, 64)
			default:
				continue
			}
			if err != nil {
				return out, fmt.Errorf("%q: %s is %q, not a number", p, k, v)
			}
			seen++
		}
		if seen != 4 {
			return out, fmt.Errorf("%q: the %q line lacks avg10, avg60, avg300 or total", p, fields[0])
		}
		line.Present = true
	}
	if !out.Some.Present {
		return out, fmt.Errorf("%q has no \"some\" line", p)
	}
	return out, nil
}

// psiAvailable reports whether the kernel keeps pressure stall information
// (/proc/pressure exists only when PSI is built in and enabled), and why
// not.
func psiAvailable(root hostroot.Root, cmdline []string) (bool, string) {
	_, err := os.Stat(root.Path("/proc/pressure/memory"))
	if err == nil {
		return true, ""
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Sprintf("cannot read /proc/pressure: %v", err)
	}
	for _, w := range cmdline {
		if v, ok := strings.CutPrefix(w, "psi="); ok && (v == "0" || v == "n" || v == "no" || v == "off" || v == "false") {
			return false, "the kernel runs without pressure stall information: " + w + " on the kernel command line"
		}
	}
	return false, "the kernel runs without pressure stall information (/proc/pressure is absent: built without CONFIG_PSI, or with CONFIG_PSI_DEFAULT_DISABLED and booted without psi=1)"
}

// cgroup2Options reads the cgroup2 mount's super-block options from
// mountinfo.
func cgroup2Options(root hostroot.Root) (string, error) {
	const mi = "/proc/self/mountinfo"
	b, err := readfile.Regular(root.Path(mi), 1<<20)
	if err != nil {
		return "", fmt.Errorf("read %q: %w", mi, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		// "36 25 0:31 / /sys/fs/cgroup rw,nosuid,... shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || f[4] != topology.CgroupDir || g[0] != "cgroup2" {
			continue
		}
		return g[2], nil
	}
	return "", fmt.Errorf("%q lists no cgroup2 mount at %s", mi, topology.CgroupDir)
}
