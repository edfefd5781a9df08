package apply

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
	"github.com/ransomeye/ransomeye-tuner/internal/statedir"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// activation carries one run of activate.
type activation struct {
	log    *priolog.Logger
	notify func(string)
	start  time.Time
	f      *facts.Facts
	p      plan.Plan
	// planted counts the planted markers this run removed, for the metrics.
	planted int
}

// Activate makes the machine's resources what the core needs, or records
// why not: the swap, the sysctls (read back), the CPU drop-ins against a
// fresh plan, the placement, then the records (this boot's success last).
// A failure writes the marker, logs at CRIT and tells systemd (notify).
// The metrics textfile ends either way. It reports whether it succeeded.
func Activate(root hostroot.Root, log *priolog.Logger, notify func(string)) bool {
	a := &activation{log: log, notify: notify, start: time.Now()}
	// One activation at a time: a second would remove the first's
	// temporary swapfile as a leftover, failing it.
	if unlock, err := marker.Lock(root); err != nil {
		log.Warnf("cannot take the activation lock (%v): going on without it", err)
	} else {
		defer unlock()
	}
	// The placement's record is read with the facts: under its lock.
	var pr placement.Report
	defer lockPlacement(root, &pr, false)()
	// An activation places again after the package's removal withdrew the
	// placement and held it (run by hand, or a reinstall's).
	if _, err := placement.Hold(root, true, false); err != nil {
		pr.Warnf("%v", err)
	}
	// The earlier success record goes first: from here on, a crash or a
	// failure that cannot even write the marker leaves the gate closed.
	okErr := marker.RemoveOK(root)
	f := facts.Gather(root, facts.Activate)
	defer f.Close()
	// This run is the activation now: where an earlier one stopped says
	// nothing of what this one sets.
	f.Stopped = ""
	a.f, a.p = f, plan.Decide(f)
	if f.CmdlineErr != nil {
		log.Warnf("%v: assuming %s is on", f.CmdlineErr, names.CmdlineSwitch)
	}
	if f.EnabledErr != nil {
		log.Warnf("%v", f.EnabledErr)
	}
	if !f.Enabled {
		log.Event(msgid.Disabled, priolog.Warning, "disabled by kernel command line; resources not guaranteed (%s=0)", names.CmdlineSwitch)
		notify("STATUS=disabled by kernel command line; resources not guaranteed")
		logPlacement(log, place(f, &a.p, pr)) // undoes an earlier placement
		a.closing()
		return true
	}
	for _, w := range f.ConfigWarnings {
		log.Warnf("%s", w.String())
	}
	if f.ConfigErr != nil {
		return a.fail(marker.StepConfig, msgid.ConfigInvalid, "%v", f.ConfigErr)
	}
	desc := f.Swap.Describe(a.p.Swap)
	log.Log(desc.Log...)
	if err := f.Swap.Apply(a.p.Swap, log); err != nil {
		return a.fail(marker.StepSwap, msgid.SwapFailed, "%v", err)
	}
	f.Swap.Record(log)
	a.p.Swap = f.Swap.Decide(a.p.Swap.Target) // what is there now
	for _, s := range a.p.Sysctls {
		a.recordBefore(s)
		if err := sysctl.Apply(root, s); err != nil {
			return a.fail(marker.StepSysctls, msgid.SysctlFailed, "%v", err)
		}
		f.Sysctls[s.Key] = facts.Sysctl{Value: s.Value} // read back
		// The check also judges what the value means to the kernel
		// (vfs_cache_pressure over its denominator), as the gate will.
		if c := check.Sysctl(f, s); c.Failed() {
			return a.fail(marker.StepSysctls, msgid.SysctlFailed, "%s", c.Problem())
		}
		log.Infof("%s = %s (read back)", s.Key, s.Value)
	}
	// The same values for a later sysctl --system, which would apply the
	// package's defaults over them (and the gate keep the core down). Not
	// a failure: the values hold now, and the gate checks them. Written as
	// soon as they are set: status reads the file as this boot's proof
	// that activate set them (facts.SysctlsSetThisBoot).
	if err := sysctl.WriteRun(root, a.p.Sysctls); err != nil {
		log.Warnf("%v: a later sysctl --system may change the sysctls (the gate then keeps the core down)", err)
	}
	// The core's memory cgroup as the gate will judge it: systemd's
	// settings stand in for the cgroups not made yet.
	core := f.Config.CoreService()
	if f.Memory.Kind != facts.MemoryNone {
		if err := f.Core.AskMemory(root); err != nil {
			log.Warnf("%v: the core's memory cgroup is looked for in system.slice", err)
		}
	}
	// cgroup v1: vm.swappiness reaches only the root memory cgroup, and
	// the core copies its slice's value when it starts.
	if f.Memory.Kind == facts.MemoryV1 {
		slice := f.Core.Slice
		if slice == "" {
			slice = "system.slice"
		}
		changed, err := SetCoreSwappiness(f.Cgroups, core, slice, f.Config.Swappiness)
		for _, c := range changed {
			log.Noticef("%s", c)
		}
		if err != nil {
			return a.fail(marker.StepMemory, msgid.SysctlFailed, "%v", err)
		}
	}
	if f.Memory.Kind != facts.MemoryNone {
		f.MemoryAgain() // what activate set, and systemd's settings
	}
	// What the gate checks of the core's memory cgroup, activate checks too.
	if c := check.CoreMemory(core, f.Memory, f.Config.Swappiness, a.p.Swap.Target.Bytes); c.Failed() {
		id := msgid.SwapFailed
		if f.Memory.Kind == facts.MemoryV1 {
			id = msgid.SysctlFailed
		}
		return a.fail(marker.StepMemory, id, "%s", c.Problem())
	}
	if id, reason, ok := a.checkCPU(); !ok {
		return a.fail(marker.StepCPU, id, "%s", reason)
	}
	// Interrupts, kernel work, the plan file: warnings, never fail-closed.
	logPlacement(log, place(f, &a.p, pr))
	if okErr != nil {
		return a.fail(marker.StepRecords, msgid.RecordFailed, "cannot remove the earlier success record: %v", okErr)
	}
	res, err := marker.Clear(root)
	a.alertPlanted(res.Planted)
	for _, p := range res.Removed {
		log.Noticef("removed the failure marker %q left from an earlier failure: the cause is fixed", p)
	}
	if err != nil {
		// The marker may still be there: the core stays down, the safe
		// side; say how to clear it.
		log.Event(msgid.MarkerClearFailed, priolog.Err, "cannot remove the failure marker: %v; remove it by hand once the cause is fixed", err)
		f.Markers = marker.Inspect(root)
	} else {
		f.Markers = []marker.State{{Path: names.MarkerPath}, {Path: marker.FallbackPath}}
	}
	if err := marker.WriteOK(root, f.BootID, time.Now()); err != nil {
		return a.fail(marker.StepRecords, msgid.RecordFailed, "cannot record the successful activation (the gate opens only with it): %v", err)
	}
	f.Activated, f.ActivatedWhy = true, ""
	var sysctls []string
	for _, s := range a.p.Sysctls {
		sysctls = append(sysctls, s.Key+"="+s.Value)
	}
	msg := fmt.Sprintf("resources guaranteed: %s, %s", f.Swap.Describe(a.p.Swap).Provides, strings.Join(sysctls, ", "))
	log.Event(msgid.ActivationSucceeded, priolog.Notice, "%s", msg)
	notify("STATUS=" + msg)
	rep := a.closing()
	switch m := rep.Memory; {
	case m.Degraded():
		// Once per activation, never a failure (check.Memory says why),
		// stale memory drop-ins included.
		log.Event(msgid.MemoryDegraded, priolog.Warning, "memory protection degraded: %s: %s; remedy: %s", m.Cause, m.Reason, m.Remedy)
	case m.Unprotected():
		log.Event(msgid.MemoryDegraded, priolog.Warning, "memory protection not made: %s", m.Reason)
	}
	if i := rep.Placement; i != nil && i.Isolation.Degraded() {
		// Once per activation, never a failure (the gate guards the core's
		// own CPUs); the metrics timer does not log it.
		units := make([]string, 0, len(i.Isolation.Escapes))
		for _, e := range i.Isolation.Escapes {
			units = append(units, e.Unit)
		}
		log.Event(msgid.IsolationDegraded, priolog.Warning, "CPU isolation degraded: %s; escaping: %s; remedy: %s",
			i.Isolation.Cause, strings.Join(units, ", "), i.Isolation.Remedy)
	}
	return true
}

// recordBefore records the value s.Key had before activate first set it,
// for the package's removal to give back; never a failure.
func (a *activation) recordBefore(s sysctl.Setting) {
	found := a.f.Sysctls[s.Key]
	if found.Err != nil || found.Value == s.Value {
		return // nothing changes, or Apply says why it cannot
	}
	err := sysctl.RecordBefore(a.f.Root, s.Key, found.Value)
	switch {
	case errors.Is(err, statedir.ErrNotNow):
		a.log.Infof("%s = %s is not recorded now (%v): the package's removal may not give it back", s.Key, found.Value, err)
	case err != nil:
		a.log.Warnf("%v: the package's removal may not give back %s = %s", err, s.Key, found.Value)
	}
}

// checkCPU fails on a CPU topology that cannot be trusted, and on CPU
// drop-ins in effect that differ from a fresh plan (the topology or the
// configuration changed since the generator ran). Stale memory drop-ins
// are not a failure: the memory view reports them (check.Memory).
func (a *activation) checkCPU() (msgid.ID, string, bool) {
	r := check.Run(a.f, a.p)
	for _, c := range r.Checks {
		switch {
		case c.Name == check.NameCPUTopology && c.Failed():
			return msgid.CPUFailed, c.Problem(), false
		case c.Name == check.NameCPUTopology:
			a.log.Warnf("%s", c.Reason)
		case c.Name == check.NameCPUDropIns && c.Failed():
			return msgid.CPUFailed, c.Problem(), false
		case c.Name == check.NameCPUPlan && c.Failed():
			return msgid.CPUFailed, c.Problem(), false
		}
	}
	if a.p.CPU.Reserved {
		var parts []string
		for _, as := range a.p.CPU.Assignments {
			parts = append(parts, a.f.Config.Units[as.Role.Name]+" "+as.CPUs.String())
		}
		a.log.Infof("CPU plan in effect (%s): %s", a.p.CPUMode, strings.Join(parts, ", "))
	} else {
		a.log.Noticef("no CPU reservation: %s", a.p.NoReservation())
	}
	return "", "", true
}

// fail records the reason and the step that failed in the marker, logs it
// at CRIT as event id, tells systemd and writes the metrics.
func (a *activation) fail(step string, id msgid.ID, format string, args ...any) bool {
	reason := fmt.Sprintf(format, args...)
	a.log.Event(id, priolog.Crit, "%s", reason)
	written, planted := WriteMarker(a.f.Root, a.log, marker.Entry{Reason: reason, Source: "activate", Core: a.f.CoreName(), Step: step})
	a.planted += planted
	if !written {
		reason += " (and the failure marker could not be written)"
	}
	a.notify("STATUS=failed: " + firstLine(reason))
	a.f.Markers, a.f.Activated = marker.Inspect(a.f.Root), false
	a.f.Stopped = facts.StoppedAt(a.f.Markers, a.f.BootID)
	a.closing()
	return false
}

func (a *activation) alertPlanted(planted []string) {
	a.planted += len(planted)
	AlertPlanted(a.log, planted)
}

// closing writes the metrics textfile from the facts as activate left them
// and returns the report (at boot before swapon: swap not yet active).
func (a *activation) closing() report.Report {
	rep := report.Build(a.f, a.p, check.Run(a.f, a.p))
	if err := WriteMetrics(a.f, rep.Metrics(report.Run{Start: a.start, Duration: time.Since(a.start), Planted: a.planted})); err != nil {
		a.log.Warnf("metrics: %v", err)
	}
	return rep
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
