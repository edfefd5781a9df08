package check

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// Placement is what the kernel applies of the CPU partition beyond the
// core's own set (status --json "placement"): reported, never gated, as the
// core does not depend on it and a driver can move its interrupts anytime.
type Placement struct {
	// Reserved are the CPUs of the roles other than the core.
	Reserved string `json:"reserved_cpus"`
	// DefaultIRQAffinity is default_smp_affinity as a list.
	DefaultIRQAffinity string `json:"default_irq_affinity,omitempty"`
	// IRQsOnReserved are the escapes: movable interrupts that may arrive on
	// reserved CPUs (not the capture queues on capture CPUs, nor the two
	// kinds below).
	IRQsOnReserved []IRQEffect `json:"irqs_on_reserved"`
	// IRQsUnmovable are interrupts on reserved CPUs user space cannot move
	// (managed or per-CPU: a read-only affinity file, or EIO at the last
	// placement); the kernel places them.
	IRQsUnmovable []IRQEffect `json:"irqs_unmovable"`
	// IRQsMovePending were asked off the reserved CPUs but are effective
	// on one still: the kernel moves them when they next fire.
	IRQsMovePending []IRQEffect       `json:"irqs_move_pending"`
	Workqueue       map[string]string `json:"workqueue_cpumask"`
	// Services are the pinned services' cpusets in effect (cgroup v2).
	Services []ServiceEffect `json:"services"`
	Problems []string        `json:"problems,omitempty"`
	// Gated is always false.
	Gated bool `json:"gated"`
	// ThreadsOnReserved are the units with threads allowed on reserved
	// CPUs (a pinned service's own excepted); ThreadsErr says why not all
	// could be read.
	ThreadsOnReserved []UnitThreads `json:"threads_on_reserved"`
	ThreadsErr        string        `json:"threads_error,omitempty"`
	// Isolation says whether what [CPU] Isolation= asks holds, and why not.
	Isolation *Isolation `json:"isolation"`
}

// IRQEffect is one interrupt on reserved CPUs.
type IRQEffect struct {
	IRQ  int    `json:"irq"`
	Name string `json:"name"`
	// CPUs are its effective affinity (else its requested one); Source
	// says which.
	CPUs   string `json:"cpus"`
	Source string `json:"source"`
	// Requested is its smp_affinity_list (absent when unreadable).
	Requested string `json:"requested,omitempty"`
}

// ServiceEffect is one pinned service's cpuset in effect.
type ServiceEffect struct {
	Unit string `json:"unit"`
	// Cgroup is the host path read; Planned the plan's set; Effective its
	// cpuset.cpus.effective (Err: unreadable).
	Cgroup    string `json:"cgroup"`
	Planned   string `json:"planned"`
	Effective string `json:"effective,omitempty"`
	Err       string `json:"error,omitempty"`
	// Escapes are CPUs in effect outside the plan's set.
	Escapes string `json:"escapes,omitempty"`
}

// UnitThreads is one unit with threads allowed on reserved CPUs.
type UnitThreads struct {
	Unit string `json:"unit"`
	// Threads counts them; CPUs are the reserved CPUs they may run on;
	// Example names one ("cron[612]").
	Threads int    `json:"threads"`
	CPUs    string `json:"cpus"`
	Example string `json:"example"`
}

// placementView reads what is in effect for p (with a reservation).
func placementView(f *facts.Facts, p plan.Plan) *Placement {
	fp := f.Placement
	reserved, capture := p.CPU.ReservedCPUs(), p.CaptureCPUs()
	e := &Placement{Reserved: reserved.String(), IRQsOnReserved: []IRQEffect{}, IRQsUnmovable: []IRQEffect{}, IRQsMovePending: []IRQEffect{},
		Workqueue: map[string]string{}, Services: []ServiceEffect{}, ThreadsOnReserved: []UnitThreads{}, ThreadsErr: fp.ThreadsErr}
	st := fp.IRQ
	if st.DefaultErr != "" {
		e.Problems = append(e.Problems, st.DefaultErr)
	} else {
		e.DefaultIRQAffinity = st.Default.String()
	}
	if fp.IRQErr != nil {
		e.Problems = append(e.Problems, fp.IRQErr.Error())
	}
	// What the kernel refused (EIO) at the last placement, by number and
	// name (a reloaded driver may reuse a number).
	refused := map[int]string{}
	if fp.Record != nil {
		for _, l := range fp.Record.IRQsLeft {
			if l.Unmovable {
				refused[l.IRQ] = l.Name
			}
		}
	}
	queues := st.CaptureQueueIRQs()
	for _, q := range st.IRQs {
		if refused[q.Num] == q.Name && q.Name != "" {
			q.Writable = false
		}
		ie, kind := classify(q, reserved, capture, queues[q.Num])
		switch kind {
		case irqEscape:
			e.IRQsOnReserved = append(e.IRQsOnReserved, ie)
		case irqUnmovable:
			e.IRQsUnmovable = append(e.IRQsUnmovable, ie)
		case irqMovePending:
			e.IRQsMovePending = append(e.IRQsMovePending, ie)
		}
	}
	var wqErrs []error
	for _, path := range placement.WorkqueuePaths {
		switch m := fp.Workqueue[path]; {
		case m.Err == nil:
			e.Workqueue[path] = m.Set.String()
		case !errors.Is(m.Err, fs.ErrNotExist):
			wqErrs = append(wqErrs, m.Err)
		}
	}
	if len(wqErrs) > 0 {
		e.Problems = append(e.Problems, fmt.Errorf("workqueue masks: %w", errors.Join(wqErrs...)).Error())
	}
	own := map[string]cpuset.Set{}
	for _, s := range p.Services {
		own[s.Unit] = s.CPUs
	}
	for _, s := range fp.Services {
		se := ServiceEffect{Unit: s.Unit, Cgroup: s.Cgroup, Planned: own[s.Unit].String(), Err: s.Err}
		if s.Err == "" {
			se.Effective, se.Escapes = s.Effective.String(), s.Effective.Difference(own[s.Unit]).String()
		}
		e.Services = append(e.Services, se)
	}
	e.ThreadsOnReserved = threadsOnReserved(fp.Threads, reserved, own)
	e.Isolation = judgeIsolation(f.Config.Isolation, p.CPUMode, f.Topology.Cgroup.V2, p.CPU.Core(), own, e, fp.InitScopeCPUs)
	return e
}

// threadsOnReserved groups by unit the threads allowed on reserved CPUs,
// a pinned service's own CPUs excepted.
func threadsOnReserved(threads []facts.Thread, reserved cpuset.Set, own map[string]cpuset.Set) []UnitThreads {
	byUnit := map[string]*UnitThreads{}
	hits := map[string]cpuset.Set{}
	for _, t := range threads {
		hit := t.CPUs.Intersect(reserved).Difference(own[t.Unit])
		if hit.IsEmpty() {
			continue
		}
		u := byUnit[t.Unit]
		if u == nil {
			u = &UnitThreads{Unit: t.Unit, Example: fmt.Sprintf("%s[%s]", t.Name, t.TID)}
			byUnit[t.Unit] = u
		}
		u.Threads++
		hits[t.Unit] = hits[t.Unit].Union(hit)
	}
	out := []UnitThreads{}
	for unit, u := range byUnit {
		u.CPUs = hits[unit].String()
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })
	return out
}

// irqKind is how an interrupt stands against the reserved CPUs.
type irqKind int

const (
	irqOff         irqKind = iota // not on reserved CPUs (or a capture queue on its CPUs)
	irqEscape                     // movable, may arrive on reserved CPUs
	irqUnmovable                  // on reserved CPUs, not movable by user space
	irqMovePending                // asked off them, effective there until it fires
)

// classify says where q stands by its effective affinity (else its
// requested one); a capture queue may be on the capture CPUs. Unknown
// requested affinity on reserved CPUs is an escape.
func classify(q irq.IRQ, reserved, capture cpuset.Set, queue bool) (IRQEffect, irqKind) {
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
			hit = hit.Difference(capture) // the capture queues belong there
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

// Escapes counts for the metrics: movable interrupts on reserved CPUs,
// threads of other units on them, and each pinned service's CPUs in effect
// outside its plan.
func (e *Placement) Escapes() (irqs, threads int, services map[string]int) {
	services = map[string]int{}
	for _, u := range e.ThreadsOnReserved {
		threads += u.Threads
	}
	for _, s := range e.Services {
		if s.Effective != "" {
			set, _ := cpuset.ParseMaybeEmpty(s.Escapes)
			services[s.Unit] = set.Len()
		}
	}
	return len(e.IRQsOnReserved), threads, services
}

// The states of Isolation.State.
const (
	// IsolationFull: what [CPU] Isolation= asks holds (strict: no other
	// thread on a reserved CPU; services: the services keep to their sets).
	IsolationFull = "full"
	// IsolationDegraded: it does not (Isolation.Escapes say why).
	IsolationDegraded = "degraded"
)

// The platform causes of a degraded isolation (Isolation.Cause).
const (
	CauseCgroupV1       = "cgroup v1: AllowedCPUs= needs the cgroup v2 cpuset controller, so only the three services are pinned (CPUAffinity=) and system.slice, user.slice, machine.slice and init.scope are not fenced"
	CauseNoCpuset       = "cgroup v2 without the cpuset controller: only the three services are pinned (CPUAffinity=) and system.slice, user.slice, machine.slice and init.scope are not fenced"
	CauseInitScope      = "systemd did not apply AllowedCPUs= to init.scope (seen on systemd 247): PID 1, and what it forks before moving it to a unit's cgroup, may run on the reserved CPUs"
	CauseOther          = "units outside the fenced slices, or an administrator's setting, reach the reserved CPUs"
	CauseThreadsUnread  = "not every thread could be read (placement.threads_error says why): threads of other units may run on the reserved CPUs unseen, so the isolation is not shown to hold"
	systemConfDropInDir = "/etc/systemd/system.conf.d"
)

// Isolation says whether the CPU partition holds what the configured
// isolation asks, and if not, why: each escaping unit and the platform's
// cause. Reported, never gated: the gate guards the core's own CPUs.
type Isolation struct {
	State string `json:"state"`
	// Cause is the platform's reason for a degraded state.
	Cause string `json:"cause,omitempty"`
	// Escapes are the units that break the isolation, with reasons.
	Escapes []IsolationEscape `json:"escapes"`
	Remedy  string            `json:"remedy,omitempty"`
}

// IsolationEscape is one unit that breaks the isolation.
type IsolationEscape struct {
	Unit   string `json:"unit"`
	Reason string `json:"reason"`
}

// Degraded reports whether the isolation does not hold (nil: nothing to
// hold).
func (i *Isolation) Degraded() bool { return i != nil && i.State == IsolationDegraded }

// judgeIsolation judges e for the configured isolation and mode; own are
// the pinned services' sets, initCPUs init.scope's cpuset.cpus.
func judgeIsolation(iso config.Isolation, mode plan.CPUMode, v2 bool, core cpuset.Set, own map[string]cpuset.Set, e *Placement, initCPUs string) *Isolation {
	j := &Isolation{State: IsolationFull, Escapes: []IsolationEscape{}}
	var causes []string
	addCause := func(c string) {
		if !slices.Contains(causes, c) {
			causes = append(causes, c)
		}
	}
	escaped := map[string]bool{}
	for _, s := range e.Services {
		if s.Escapes != "" {
			j.Escapes = append(j.Escapes, IsolationEscape{Unit: s.Unit, Reason: fmt.Sprintf(
				"cpuset.cpus.effective %s reaches %s outside its plan %s (an administrator's drop-in or a changed slice)", s.Effective, s.Escapes, s.Planned)})
			addCause(CauseOther)
			escaped[s.Unit] = true
		}
	}
	// A pinned service's threads outside its set break either setting;
	// read here too, as on cgroup v1, or moved by Slice=, it has no cpuset
	// where the plan puts it.
	for _, u := range e.ThreadsOnReserved {
		if _, pinned := own[u.Unit]; !pinned || escaped[u.Unit] {
			continue
		}
		j.Escapes = append(j.Escapes, IsolationEscape{Unit: u.Unit, Reason: fmt.Sprintf(
			"%d of its thread(s) may run on %s outside its plan (e.g. %s): an administrator's drop-in, a changed slice, or the service set its own affinity", u.Threads, u.CPUs, u.Example)})
		addCause(CauseOther)
		escaped[u.Unit] = true
	}
	if iso == config.IsolationStrict {
		platform := ""
		if mode == plan.CPUModeAffinity {
			platform = CauseCgroupV1
			if v2 {
				platform = CauseNoCpuset
			}
		}
		for _, u := range e.ThreadsOnReserved {
			if escaped[u.Unit] {
				continue
			}
			es := IsolationEscape{Unit: u.Unit}
			switch {
			case platform != "":
				// What is in effect decides: with system.conf's
				// CPUAffinity= (the remedy) nothing escapes.
				addCause(platform)
				es.Reason = fmt.Sprintf("%d thread(s) may run on %s (e.g. %s): not fenced on this platform", u.Threads, u.CPUs, u.Example)
			case u.Unit == "init.scope":
				es.Reason = fmt.Sprintf("%d thread(s) may run on %s (e.g. %s): the drop-in asks AllowedCPUs=%s, the cgroup's cpuset.cpus is %s",
					u.Threads, u.CPUs, u.Example, core, initCPUs)
				addCause(CauseInitScope)
			default:
				es.Reason = fmt.Sprintf("%d thread(s) may run on %s (e.g. %s): its cgroup is not under a fenced slice, or it was given these CPUs",
					u.Threads, u.CPUs, u.Example)
				addCause(CauseOther)
			}
			j.Escapes = append(j.Escapes, es)
		}
		// An incomplete walk does not show the isolation holds.
		if e.ThreadsErr != "" {
			addCause(CauseThreadsUnread)
		}
	}
	if len(causes) == 0 {
		return j
	}
	j.State, j.Cause = IsolationDegraded, strings.Join(causes, "; ")
	var kept []string
	for _, r := range remedyIsolation(causes, core) {
		if !slices.Contains(kept, r) {
			kept = append(kept, r)
		}
	}
	j.Remedy = strings.Join(kept, "; ")
	return j
}
