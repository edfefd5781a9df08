package placement

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/kmask"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/internal/workqueue"
)

// Effect is what the kernel applies, as status reports it. It is read,
// never gated on (see the package comment).
type Effect struct {
	// Reserved are the CPUs kept for DPI and training (empty without a
	// reservation: then nothing below is an escape).
	Reserved string `json:"reserved_cpus"`
	// DefaultIRQAffinity is /proc/irq/default_smp_affinity as a list.
	DefaultIRQAffinity string `json:"default_irq_affinity,omitempty"`
	// IRQsOnReserved are the movable interrupts that may arrive on
	// reserved CPUs: the escapes. The capture NIC's queues on DPI CPUs,
	// and the two kinds below, are not in it.
	IRQsOnReserved []IRQEffect `json:"irqs_on_reserved"`
	// IRQsUnmovable are interrupts on reserved CPUs whose affinity user
	// space cannot set: managed or per-CPU ones, whose smp_affinity_list
	// is read-only or whose last move the kernel refused with EIO (as the
	// plan file records it: an NVMe controller's per-CPU queues, nvme0q5 on
	// CPU 4). The kernel places them; nothing moves them.
	IRQsUnmovable []IRQEffect `json:"irqs_unmovable"`
	// IRQsMovePending are interrupts already asked off the reserved CPUs
	// (smp_affinity_list within the allowed CPUs) whose effective affinity
	// is still on one: the kernel completes such a move when the interrupt
	// next fires (a legacy IO-APIC interrupt such as rtc0, or an MSI whose
	// previous move was not complete, such as an NVMe admin queue). Seen on
	// every 8-vCPU boot of the suite: rtc0 and nvme0q0 moved to 0-3, still
	// effective on 4 and 5.
	IRQsMovePending []IRQEffect `json:"irqs_move_pending"`
	// Workqueue maps each workqueue cpumask file to its CPU list.
	Workqueue map[string]string `json:"workqueue_cpumask"`
	// Services are the pinned services' cpusets as the kernel applies
	// them (cgroup v2 only).
	Services []ServiceEffect `json:"services"`
	// Problems are what could not be read.
	Problems []string `json:"problems,omitempty"`
}

// IRQEffect is one interrupt on reserved CPUs.
type IRQEffect struct {
	IRQ  int    `json:"irq"`
	Name string `json:"name"`
	// CPUs are its effective affinity (its requested affinity where the
	// kernel shows no effective one); Source says which.
	CPUs   string `json:"cpus"`
	Source string `json:"source"`
	// Requested is its smp_affinity_list (absent when unreadable).
	Requested string `json:"requested,omitempty"`
}

// ServiceEffect is one pinned service's cpuset in effect.
type ServiceEffect struct {
	Unit string `json:"unit"`
	// Cgroup is the host path read; Planned the plan's set; Effective
	// cpuset.cpus.effective ("" when unreadable: Err says why).
	Cgroup    string `json:"cgroup"`
	Planned   string `json:"planned"`
	Effective string `json:"effective,omitempty"`
	Err       string `json:"error,omitempty"`
	// Escapes are CPUs in effect outside the plan's set.
	Escapes string `json:"escapes,omitempty"`
}

// Observe reads what is in effect for out (a Render of in).
func Observe(root hostroot.Root, in generate.Input, out generate.Output) Effect {
	e := Effect{IRQsOnReserved: []IRQEffect{}, IRQsUnmovable: []IRQEffect{}, IRQsMovePending: []IRQEffect{}, Workqueue: map[string]string{}, Services: []ServiceEffect{}}
	reserved := out.Plan.ReservedCPUs()
	e.Reserved = reserved.String()
	if s, err := kmask.Read(root, irq.DefaultAffinityPath); err != nil {
		e.Problems = append(e.Problems, err.Error())
	} else {
		e.DefaultIRQAffinity = s.String()
	}
	st, err := irq.Read(root, in.Config.DPIInterface)
	if err != nil {
		e.Problems = append(e.Problems, err.Error())
	}
	refused := refusedIRQs(root)
	for _, q := range st.IRQs {
		if refused[q.Num] == q.Name && q.Name != "" {
			q.Writable = false // the kernel refused to move it: see irq.Left.Unmovable
		}
		ie, kind := classify(q, reserved, out.CaptureCPUs(), st.NIC.IRQs[q.Num] && irq.IsQueue(q.Name))
		switch kind {
		case irqEscape:
			e.IRQsOnReserved = append(e.IRQsOnReserved, ie)
		case irqUnmovable:
			e.IRQsUnmovable = append(e.IRQsUnmovable, ie)
		case irqMovePending:
			e.IRQsMovePending = append(e.IRQsMovePending, ie)
		}
	}
	wq, err := workqueue.Read(root)
	if err != nil {
		e.Problems = append(e.Problems, err.Error())
	}
	for p, s := range wq {
		e.Workqueue[p] = s.String()
	}
	if in.Topology.Cgroup.V2 {
		for _, s := range out.Services {
			e.Services = append(e.Services, serviceEffect(root, out, s))
		}
	}
	return e
}

// refusedIRQs returns the interrupts (number to name) the last placement
// found the kernel would not let it move, from the plan file; none without
// one. The name must match too: a driver reloaded since may have been given
// the same number.
func refusedIRQs(root hostroot.Root) map[int]string {
	out := map[int]string{}
	doc, err := ReadFile(root)
	if err != nil || doc.Applied == nil {
		return out
	}
	for _, l := range doc.Applied.IRQsLeft {
		if l.Unmovable {
			out[l.IRQ] = l.Name
		}
	}
	return out
}

// irqKind is how an interrupt stands against the reserved CPUs.
type irqKind int

const (
	irqOff         irqKind = iota // not on reserved CPUs (or a capture queue on DPI CPUs)
	irqEscape                     // movable, and may arrive on reserved CPUs
	irqUnmovable                  // on reserved CPUs, affinity read-only (managed, per-CPU)
	irqMovePending                // asked off them, effective still on one until it fires
)

// classify says where q stands: on is its effective affinity (its
// requested one where the kernel shows none). A capture queue (queue) may
// be on the DPI CPUs. An interrupt whose requested affinity is unknown is
// an escape when its effective one reaches reserved CPUs: nothing shows
// it is either of the other kinds.
func classify(q irq.IRQ, reserved, dpi cpuset.Set, queue bool) (IRQEffect, irqKind) {
	if q.AffinityErr != "" && !q.HasEffective {
		return IRQEffect{}, irqOff
	}
	on, src := q.Effective, "effective_affinity_list"
	if !q.HasEffective {
		on, src = q.Affinity, "smp_affinity_list"
	}
	allowed := func(s cpuset.Set) bool {
		hit := s.Intersect(reserved)
		if queue {
			hit = hit.Difference(dpi) // the capture queues belong there
		}
		return hit.IsEmpty()
	}
	if allowed(on) {
		return IRQEffect{}, irqOff
	}
	ie := IRQEffect{IRQ: q.Num, Name: q.Name, CPUs: on.String(), Source: src}
	if q.AffinityErr != "" {
		return ie, irqEscape
	}
	ie.Requested = q.Affinity.String()
	switch {
	case !q.Writable:
		return ie, irqUnmovable
	case q.HasEffective && allowed(q.Affinity):
		return ie, irqMovePending
	}
	return ie, irqEscape
}

// CgroupPath returns the host path of a service's cgroup on cgroup v2:
// its slice's path (a dash in a slice name is a level: ransomeye-dpi.slice
// is below ransomeye.slice) and the unit. The generator puts DPI and
// training in their slices only in allowed-cpus mode; everything else is
// in system.slice (an administrator's Slice= is not seen here: the
// directory is then missing and said so).
func CgroupPath(out generate.Output, s generate.ServiceCPUs) string {
	slice := "system.slice"
	if out.CPUMode == generate.CPUModeAllowedCPUs && s.Role.Slice != "" {
		slice = s.Role.Slice
	}
	return topology.CgroupDir + "/" + SlicePath(slice) + "/" + CgroupEscape(s.Unit)
}

// SlicePath returns a slice's path below the cgroup root, as systemd's
// cg_slice_to_path() makes it: "a-b.slice" -> "a.slice/a-b.slice", the
// root slice "-.slice" -> "", each component escaped (CgroupEscape).
func SlicePath(slice string) string {
	if slice == "-.slice" {
		return ""
	}
	base := strings.TrimSuffix(slice, ".slice")
	parts := strings.Split(base, "-")
	var out []string
	for i := range parts {
		out = append(out, CgroupEscape(strings.Join(parts[:i+1], "-")+".slice"))
	}
	return strings.Join(out, "/")
}

// cgroupControllers are the names systemd's cg_escape() keeps a unit's
// cgroup from starting with (followed by a dot): the kernel's controller
// files, and systemd's own BPF pseudo-controllers.
var cgroupControllers = []string{"cpu", "cpuacct", "cpuset", "io", "blkio", "memory", "devices", "pids",
	"bpf-firewall", "bpf-devices", "bpf-foreign", "bpf-socket-bind", "bpf-restrict-network-interfaces"}

// CgroupEscape returns a unit's cgroup directory name, as systemd's
// cg_escape() makes it: "_" before a name that starts with "_" or ".",
// is one of the cgroup v1 core files, starts with "cgroup.", or starts
// with a controller's name and a dot ("cpu.slice" -> "_cpu.slice").
// Why: the slice's cpuset file was looked up under the unescaped name,
// not found, and its CPUs taken for no restriction.
func CgroupEscape(name string) string {
	esc := strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "cgroup.") ||
		name == "notify_on_release" || name == "release_agent" || name == "tasks"
	for _, c := range cgroupControllers {
		if strings.HasPrefix(name, c+".") {
			esc = true
		}
	}
	if esc {
		return "_" + name
	}
	return name
}

func serviceEffect(root hostroot.Root, out generate.Output, s generate.ServiceCPUs) ServiceEffect {
	dir := CgroupPath(out, s)
	se := ServiceEffect{Unit: s.Unit, Cgroup: dir, Planned: s.CPUs.String()}
	p := dir + "/cpuset.cpus.effective"
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		se.Err = fmt.Sprintf("cannot read %q (not running, or in another slice): %v", p, err)
		return se
	}
	eff, err := cpuset.ParseMaybeEmpty(string(b))
	if err != nil {
		se.Err = fmt.Sprintf("%q: %v", p, err)
		return se
	}
	se.Effective = eff.String()
	se.Escapes = eff.Difference(s.CPUs).String()
	return se
}
