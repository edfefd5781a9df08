package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// WriteText writes the report as a readable table.
func (rep Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string, a ...any) { fmt.Fprintf(tw, "%s\t"+v+"\n", append([]any{k}, a...)...) }
	d := rep.Doc
	verdict := "COMPLIANT"
	switch d.State {
	case check.StateDisabled:
		verdict = "DISABLED (" + names.CmdlineSwitch + "=0 on the kernel command line)"
	case check.StateUnknown:
		// The word of the JSON and of exit code 4, with why.
		verdict = "UNKNOWN (the configuration is invalid: what to measure is not known)"
		if d.Config != nil && d.Config.Valid {
			verdict = "UNKNOWN (" + notRoot(d.Root) + ")"
		}
	case check.StateNotCompliant:
		verdict = "NOT COMPLIANT"
	}
	row("state", "%s", verdict)
	if d.Root != "/" {
		row("root", "%s", d.Root)
	}
	if rep.ProcMissing {
		row("not read", "%s", facts.ProcMissingNote)
	}
	if d.Config == nil {
		rep.writeMarker(row)
		return tw.Flush()
	}
	if !d.Config.Valid {
		row("config", "INVALID: %s", d.Config.Error)
		writeConfigWarnings(d.Config, row)
		rep.writeMarker(row)
		// The remedy the JSON, the gate and the marker give.
		for _, g := range d.Guarantees {
			if g.Name == check.NameConfig && g.Remedy != "" {
				row("remedy", "%s", g.Remedy)
			}
		}
		return tw.Flush()
	}
	cfgFiles := "built-in defaults"
	if len(d.Config.Files) > 0 {
		cfgFiles = strings.Join(d.Config.Files, ", ")
	}
	row("config", "%s", cfgFiles)
	writeConfigWarnings(d.Config, row)
	for _, r := range rep.SwapRows {
		row(r.Key, "%s", r.Value)
	}
	for _, g := range d.Guarantees {
		key, ok := strings.CutPrefix(g.Name, check.NameSysctl)
		if !ok {
			continue
		}
		if g.Actual != "" || g.OK {
			row(key, "%s (want %s)%s", g.Actual, g.Expected, mark(g.OK))
		} else {
			row(key, "unreadable: %s (want %s)%s", g.Reason, g.Expected, mark(g.OK))
		}
	}
	c := d.CPU
	switch {
	case c.TopologyErr != "":
		row("cpu topology", "not trustworthy: %s  [FAIL]", c.TopologyErr)
	case c.Topology != nil:
		row("cpu topology", "online %s, %d physical cores, %d NUMA node(s)", c.Topology.Online, c.Topology.PhysicalCores, c.Topology.Nodes)
	}
	if c.Reserved {
		row("cpu plan", "%s (isolation %s)", c.Mode, c.Isolation)
		for _, role := range c.rolesByUnit() {
			s := c.Sets[role]
			row("  "+s.Unit, "%s", s.CPUs)
		}
	} else if c.TopologyErr == "" {
		row("cpu plan", "no reservation: %s", c.Reason)
	}
	if c.DropInsMatch {
		row("cpu drop-ins", "match the current topology and configuration  [ok]")
	}
	for _, diff := range c.Differences {
		row("cpu drop-ins", "%s  [FAIL]", diff)
	}
	for _, g := range d.Guarantees {
		label := map[string]string{check.NameCoreCPUs: "core cpus applied", check.NameCoreGate: "core runs the gate",
			check.NameCoreMemory: "core memory cgroup"}[g.Name]
		switch {
		case label == "":
		case g.NotMeasured:
			row(label, "%s", g.Reason)
		case g.OK && g.Source == "":
			row(label, "%s  [ok]", g.Actual)
		case g.OK:
			row(label, "%s (%s)  [ok]", g.Actual, g.Source)
		default:
			row(label, "%s  [FAIL]", g.Reason)
		}
	}
	writePlacement(d.Placement, row)
	writeCapture(d.CaptureInterface, row)
	writeMemory(d.Memory, row)
	if m := d.Metrics; m != nil {
		switch {
		case m.Error != "":
			row("metrics", "NOT WRITTEN: %s (reported, not gated)", m.Error)
		case m.Note != "" && m.Path != "":
			row("metrics", "%s: %s", m.Path, m.Note)
		case m.Note != "":
			row("metrics", "%s", m.Note)
		default:
			row("metrics", "%s, last written %s", m.Path, m.WrittenAt)
		}
	}
	switch why, unread := d.NotMeasured["activation"]; {
	case d.Activation.SucceededThisBoot:
		row("activation", "%s succeeded in this boot  [ok]", names.ActivatorUnit)
	case unread:
		row("activation", "not read: %s", why)
	default:
		row("activation", "%s  [FAIL]", d.Activation.Detail)
	}
	rep.writeMarker(row)
	for _, p := range d.Problems {
		row("problem", "%s", p)
	}
	if d.State == check.StateUnknown && d.Config.Valid {
		var keys []string
		for k := range d.NotMeasured {
			if k != "core_gated" { // derived from the others
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			row("not read", "%s: %s", k, d.NotMeasured[k])
		}
	}
	return tw.Flush()
}

// notRoot is the state when a run that is not root's could not read what
// the verdict needs, with the command that gives one (the same root).
func notRoot(root string) string {
	cmd := names.ActivatorName + " status"
	if root != "/" {
		cmd = names.ActivatorName + " --root " + root + " status"
	}
	return "not run as root, so what needs root was not read; for a verdict run it as root: " + cmd
}

// writeConfigWarnings writes one row per configuration warning: what the
// files hold that is not used is said where the configuration is.
func writeConfigWarnings(c *Config, row func(k, v string, a ...any)) {
	for _, w := range c.Warnings {
		row("config warning", "%s", w)
	}
}

func (rep Report) writeMarker(row func(k, v string, a ...any)) {
	m := rep.Marker
	why, unread := rep.NotMeasured["marker"]
	switch {
	case !m.Present && unread:
		row("failure marker", "not read: %s", why)
	case !m.Present:
		row("failure marker", "absent  [ok]")
	}
	for i, reason := range m.Reasons {
		if i == 0 {
			row("failure marker", "%s  [FAIL]", m.Path)
		}
		row("  reason", "%s", reason)
	}
	for _, p := range m.Planted {
		row("planted marker", "%s (not genuine: the gate removes it)", p)
	}
	for _, e := range m.Errors {
		row("marker error", "%s", e)
	}
}

func mark(ok bool) string {
	if ok {
		return "  [ok]"
	}
	return "  [FAIL]"
}

// writePlacement writes the placement rows.
func writePlacement(p *check.Placement, row func(k, v string, a ...any)) {
	if p == nil {
		return
	}
	row("placement", "reserved CPUs %s (reported, not gated)", p.Reserved)
	if i := p.Isolation; i != nil {
		if i.Degraded() {
			row("  isolation", "DEGRADED: %s", i.Cause)
			for _, e := range i.Escapes {
				row("  isolation escape", "%s: %s", e.Unit, e.Reason)
			}
			row("  isolation remedy", "%s", i.Remedy)
		} else {
			row("  isolation", "%s", i.State)
		}
	}
	for _, s := range p.Services {
		switch {
		case s.Err != "":
			row("  "+s.Unit, "cpuset not read: %s", s.Err)
		case s.Escapes != "":
			row("  "+s.Unit, "cpuset.cpus.effective %s, plan %s: escapes to %s", s.Effective, s.Planned, s.Escapes)
		default:
			row("  "+s.Unit, "cpuset.cpus.effective %s (plan %s)", s.Effective, s.Planned)
		}
	}
	row("  default irq affinity", "%s", p.DefaultIRQAffinity)
	if len(p.IRQsOnReserved) == 0 {
		row("  irqs on reserved cpus", "none")
	}
	for _, q := range p.IRQsOnReserved {
		row("  irq on reserved cpus", "%d (%s) on %s (%s)", q.IRQ, q.Name, q.CPUs, q.Source)
	}
	for _, q := range p.IRQsUnmovable {
		row("  irq unmovable", "%d (%s) on %s: managed or per-CPU, the kernel places it (it refuses user space's moves)", q.IRQ, q.Name, q.CPUs)
	}
	for _, q := range p.IRQsMovePending {
		row("  irq move pending", "%d (%s) on %s, asked onto %s: the kernel moves it when it next fires", q.IRQ, q.Name, q.CPUs, q.Requested)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Workqueue)) {
		row("  workqueue mask", "%s: %s", k, p.Workqueue[k])
	}
	if len(p.ThreadsOnReserved) == 0 && p.ThreadsErr == "" {
		row("  other threads", "none on reserved cpus")
	}
	for _, u := range p.ThreadsOnReserved {
		row("  threads on reserved cpus", "%s: %d (may run on %s; e.g. %s)", u.Unit, u.Threads, u.CPUs, u.Example)
	}
	if p.ThreadsErr != "" {
		row("  other threads", "%s", p.ThreadsErr)
	}
	for _, e := range p.Problems {
		row("  not read", "%s", e)
	}
}
