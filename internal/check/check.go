// Package check judges the facts of one run against its plan: every
// guarantee the core depends on, the records (marker, this boot's success)
// and what is reported only (placement, isolation, the memory protection
// and its drop-ins). Run is the one judgement the gate, status, metrics,
// plan and activate render; none re-derives a reason. Remedies are worded
// in remedy.go.
package check

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/privilege"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// Names of the guarantees: stable identifiers, for JSON and metrics labels.
const (
	NameConfig      = "configuration" // unreadable configuration: nothing else evaluated
	NameSwap        = "swap"
	NameSysctl      = "sysctl:" // + the key: "sysctl:vm.swappiness"
	NameCPUTopology = "cpu-topology"
	NameCPUDropIns  = "cpu-dropins"
	NameCoreCPUs    = "core-cpus"
	NameCoreGate    = "core-gate"   // the core runs the gate (its ExecCondition=)
	NameCoreMemory  = "core-memory" // the core's memory cgroup lets the swap and swappiness reach it
)

// Check is one guarantee as measured now (status --json "guarantees").
type Check struct {
	Name string `json:"name"`
	// Expected is what the guarantee needs, for people.
	Expected string `json:"expected"`
	// Actual is what was measured ("" when it could not be).
	Actual string `json:"actual,omitempty"`
	// Source says where Actual comes from, when it is not obvious.
	Source string `json:"source"`
	OK     bool   `json:"ok"`
	// NotMeasured: this run cannot measure it (Reason says why); neither
	// a failure nor a pass.
	NotMeasured bool `json:"not_measured"`
	// Reason says why it does not hold, was not measured, or a note.
	Reason string `json:"reason"`
	Remedy string `json:"remedy"`
}

// Failed reports whether the check keeps the core down: measured, failing.
func (c Check) Failed() bool { return !c.OK && !c.NotMeasured }

// Problem is the check's failure as one line: reason and remedy.
func (c Check) Problem() string {
	if c.Remedy == "" {
		return c.Reason
	}
	return c.Reason + "; " + c.Remedy
}

// Result is the judgement of one run.
type Result struct {
	// Disabled: ransomeye.tuner=0; only the marker keeps the core down.
	Disabled bool
	// ConfigErr is the configuration's error ("" when it is valid).
	ConfigErr string
	// ConfigWarnings are what the configuration's files hold that is not
	// used (unknown sections and keys, files not read), valid or not.
	ConfigWarnings []config.Problem
	// Core is the core's unit (under an invalid configuration the one it
	// still names, else the default).
	Core string
	// GateUnit, set by the gate alone, is the unit its lines name (the
	// static gate may run for another unit than the core); "" names Core.
	GateUnit string
	Checks   []Check
	Marker   Marker
	// Activated says whether activate succeeded in this boot, and why not.
	Activated    bool
	ActivatedWhy string
	// DropInDiffs are the differences between the CPU drop-ins in effect
	// and the plan's; MemoryDiffs those of the memory drop-ins (reported
	// in Memory, never gated).
	DropInDiffs []string
	MemoryDiffs []string
	// Placement is reported only; nil without a reservation.
	Placement *Placement
	// Memory is what the kernel applies of the memory plan, reported and
	// never gated (memview.go); nil when the run does not read it.
	Memory *Memory
	// Capture is the capture interface against the DPI CPUs, reported
	// only; nil without [CPU] DPIInterface= (or when it was not read).
	Capture *CaptureInterface
	// NotRead is what a run that is not root's could not read, by what it
	// is ("swap", "activation", "marker"), with why (privilege.Reason):
	// no verdict is made from it, and without a measured failure the
	// state is unknown.
	NotRead map[string]string
	// activationUnread: the success record could not be examined (not
	// root): NotRead says it, Problems does not.
	activationUnread bool
}

// Marker is the marker part of a Result (status --json "marker").
type Marker struct {
	Present bool `json:"present"`
	// Path is the first genuine marker's; Reasons all genuine reasons.
	Path    string   `json:"path,omitempty"`
	Reasons []string `json:"reasons"`
	// Planted are markers not written by root (the gate removes them).
	Planted []string `json:"planted"`
	// Errors are locations that could not be examined; States what each
	// holds.
	Errors []string       `json:"errors"`
	States []marker.State `json:"-"`
}

// Run judges f against p (decided on f).
func Run(f *facts.Facts, p plan.Plan) Result {
	r := Result{Disabled: !f.Enabled, Core: f.CoreName(), Activated: f.Activated, ActivatedWhy: f.ActivatedWhy, Checks: []Check{}, NotRead: map[string]string{},
		ConfigWarnings: f.ConfigWarnings}
	// What the configuration asks that is unwise on this machine's RAM is
	// said where the configuration's own warnings are.
	for _, w := range p.Memory.Warnings {
		r.ConfigWarnings = append(slices.Clip(r.ConfigWarnings), config.Problem{Message: w})
	}
	var markerUnread []string
	r.Marker, markerUnread = markers(f.Markers)
	if len(markerUnread) > 0 {
		r.NotRead["marker"] = strings.Join(markerUnread, "; ")
	}
	if privilege.Denied(f.ActivatedErr) {
		r.NotRead["activation"], r.activationUnread = privilege.Reason(f.ActivatedErr), true
	}
	if r.Disabled {
		return r
	}
	if f.ConfigErr != nil {
		r.ConfigErr = f.ConfigErr.Error()
		r.Checks = []Check{{Name: NameConfig, Expected: "a configuration that can be read and is valid", Reason: r.ConfigErr, Remedy: RemedyConfig}}
		return r
	}
	if p.SwapDecided {
		r.Checks = append(r.Checks, swapCheck(p))
		if p.Swap.NotMeasured != "" {
			r.NotRead["swap"] = p.Swap.NotMeasured
		}
	}
	for _, s := range p.Sysctls {
		if _, ok := f.Sysctls[s.Key]; ok {
			r.Checks = append(r.Checks, Sysctl(f, s))
		}
	}
	if c, ok := topologyCheck(f); ok {
		r.Checks = append(r.Checks, c)
	}
	if c, ok := cpuPlanCheck(f, p); ok {
		r.Checks = append(r.Checks, c)
	}
	if f.DropIns != nil {
		r.DropInDiffs = dropInDiffs(f, p)
		r.Checks = append(r.Checks, dropInsCheck(p, r.DropInDiffs))
		r.MemoryDiffs = fileDiffs(f, units.MemoryFilePaths(f.Config), p.MemoryFiles())
	}
	if f.Core.Unread {
		r.NotRead["core"] = f.Core.NotMeasured
	}
	if f.Core.Unit != "" {
		r.Checks = append(r.Checks, coreGate(f.Core))
		if p.CPU.Reserved {
			r.Checks = append(r.Checks, coreCPUs(f, p))
		}
		r.Checks = append(r.Checks, CoreMemory(f.Core.Unit, f.Memory, f.Config.Swappiness, p.Swap.Target.Bytes))
	}
	if p.CPU.Reserved && f.Placement.Read {
		r.Placement = placementView(f, p)
	}
	if f.Capture.Read {
		r.Capture = captureView(f, p)
	}
	if f.Reads(facts.ReadMemoryEffect) {
		r.Memory = memoryView(f, p, r.MemoryDiffs)
	}
	return r
}

// markers sums up the marker locations; unread are those a run that is
// not root's could not examine: no error that keeps the core down, no
// verdict either.
func markers(states []marker.State) (m Marker, unread []string) {
	m = Marker{States: states, Reasons: []string{}, Planted: []string{}, Errors: []string{}}
	for _, st := range states {
		switch {
		case privilege.Denied(st.Err):
			unread = append(unread, privilege.Reason(st.Err))
		case st.Err != nil:
			m.Errors = append(m.Errors, st.Err.Error())
		case st.Genuine:
			if !m.Present {
				m.Path = st.Path
			}
			m.Present = true
			m.Reasons = append(m.Reasons, st.Reasons()...)
		case st.Present:
			m.Planted = append(m.Planted, fmt.Sprintf("%s (%s)", st.Path, st.Planted))
		}
	}
	return m, unread
}

// swapCheck is the swap guarantee, the provider's own answer, so that
// activate, status, plan and the gate cannot disagree.
func swapCheck(p plan.Plan) Check {
	d := p.Swap
	c := Check{Name: NameSwap, OK: d.InEffect, Expected: d.Expected, Actual: d.Actual}
	switch {
	case d.NotMeasured != "":
		c.NotMeasured, c.Reason = true, d.NotMeasured
	case !d.InEffect:
		c.Reason, c.Remedy = d.NotInEffect, d.Remedy
	}
	return c
}

// Sysctl judges one kernel parameter of f against the wanted s.
func Sysctl(f *facts.Facts, s sysctl.Setting) Check {
	key, want, v := s.Key, s.Value, f.Sysctls[s.Key]
	c := Check{Name: NameSysctl + key, Expected: want, Actual: v.Value, OK: v.Err == nil && v.Value == want}
	switch {
	case v.Err != nil:
		c.Reason = fmt.Sprintf("%s cannot be read: %v", key, v.Err)
		c.Remedy = RemedyRestart
	case !c.OK && marker.Before(f.Stopped, marker.StepSysctls):
		// Activate never set it: nothing set it after activate, and no
		// sysctl --system undid it.
		c.Reason = fmt.Sprintf("%s is %q, want %q: not applied: activation stopped at %s (the failure marker says why)", key, v.Value, want, f.Stopped)
		c.Remedy = RemedyMarker
	case !c.OK && f.Reads(facts.ReadRecords) && f.BootID != "" && !f.Activated && f.ActivatedErr == nil && !f.SysctlsSetThisBoot:
		// Killed (a timeout, the OOM killer) before it set them: the
		// marker has no step, and nothing else is to blame.
		c.Reason = fmt.Sprintf("%s is %q, want %q: not applied: this boot's activation did not finish (%s)", key, v.Value, want, f.ActivatedWhy)
		c.Remedy = RemedyRestart
		for _, m := range f.Markers {
			if m.Genuine && len(m.Entries) > 0 {
				c.Remedy = RemedyMarker
			}
		}
	case !c.OK && v.TunedFound && v.Tuned.Value == v.Value:
		c.Reason = reasonTuned(key, want, v)
		c.Remedy = RemedyTuned(key, want, v.Tuned.Active)
	case !c.OK:
		c.Reason = fmt.Sprintf("%s is %q, want %q", key, v.Value, want)
		c.Remedy = remedySysctl(key, v)
	case key == sysctl.VFSCachePressure:
		vfsCachePressure(&c, f.Sysctls[sysctl.VFSCachePressureDenom])
	}
	return c
}

// topologyCheck is the guarantee that the CPU topology can be trusted, when
// isolation is on and it cannot be (ok false: nothing to report). With
// fewer online CPUs than a reservation needs, it holds, with a note.
func topologyCheck(f *facts.Facts) (Check, bool) {
	if !f.TopologyRead || f.TopologyErr == nil {
		return Check{}, false
	}
	c := Check{Name: NameCPUTopology, Expected: "a CPU topology that can be trusted", Actual: "cannot be trusted: " + f.TopologyErr.Error()}
	if f.Online >= 0 && f.Online < cpuplan.MinCores && !cpuplan.Named(f.Config.Roles()) {
		c.OK = true
		c.Reason = fmt.Sprintf("the CPU topology cannot be read (%v); with %d online CPUs no CPU reservation is made anyway", f.TopologyErr, f.Online)
		return c, true
	}
	c.Reason = fmt.Sprintf("the CPU topology cannot be trusted (%v), so CPU isolation ([CPU] Isolation=%s) is not guaranteed", f.TopologyErr, f.Config.Isolation)
	c.Remedy = RemedyTopology
	return c, true
}

// dropInDiffs compares the CPU files in effect with p's confining ones
// (fileDiffs).
func dropInDiffs(f *facts.Facts, p plan.Plan) []string {
	return fileDiffs(f, units.CPUFilePaths(f.Config), p.CPUFiles())
}

// fileDiffs compares the files in effect at paths with the plan's files
// among them (files): one line per difference (a file missing, different,
// or present although a fresh plan writes none there). No lines: they
// match.
func fileDiffs(f *facts.Facts, paths []string, files []units.File) []string {
	want := map[string][]byte{}
	for _, cf := range files {
		want[cf.Path] = cf.Content
	}
	var diffs []string
	for _, rel := range paths {
		got, w := f.DropIns[rel], want[rel]
		hostPath := units.NormalDir + "/" + rel
		switch {
		case facts.Missing(got.Err) && w != nil:
			diffs = append(diffs, fmt.Sprintf("%q is missing; the current topology and configuration need it", hostPath))
		case facts.Missing(got.Err):
		case got.Err != nil:
			diffs = append(diffs, fmt.Sprintf("cannot read %q: %v", hostPath, got.Err))
		case w == nil:
			diffs = append(diffs, fmt.Sprintf("%q is there but the current topology and configuration give no such file", hostPath))
		case string(got.Content) != string(w):
			diffs = append(diffs, fmt.Sprintf("%q differs from what the current topology and configuration give", hostPath))
		}
	}
	return diffs
}

// dropInsCheck is the guarantee that the CPU drop-ins in effect are p's.
func dropInsCheck(p plan.Plan, diffs []string) Check {
	c := Check{Name: NameCPUDropIns, Expected: fmt.Sprintf("the CPU drop-ins of the current plan (CPU mode %s)", p.CPUMode)}
	if len(diffs) == 0 {
		c.OK, c.Actual = true, "match"
		return c
	}
	c.Actual = fmt.Sprintf("%d difference(s)", len(diffs))
	c.Reason = "the CPU drop-ins in effect do not match this machine: " + strings.Join(diffs, "; ")
	c.Remedy = RemedyStaleDropIns
	return c
}

// Gated reports whether the gate keeps the core down: a genuine or
// unexaminable marker always; with ransomeye.tuner=0 nothing else; else no
// activation this boot, an invalid configuration, or a failing guarantee.
func (r Result) Gated() bool {
	if r.Marker.Present || len(r.Marker.Errors) > 0 {
		return true
	}
	return !r.Disabled && len(r.Problems()) > 0
}

// GatedKnown reports whether Gated is a verdict: not when what was not
// read (NotRead) could be what keeps the core down and nothing read does.
func (r Result) GatedKnown() bool { return len(r.NotRead) == 0 || r.Gated() }

// Compliant reports whether every guarantee holds and nothing keeps the
// core down (false when disabled, and when something was not read).
func (r Result) Compliant() bool {
	return !r.Disabled && len(r.Problems()) == 0 && len(r.NotRead) == 0
}

// The states of a Result, as status's JSON and exit code give them.
const (
	StateCompliant    = "compliant"     // every guarantee holds
	StateNotCompliant = "not_compliant" // a guarantee fails, or the marker holds
	StateDisabled     = "disabled"      // ransomeye.tuner=0
	StateUnknown      = "unknown"       // the configuration cannot be read, or a run not root's could not read what the verdict needs
)

// State sums the result up in one word.
func (r Result) State() string {
	switch {
	case r.Disabled:
		return StateDisabled
	case r.ConfigErr != "":
		return StateUnknown
	case len(r.Problems()) > 0:
		return StateNotCompliant
	case len(r.NotRead) > 0:
		return StateUnknown
	}
	return StateCompliant
}

// Problems are what keeps the core down, one line each (status's rows).
func (r Result) Problems() []string {
	if r.Disabled {
		return []string{fmt.Sprintf("disabled by the kernel command line (%s=0): resources are not guaranteed", names.CmdlineSwitch)}
	}
	var out []string
	for _, c := range r.Checks {
		switch {
		case c.Name == NameConfig:
			out = append(out, c.Reason)
		case c.Failed():
			out = append(out, c.Problem())
		}
	}
	if r.Marker.Present {
		out = append(out, "failure marker present: the core will not start")
	}
	for _, e := range r.Marker.Errors {
		out = append(out, "cannot examine the failure marker ("+e+"): the core will not start")
	}
	if r.ConfigErr == "" && !r.Activated && !r.activationUnread {
		out = append(out, fmt.Sprintf("%s has not succeeded in this boot (%s): the core will not start", names.ActivatorUnit, r.ActivatedWhy))
	}
	return out
}

// GateLines are why the core may not start, as the gate prints them: the
// marker alone when it holds; else a missing activation; else each failing
// guarantee. None: the core may start.
func (r Result) GateLines() []string {
	unit := r.Core
	if r.GateUnit != "" {
		unit = r.GateUnit
	}
	var out []string
	for _, st := range r.Marker.States {
		if st.Err != nil {
			out = append(out, fmt.Sprintf("%s: cannot examine %s (%v): not starting it (fail closed); %s", unit, st.Path, st.Err, RemedyRestart))
		}
		for _, reason := range st.Reasons() {
			// A reason activate recorded carries its check's remedy; one
			// systemd's failure gave (fail-closed) has none.
			if !strings.Contains(reason, names.ThenRecover) {
				reason += "; " + RemedyRestart
			}
			out = append(out, fmt.Sprintf("%s may not start: %s: %s", unit, st.Path, reason))
		}
	}
	// What a gate that is not root's (its "+" dropped) could not read is
	// no verdict: it keeps the core down, as before it could not read.
	keys := make([]string, 0, len(r.NotRead))
	for k := range r.NotRead {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s: cannot read %s (%s): not starting it (fail closed); %s", unit, k, r.NotRead[k], RemedyRestart))
	}
	switch {
	case len(out) > 0 || r.Disabled:
		return out
	case !r.Activated:
		return []string{fmt.Sprintf("%s may not start: %s has not succeeded in this boot (%s); see journalctl -b -u %s; %s", unit, names.ActivatorUnit, r.ActivatedWhy, names.ActivatorUnit, RemedyRestart)}
	}
	for _, c := range r.Checks {
		if c.Name == NameConfig || c.Failed() {
			out = append(out, fmt.Sprintf("%s may not start: %s: %s", unit, c.Name, c.Problem()))
		}
	}
	return out
}
