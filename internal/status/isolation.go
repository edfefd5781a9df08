package status

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

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
	initScopeCgroup     = "/sys/fs/cgroup/init.scope"
	systemConfDropInDir = "/etc/systemd/system.conf.d"
)

// Isolation says whether the CPU partition holds for what the configured
// isolation asks, and when it does not, why: one reason per escaping unit
// and the platform's cause. It is reported, never gated (like the rest of
// Placement): the gate guards the core's own CPUs, and a PID 1 allowed on
// a reserved CPU does not make the core's resources wrong.
//
// Why: on systemd 247 (cgroup v2) the generated init.scope drop-in loads
// but PID 1 stays on every CPU, and on cgroup v1 nothing but the three
// services is pinned, while status said COMPLIANT with no word of it.
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

// gatherIsolation judges p for the configuration and the enforcement mode
// of out; root is read for init.scope's cpuset.
func gatherIsolation(root hostroot.Root, in generate.Input, out generate.Output, p *Placement) *Isolation {
	initCPUs := func() string {
		b, err := readfile.Regular(root.Path(initScopeCgroup+"/cpuset.cpus"), 1<<12)
		if err != nil {
			return "absent (the cpuset controller is not enabled for it)"
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return fmt.Sprintf("%q", v)
		}
		return "empty"
	}
	pinned := map[string]bool{}
	for _, s := range out.Services {
		pinned[s.Unit] = true
	}
	return judgeIsolation(in.Config.Isolation, out.CPUMode, in.Topology.Cgroup, out.Plan.Core(), pinned, p, initCPUs)
}

// judgeIsolation is gatherIsolation's decision, on plain data: pinned are
// the pinned services' units; initCPUs describes init.scope's cpuset.cpus,
// read only when PID 1's unit escapes.
func judgeIsolation(iso config.Isolation, mode generate.CPUMode, cg topology.Cgroup, core cpuset.Set, pinned map[string]bool, p *Placement, initCPUs func() string) *Isolation {
	if p == nil {
		return nil
	}
	j := &Isolation{State: IsolationFull, Escapes: []IsolationEscape{}}
	causes := []string{}
	addCause := func(c string) {
		for _, have := range causes {
			if have == c {
				return
			}
		}
		causes = append(causes, c)
	}
	escaped := map[string]bool{}
	for _, s := range p.Services {
		if s.Escapes != "" {
			j.Escapes = append(j.Escapes, IsolationEscape{Unit: s.Unit, Reason: fmt.Sprintf(
				"cpuset.cpus.effective %s reaches %s outside its plan %s (an administrator's drop-in or a changed slice)", s.Effective, s.Escapes, s.Planned)})
			addCause(CauseOther)
			escaped[s.Unit] = true
		}
	}
	// A pinned service's threads allowed outside its own set break what
	// either setting asks. Why they are read here as well as its cpuset:
	// on cgroup v1 (and without the cpuset controller) there is no cpuset
	// to read, and a service moved by Slice= has none where the plan puts
	// it; Isolation=services said full for a core widened by CPUAffinity=
	// on cgroup v1, and for a DPI service moved to another slice.
	for _, u := range p.ThreadsOnReserved {
		if !pinned[u.Unit] || escaped[u.Unit] {
			continue
		}
		j.Escapes = append(j.Escapes, IsolationEscape{Unit: u.Unit, Reason: fmt.Sprintf(
			"%d of its thread(s) may run on %s outside its plan (e.g. %s): an administrator's drop-in, a changed slice, or the service set its own affinity", u.Threads, u.CPUs, u.Example)})
		addCause(CauseOther)
		escaped[u.Unit] = true
	}
	if iso == config.IsolationStrict {
		platform := ""
		if mode == generate.CPUModeAffinity {
			platform = CauseCgroupV1
			if cg.V2 {
				platform = CauseNoCpuset
			}
		}
		for _, u := range p.ThreadsOnReserved {
			if escaped[u.Unit] {
				continue
			}
			e := IsolationEscape{Unit: u.Unit}
			switch {
			case platform != "":
				// What is in effect decides: with CPUAffinity= in
				// system.conf (the remedy) nothing escapes on cgroup v1.
				addCause(platform)
				e.Reason = fmt.Sprintf("%d thread(s) may run on %s (e.g. %s): not fenced on this platform", u.Threads, u.CPUs, u.Example)
			case u.Unit == "init.scope":
				e.Reason = fmt.Sprintf("%d thread(s) may run on %s (e.g. %s): the drop-in asks AllowedCPUs=%s, the cgroup's cpuset.cpus is %s",
					u.Threads, u.CPUs, u.Example, core, initCPUs())
				addCause(CauseInitScope)
			default:
				e.Reason = fmt.Sprintf("%d thread(s) may run on %s (e.g. %s): its cgroup is not under a fenced slice, or it was given these CPUs",
					u.Threads, u.CPUs, u.Example)
				addCause(CauseOther)
			}
			j.Escapes = append(j.Escapes, e)
		}
		// Why: with /proc unreadable, or more threads than are read, the
		// walk found nothing (or not all) and the isolation was said full
		// on no evidence.
		if p.ThreadsErr != "" {
			addCause(CauseThreadsUnread)
		}
	}
	if len(causes) == 0 {
		return j
	}
	j.State = IsolationDegraded
	j.Cause = strings.Join(causes, "; ")
	j.Remedy = isolationRemedy(causes, core)
	return j
}

// isolationRemedy says what an administrator can do for causes.
func isolationRemedy(causes []string, core cpuset.Set) string {
	var r []string
	for _, c := range causes {
		switch c {
		case CauseCgroupV1, CauseNoCpuset:
			r = append(r, fmt.Sprintf("set CPUAffinity=%s in a file under %s (as tuned's cpu-partitioning does) and reboot: PID 1 and every process it starts default to the core's CPUs (the three services set their own); the tuner does not write it (a generator runs too late for the current boot's manager, see ransomeye-tuner(8))",
				core, systemConfDropInDir),
				"or boot with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1) so that AllowedCPUs= fences the slices")
		case CauseInitScope:
			// Why not CPUAffinity= in system.conf here: on systemd 247 a
			// boot with it still had PID 1 on every CPU; a daemon-reload
			// applied it, and a later rewrite of init.scope's cpuset
			// reset it (the kernel gives a cgroup's tasks its cpuset).
			r = append(r, "run systemd 252 or later, which applies AllowedCPUs= to init.scope; on this systemd CPUAffinity= in system.conf does not hold either (init.scope's cpuset, rewritten by systemd, resets PID 1's affinity)")
		case CauseThreadsUnread:
			r = append(r, "run status as root (it reads every /proc/PID/task); with more threads than status reads, count those with Cpus_allowed_list on the reserved CPUs by hand")
		case CauseOther:
			r = append(r, "run systemctl show -p AllowedCPUs,CPUAffinity,ControlGroup on each unit named, and remove the setting that widens it or move it under system.slice")
		}
	}
	return strings.Join(dedup(r), "; ")
}

func dedup(l []string) []string {
	seen := map[string]bool{}
	out := l[:0]
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
