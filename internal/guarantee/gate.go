package guarantee

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// GatePath is the program the shipped and the generated gate drop-ins run.
const GatePath = "/usr/sbin/" + names.ActivatorName

// RunsGate reports whether one of the commands is our gate as the gate
// drop-ins write it and as systemd will run it: GatePath with "--root=/"
// (or "--root /") and the subcommand "gate", and no ignore-failure flag.
// Why: if any argv holding "gate" counted, a gate on another tree
// (--root=/srv/copy), one taking its root from RANSOMEYE_TUNER_ROOT in the
// core's environment, or a program of that name elsewhere would hold
// core-gate while checking nothing about this host; and a "-" prefix makes
// systemd start the core whatever the gate exits.
func RunsGate(cmds []Command) bool {
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

// CoreGate is the guarantee that systemd runs the gate before starting the
// core: its ExecCondition= list holds `ransomeye-tuner ... gate`. Why: an
// administrator's drop-in with an empty ExecCondition= (which resets the
// list) removes the gate, and without this check nothing notices: status
// stays COMPLIANT while the core would start whatever the tuner found.
// The gate itself, running in the core's cgroup, is the proof that it
// runs; outside it, systemd is asked over D-Bus (m, from the same
// measurement as the core's CPUs).
func CoreGate(core string, m Measurement) Entry {
	e := Entry{Name: NameCoreGate, Expected: fmt.Sprintf("%s's ExecCondition= runs %s gate", core, names.ActivatorName), Source: m.Source}
	switch {
	case m.InCgroup:
		e.OK, e.Actual, e.Source = true, "the gate is running in "+core+"'s cgroup", ""
		return e
	case m.NotMeasured != "":
		e.NotMeasured = true
		e.Reason = fmt.Sprintf("whether %s runs the gate is not measured: %s", core, m.NotMeasured)
		return e
	case m.Err != nil:
		e.Reason = fmt.Sprintf("whether %s runs the gate cannot be measured: %v", core, m.Err)
		e.Remedy = "fix the cause; the core's guarantees are not enforced until then"
		return e
	}
	e.Source = "systemd's ExecCondition of " + core
	var lines []string
	ignored := false
	for _, c := range m.ExecCondition {
		line := strings.Join(c.Argv, " ")
		if c.IgnoreFailure {
			line, ignored = "-"+line, true
		}
		lines = append(lines, line)
	}
	e.Actual = "none"
	if len(lines) > 0 {
		e.Actual = strings.Join(lines, "; ")
	}
	if e.OK = RunsGate(m.ExecCondition); e.OK && m.ConditionRoot == "" {
		return e
	}
	if e.OK {
		// "+" lifts User= and the sandboxing options, not the root: systemd
		// runs every command of the unit there unless
		// RootDirectoryStartOnly=yes, and in the core's tree the gate cannot
		// read the host's state (docs/design.md, "The gate").
		e.OK = false
		e.Reason = fmt.Sprintf("%s has %s, so systemd runs the gate in that tree, where it cannot see this host's state (the \"+\" prefix does not lift it): the core stays down at every start", core, m.ConditionRoot)
		e.Remedy = fmt.Sprintf("add RootDirectoryStartOnly=yes to %s (a drop-in: systemctl edit %s), then: systemctl daemon-reload", core, core)
		return e
	}
	e.Reason = fmt.Sprintf("%s does not run the gate: its ExecCondition= is %s (a drop-in setting an empty ExecCondition= resets the list, removing ransomeye-tuner's; only %s --root=/ gate counts, without a \"-\" prefix), so it would start whatever the tuner found", core, e.Actual, GatePath)
	if ignored {
		e.Reason = fmt.Sprintf("%s runs a command with the \"-\" prefix (%s): systemd ignores its failure, so the gate cannot keep the core down", core, e.Actual)
	}
	e.Remedy = fmt.Sprintf("find the drop-in with: systemctl cat %s, remove its ExecCondition= reset or \"-\" line (or add ExecCondition=+%s --root=/ gate after the reset), then: systemctl daemon-reload", core, GatePath)
	return e
}
