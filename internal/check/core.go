package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// GatePath is the program the shipped and the generated gate drop-ins run.
const GatePath = "/usr/sbin/" + names.ActivatorName

// RunsGate reports whether one of the commands is our gate as systemd runs
// it: GatePath "--root=/" (or "--root /") "gate", without "-" (systemd
// would start the core whatever it exits); a gate on another tree, or
// taking its root from the core's environment, checks nothing here.
func RunsGate(cmds []facts.Command) bool {
	for _, c := range cmds {
		if c.IgnoreFailure || c.Path != GatePath || len(c.Argv) == 0 || c.Argv[0] != GatePath {
			continue
		}
		if args := c.Argv[1:]; slices.Equal(args, []string{"--root=/", "gate"}) || slices.Equal(args, []string{"--root", "/", "gate"}) {
			return true
		}
	}
	return false
}

// coreGate is the guarantee that systemd runs the gate before the core (an
// empty ExecCondition= in a drop-in resets the list): proven by the gate
// running in the core's cgroup, else asked of systemd.
func coreGate(m facts.Core) Check {
	core := m.Unit
	c := Check{Name: NameCoreGate, Expected: fmt.Sprintf("%s's ExecCondition= runs %s gate", core, names.ActivatorName)}
	switch {
	case m.InCgroup:
		c.OK, c.Actual = true, "the gate is running in "+core+"'s cgroup"
		return c
	case m.NotMeasured != "":
		c.NotMeasured = true
		c.Reason = fmt.Sprintf("whether %s runs the gate is not measured: %s", core, m.NotMeasured)
		return c
	case m.Err != nil:
		c.Reason = fmt.Sprintf("whether %s runs the gate cannot be measured: %v", core, m.Err)
		c.Remedy = RemedyNotEnforced
		return c
	}
	c.Source = "systemd's ExecCondition of " + core
	var lines []string
	ignored := false
	for _, cmd := range m.ExecCondition {
		line := strings.Join(cmd.Argv, " ")
		if cmd.IgnoreFailure {
			line, ignored = "-"+line, true
		}
		lines = append(lines, line)
	}
	c.Actual = "none"
	if len(lines) > 0 {
		c.Actual = strings.Join(lines, "; ")
	}
	if c.OK = RunsGate(m.ExecCondition); c.OK && m.ConditionRoot == "" {
		return c
	}
	if c.OK {
		// "+" lifts User= and sandboxing, not the root: there the gate
		// cannot read the host's state (docs/design.md, "The gate").
		c.OK = false
		c.Reason = fmt.Sprintf("%s has %s, so systemd runs the gate in that tree, where it cannot see this host's state (the \"+\" prefix does not lift it): the core stays down at every start", core, m.ConditionRoot)
		// recover, not daemon-reload alone: the gate refused every start
		// until now, and recover starts a core whose start it refused.
		c.Remedy = fmt.Sprintf("add RootDirectoryStartOnly=yes to %s (a drop-in: systemctl edit %s), %s", core, core, then)
		return c
	}
	c.Reason = fmt.Sprintf("%s does not run the gate: its ExecCondition= is %s (a drop-in setting an empty ExecCondition= resets the list, removing ransomeye-tuner's; only %s --root=/ gate counts, without a \"-\" prefix), so it would start whatever the tuner found", core, c.Actual, GatePath)
	if ignored {
		c.Reason = fmt.Sprintf("%s runs a command with the \"-\" prefix (%s): systemd ignores its failure, so the gate cannot keep the core down", core, c.Actual)
	}
	c.Remedy = remedyCoreGate(core)
	return c
}

// coreCPUs is the guarantee that the core gets the plan's core set: an
// administrator's AllowedCPUs= or CPUAffinity= overrides our drop-in.
func coreCPUs(f *facts.Facts, p plan.Plan) Check {
	m, want := f.Core, p.CPU.Core()
	c := Check{Name: NameCoreCPUs, Expected: want.String()}
	set, src, err := Applied(m, p.CPUMode, f.Topology.Online)
	c.Source = src
	switch {
	case m.NotMeasured != "":
		c.NotMeasured = true
		c.Reason = fmt.Sprintf("the CPUs %s gets are not measured: %s", m.Unit, m.NotMeasured)
		return c
	case err != nil:
		c.Reason = fmt.Sprintf("the CPUs %s gets cannot be measured: %v", m.Unit, err)
		c.Remedy = RemedyPlanNotGuaranteed
		return c
	}
	c.Actual = set.String()
	c.OK, c.Reason = CompareCoreSet(m.Unit, want, set)
	if !c.OK {
		c.Remedy = remedyCoreCPUs(m.Unit)
	}
	return c
}

// CompareCoreSet compares the CPUs the core gets with the plan's core set,
// naming the difference.
func CompareCoreSet(core string, want, got cpuset.Set) (bool, string) {
	if got.Equal(want) {
		return true, ""
	}
	var diff []string
	if extra := got.Difference(want); !extra.IsEmpty() {
		diff = append(diff, "it also gets CPUs "+extra.String()+", which the plan keeps from it")
	}
	if missing := want.Difference(got); !missing.IsEmpty() {
		diff = append(diff, "it lacks CPUs "+missing.String()+" of its own")
	}
	return false, fmt.Sprintf("%s gets CPUs %q, the plan gives it %q (%s): something overrides ransomeye-tuner's CPU drop-in", core, got.String(), want.String(), strings.Join(diff, ", and "))
}

// Applied is the CPU set the core gets as m measured it (mode: how the plan
// is enforced; online: what "no restriction" means), and its source: in
// its cgroup, this process's affinity; else AllowedCPUs= within its
// slice's cpuset.cpus.effective where enforced (a set disjoint from the
// parent's gets the parent's, as the kernel does: the gate sees that),
// and CPUAffinity=.
func Applied(m facts.Core, mode plan.CPUMode, online cpuset.Set) (cpuset.Set, string, error) {
	if m.InCgroup {
		return m.Self, "the CPU affinity of the gate, running in " + m.Unit + "'s cgroup", m.Err
	}
	if m.Err != nil || m.NotMeasured != "" {
		return cpuset.Set{}, "", m.Err
	}
	src := fmt.Sprintf("systemd's AllowedCPUs=%s CPUAffinity=%s of %s", m.Allowed, m.Affinity, m.Unit)
	set := online
	if mode == plan.CPUModeAllowedCPUs {
		if m.SliceErr != nil {
			return cpuset.Set{}, "", m.SliceErr
		}
		if !m.Allowed.IsEmpty() {
			set = set.Intersect(m.Allowed)
		}
		if parent := m.SliceCPUs; !parent.IsEmpty() {
			src += fmt.Sprintf(" in %s (cpuset.cpus.effective %s)", m.Slice, parent)
			if in := set.Intersect(parent); !in.IsEmpty() {
				set = in
			} else {
				set = parent
			}
		}
	}
	if !m.Affinity.IsEmpty() {
		set = set.Intersect(m.Affinity)
	}
	return set, src, nil
}
