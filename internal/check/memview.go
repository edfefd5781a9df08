package check

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

// The states of the memory view.
const (
	MemoryHeld     = "held"     // every setting the kernel applies is the plan's (or stricter)
	MemoryDegraded = "degraded" // a setting does not take effect: Cause says why
	MemoryOff      = "off"      // every [Memory] setting is off
	MemoryNotMade  = "not made" // the plan could not be resolved: no protection is written
)

// The causes of a degraded memory view.
const (
	// CauseStaleDropIns: the memory drop-ins in effect are not those of a
	// fresh plan; it takes precedence over the others, which may follow
	// from the stale files.
	CauseStaleDropIns     = "drop-ins not those of the configuration"
	CauseMemoryV1         = "cgroup v1"
	CauseNoMemoryCtl      = "no memory controller"
	CauseSliceUnprotected = "a slice without protection"
	CauseNotApplied       = "a setting not applied"
	CauseNoSwapAccounting = "no swap accounting"
)

// RemedyStaleMemoryDropIns: the memory drop-ins in effect are not those of
// a fresh plan (the configuration changed without daemon-reload, or
// MemTotal moved: a balloon, memory hot-plug).
var RemedyStaleMemoryDropIns = "the [Memory] configuration, the RAM or the CPU plan changed since the generator ran, and it runs again at systemctl daemon-reload, which recover does first: nothing to fix by hand, " + then

// Memory is what the kernel applies of the memory plan ([Memory]; status
// --json "memory"): protections up the core's path, the others' ceilings,
// swap and pressure. Reported, never gated: on cgroup v1 no protection
// exists (gating would keep the core down at every boot there), and the
// gated swap guarantees are what the core depends on.
type Memory struct {
	// State is one of the states; Cause, for a degraded one, one of the
	// causes; Reason the details; Remedy what to do.
	State  string `json:"state"`
	Cause  string `json:"cause,omitempty"`
	Reason string `json:"reason,omitempty"`
	Remedy string `json:"remedy,omitempty"`
	// CgroupV1 says, on cgroup v1, what holds there instead.
	CgroupV1 string `json:"cgroup_v1,omitempty"`
	// Mount is the cgroup2 mount's options; RecursiveProt: they hold
	// memory_recursiveprot.
	Mount         string `json:"cgroup2_mount_options,omitempty"`
	RecursiveProt bool   `json:"memory_recursiveprot"`
	// Services are the roles' services with a setting or read pressure.
	Services []ServiceMemory `json:"services"`
	// PSI: the kernel keeps pressure stall information (NoPSI why not:
	// the pressure rows and series are then absent).
	PSI   bool   `json:"psi"`
	NoPSI string `json:"no_psi_reason,omitempty"`
	// PressureAvailable: every running service's pressure is read (PSI,
	// on cgroup v2, each cgroup with its *.pressure files); false where
	// the pressure alerts cannot see a service.
	PressureAvailable bool `json:"pressure_available"`
	// Problems are what could not be read.
	Problems []string `json:"problems"`
	// Gated is always false: none of this keeps the core down.
	Gated bool `json:"gated"`
}

// ServiceMemory is one service's memory as the kernel applies it.
type ServiceMemory struct {
	Role string `json:"role"`
	Unit string `json:"unit"`
	// Cgroup is where it runs (below the cgroup root), or would run;
	// Running whether its cgroup exists.
	Cgroup  string `json:"cgroup"`
	Running bool   `json:"running"`
	// Settings are its planned settings, a protection's on every cgroup
	// above it too.
	Settings []MemorySetting `json:"settings"`
	// MemoryBytes and SwapBytes are memory.current and memory.swap.current.
	MemoryBytes *uint64 `json:"memory_bytes,omitempty"`
	SwapBytes   *uint64 `json:"swap_bytes,omitempty"`
	// SwapUnknown says why SwapBytes is absent for a running service.
	SwapUnknown string `json:"swap_unknown_reason,omitempty"`
	// Events are its memory.events counters; EventsUnread why none are
	// (Problems says it too): never zeros that were not read.
	Events       map[string]uint64 `json:"events"`
	EventsUnread string            `json:"events_unread_reason,omitempty"`
	// Pressure is its pressure by resource (cpu, memory, io);
	// PressureMissing why a running service's is not (Problems too).
	Pressure        map[string]Pressure `json:"pressure,omitempty"`
	PressureMissing string              `json:"pressure_missing_reason,omitempty"`
}

// Pressure is one resource's pressure stall information ("some", and
// "full" when given).
type Pressure struct {
	Some PressureLine  `json:"some"`
	Full *PressureLine `json:"full,omitempty"`
}

// PressureLine is one line: percentage of time stalled over 10, 60 and
// 300 s, and the total stall in microseconds.
type PressureLine struct {
	Avg10   float64 `json:"avg10"`
	Avg60   float64 `json:"avg60"`
	Avg300  float64 `json:"avg300"`
	TotalUS uint64  `json:"total_us"`
}

// MemoryEvents are the documented memory.events counters (a newer kernel's
// others left out, so the JSON keys stay documented).
var MemoryEvents = []string{"low", "high", "max", "oom", "oom_kill", "oom_group_kill"}

func pressureDoc(in map[string]facts.Pressure) map[string]Pressure {
	if len(in) == 0 {
		return nil
	}
	line := func(l facts.PressureLine) PressureLine {
		return PressureLine{Avg10: l.Avg10, Avg60: l.Avg60, Avg300: l.Avg300, TotalUS: l.TotalUS}
	}
	out := map[string]Pressure{}
	for res, p := range in {
		d := Pressure{Some: line(p.Some)}
		if p.Full.Present {
			f := line(p.Full)
			d.Full = &f
		}
		out[res] = d
	}
	return out
}

// MemorySetting is one planned setting as the kernel applies it.
type MemorySetting struct {
	// File is the cgroup file ("memory.low"), Cgroup where it was read.
	File   string `json:"file"`
	Cgroup string `json:"cgroup"`
	// Want is the plan's bytes; Actual the kernel's text ("max", a byte
	// count, "absent"); Configured what the configuration says.
	Want       uint64 `json:"want_bytes"`
	Actual     string `json:"actual"`
	Configured string `json:"configured,omitempty"`
	// OK: it holds (a protection at least Want, a ceiling at most Want);
	// Pending: the cgroup is made when the service starts.
	OK      bool `json:"ok"`
	Pending bool `json:"pending"`
}

// Degraded reports whether a planned setting does not take effect.
func (m *Memory) Degraded() bool { return m != nil && m.State == MemoryDegraded }

// Unprotected reports whether the configured protection is missing: a
// setting does not take effect, or the plan could not be made (no
// drop-in is written then).
func (m *Memory) Unprotected() bool {
	return m != nil && (m.State == MemoryDegraded || m.State == MemoryNotMade)
}

// settingFile is the cgroup file of a setting.
var settingFile = map[string]string{config.MemMin: "memory.min", config.MemLow: "memory.low", config.MemHigh: "memory.high", config.MemSwapMax: "memory.swap.max"}

// memoryView judges what the kernel applies of p.Memory, the memory
// drop-ins in effect differing from the plan's by diffs (fileDiffs).
// Stale drop-ins are reported, not gated: MemTotal moves at run time
// (a balloon, memory hot-plug), and the shares resolved from it would
// otherwise keep the core down over a protection that is itself only
// reported.
func memoryView(f *facts.Facts, p plan.Plan, diffs []string) *Memory {
	v := memoryEffect(f, p)
	if len(diffs) > 0 {
		v.State, v.Cause, v.Remedy = MemoryDegraded, CauseStaleDropIns, RemedyStaleMemoryDropIns
		v.Reason = "the memory drop-ins in effect do not match this machine: " + strings.Join(diffs, "; ")
		if !p.Memory.Made && p.Memory.Why != "" {
			v.Reason += " (" + p.Memory.Why + ")"
		}
	}
	return v
}

// memoryEffect judges what the kernel applies of p.Memory, the drop-ins
// in effect taken for the plan's.
func memoryEffect(f *facts.Facts, p plan.Plan) *Memory {
	e := f.MemoryEffect
	v := &Memory{Services: []ServiceMemory{}, Problems: []string{}, PSI: e.PSI, NoPSI: e.NoPSI, Mount: e.Mount, RecursiveProt: e.RecursiveProt()}
	if e.MountErr != nil && e.Read {
		v.Problems = append(v.Problems, e.MountErr.Error())
	}
	mp := p.Memory
	switch {
	case !mp.Made && len(mp.Services) == 0 && mp.Why == "every [Memory] setting is off":
		v.State = MemoryOff
	case !mp.Made:
		v.State, v.Reason = MemoryNotMade, mp.Why
	default:
		v.State = MemoryHeld
	}
	switch f.Memory.Kind {
	case facts.MemoryV1:
		if v.State == MemoryHeld {
			v.State, v.Cause = MemoryDegraded, CauseMemoryV1
			v.Reason = "memory.min, memory.low, memory.high and memory.swap.max exist only on the unified cgroup hierarchy (cgroup v2): systemd ignores MemoryMin=, MemoryLow=, MemoryHigh= and MemorySwapMax= on cgroup v1, so nothing keeps training from pushing the core's memory to swap"
			v.Remedy = remedyCgroupV1
		}
		v.CgroupV1 = fmt.Sprintf("what holds on cgroup v1: the core reclaims with memory.swappiness %d of its memory cgroup, copied from its slice when it starts (the core-memory guarantee, set by %s), and vm.swappiness; %s", f.Memory.Swappiness, names.ActivatorUnit, noPressureV1)
		if f.Memory.Err != nil {
			v.CgroupV1 = "what holds on cgroup v1: the core's memory.swappiness cannot be read (" + f.Memory.Err.Error() + "); vm.swappiness; " + noPressureV1
		}
		return v
	case facts.MemoryNone:
		if v.State == MemoryHeld {
			v.State, v.Cause = MemoryDegraded, CauseNoMemoryCtl
			v.Reason, v.Remedy = noMemoryController(f.Cmdline)
		}
		return v
	}
	v.PressureAvailable = v.PSI
	for _, r := range roles.Table {
		sm, problems, unread := serviceMemory(f, mp, r.Name)
		v.Services = append(v.Services, sm)
		v.Problems = append(v.Problems, unread...)
		if sm.PressureMissing != "" {
			v.PressureAvailable = false
		}
		for _, pr := range problems {
			if v.State == MemoryHeld {
				v.State, v.Cause, v.Reason, v.Remedy = MemoryDegraded, pr.cause, pr.reason, pr.remedy
			} else if v.State == MemoryDegraded {
				v.Reason += "; " + pr.reason
			}
		}
	}
	for _, s := range v.Services {
		for _, st := range s.Settings {
			if strings.HasPrefix(st.Actual, "unreadable") {
				v.Problems = append(v.Problems, fmt.Sprintf("%s of %s: %s", st.File, st.Cgroup, st.Actual))
			}
		}
	}
	return v
}

// noPressureV1 says what of the pressure holds on cgroup v1: systemd's
// hybrid mode mounts a cgroup2 hierarchy at /sys/fs/cgroup/unified whose
// cgroups do have *.pressure files, but the tuner reads the services'
// cgroups of the memory hierarchy, which has none.
const noPressureV1 = "no per-service pressure read (the cgroup v1 memory hierarchy has no *.pressure files; in hybrid mode only /sys/fs/cgroup/unified has them, which the tuner does not read); the machine's own is /proc/pressure"

// noMemoryController is the reason and the remedy without the cgroup
// memory controller: cgroup_disable=memory is removed only where the
// kernel command line (cmdline) holds it.
func noMemoryController(cmdline []string) (reason, remedy string) {
	for _, w := range cmdline {
		if v, ok := strings.CutPrefix(w, "cgroup_disable="); ok && slices.Contains(strings.Split(v, ","), "memory") {
			return "the kernel runs without the cgroup memory controller (" + w + " on the kernel command line): no cgroup holds a memory protection or ceiling, only vm.swappiness applies",
				"remove memory from " + w + " on the kernel command line (the boot loader's configuration; the whole word when memory is all it names), then reboot"
		}
	}
	return "the kernel has no cgroup memory controller (no memory in the root's cgroup.controllers, and no cgroup_disable=memory on the kernel command line: a kernel built without CONFIG_MEMCG): no cgroup holds a memory protection or ceiling, only vm.swappiness applies",
		"the protection cannot exist on this kernel: boot a kernel built with the memory controller (CONFIG_MEMCG, as every distribution's is) to have it"
}

// remedySwapAccounting is the remedy without swap accounting (no
// memory.swap.* files): swapaccount=0 on the kernel command line (cmdline)
// turns it off; a kernel before 5.8 built without
// CONFIG_MEMCG_SWAP_ENABLED needs swapaccount=1; one built without
// CONFIG_MEMCG_SWAP has none.
func remedySwapAccounting(cmdline []string) string {
	for _, w := range cmdline {
		if v, ok := strings.CutPrefix(w, "swapaccount="); ok && v != "1" {
			return "turn swap accounting on: remove " + w + " from the kernel command line (the boot loader's configuration), then reboot"
		}
	}
	return "turn swap accounting on: add swapaccount=1 to the kernel command line (the boot loader's configuration) where the kernel has the option (Linux before 5.8 built with CONFIG_MEMCG_SWAP), then reboot; a kernel built without swap accounting (CONFIG_MEMCG_SWAP, CONFIG_SWAP) has none: boot one that has it"
}

// remedyCgroupV1 is the remedy for a platform on cgroup v1.
const remedyCgroupV1 = "boot on the unified cgroup hierarchy: remove systemd.unified_cgroup_hierarchy=0 (and systemd.legacy_systemd_cgroup_controller) from the kernel command line, then reboot (Debian's default since 11; systemd 256 and later boot nothing else by default)"

type memProblem struct{ cause, reason, remedy string }

// serviceMemory judges role's service: its problems, and what of it could
// not be read (unread).
func serviceMemory(f *facts.Facts, mp plan.MemoryPlan, role string) (sm ServiceMemory, problems []memProblem, unread []string) {
	e := f.MemoryEffect
	planned, hasPlan := mp.Service(role)
	unit := f.Config.Units[role]
	sm = ServiceMemory{Role: role, Unit: unit, Settings: []MemorySetting{}, Events: map[string]uint64{}}
	cands := e.Candidates[role]
	for _, c := range cands {
		if e.Cgroups[c].Exists {
			sm.Cgroup, sm.Running = c, true
			break
		}
	}
	if !sm.Running {
		switch {
		case hasPlan && role != roles.Core().Name:
			sm.Cgroup = "/" + path.Join(names.SlicePath(planned.Slice), names.CgroupEscape(unit))
		case len(cands) > 0:
			sm.Cgroup = cands[0]
		}
	}
	own := e.Cgroups[sm.Cgroup]
	if sm.Running {
		if v := own.Current; v.Err == nil && !v.Missing && !v.Max {
			b := v.Bytes
			sm.MemoryBytes = &b
		}
		switch v := own.SwapCurrent; {
		case v.Missing:
			sm.SwapUnknown = "no memory.swap.current: the kernel runs without swap accounting (" + remedySwapAccounting(f.Cmdline) + ")"
		case v.Err != nil:
			sm.SwapUnknown = v.Err.Error()
			unread = append(unread, fmt.Sprintf("memory.swap.current of %s: %v", sm.Cgroup, v.Err))
		case !v.Max:
			b := v.Bytes
			sm.SwapBytes = &b
		}
		if own.EventsErr != nil {
			// No counters rather than zeros that were never read.
			sm.EventsUnread = own.EventsErr.Error()
			unread = append(unread, fmt.Sprintf("memory.events of %s (the low event says the protection gave way): %v", sm.Cgroup, own.EventsErr))
		}
		for _, k := range MemoryEvents {
			if n, ok := own.Events[k]; ok {
				sm.Events[k] = n
			}
		}
		sm.Pressure = pressureDoc(own.Pressure)
		if e.PSI {
			var missing []string
			for _, res := range facts.PressureResources {
				if err := own.PressureErr[res]; err != nil {
					missing = append(missing, err.Error())
				}
			}
			if len(missing) > 0 {
				sm.PressureMissing = "the kernel keeps pressure stall information, but not for this cgroup (cgroup_disable=pressure on the kernel command line, or 0 written to its cgroup.pressure): " + strings.Join(missing, "; ")
				unread = append(unread, fmt.Sprintf("pressure of %s: %s", sm.Cgroup, sm.PressureMissing))
			}
		}
	}
	if !hasPlan {
		return sm, nil, unread
	}
	sliceWant := map[string]map[string]int64{}
	for _, s := range mp.Slices {
		sliceWant[s.Slice] = s.Bytes
	}
	for _, set := range config.MemorySettings {
		want, ok := planned.Bytes[set]
		if !ok {
			continue
		}
		file := settingFile[set]
		st := judgeSetting(file, sm.Cgroup, own, set, uint64(want), planned.Configured[set], !sm.Running)
		sm.Settings = append(sm.Settings, st)
		if !st.OK && !st.Pending && set == config.MemSwapMax && own.SwapMax.Missing {
			// Without swap accounting the kernel makes no memory.swap.*
			// file at all: no drop-in overrides it.
			problems = append(problems, memProblem{CauseNoSwapAccounting,
				fmt.Sprintf("%s has no memory.swap.max, want %s (%s): the kernel runs without swap accounting, so no cgroup has a swap limit", unit, fsinfo.Human(want), planned.Configured[set]),
				remedySwapAccounting(f.Cmdline)})
		} else if !st.OK && !st.Pending {
			// daemon-reload alone: systemd writes every loaded unit's
			// cgroup settings again after a reload, a running one's too.
			problems = append(problems, memProblem{CauseNotApplied,
				fmt.Sprintf("%s has %s %s, want %s (%s)", unit, file, human(st.Actual), fsinfo.Human(want), planned.Configured[set]),
				fmt.Sprintf("find what overrides it with: systemctl cat %s (a drop-in that sorts after %s, or systemctl set-property in /etc/systemd/system.control), remove it, then: systemctl daemon-reload", unit, names.MemoryDropIn)})
		}
		if set != config.MemMin && set != config.MemLow {
			continue
		}
		// A protection holds only as far as every cgroup above has one.
		for p := path.Dir(sm.Cgroup); p != "/" && p != "."; p = path.Dir(p) {
			slice := path.Base(p)
			w := uint64(want)
			ours := false
			if sw, ok := sliceWant[strings.TrimPrefix(slice, "_")]; ok {
				w, ours = uint64(sw[set]), true
			}
			st := judgeSetting(file, p, e.Cgroups[p], set, w, "", false)
			sm.Settings = append(sm.Settings, st)
			if st.OK {
				continue
			}
			remedy := fmt.Sprintf("give %s the protection too: systemctl set-property %s Memory%s=%d (it lasts across reboots), or move %s back to %s (remove its Slice= setting)", slice, slice, set, w, unit, planned.Slice)
			if ours {
				remedy = fmt.Sprintf("find what overrides %s with: systemctl cat %s, remove it, then: systemctl daemon-reload", names.MemoryDropIn, slice)
			}
			problems = append(problems, memProblem{CauseSliceUnprotected,
				fmt.Sprintf("%s has %s %s above %s, which wants %s: the kernel protects a cgroup only as far as every cgroup above it is protected", slice, file, human(st.Actual), unit, fsinfo.Human(int64(w))),
				remedy})
		}
	}
	return sm, problems, unread
}

// judgeSetting judges one setting of cgroup cg (m): a protection holds at
// or above want, a ceiling at or below it.
func judgeSetting(file, cg string, m facts.CgroupMemory, set string, want uint64, configured string, pending bool) MemorySetting {
	st := MemorySetting{File: file, Cgroup: cg, Want: want, Configured: configured}
	if pending || !m.Exists {
		st.Actual, st.Pending = "not running", pending
		return st
	}
	v := map[string]facts.Value{config.MemMin: m.Min, config.MemLow: m.Low, config.MemHigh: m.High, config.MemSwapMax: m.SwapMax}[set]
	st.Actual = v.String()
	switch set {
	case config.MemMin, config.MemLow:
		st.OK = v.AtLeast(want)
	default:
		st.OK = v.Err == nil && !v.Missing && !v.Max && v.Bytes <= want
	}
	return st
}

// human writes a kernel value for people ("768 MiB", "max", "absent").
func human(s string) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return fsinfo.Human(n)
	}
	return s
}
