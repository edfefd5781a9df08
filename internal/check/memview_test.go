package check

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

const (
	coreCG  = "/system.slice/ransomeye-core.service"
	trainCG = "/ransomeye.slice/ransomeye-training.slice/ransomeye-training.service"
)

// memPlan is the default memory plan of an 8 GiB machine with a
// reservation: the core's MemoryLow= 4 GiB on it and system.slice,
// training's MemoryHigh= 2 GiB and MemorySwapMax= 4 GiB.
func memPlan() plan.Plan {
	var p plan.Plan
	p.Memory = plan.MemoryPlan{Made: true, RAM: 8 << 30, SwapTarget: 16 << 30,
		Services: []plan.MemoryService{
			{Role: roles.Core(), Name: "core", Unit: names.CoreService, Slice: "system.slice",
				Bytes: map[string]int64{config.MemLow: 4 << 30}, Configured: map[string]string{config.MemLow: "CoreLow=50% of RAM"}},
			{Role: roles.Table[2], Name: "training", Unit: names.TrainingService, Slice: names.TrainingSlice,
				Bytes:      map[string]int64{config.MemHigh: 2 << 30, config.MemSwapMax: 4 << 30},
				Configured: map[string]string{config.MemHigh: "TrainingHigh=25% of RAM", config.MemSwapMax: "TrainingSwapMax=25% of the swap target"}},
		},
		Slices: []plan.MemorySlice{{Slice: "system.slice", Bytes: map[string]int64{config.MemLow: 4 << 30}}}}
	return p
}

func bytesV(b uint64) facts.Value { return facts.Value{Bytes: b} }

// memFacts is a cgroup v2 machine where the kernel applies memPlan: the
// core in coreCG, training in trainCG, DPI not running.
func memFacts() *facts.Facts {
	f := &facts.Facts{Scope: facts.Status, Enabled: true}
	f.Config.Units = map[string]string{"core": names.CoreService, "dpi": names.DPIService, "training": names.TrainingService}
	f.Memory = facts.Memory{Kind: facts.MemoryV2, Cgroup: coreCG}
	cg := func(min, low, high, swapMax facts.Value) facts.CgroupMemory {
		return facts.CgroupMemory{Exists: true, Min: min, Low: low, High: high, SwapMax: swapMax, Current: bytesV(1 << 20), SwapCurrent: bytesV(0),
			Events: map[string]uint64{"low": 0, "high": 7, "max": 0, "oom": 0, "oom_kill": 0, "sock_throttled": 1}}
	}
	max := facts.Value{Max: true}
	f.MemoryEffect = facts.MemoryEffect{Read: true, PSI: true, Mount: "rw,nsdelegate,memory_recursiveprot",
		Candidates: map[string][]string{"core": {coreCG}, "dpi": {"/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service", "/system.slice/ransomeye-dpi.service"},
			"training": {trainCG, "/system.slice/ransomeye-training.service"}},
		Cgroups: map[string]facts.CgroupMemory{
			"/system.slice":    cg(bytesV(0), bytesV(4<<30), max, max),
			coreCG:             cg(bytesV(0), bytesV(4<<30), max, max),
			"/ransomeye.slice": cg(bytesV(0), bytesV(0), max, max),
			"/ransomeye.slice/ransomeye-training.slice": cg(bytesV(0), bytesV(0), max, max),
			trainCG: cg(bytesV(0), bytesV(0), bytesV(2<<30), bytesV(4<<30)),
		}}
	return f
}

// TestMemoryHeld: what the kernel applies is the plan: held, nothing to
// remedy; only the documented memory.events are reported.
func TestMemoryHeld(t *testing.T) {
	m := memoryView(memFacts(), memPlan())
	if m.State != MemoryHeld || m.Cause != "" || m.Remedy != "" || m.Gated || !m.RecursiveProt {
		t.Fatalf("view %+v", m)
	}
	if len(m.Services) != 3 || m.Services[0].Role != "core" || len(m.Services[0].Settings) != 2 {
		t.Fatalf("services %+v", m.Services)
	}
	if _, ok := m.Services[0].Events["sock_throttled"]; ok {
		t.Error("an undocumented memory.events key reported")
	}
	if m.Services[1].Running || len(m.Services[1].Settings) != 0 {
		t.Errorf("DPI, not running and without settings: %+v", m.Services[1])
	}
}

// TestMemoryDegradedCauses: each way a setting fails to take effect is
// named, with its remedy, and nothing of it is gated.
func TestMemoryDegradedCauses(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		change               func(f *facts.Facts)
		cause, reason, remdy string
	}{
		{"cgroup v1", func(f *facts.Facts) {
			f.Memory = facts.Memory{Kind: facts.MemoryV1, Swappiness: 10, From: "/system.slice"}
		},
			CauseMemoryV1, "exist only on the unified cgroup hierarchy", "remove systemd.unified_cgroup_hierarchy=0"},
		{"no memory controller", func(f *facts.Facts) { f.Memory = facts.Memory{Kind: facts.MemoryNone} },
			CauseNoMemoryCtl, "without the cgroup memory controller", "remove cgroup_disable=memory"},
		{"our slice overridden", func(f *facts.Facts) {
			c := f.MemoryEffect.Cgroups["/system.slice"]
			c.Low = bytesV(0)
			f.MemoryEffect.Cgroups["/system.slice"] = c
		}, CauseSliceUnprotected, "system.slice has memory.low 0 B above ransomeye-core.service, which wants 4.0 GiB", "systemctl cat system.slice"},
		{"the core in an administrator's slice", func(f *facts.Facts) {
			f.Memory.Cgroup = "/db.slice/ransomeye-core.service"
			f.MemoryEffect.Candidates["core"] = []string{f.Memory.Cgroup}
			f.MemoryEffect.Cgroups["/db.slice"] = facts.CgroupMemory{Exists: true, Low: bytesV(0)}
			f.MemoryEffect.Cgroups[f.Memory.Cgroup] = f.MemoryEffect.Cgroups[coreCG]
		}, CauseSliceUnprotected, "db.slice has memory.low 0 B", "systemctl set-property db.slice MemoryLow=4294967296"},
		{"the core's own overridden", func(f *facts.Facts) {
			c := f.MemoryEffect.Cgroups[coreCG]
			c.Low = bytesV(1 << 30)
			f.MemoryEffect.Cgroups[coreCG] = c
		}, CauseNotApplied, "ransomeye-core.service has memory.low 1.0 GiB, want 4.0 GiB (CoreLow=50% of RAM)", "systemctl cat ransomeye-core.service"},
		{"training without its ceiling", func(f *facts.Facts) {
			c := f.MemoryEffect.Cgroups[trainCG]
			c.High = facts.Value{Max: true}
			f.MemoryEffect.Cgroups[trainCG] = c
		}, CauseNotApplied, "ransomeye-training.service has memory.high max, want 2.0 GiB", "systemctl cat ransomeye-training.service"},
		{"no swap accounting", func(f *facts.Facts) {
			c := f.MemoryEffect.Cgroups[trainCG]
			c.SwapMax = facts.Value{Missing: true}
			f.MemoryEffect.Cgroups[trainCG] = c
		}, CauseNotApplied, "memory.swap.max absent", "systemctl cat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := memFacts()
			tc.change(f)
			m := memoryView(f, memPlan())
			if m.State != MemoryDegraded || m.Cause != tc.cause || !strings.Contains(m.Reason, tc.reason) || !strings.Contains(m.Remedy, tc.remdy) || m.Gated {
				t.Errorf("state %q cause %q\nreason %q\nremedy %q\nwant cause %q, reason with %q, remedy with %q", m.State, m.Cause, m.Reason, m.Remedy, tc.cause, tc.reason, tc.remdy)
			}
		})
	}
}

// TestMemoryStricterHolds: an administrator's protection above the plan's,
// or a ceiling below it, holds.
func TestMemoryStricterHolds(t *testing.T) {
	f := memFacts()
	c := f.MemoryEffect.Cgroups[coreCG]
	c.Low = facts.Value{Max: true}
	f.MemoryEffect.Cgroups[coreCG] = c
	tr := f.MemoryEffect.Cgroups[trainCG]
	tr.High = bytesV(1 << 30)
	f.MemoryEffect.Cgroups[trainCG] = tr
	if m := memoryView(f, memPlan()); m.State != MemoryHeld {
		t.Errorf("stricter settings: %q %q", m.State, m.Reason)
	}
}

// TestMemoryPendingUntilStarted: before the core starts (activate at
// boot) its own setting is pending, the slice above it judged, and the
// protection held.
func TestMemoryPendingUntilStarted(t *testing.T) {
	f := memFacts()
	delete(f.MemoryEffect.Cgroups, coreCG)
	m := memoryView(f, memPlan())
	if m.State != MemoryHeld || m.Services[0].Running || !m.Services[0].Settings[0].Pending || !m.Services[0].Settings[1].OK {
		t.Errorf("core not running: %+v", m)
	}
}

// TestMemoryOff: every setting off is its own state, not degraded.
func TestMemoryOff(t *testing.T) {
	p := plan.Plan{Memory: plan.MemoryPlan{Why: "every [Memory] setting is off"}}
	if m := memoryView(memFacts(), p); m.State != MemoryOff || m.Degraded() {
		t.Errorf("off: %+v", m)
	}
}

// TestMemoryDropInsCheck: stale memory drop-ins fail the memory-dropins
// guarantee, naming each file and daemon-reload.
func TestMemoryDropInsCheck(t *testing.T) {
	c := memoryDropInsCheck(memPlan(), []string{`"/run/systemd/generator/system.slice.d/memory.conf" is missing`})
	if !c.Failed() || c.Name != NameMemDropIns || !strings.Contains(c.Reason, "system.slice.d/memory.conf") || c.Remedy != RemedyStaleMemoryDropIns {
		t.Errorf("stale: %+v", c)
	}
	if c := memoryDropInsCheck(memPlan(), nil); !c.OK {
		t.Errorf("matching: %+v", c)
	}
}
