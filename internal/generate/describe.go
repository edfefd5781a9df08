package generate

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

// StaleRemedy is what to do when CheckCPUFiles finds differences.
const StaleRemedy = "run systemctl daemon-reload (the CPU topology or the configuration changed since the generator ran), then restart ransomeye-tuner.service"

// Describe renders in and out for people (`ransomeye-tuner plan`): the
// topology seen, the CPU sets or why there are none, the notes, and the
// files the generator writes with their content.
func Describe(in Input, out Output) string {
	var b strings.Builder
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
		p := out.Plan
		if p.Reserved {
			var sets []string
			for _, a := range p.Assignments {
				set := a.Role.Name + " " + a.CPUs.String()
				if a.Node >= 0 {
					set += fmt.Sprintf(" (node %d)", a.Node)
				}
				sets = append(sets, set)
			}
			fmt.Fprintf(&b, "CPU plan (%s, isolation %s): %s\n", out.CPUMode, out.Isolation, strings.Join(sets, ", "))
		} else {
			fmt.Fprintf(&b, "CPU plan: no reservation: %s\n", p.Reason)
		}
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
	switch p {
	case priolog.Emerg:
		return "EMERG"
	case priolog.Alert:
		return "ALERT"
	case priolog.Crit:
		return "CRIT"
	case priolog.Err:
		return "ERROR"
	case priolog.Warning:
		return "WARNING"
	case priolog.Notice:
		return "NOTICE"
	case priolog.Info:
		return "INFO"
	}
	return "DEBUG"
}
