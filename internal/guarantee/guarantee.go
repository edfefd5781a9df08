// Package guarantee evaluates, on this machine now, every guarantee the
// RansomEye core depends on: the swapfile active at its target, each sysctl,
// a CPU topology that can be trusted, the CPU drop-ins matching a fresh plan,
// and the CPU set systemd actually applies to the core.
//
// `status` shows the entries and builds its problems from them; the gate
// (the core's ExecCondition=) requires every one of them. Both call Evaluate,
// so they cannot disagree. Why: a gate that checks only the swap leaves the
// core free to start after a sysctl changed since a good activation (a
// later `sysctl --system` applying /etc/sysctl.conf) while status says NOT
// COMPLIANT.
package guarantee

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctld"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// Names of the guarantees: stable identifiers, for JSON and metrics labels.
const (
	NameConfig      = "configuration" // the configuration cannot be read: nothing else can be evaluated
	NameSwap        = "swap"
	NameSysctl      = "sysctl:" // followed by the key: "sysctl:vm.swappiness"
	NameCPUTopology = "cpu-topology"
	NameCPUDropIns  = "cpu-dropins"
	NameCoreCPUs    = "core-cpus"
	NameCoreGate    = "core-gate"   // the core runs the gate (its ExecCondition=)
	NameCoreMemory  = "core-memory" // the core's memory cgroup lets the swap and swappiness reach it
)

// Entry is one guarantee as measured now.
type Entry struct {
	// Name identifies the guarantee (one of the Name constants).
	Name string `json:"name"`
	// Expected is what the guarantee needs, for people.
	Expected string `json:"expected"`
	// Actual is what was measured; empty when it could not be.
	Actual string `json:"actual,omitempty"`
	// Source says where Actual comes from, when it is not obvious.
	Source string `json:"source,omitempty"`
	// OK is true when the guarantee holds as measured.
	OK bool `json:"ok"`
	// NotMeasured is true when this place cannot measure the guarantee
	// (systemd cannot be asked under a root prefix): Reason says why. It
	// is not a failure, and not a pass either.
	NotMeasured bool `json:"not_measured,omitempty"`
	// Reason says why the guarantee does not hold (or why it was not
	// measured, or a note on a pass).
	Reason string `json:"reason,omitempty"`
	// Remedy says what to do about a failure.
	Remedy string `json:"remedy,omitempty"`
}

// Failed reports whether the entry keeps the core down: measured, and not
// holding.
func (e Entry) Failed() bool { return !e.OK && !e.NotMeasured }

// Problem is the entry's failure as one line: reason and remedy.
func (e Entry) Problem() string {
	if e.Remedy == "" {
		return e.Reason
	}
	return e.Reason + "; " + e.Remedy
}

// Failures returns the entries that failed.
func Failures(entries []Entry) []Entry {
	var out []Entry
	for _, e := range entries {
		if e.Failed() {
			out = append(out, e)
		}
	}
	return out
}

// Evaluate measures every guarantee for the configuration and plan of in
// and out (generate.Gather and generate.Render of the same root, with a
// valid configuration) and the swapfile decision swap (swapplan.Make of
// the same root and configuration), asking measure for the CPU set the core
// gets.
func Evaluate(root hostroot.Root, in generate.Input, out generate.Output, swap *swapplan.Plan, measure Measure) []Entry {
	cfg := in.Config
	entries := []Entry{Swap(swap)}
	for _, s := range Sysctls(cfg) {
		entries = append(entries, Sysctl(root, s))
	}
	if e, ok := Topology(root, in); ok {
		entries = append(entries, e)
	}
	entries = append(entries, DropIns(root, in, out))
	// One measurement for both: the core's CPUs and its ExecCondition=
	// come from the same place (the gate's own cgroup, or systemd).
	m := measure(cfg.CoreService, out.CPUMode, in.Topology.Online)
	entries = append(entries, CoreGate(cfg.CoreService, m))
	if out.Plan.Reserved {
		entries = append(entries, CoreCPUs(cfg.CoreService, out, in.Topology.Online, func(string, generate.CPUMode, cpuset.Set) Measurement { return m }))
	}
	entries = append(entries, CoreMemory(root, cfg.CoreService, cfg.Swappiness, swap.Target, m))
	return entries
}

// Config is the guarantee entry for a configuration that cannot be read
// (err from config.Load): it fails, and nothing else can be measured.
func Config(err error) Entry {
	return Entry{Name: NameConfig, Expected: "a configuration that can be read and is valid",
		Reason: err.Error(),
		Remedy: "fix the file and line named, then: systemctl restart " + names.ActivatorUnit}
}

// Sysctls returns the kernel parameters cfg asks for.
func Sysctls(cfg config.Config) []sysctl.Setting {
	return []sysctl.Setting{
		{Key: "vm.swappiness", Value: strconv.Itoa(cfg.Swappiness)},
		{Key: "vm.vfs_cache_pressure", Value: strconv.Itoa(cfg.VFSCachePressure)},
	}
}

// Sysctl measures one kernel parameter.
func Sysctl(root hostroot.Root, s sysctl.Setting) Entry {
	e := Entry{Name: NameSysctl + s.Key, Expected: s.Value}
	cur, err := sysctl.Read(root, s.Key)
	e.Actual = cur
	e.OK = err == nil && cur == s.Value
	switch {
	case err != nil:
		e.Reason = fmt.Sprintf("%s cannot be read: %v", s.Key, err)
		e.Remedy = "fix the cause, then: systemctl restart " + names.ActivatorUnit
	case !e.OK:
		e.Reason = fmt.Sprintf("%s is %q, want %q", s.Key, cur, s.Value)
		e.Remedy = SysctlRemedy(root, s.Key, cur)
	case s.Key == vfsCachePressure:
		judgeVFSCachePressure(root, &e)
	}
	return e
}

// The kernel's dentry and inode reclaim ratio: vm.vfs_cache_pressure over
// vm.vfs_cache_pressure_denom (Linux 6.16 and later; 100, its least value,
// by default; before, always 100).
const (
	vfsCachePressure      = "vm.vfs_cache_pressure"
	vfsCachePressureDenom = "vm.vfs_cache_pressure_denom"
)

// judgeVFSCachePressure judges vm.vfs_cache_pressure (e, measured at its
// configured value) by the ratio the kernel applies: the value over
// vm.vfs_cache_pressure_denom, where the tuner's value counts per 100.
// Why: with an administrator's denominator of 1000 the configured 50 read
// back as 50 and held, while the kernel reclaimed dentries and inodes at a
// tenth of that rate (a pressure near 0 can end in out-of-memory).
func judgeVFSCachePressure(root hostroot.Root, e *Entry) {
	d, err := sysctl.Read(root, vfsCachePressureDenom)
	if errors.Is(err, fs.ErrNotExist) {
		return // a kernel before the denominator: the value is per 100
	}
	if err != nil {
		e.OK = false
		e.Reason = fmt.Sprintf("%s cannot be read, so the pressure %s applies is not known: %v", vfsCachePressureDenom, vfsCachePressure, err)
		e.Remedy = "fix the cause, then: systemctl restart " + names.ActivatorUnit
		return
	}
	denom, err := strconv.ParseInt(d, 10, 64)
	if err != nil || denom <= 0 {
		e.OK = false
		e.Reason = fmt.Sprintf("%s is %q, not a positive number", vfsCachePressureDenom, d)
		e.Remedy = "fix the cause, then: systemctl restart " + names.ActivatorUnit
		return
	}
	if denom == 100 {
		return
	}
	val, _ := strconv.ParseInt(e.Actual, 10, 64)
	e.Actual = fmt.Sprintf("%s with %s=%d: %s per 100", e.Actual, vfsCachePressureDenom, denom, strconv.FormatFloat(float64(val)*100/float64(denom), 'f', -1, 64))
	e.Source = fmt.Sprintf("%s / %s * 100", vfsCachePressure, vfsCachePressureDenom)
	if e.OK = val == 0; e.OK {
		return // 0 is never reclaiming, whatever the denominator
	}
	e.Reason = fmt.Sprintf("%s is %d, so %s=%d makes the kernel reclaim dentries and inodes at %s per 100, not the configured %s", vfsCachePressureDenom, denom, vfsCachePressure, val, strconv.FormatFloat(float64(val)*100/float64(denom), 'f', -1, 64), e.Expected)
	restart := "systemctl restart " + names.ActivatorUnit
	if set, ok := sysctld.LastSetter(root, vfsCachePressureDenom); ok && set.Value == d {
		e.Remedy = fmt.Sprintf("%s sets %s = %s: remove that line, then: sysctl -w %s=100 and %s", set.File, vfsCachePressureDenom, d, vfsCachePressureDenom, restart)
		return
	}
	e.Remedy = fmt.Sprintf("something set %s (a program, or sysctl -w): find it and stop it, then: sysctl -w %s=100 and %s", vfsCachePressureDenom, vfsCachePressureDenom, restart)
}

// SysctlRemedy says what to do about key having the value cur instead of
// the configured one: it names the sysctl.d file that `sysctl --system`
// applies last for key when that file gives cur. Why: a fixed remedy
// ("remove it from /etc/sysctl.conf") sends the administrator to the wrong
// file when another one, such as the package's own
// /usr/lib/sysctl.d/60-ransomeye-tuner.conf, put the value back.
func SysctlRemedy(root hostroot.Root, key, cur string) string {
	restart := "systemctl restart " + names.ActivatorUnit
	set, ok := sysctld.LastSetter(root, key)
	switch {
	case !ok || set.Value != cur:
		return fmt.Sprintf("something set it after %s, and no file that sysctl --system applies gives it that value (a program, or sysctl -w): find it and stop it, then: %s", names.ActivatorUnit, restart)
	case path.Base(set.File) == sysctld.FileName:
		return fmt.Sprintf("a later sysctl --system applied the package's own %s (%s = %s), because %s, which activate writes with the configured values, is missing or out of date: %s", set.File, key, set.Value, path.Join(sysctld.RunDir, sysctld.FileName), restart)
	}
	return fmt.Sprintf("%s sets %s = %s, and a later sysctl --system applied it: remove that line (or set the value in /etc/ransomeye/tuner.conf [Sysctl]), then: %s", set.File, key, set.Value, restart)
}

// Swap is the swap guarantee: the configured swapfile active now with at
// least the target size, max(MinSize, MemTotal), as the kernel counts it.
// It is the swap decision's own answer (swapplan.Plan.InEffect), so that
// activate, status, plan and the gate cannot disagree about it.
func Swap(p *swapplan.Plan) Entry {
	e := Entry{Name: NameSwap, OK: p.InEffect}
	e.Expected = fmt.Sprintf("swapfile %q active with at least %s", p.Path, fsinfo.Human(p.Target))
	if p.Ours != nil {
		e.Actual = "active with " + fsinfo.Human(p.Ours.Size)
	} else {
		e.Actual = "not active"
	}
	if !p.InEffect {
		e.Reason, e.Remedy = splitRemedy(p.NotInEffect)
	}
	return e
}

// splitRemedy splits a decision's message "reason; fix ..." at its remedy.
func splitRemedy(msg string) (reason, remedy string) {
	for _, sep := range []string{"; fix the cause", "; reboot", "; run "} {
		if i := strings.Index(msg, sep); i > 0 {
			return msg[:i], msg[i+2:]
		}
	}
	return msg, ""
}

// OnlineCPUs counts the online CPUs from sysfs under root. With fewer than
// cpuplan.MinCores of them no reservation is made, whatever the rest of the
// topology says.
func OnlineCPUs(root hostroot.Root) (int, bool) {
	b, err := os.ReadFile(root.Path(topology.CPUDir + "/online"))
	if err != nil {
		return 0, false
	}
	s, err := cpuset.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return s.Len(), true
}

// Topology is the guarantee that the CPU topology can be trusted, when CPU
// isolation is on and it cannot be read (ok false: nothing to report). With
// fewer online CPUs than a reservation needs physical cores no plan is made
// whatever the rest of the topology says: nothing to guarantee, so it holds,
// with a note.
func Topology(root hostroot.Root, in generate.Input) (Entry, bool) {
	if in.Config.Isolation == config.IsolationOff || in.TopologyErr == nil {
		return Entry{}, false
	}
	e := Entry{Name: NameCPUTopology, Expected: "a CPU topology that can be trusted", Actual: "cannot be trusted: " + in.TopologyErr.Error()}
	if n, ok := OnlineCPUs(root); ok && n < cpuplan.MinCores {
		e.OK = true
		e.Reason = fmt.Sprintf("the CPU topology cannot be read (%v); with %d online CPUs no CPU reservation is made anyway", in.TopologyErr, n)
		return e, true
	}
	e.Reason = fmt.Sprintf("the CPU topology cannot be trusted (%v), so CPU isolation ([CPU] Isolation=%s) is not guaranteed", in.TopologyErr, in.Config.Isolation)
	e.Remedy = "fix the cause, or set [CPU] Isolation=off"
	return e, true
}

// DropIns is the guarantee that the CPU drop-ins in effect (under the
// generator's normal directory) are those of a fresh plan
// (generate.CheckCPUFiles).
func DropIns(root hostroot.Root, in generate.Input, out generate.Output) Entry {
	e := Entry{Name: NameCPUDropIns, Expected: fmt.Sprintf("the CPU drop-ins of the current plan (CPU mode %s)", out.CPUMode)}
	diffs := generate.CheckCPUFiles(root, generate.NormalDir, in.Config, out)
	if len(diffs) == 0 {
		e.OK, e.Actual = true, "match"
		return e
	}
	e.Actual = fmt.Sprintf("%d difference(s)", len(diffs))
	e.Reason = "the CPU drop-ins in effect do not match this machine: " + strings.Join(diffs, "; ")
	e.Remedy = generate.StaleRemedy
	return e
}
