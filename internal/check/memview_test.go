package check

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
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
	m := memoryView(memFacts(), memPlan(), nil)
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
		{"no memory controller", func(f *facts.Facts) {
			f.Memory = facts.Memory{Kind: facts.MemoryNone}
			f.Cmdline = []string{"root=/dev/vda1", "cgroup_disable=memory"}
		},
			CauseNoMemoryCtl, "without the cgroup memory controller (cgroup_disable=memory on the kernel command line)", "remove memory from cgroup_disable=memory"},
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
			f.Cmdline = []string{"root=/dev/vda1", "swapaccount=0"}
		}, CauseNoSwapAccounting, "ransomeye-training.service has no memory.swap.max", "remove swapaccount=0 from the kernel command line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := memFacts()
			tc.change(f)
			m := memoryView(f, memPlan(), nil)
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
	if m := memoryView(f, memPlan(), nil); m.State != MemoryHeld {
		t.Errorf("stricter settings: %q %q", m.State, m.Reason)
	}
}

// TestMemoryPendingUntilStarted: before the core starts (activate at
// boot) its own setting is pending, the slice above it judged, and the
// protection held.
func TestMemoryPendingUntilStarted(t *testing.T) {
	f := memFacts()
	delete(f.MemoryEffect.Cgroups, coreCG)
	m := memoryView(f, memPlan(), nil)
	if m.State != MemoryHeld || m.Services[0].Running || !m.Services[0].Settings[0].Pending || !m.Services[0].Settings[1].OK {
		t.Errorf("core not running: %+v", m)
	}
}

// TestMemoryOff: every setting off is its own state, not degraded.
func TestMemoryOff(t *testing.T) {
	p := plan.Plan{Memory: plan.MemoryPlan{Why: "every [Memory] setting is off"}}
	if m := memoryView(memFacts(), p, nil); m.State != MemoryOff || m.Degraded() {
		t.Errorf("off: %+v", m)
	}
}

// TestMemoryDropInsStaleReportedFirst: memory drop-ins in effect that
// are not the plan's (a [Memory] change without daemon-reload, MemTotal
// moved by a balloon) degrade the protection, ahead of any other cause,
// naming each file, with recover as the remedy; nothing of it is gated.
func TestMemoryDropInsStaleReportedFirst(t *testing.T) {
	f := memFacts()
	f.Memory = facts.Memory{Kind: facts.MemoryV1, Swappiness: 10}
	diffs := []string{`"/run/systemd/generator/system.slice.d/memory.conf" is missing`}
	m := memoryView(f, memPlan(), diffs)
	if m.State != MemoryDegraded || m.Cause != CauseStaleDropIns || !strings.Contains(m.Reason, "system.slice.d/memory.conf") ||
		m.Remedy != RemedyStaleMemoryDropIns || !strings.Contains(m.Remedy, names.RecoverCommand) || m.Gated {
		t.Errorf("stale on cgroup v1: %+v", m)
	}
	if m := memoryView(memFacts(), memPlan(), nil); m.State != MemoryHeld {
		t.Errorf("matching: %+v", m)
	}
	off := plan.Plan{Memory: plan.MemoryPlan{Why: "every [Memory] setting is off"}}
	if m := memoryView(memFacts(), off, diffs); m.Cause != CauseStaleDropIns {
		t.Errorf("drop-ins left in effect with every setting off: %+v", m)
	}
}

// TestMemoryDropInsNotGated: stale memory drop-ins are no guarantee: Run
// gives no check for them, and the gate's lines stay empty.
func TestMemoryDropInsNotGated(t *testing.T) {
	f := memFacts()
	f.Activated = true
	f.DropIns = map[string]facts.DropIn{}
	for _, path := range append(units.CPUFilePaths(f.Config), units.MemoryFilePaths(f.Config)...) {
		f.DropIns[path] = facts.DropIn{Err: fs.ErrNotExist}
	}
	p := memPlan()
	p.Files = append(p.Files, units.File{Dir: units.Normal, Path: "system.slice.d/" + names.MemoryDropIn, Content: []byte("[Slice]\nMemoryLow=4294967296\n"), Memory: true})
	r := Run(f, p)
	if len(r.MemoryDiffs) == 0 || r.Memory == nil || r.Memory.Cause != CauseStaleDropIns {
		t.Fatalf("diffs %q, memory %+v", r.MemoryDiffs, r.Memory)
	}
	if lines := r.GateLines(); len(lines) != 0 || r.Gated() {
		t.Errorf("stale memory drop-ins gate the core: %q", lines)
	}
}

// TestMemorySwapAccountingOffRemedyNamesSwapAccounting: without swap
// accounting (swapaccount=0, or a kernel built without it) the kernel
// makes no memory.swap.* files at all. Nothing overrides the drop-in, so
// the remedy names swap accounting, not an override to hunt; the core's
// swap, unknown, says why.
func TestMemorySwapAccountingOffRemedyNamesSwapAccounting(t *testing.T) {
	f := memFacts()
	for _, cg := range []string{"/system.slice", coreCG, "/ransomeye.slice", "/ransomeye.slice/ransomeye-training.slice", trainCG} {
		c := f.MemoryEffect.Cgroups[cg]
		c.SwapMax, c.SwapCurrent = facts.Value{Missing: true}, facts.Value{Missing: true}
		f.MemoryEffect.Cgroups[cg] = c
	}
	m := memoryView(f, memPlan(), nil)
	if m.State != MemoryDegraded || m.Cause != CauseNoSwapAccounting {
		t.Fatalf("state %q cause %q", m.State, m.Cause)
	}
	if strings.Contains(m.Remedy, "systemctl cat") || !strings.Contains(m.Remedy, "swapaccount=1") {
		t.Errorf("memory.swap.max absent everywhere (no swap accounting):\nreason %q\nremedy %q\nwant a remedy about swap accounting, not an override to remove", m.Reason, m.Remedy)
	}
	if core := m.Services[0]; core.SwapBytes != nil || !strings.Contains(core.SwapUnknown, "swap accounting") {
		t.Errorf("the core's swap unknown without a why: %+v", core)
	}
}

// TestMemoryPressureFilesMissingReported: with PSI in the kernel
// (/proc/pressure present) a running service's cgroup can still lack its
// *.pressure files (cgroup_disable=pressure, or 0 written to
// cgroup.pressure on Linux 6.5+): said in Problems and on its pressure
// row, and the pressure is not available (the pressure alerts are blind).
func TestMemoryPressureFilesMissingReported(t *testing.T) {
	f := memFacts()
	c := f.MemoryEffect.Cgroups[coreCG]
	c.PressureErr = map[string]error{}
	for _, res := range facts.PressureResources {
		c.PressureErr[res] = &fs.PathError{Op: "open", Path: "/sys/fs/cgroup" + coreCG + "/" + res + ".pressure", Err: fs.ErrNotExist}
	}
	f.MemoryEffect.Cgroups[coreCG] = c
	m := memoryView(f, memPlan(), nil)
	if len(m.Services[0].Pressure) != 0 {
		t.Fatalf("pressure invented: %+v", m.Services[0].Pressure)
	}
	if !strings.Contains(strings.Join(m.Problems, " "), "cgroup_disable=pressure") || !strings.Contains(m.Services[0].PressureMissing, "memory.pressure") || m.PressureAvailable {
		t.Errorf("the core's pressure files are missing, yet problems %q, pressure row %q, pressure available %v", m.Problems, m.Services[0].PressureMissing, m.PressureAvailable)
	}
	if m := memoryView(memFacts(), memPlan(), nil); !m.PressureAvailable {
		t.Errorf("every pressure file there: pressure not available")
	}
}

// TestMemoryEventsUnreadableReported: memory.events unreadable for the
// running core (the file a "low" event, the protection giving way, is
// read from) is a problem, and its counters are absent, not zeros that
// were never read.
func TestMemoryEventsUnreadableReported(t *testing.T) {
	f := memFacts()
	c := f.MemoryEffect.Cgroups[coreCG]
	c.Events, c.EventsErr = nil, errors.New(`read "/sys/fs/cgroup/system.slice/ransomeye-core.service/memory.events": permission denied`)
	f.MemoryEffect.Cgroups[coreCG] = c
	m := memoryView(f, memPlan(), nil)
	if !strings.Contains(strings.Join(m.Problems, " "), "memory.events") || len(m.Services[0].Events) != 0 || m.Services[0].EventsUnread == "" {
		t.Errorf("memory.events unreadable, problems %q, events %v: the zero counters pass for read", m.Problems, m.Services[0].Events)
	}
}

// TestMemoryNotMadeUnprotected: with shares configured and MemTotal
// unreadable no memory drop-in is written: the view says not made, with
// why, and counts as unprotected (the metrics' degraded gauge), not as
// held or off.
func TestMemoryNotMadeUnprotected(t *testing.T) {
	why := "MemTotal is not known (read \"/proc/meminfo\": no such file), so the shares of RAM cannot be resolved"
	p := plan.Plan{Memory: plan.MemoryPlan{Why: why}}
	m := memoryView(memFacts(), p, nil)
	if m.State != MemoryNotMade || m.Reason != why || !m.Unprotected() {
		t.Errorf("memory plan not made: %+v (unprotected %v)", m, m.Unprotected())
	}
}

// TestMemoryNoControllerRemedyFollowsCmdline: without the memory
// controller and without cgroup_disable=memory on the command line (a
// kernel built without CONFIG_MEMCG) there is nothing to remove: the
// remedy says the protection cannot exist on this kernel.
func TestMemoryNoControllerRemedyFollowsCmdline(t *testing.T) {
	f := memFacts()
	f.Memory = facts.Memory{Kind: facts.MemoryNone}
	f.Cmdline = []string{"BOOT_IMAGE=/vmlinuz", "root=/dev/vda1", "ro", "quiet"}
	m := memoryView(f, memPlan(), nil)
	if strings.Contains(m.Remedy, "cgroup_disable") || !strings.Contains(m.Remedy, "cannot exist on this kernel") {
		t.Errorf("no cgroup_disable=memory on the command line %q, remedy %q", f.Cmdline, m.Remedy)
	}
	f.Cmdline = append(f.Cmdline, "cgroup_disable=pressure,memory")
	if m := memoryView(f, memPlan(), nil); !strings.Contains(m.Remedy, "remove memory from cgroup_disable=pressure,memory") {
		t.Errorf("cgroup_disable=pressure,memory on the command line, remedy %q", m.Remedy)
	}
}

// TestMemTotalChangeKeepsGateOpenReportsStale: MemTotal moves at run time
// (virtio-balloon, Hyper-V dynamic memory, memory hot-add and
// hot-remove), and the shares are resolved to the page from it, so the
// boot's memory drop-ins differ from a fresh plan's after a change of a
// single page. That keeps the gate open (the protection is reported,
// never gated) and reports the drop-ins stale.
func TestMemTotalChangeKeepsGateOpenReportsStale(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	withRAM := func(ram int64) *facts.Facts {
		f := machine(root, 8)
		f.Mem.MemTotal, f.PageSize = ram, 4096
		return f
	}
	for _, file := range plan.Decide(withRAM(8 << 30)).Files {
		if file.Dir == units.Normal {
			if err := units.WriteFile(root.Path(units.NormalDir), file.Path, file.Content); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := withRAM(8<<30 - 4096)
	m := memFacts()
	f.Scope, f.Activated, f.Memory, f.MemoryEffect = m.Scope, true, m.Memory, m.MemoryEffect
	r := Run(f, plan.Decide(f))
	if r.Memory == nil || r.Memory.Cause != CauseStaleDropIns || !strings.Contains(r.Memory.Reason, "ransomeye-core.service.d/memory.conf") || !r.Memory.Unprotected() {
		t.Errorf("MemTotal one page smaller: memory %+v, want the drop-ins reported stale", r.Memory)
	}
	if lines := r.GateLines(); r.Gated() || len(lines) != 0 {
		t.Errorf("MemTotal one page smaller keeps the core down: %q", lines)
	}
}

// TestMemoryPressureUnavailableOnCgroupV1: on cgroup v1 no service's
// pressure is read although the kernel keeps PSI: the view says the
// pressure is not available, and what holds there says why.
func TestMemoryPressureUnavailableOnCgroupV1(t *testing.T) {
	f := memFacts()
	f.Memory = facts.Memory{Kind: facts.MemoryV1, Swappiness: 10}
	m := memoryView(f, memPlan(), nil)
	if !m.PSI || m.PressureAvailable || !strings.Contains(m.CgroupV1, "hybrid mode") {
		t.Errorf("cgroup v1: psi %v, pressure available %v, %q", m.PSI, m.PressureAvailable, m.CgroupV1)
	}
}
