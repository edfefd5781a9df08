// Package plan decides, from the facts of one run alone, what the machine
// should be: the unit files the generator writes, the CPU plan as one
// assignment per role and how it is enforced, the swap provider's decision,
// the sysctls, the interrupt moves. Decide is pure: same facts, same bytes.
// docs/design.md, "Boot flow" and "CPU plan", says what it decides.
package plan

import (
	"errors"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// CPUMode is how CPU sets are enforced.
type CPUMode string

const (
	// CPUModeNone writes no CPU drop-ins.
	CPUModeNone CPUMode = "none"
	// CPUModeAllowedCPUs uses AllowedCPUs= (cgroup v2 cpuset) and slices.
	CPUModeAllowedCPUs CPUMode = "allowed-cpus"
	// CPUModeAffinity uses CPUAffinity= on the pinned services: degraded,
	// without the cgroup v2 cpuset controller.
	CPUModeAffinity CPUMode = "cpu-affinity"
)

// GateDropIn is the core's gate drop-in, written for a renamed core (the
// static copy in units/ covers the default).
const GateDropIn = "ransomeye-tuner-gate.conf"

// Plan is what Decide decides.
type Plan struct {
	// Enabled is false with ransomeye.tuner=0 (then Files is empty).
	Enabled bool
	// Files are the files the generator writes, in order (units.Sort).
	Files []units.File
	// PlanMade: the CPU plan was computed (CPU says if it reserves).
	PlanMade bool
	CPU      cpuplan.Plan
	// Isolation is the configured mode; CPUMode how the plan is enforced.
	Isolation config.Isolation
	CPUMode   CPUMode
	// Services are the CPUs each role's service is told about (its
	// environment drop-in), core first; none without a plan.
	Services []Service
	Notes    []priolog.Note
	// Swap is the provider's decision (SwapDecided: it was inspected).
	Swap        swap.Decision
	SwapDecided bool
	Sysctls     []sysctl.Setting
	// IRQ is where the interrupts go (with a reservation, when read).
	IRQ irq.Decision
	// Memory is the memory settings resolved (memory.go).
	Memory MemoryPlan
	// Channels is the capture NIC's channel count ([CPU] DPIChannels=).
	Channels Channels
}

func (p *Plan) note(pr priolog.Priority, format string, a ...any) {
	p.Notes = append(p.Notes, priolog.Notef(pr, format, a...))
}

// CPUFiles returns the CPU files that confine (not the advisory ones).
func (p Plan) CPUFiles() []units.File {
	var out []units.File
	for _, f := range p.Files {
		if f.CPU && !f.Advisory {
			out = append(out, f)
		}
	}
	return out
}

// Service is the CPUs one role's service may use: its drop-in's set, or
// without a reservation the usable CPUs it shares.
type Service struct {
	Role     roles.Role
	Unit     string
	CPUs     cpuset.Set
	Node     int
	Reserved bool
}

// Decide decides, purely.
func Decide(f *facts.Facts) Plan {
	p := Plan{Enabled: f.Enabled, CPUMode: CPUModeNone}
	if f.CmdlineErr != nil {
		p.note(priolog.Warning, "cannot read the kernel command line (%v): assuming ransomeye.tuner is on", f.CmdlineErr)
	}
	if f.EnabledErr != nil {
		p.note(priolog.Warning, "%v", f.EnabledErr)
	}
	if !f.Enabled {
		p.note(priolog.Warning, "disabled by kernel command line (%s=0): writing no units; resources not guaranteed", names.CmdlineSwitch)
		return p
	}
	for _, w := range f.ConfigWarnings {
		p.note(priolog.Warning, "%s", w.String())
	}
	if f.ConfigErr != nil {
		p.invalid(f.ConfigErr)
		return p
	}
	cfg := f.Config
	p.Isolation, p.Sysctls = cfg.Isolation, sysctl.Wanted(cfg)
	if f.Swap != nil {
		files, notes := f.Swap.Units()
		p.Files, p.Notes = append(p.Files, files...), append(p.Notes, notes...)
		if f.Reads(facts.ReadSwapState) {
			p.Swap, p.SwapDecided = f.Swap.Decide(swap.NewTarget(cfg.MinSize, f.Mem, f.MemErr, f.PageSize)), true
		}
	}
	if cfg.CoreService() != names.CoreService {
		p.Files = append(p.Files, gateFile(cfg.CoreService()))
	}
	p.cpu(f)
	p.memory(f)
	p.channelsFile(f)
	units.Sort(p.Files)
	p.decidePlacement(f)
	return p
}

// invalid is the plan for an invalid configuration: no units but the gate
// drop-in of every unit a CoreService= line may have named
// (config.Error.Cores): the activator fails closed, and only the gate
// makes a renamed core wait for it.
func (p *Plan) invalid(err error) {
	var ce *config.Error
	core := ""
	var gated []string
	if errors.As(err, &ce) {
		for _, pr := range ce.Problems {
			p.note(priolog.Err, "%s", pr.String())
		}
		core = ce.CoreService
		for _, c := range ce.Cores {
			if c != names.CoreService {
				p.Files = append(p.Files, gateFile(c))
				gated = append(gated, c)
			}
		}
	} else {
		p.note(priolog.Err, "%v", err)
	}
	switch {
	case core != "" && len(gated) == 0:
		p.note(priolog.Err, "invalid configuration: writing no units (the static gate of %s stays); %s will refuse to start the core until it is fixed", core, names.ActivatorUnit)
	case len(gated) == 1 && gated[0] == core:
		p.note(priolog.Err, "invalid configuration: writing only the gate of the core %s; %s will refuse to start it until the configuration is fixed", core, names.ActivatorUnit)
	case len(gated) > 0:
		p.note(priolog.Err, "invalid configuration, and the core's name ([CPU] CoreService=) may not be what the file seems to say: writing only the gates of every unit a CoreService= line names (%s; %s keeps its static gate); %s will refuse to start them until the configuration is fixed", strings.Join(gated, ", "), names.CoreService, names.ActivatorUnit)
	default:
		p.note(priolog.Err, "invalid configuration, and the core's name ([CPU] CoreService=) is not known: writing no units, not even a gate for a renamed core (only %s keeps its static gate); fix the configuration", names.CoreService)
	}
}

// gateFile is the gate drop-in for core: the static one of
// units/ransomeye-core.service.d (a test keeps them alike).
func gateFile(core string) units.File {
	return units.File{Dir: units.Normal, Path: core + ".d/" + GateDropIn, Content: units.Serialize(
		units.Opt("Unit", "Wants", names.ActivatorUnit),
		units.Opt("Unit", "After", names.ActivatorUnit+" "+names.FailClosedUnit+" swap.target"),
		units.Opt("Service", "ExecCondition", "+/usr/sbin/ransomeye-tuner --root=/ gate"))}
}

// cpu makes the CPU plan and its files.
func (p *Plan) cpu(f *facts.Facts) {
	cfg := f.Config
	table := cfg.Roles()
	if cfg.Isolation == config.IsolationOff {
		p.note(priolog.Notice, "CPU isolation is off ([CPU] Isolation=off): no CPU drop-ins")
		if cpuplan.Named(table) {
			p.note(priolog.Warning, "the CPUs named in [CPU] (%s) are not used: CPU isolation is off", namedKeys(table))
		}
		return
	}
	if f.TopologyErr != nil {
		p.note(priolog.Err, "no trustworthy CPU topology: %v; writing no CPU drop-ins (a wrong plan is worse than none)", f.TopologyErr)
		return
	}
	for _, n := range f.Topology.Notes {
		p.note(priolog.Info, "topology: %s", n)
	}
	p.CPU, p.PlanMade = cpuplan.Make(f.Topology, table), true
	for _, n := range p.CPU.Notes {
		p.note(priolog.Notice, "CPU plan: %s", n)
	}
	for _, n := range cpuplan.NamedIsolated(f.Topology, table) {
		p.note(priolog.Notice, "CPU plan: %s", n)
	}
	// The services learn their CPUs from the same plan, reserved or not.
	defer p.environment(f)
	if p.CPU.Refused != "" {
		// The plan asked for cannot be had: the core is gated on it.
		p.note(priolog.Err, "no CPU reservation: %s; writing no CPU confinement drop-ins, and %s fails closed until the CPUs named in [CPU] are fixed (ransomeye-tuner check-config checks them here)", p.CPU.Reason, names.ActivatorUnit)
		return
	}
	if !p.CPU.Reserved {
		p.note(priolog.Notice, "no CPU reservation: %s; writing no CPU confinement drop-ins (the services' environment drop-ins name the CPUs they share)", p.CPU.Reason)
		return
	}
	var sets []string
	for _, a := range p.CPU.Assignments {
		sets = append(sets, cfg.Units[a.Role.Name]+" "+a.CPUs.String())
	}
	p.note(priolog.Info, "CPU plan: %s (%d usable physical cores)", strings.Join(sets, ", "), p.CPU.PhysicalCores)
	add := func(name string, opts ...*units.Option) {
		p.Files = append(p.Files, units.File{Dir: units.Normal, Path: name, Content: units.Serialize(opts...), CPU: true})
	}
	if !f.Topology.Cgroup.AllowedCPUs() {
		p.CPUMode = CPUModeAffinity
		why := "cgroup v1"
		if f.Topology.Cgroup.V2 {
			why = "cgroup v2 without the cpuset controller"
		}
		p.note(priolog.Warning, "degraded CPU mode: %s, so AllowedCPUs= cannot work; pinning the %s services with CPUAffinity= instead", why, count(len(p.CPU.Assignments)))
		if cfg.Isolation == config.IsolationStrict {
			p.note(priolog.Warning, "strict isolation cannot confine system.slice, user.slice and machine.slice without the cpuset controller: other processes may run on the reserved CPUs")
		}
		for _, a := range p.CPU.Assignments {
			add(cfg.Units[a.Role.Name]+".d/"+names.CPUDropIn, units.Opt("Service", "CPUAffinity", ""), units.Opt("Service", "CPUAffinity", a.CPUs.String()))
		}
		return
	}
	p.CPUMode = CPUModeAllowedCPUs
	for _, a := range p.CPU.Assignments {
		var opts []*units.Option
		if s := a.Role.Slice; s != "" {
			add(s, units.Opt("Unit", "Description", a.Role.Description), units.Opt("Unit", "Documentation", "man:ransomeye-tuner(8)"),
				units.SourcePath(cfg), units.Opt("Slice", "AllowedCPUs", a.CPUs.String()))
			opts = append(opts, units.Opt("Service", "Slice", s))
		}
		add(cfg.Units[a.Role.Name]+".d/"+names.CPUDropIn, append(opts, units.Opt("Service", "AllowedCPUs", a.CPUs.String()))...)
	}
	if cfg.Isolation == config.IsolationStrict {
		for _, s := range units.StrictSlices {
			section := "Slice"
			if strings.HasSuffix(s, ".scope") {
				section = "Scope"
			}
			add(s+".d/"+names.CPUDropIn, units.Opt(section, "AllowedCPUs", p.CPU.Core().String()))
		}
	}
}

// namedKeys lists the settings that name CPUs in table: "DPICPUs=4-5,
// TrainingCPUs=6-7".
func namedKeys(table []roles.Role) string {
	var out []string
	for _, r := range table {
		if !r.CPUs.IsEmpty() {
			out = append(out, r.CPUsKey+"="+r.CPUs.String())
		}
	}
	return strings.Join(out, ", ")
}

// count spells a small number as the messages do ("three").
func count(n int) string {
	if w := []string{"zero", "one", "two", "three", "four", "five", "six"}; n < len(w) {
		return w[n]
	}
	return strconv.Itoa(n)
}

// IRQBalanceBanned returns every online CPU outside the core set (empty
// without a reservation).
func (p Plan) IRQBalanceBanned(f *facts.Facts) cpuset.Set {
	if !p.CPU.Reserved {
		return cpuset.Set{}
	}
	return f.Topology.Online.Difference(p.CPU.Core())
}

// CaptureCPUs returns the CPUs of the roles the capture queues go to.
func (p Plan) CaptureCPUs() cpuset.Set {
	var s cpuset.Set
	for _, a := range p.CPU.Assignments {
		if a.Role.Capture {
			s = s.Union(a.CPUs)
		}
	}
	return s
}

// ReasonNoPlan says why no CPU plan applies ("" when one does).
func (p Plan) ReasonNoPlan(f *facts.Facts) string {
	switch {
	case !p.Enabled:
		return names.CmdlineSwitch + "=0 on the kernel command line"
	case f.ConfigErr != nil:
		// A read file's error names itself ("invalid configuration: ...").
		if r := f.ConfigErr.Error(); strings.HasPrefix(r, "invalid configuration") {
			return r
		}
		return "invalid configuration: " + f.ConfigErr.Error()
	case f.TopologyErr != nil && p.Isolation != config.IsolationOff:
		return "no trustworthy CPU topology: " + f.TopologyErr.Error()
	}
	return p.NoReservation()
}

// NoReservation says why the CPU plan reserves nothing ("" when it does).
func (p Plan) NoReservation() string {
	if p.Isolation == config.IsolationOff {
		return "CPU isolation is off ([CPU] Isolation=off)"
	}
	return p.CPU.Reason
}
