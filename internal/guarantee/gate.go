package guarantee

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// RunsGate reports whether one of the commands runs `ransomeye-tuner ...
// gate`.
func RunsGate(cmds []Command) bool {
	for _, c := range cmds {
		if path.Base(c.Path) == names.ActivatorName && len(c.Argv) > 1 && slices.Contains(c.Argv[1:], "gate") {
			return true
		}
	}
	return false
}

// CoreGate is the guarantee that systemd runs the gate before starting the
// core: its ExecCondition= list holds `ransomeye-tuner ... gate`. Why: an
// administrator's drop-in with an empty ExecCondition= (which resets the
// list) removed the gate, and nothing noticed: status stayed COMPLIANT
// while the core would start whatever the tuner found (FAULTS.md, finding
// 32). The gate itself, running in the core's cgroup, is the proof that it
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
	for _, c := range m.ExecCondition {
		lines = append(lines, strings.Join(c.Argv, " "))
	}
	e.Actual = "none"
	if len(lines) > 0 {
		e.Actual = strings.Join(lines, "; ")
	}
	if e.OK = RunsGate(m.ExecCondition); e.OK {
		return e
	}
	e.Reason = fmt.Sprintf("%s does not run the gate: its ExecCondition= is %s (a drop-in setting an empty ExecCondition= resets the list, removing ransomeye-tuner's), so it would start whatever the tuner found", core, e.Actual)
	e.Remedy = fmt.Sprintf("find the drop-in with: systemctl cat %s, remove its ExecCondition= reset (or add ExecCondition=+/usr/sbin/%s --root=/ gate after it), then: systemctl daemon-reload", core, names.ActivatorName)
	return e
}
