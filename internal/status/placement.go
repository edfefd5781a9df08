package status

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// Placement is what the kernel applies of the CPU partition beyond the
// core's own set: interrupts and unbound kernel work (placement.Observe),
// each pinned service's cpuset, and the threads of other units allowed on
// reserved CPUs. It is reported, never gated: the core's correctness does
// not depend on it (the gate checks the core's CPU set itself), and a
// driver can move its interrupts at any time. Nil without a reservation.
type Placement struct {
	placement.Effect
	// Gated is always false: none of this keeps the core down.
	Gated bool `json:"gated"`
	// ThreadsOnReserved are the units (outside the pinned services) with
	// threads allowed on reserved CPUs, read from /proc; ThreadsErr says
	// why they could not be read.
	ThreadsOnReserved []UnitThreads `json:"threads_on_reserved"`
	ThreadsErr        string        `json:"threads_error,omitempty"`
	// Isolation says whether what [CPU] Isolation= asks holds, and why
	// not (isolation.go).
	Isolation *Isolation `json:"isolation"`
}

// UnitThreads is one unit with threads allowed on reserved CPUs.
type UnitThreads struct {
	Unit string `json:"unit"`
	// Threads counts them; CPUs is the union of the reserved CPUs they may
	// run on; Example names one ("cron[612]").
	Threads int    `json:"threads"`
	CPUs    string `json:"cpus"`
	Example string `json:"example"`
}

// Escapes counts what escapes the partition, for the metrics: movable
// interrupts on reserved CPUs (not the unmovable ones, nor those whose
// move is pending: IRQsLeft counts them), threads of other units on them,
// and per pinned service the CPUs in effect outside its plan.
func (p *Placement) Escapes() (irqs, threads int, services map[string]int) {
	services = map[string]int{}
	if p == nil {
		return 0, 0, services
	}
	for _, u := range p.ThreadsOnReserved {
		threads += u.Threads
	}
	for _, s := range p.Services {
		if s.Effective == "" {
			continue
		}
		n := 0
		if set, err := cpuset.ParseMaybeEmpty(s.Escapes); err == nil {
			n = set.Len()
		}
		services[s.Unit] = n
	}
	return len(p.IRQsOnReserved), threads, services
}

// IRQsLeft counts the interrupts on reserved CPUs that are not escapes:
// unmovable (managed or per-CPU) and those whose move is pending.
func (p *Placement) IRQsLeft() (unmovable, pending int) {
	if p == nil {
		return 0, 0
	}
	return len(p.IRQsUnmovable), len(p.IRQsMovePending)
}

// maxTasks bounds the threads read from /proc (a few thousand on a busy
// appliance; each costs three small reads).
const maxTasks = 1 << 16

// GatherPlacement reads what is in effect for out (a Render of in); nil
// without a reservation (then nothing is an escape).
func GatherPlacement(root hostroot.Root, in generate.Input, out generate.Output) *Placement {
	if !out.Plan.Reserved {
		return nil
	}
	p := &Placement{Effect: placement.Observe(root, in, out), ThreadsOnReserved: []UnitThreads{}}
	own := map[string]cpuset.Set{}
	for _, s := range out.Services {
		own[s.Unit] = s.CPUs
	}
	p.ThreadsOnReserved, p.ThreadsErr = threadsOnReserved(root, out.Plan.ReservedCPUs(), own)
	p.Isolation = gatherIsolation(root, in, out, p)
	return p
}

// threadsOnReserved walks /proc/PID/task/TID and groups by unit the
// threads whose Cpus_allowed_list reaches reserved CPUs, a pinned
// service's own CPUs excepted. Kernel threads (in the root cgroup, many
// bound to one CPU by the kernel) and processes that end while read are
// skipped.
func threadsOnReserved(root hostroot.Root, reserved cpuset.Set, own map[string]cpuset.Set) ([]UnitThreads, string) {
	out := []UnitThreads{}
	pids, err := os.ReadDir(root.Path("/proc"))
	if err != nil {
		return out, fmt.Sprintf("read %q: %v", "/proc", err)
	}
	byUnit := map[string]*UnitThreads{}
	cpus := map[string]cpuset.Set{}
	n := 0
	for _, pe := range pids {
		if _, err := strconv.Atoi(pe.Name()); err != nil {
			continue
		}
		pdir := "/proc/" + pe.Name()
		unit, ok := unitOf(root, pdir+"/cgroup")
		if !ok {
			continue
		}
		tasks, err := os.ReadDir(root.Path(pdir + "/task"))
		if err != nil {
			continue
		}
		for _, te := range tasks {
			if n++; n > maxTasks {
				return sortUnits(byUnit, cpus), fmt.Sprintf("more than %d threads: the rest not read", maxTasks)
			}
			name, allowed, ok := taskAffinity(root, pdir+"/task/"+te.Name()+"/status")
			if !ok {
				continue
			}
			hit := allowed.Intersect(reserved).Difference(own[unit])
			if hit.IsEmpty() {
				continue
			}
			u := byUnit[unit]
			if u == nil {
				u = &UnitThreads{Unit: unit, Example: fmt.Sprintf("%s[%s]", name, te.Name())}
				byUnit[unit] = u
			}
			u.Threads++
			cpus[unit] = cpus[unit].Union(hit)
		}
	}
	return sortUnits(byUnit, cpus), ""
}

func sortUnits(byUnit map[string]*UnitThreads, cpus map[string]cpuset.Set) []UnitThreads {
	out := []UnitThreads{}
	for unit, u := range byUnit {
		u.CPUs = cpus[unit].String()
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })
	return out
}

// unitOf returns the unit of a process from its /proc/PID/cgroup: the
// deepest component of its cgroup path that names a service or scope
// (else the last component), on the unified hierarchy ("0::") or systemd's
// named one on cgroup v1. ok is false for a kernel thread (the root
// cgroup) or an unreadable file.
func unitOf(root hostroot.Root, p string) (string, bool) {
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return "", false
	}
	path := ""
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "0::"); ok && path == "" {
			path = v
		}
		if _, v, ok := strings.Cut(l, ":name=systemd:"); ok {
			path = v
		}
	}
	path = strings.Trim(path, "/")
	if path == "" {
		return "", false
	}
	parts := strings.Split(path, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if strings.HasSuffix(parts[i], ".service") || strings.HasSuffix(parts[i], ".scope") {
			return parts[i], true
		}
	}
	return parts[len(parts)-1], true
}

// taskAffinity reads a thread's Name and Cpus_allowed_list.
func taskAffinity(root hostroot.Root, p string) (string, cpuset.Set, bool) {
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return "", cpuset.Set{}, false
	}
	var name string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Name:"); ok {
			name = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			s, err := cpuset.Parse(strings.TrimSpace(v))
			return name, s, err == nil
		}
	}
	return name, cpuset.Set{}, false
}

// writePlacementText writes the placement rows of the text report.
func writePlacementText(p *Placement, row func(k, v string, a ...any)) {
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
	for _, k := range sortedKeys(p.Workqueue) {
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
