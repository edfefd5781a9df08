package plan

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

// Text renders p for people (`ransomeye-tuner plan`): the swap provider's
// decision, the sysctls, then what the generator would do.
func (p Plan) Text(f *facts.Facts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ransomeye-tuner plan for %s (nothing is changed)\n\n", f.Root)
	if f.ProcMissing {
		fmt.Fprintf(&b, "not read: %s\n\n", facts.ProcMissingNote)
	}
	switch {
	case f.CmdlineErr == nil && !f.Enabled:
		fmt.Fprintf(&b, "%s=0 on the kernel command line: the generator writes no units, activate only logs a warning, and ransomeye-core starts without guaranteed resources.\n", names.CmdlineSwitch)
		return b.String()
	case f.ConfigErr != nil:
		fmt.Fprintf(&b, "configuration is INVALID: %v\nThe generator would write no units (except the gate of a renamed core whose name is known) and activate would fail closed with this reason.\n\n", f.ConfigErr)
		return b.String() + p.describe(f)
	}
	fmt.Fprintf(&b, "== swap\n")
	if p.SwapDecided {
		for _, l := range f.Swap.Describe(p.Swap).Plan {
			fmt.Fprintln(&b, l)
		}
	}
	fmt.Fprintf(&b, "\n== sysctls\n")
	for _, s := range p.Sysctls {
		cur, change := f.Sysctls[s.Key].Value, "set"
		if err := f.Sysctls[s.Key].Err; err != nil {
			cur = "unreadable (" + err.Error() + ")"
		}
		if cur == s.Value {
			change = "already set"
		}
		fmt.Fprintf(&b, "%s = %s (now %s): %s, then read back\n", s.Key, s.Value, cur, change)
	}
	fmt.Fprintf(&b, "\n== generator (CPU plan and units)\n")
	return b.String() + p.describe(f)
}

// describe renders what the generator would do: topology, CPU sets or why
// none, notes, and the files with their content.
func (p Plan) describe(f *facts.Facts) string {
	var b strings.Builder
	out, in := p, f
	if !out.Enabled {
		fmt.Fprintf(&b, "generator: disabled by the kernel command line; no units\n")
		return b.String()
	}
	if in.ConfigErr != nil {
		if len(out.Files) == 0 {
			fmt.Fprintf(&b, "configuration: INVALID, no units would be written\n")
		} else {
			fmt.Fprintf(&b, "configuration: INVALID, only the core's gate below would be written\n")
		}
	} else {
		fmt.Fprintf(&b, "configuration: %s\n", filesOrDefaults(in.Config.Files))
	}
	switch {
	case in.ConfigErr != nil:
	case in.TopologyErr != nil:
		fmt.Fprintf(&b, "topology: not trustworthy: %v\n", in.TopologyErr)
	case !out.PlanMade:
		fmt.Fprintf(&b, "topology: not read (CPU isolation off)\n")
	default:
		t := in.Topology
		fmt.Fprintf(&b, "topology: online CPUs %s, %d physical cores, %d NUMA node(s)\n", t.Online, len(t.Cores), len(t.Nodes))
		for _, n := range t.Nodes {
			fmt.Fprintf(&b, "  node %d: CPUs %s\n", n.ID, n.CPUs)
		}
		if !t.Isolated.IsEmpty() {
			fmt.Fprintf(&b, "  isolated CPUs: %s\n", t.Isolated)
		}
		fmt.Fprintf(&b, "  root cpuset: %s\n", t.RootCpuset)
		fmt.Fprintf(&b, "  cgroup: v2=%t cpuset=%t\n", t.Cgroup.V2, t.Cgroup.Cpuset)
		if cp := out.CPU; cp.Reserved {
			var sets []string
			for _, a := range cp.Assignments {
				set := a.Role.Name + " " + a.CPUs.String()
				if a.Node >= 0 {
					set += fmt.Sprintf(" (node %d)", a.Node)
				}
				sets = append(sets, set)
			}
			fmt.Fprintf(&b, "CPU plan (%s, isolation %s): %s\n", out.CPUMode, out.Isolation, strings.Join(sets, ", "))
		} else {
			fmt.Fprintf(&b, "CPU plan: no reservation: %s\n", cp.Reason)
		}
	}
	if in.ConfigErr == nil {
		b.WriteString(out.captureText(in))
	}
	for _, n := range out.Notes {
		fmt.Fprintf(&b, "%s: %s\n", priorityName(n.Priority), n.Text)
	}
	for _, f := range out.Files {
		if f.IsSymlink() {
			fmt.Fprintf(&b, "\n== %s/%s -> %s\n", f.Dir, f.Path, f.Target)
			continue
		}
		fmt.Fprintf(&b, "\n== %s/%s\n%s", f.Dir, f.Path, f.Content)
	}
	return b.String()
}

func filesOrDefaults(files []string) string {
	if len(files) == 0 {
		return "no files, built-in defaults"
	}
	return strings.Join(files, ", ")
}

func priorityName(p priolog.Priority) string {
	if p >= 0 && int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "DEBUG"
}

var priorityNames = []string{"EMERG", "ALERT", "CRIT", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"}
