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
// core's own set: interrupts and unbound kernel work, each pinned service's
// cpuset, and the threads of other units allowed on reserved CPUs, with the
// judgement of the isolation. It is reported, never gated: the core's
// correctness does not depend on it (the core's own CPU set is a
// guarantee), and a driver can move its interrupts at any time. This is the
// "placement" section of status --json.
type Placement struct {
	// Reserved are the CPUs kept for the roles other than the core.
	Reserved string `json:"reserved_cpus"`
	// DefaultIRQAffinity is /proc/irq/default_smp_affinity as a list.
	DefaultIRQAffinity string `json:"default_irq_affinity,omitempty"`
	// IRQsOnReserved are the movable interrupts that may arrive on
	// reserved CPUs: the escapes. The capture NIC's queues on the capture
	// CPUs, and the two kinds below, are not in it.
	IRQsOnReserved []IRQEffect `json:"irqs_on_reserved"`
	// IRQsUnmovable are interrupts on reserved CPUs whose affinity user
	// space cannot set: managed or per-CPU ones, whose smp_affinity_list
	// is read-only or whose last move the kernel refused with EIO (as the
	// plan file records it: an NVMe controller's per-CPU queues, nvme0q5 on
	// CPU 4). The kernel places them; nothing moves them.
	IRQsUnmovable []IRQEffect `json:"irqs_unmovable"`
	// IRQsMovePending are interrupts already asked off the reserved CPUs
	// whose effective affinity is still on one: the kernel completes such a
	// move when the interrupt next fires (a legacy IO-APIC interrupt such
	// as rtc0, or an MSI whose previous move was not complete). Seen on
	// every 8-vCPU boot of the suite: rtc0 and nvme0q0 moved to 0-3, still
	// effective on 4 and 5.
	IRQsMovePending []IRQEffect `json:"irqs_move_pending"`
	// Workqueue maps each workqueue cpumask file to its CPU list.
	Workqueue map[string]string `json:"workqueue_cpumask"`
	// Services are the pinned services' cpusets as the kernel applies them
	// (cgroup v2 only).
	Services []ServiceEffect `json:"services"`
	// Problems are what could not be read.
	Problems []string `json:"problems,omitempty"`
	// Gated is always false: none of this keeps the core down.
	Gated bool `json:"gated"`
	// ThreadsOnReserved are the units (outside the pinned services, or a
	// pinned service outside its own set) with threads allowed on reserved
	// CPUs; ThreadsErr says why they could not all be read.
	ThreadsOnReserved []UnitThreads `json:"threads_on_reserved"`
	ThreadsErr        string        `json:"threads_error,omitempty"`
	// Isolation says whether what [CPU] Isolation= asks holds, and why
	// not.
	Isolation *Isolation `json:"isolation"`
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

// UnitThreads is one unit with threads allowed on reserved CPUs.
type UnitThreads struct {
	Unit string `json:"unit"`
	// Threads counts them; CPUs is the union of the reserved CPUs they may
	// run on; Example names one ("cron[612]").
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
	// The interrupts the kernel refused to move (EIO) at the last
	// placement, by number and name: a driver reloaded since may have been
	// given the same number.
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

// threadsOnReserved groups by unit the threads allowed on reserved CPUs, a
// pinned service's own CPUs excepted.
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
	irqOff         irqKind = iota // not on reserved CPUs (or a capture queue on capture CPUs)
	irqEscape                     // movable, and may arrive on reserved CPUs
	irqUnmovable                  // on reserved CPUs, affinity read-only (managed, per-CPU)
	irqMovePending                // asked off them, effective still on one until it fires
)

// classify says where q stands: on is its effective affinity (its
// requested one where the kernel shows none). A capture queue (queue) may
// be on the capture CPUs. An interrupt whose requested affinity is unknown
// is an escape when its effective one reaches reserved CPUs: nothing shows
// it is either of the other kinds.
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

// Escapes counts what escapes the partition, for the metrics: movable
// interrupts on reserved CPUs (not the unmovable ones, nor those whose
// move is pending), threads of other units on them, and per pinned service
// the CPUs in effect outside its plan.
func (e *Placement) Escapes() (irqs, threads int, services map[string]int) {
	services = map[string]int{}
	for _, u := range e.ThreadsOnReserved {
		threads += u.Threads
	}
	for _, s := range e.Services {
		if s.Effective != "" {
			services[s.Unit] = cpus(s.Escapes).Len()
		}
	}
	return len(e.IRQsOnReserved), threads, services
}

// The states of Isolation.State.
const (
	// IsolationFull: what [CPU] Isolation= asks of the partition is in
	// effect: with strict, no thread outside the pinned services may run on
	// a reserved CPU; with services, the pinned services keep to their sets.
	IsolationFull = "full"
	// IsolationDegraded: something the setting asks is not in effect
	// (Isolation.Escapes names each unit and why).
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

// Isolation says whether the CPU partition holds for what the configured
// isolation asks, and when it does not, why: one reason per escaping unit
// and the platform's cause. It is reported, never gated: the gate guards
// the core's own CPUs, and a PID 1 allowed on a reserved CPU does not make
// the core's resources wrong. On systemd 247 (cgroup v2) the generated
// init.scope drop-in loads but PID 1 stays on every CPU, and on cgroup v1
// nothing but the pinned services is pinned: without this judgement status
// said COMPLIANT with no word of it.
type Isolation struct {
	// State is IsolationFull or IsolationDegraded.
	State string `json:"state"`
	// Cause is the platform's reason for a degraded state ("" when full).
	Cause string `json:"cause,omitempty"`
	// Escapes are the units that break the isolation, each with its
	// reason; empty when full.
	Escapes []IsolationEscape `json:"escapes"`
	// Remedy is what an administrator can do ("" when full).
	Remedy string `json:"remedy,omitempty"`
}

// IsolationEscape is one unit that breaks the isolation.
type IsolationEscape struct {
	Unit   string `json:"unit"`
	Reason string `json:"reason"`
}

// Degraded reports whether the isolation does not hold (nil: no
// reservation, nothing to hold).
func (i *Isolation) Degraded() bool { return i != nil && i.State == IsolationDegraded }

// judgeIsolation judges e for the configured isolation and the enforcement
// mode; own are the pinned services' sets by unit, v2 whether cgroup v2 is
// mounted, initCPUs describes init.scope's cpuset.cpus.
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
	// A pinned service's threads allowed outside its own set break what
	// either setting asks. Read here as well as its cpuset: on cgroup v1
	// (and without the cpuset controller) there is no cpuset to read, and a
	// service moved by Slice= has none where the plan puts it;
	// Isolation=services said full for a core widened by CPUAffinity= on
	// cgroup v1, and for a DPI service moved to another slice.
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
				// What is in effect decides: with CPUAffinity= in
				// system.conf (the remedy) nothing escapes on cgroup v1.
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
		// With /proc unreadable, or more threads than are read, the walk
		// found nothing (or not all): the isolation is not shown to hold.
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
