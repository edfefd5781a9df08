package placement

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/kmask"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
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
	// IRQsOnReserved are the interrupts that may arrive on reserved CPUs,
	// the capture NIC's queues on DPI CPUs excepted.
	IRQsOnReserved []IRQEffect `json:"irqs_on_reserved"`
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
	e := Effect{IRQsOnReserved: []IRQEffect{}, Workqueue: map[string]string{}, Services: []ServiceEffect{}}
	reserved := out.Plan.DPI.Union(out.Plan.Training)
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
	for _, q := range st.IRQs {
		on, src := q.Effective, "effective_affinity_list"
		if !q.HasEffective {
			on, src = q.Affinity, "smp_affinity_list"
		}
		if q.AffinityErr != "" && !q.HasEffective {
			continue
		}
		hit := on.Intersect(reserved)
		if st.NIC.IRQs[q.Num] && irq.IsQueue(q.Name) {
			hit = hit.Difference(out.Plan.DPI) // the capture queues belong there
		}
		if !hit.IsEmpty() {
			e.IRQsOnReserved = append(e.IRQsOnReserved, IRQEffect{IRQ: q.Num, Name: q.Name, CPUs: on.String(), Source: src})
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

// CgroupPath returns the host path of a service's cgroup on cgroup v2:
// its slice's path (a dash in a slice name is a level: ransomeye-dpi.slice
// is below ransomeye.slice) and the unit. The generator puts DPI and
// training in their slices only in allowed-cpus mode; everything else is
// in system.slice (an administrator's Slice= is not seen here: the
// directory is then missing and said so).
func CgroupPath(out generate.Output, s generate.ServiceCPUs) string {
	slice := "system.slice"
	if out.CPUMode == generate.CPUModeAllowedCPUs {
		switch s.Role {
		case generate.RoleDPI:
			slice = names.DPISlice
		case generate.RoleTraining:
			slice = names.TrainingSlice
		}
	}
	return topology.CgroupDir + "/" + SlicePath(slice) + "/" + s.Unit
}

// SlicePath returns a slice's path below the cgroup root:
// "a-b.slice" -> "a.slice/a-b.slice".
func SlicePath(slice string) string {
	base := strings.TrimSuffix(slice, ".slice")
	parts := strings.Split(base, "-")
	var out []string
	for i := range parts {
		out = append(out, strings.Join(parts[:i+1], "-")+".slice")
	}
	return strings.Join(out, "/")
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
