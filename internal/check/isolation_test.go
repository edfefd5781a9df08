package check

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// TestJudgeIsolation: the isolation is degraded, with the platform cause
// and one reason per escaping unit, on cgroup v1 with threads on reserved
// CPUs (full when nothing escapes, as with CPUAffinity= in system.conf),
// for init.scope left on every CPU (systemd 247), for a service
// beyond its plan, for a pinned service's threads beyond its plan where
// no cpuset of it is read (cgroup v1, another slice), under either
// setting and named once; and full where nothing escapes, or where
// Isolation=services does not ask to fence the other units.
func TestJudgeIsolation(t *testing.T) {
	core, _ := cpuset.Parse("0-3")
	v2 := true
	pid1 := UnitThreads{Unit: "init.scope", Threads: 1, CPUs: "4-7", Example: "systemd[1]"}
	journald := UnitThreads{Unit: "systemd-journald.service", Threads: 1, CPUs: "4-7", Example: "systemd-journal[180]"}
	wide := ServiceEffect{Unit: "ransomeye-core.service", Planned: "0-3", Effective: "0-5", Escapes: "4-5"}
	// The core's and the DPI service's threads beyond their sets, as
	// /proc shows them where no cpuset is read (cgroup v1; a service moved
	// by Slice=, whose cgroup is not where the plan puts it).
	coreThreads := UnitThreads{Unit: "ransomeye-core.service", Threads: 3, CPUs: "4-7", Example: "core[700]"}
	dpiThreads := UnitThreads{Unit: "ransomeye-dpi.service", Threads: 2, CPUs: "6-7", Example: "W#01[801]"}
	own := map[string]cpuset.Set{"ransomeye-core.service": core, "ransomeye-dpi.service": cpuset.Of(4, 5), "ransomeye-training.service": cpuset.Of(6, 7)}
	for _, c := range []struct {
		name    string
		iso     config.Isolation
		mode    plan.CPUMode
		cg      bool
		p       *Placement
		state   string
		cause   string
		escapes []string
	}{
		{"v2 clean", config.IsolationStrict, plan.CPUModeAllowedCPUs, v2, &Placement{}, IsolationFull, "", nil},
		{"v2 init.scope", config.IsolationStrict, plan.CPUModeAllowedCPUs, v2, &Placement{ThreadsOnReserved: []UnitThreads{pid1}}, IsolationDegraded, CauseInitScope, []string{"init.scope"}},
		{"v1 nothing escapes", config.IsolationStrict, plan.CPUModeAffinity, false, &Placement{}, IsolationFull, "", nil},
		{"v1", config.IsolationStrict, plan.CPUModeAffinity, false, &Placement{ThreadsOnReserved: []UnitThreads{pid1, journald}}, IsolationDegraded, CauseCgroupV1, []string{"init.scope", "systemd-journald.service"}},
		{"v2 no cpuset", config.IsolationStrict, plan.CPUModeAffinity, true, &Placement{ThreadsOnReserved: []UnitThreads{journald}}, IsolationDegraded, CauseNoCpuset, []string{"systemd-journald.service"}},
		{"services mode", config.IsolationServices, plan.CPUModeAllowedCPUs, v2, &Placement{ThreadsOnReserved: []UnitThreads{pid1, journald}}, IsolationFull, "", nil},
		{"service escapes", config.IsolationServices, plan.CPUModeAllowedCPUs, v2, &Placement{Services: []ServiceEffect{wide}}, IsolationDegraded, CauseOther, []string{"ransomeye-core.service"}},
		{"other unit", config.IsolationStrict, plan.CPUModeAllowedCPUs, v2, &Placement{ThreadsOnReserved: []UnitThreads{journald}}, IsolationDegraded, CauseOther, []string{"systemd-journald.service"}},
		// Why: with /proc unreadable, or more threads than are read, the
		// walk found nothing and the isolation was said full.
		{"threads unread", config.IsolationStrict, plan.CPUModeAllowedCPUs, v2, &Placement{ThreadsErr: `read "/proc": permission denied`}, IsolationDegraded, CauseThreadsUnread, nil},
		{"threads partly read", config.IsolationStrict, plan.CPUModeAffinity, false, &Placement{ThreadsOnReserved: []UnitThreads{pid1}, ThreadsErr: "more than 65536 threads: the rest not read"}, IsolationDegraded, CauseCgroupV1 + "; " + CauseThreadsUnread, []string{"init.scope"}},
		{"threads unread, services mode", config.IsolationServices, plan.CPUModeAllowedCPUs, v2, &Placement{ThreadsErr: `read "/proc": permission denied`}, IsolationFull, "", nil},
		{"services mode, v1, core widened", config.IsolationServices, plan.CPUModeAffinity, false, &Placement{ThreadsOnReserved: []UnitThreads{coreThreads, journald}}, IsolationDegraded, CauseOther, []string{"ransomeye-core.service"}},
		{"services mode, DPI in another slice", config.IsolationServices, plan.CPUModeAllowedCPUs, v2, &Placement{Services: []ServiceEffect{{Unit: "ransomeye-dpi.service", Planned: "4-5", Err: "cannot read"}}, ThreadsOnReserved: []UnitThreads{dpiThreads}}, IsolationDegraded, CauseOther, []string{"ransomeye-dpi.service"}},
		{"strict, v1, core widened: not the platform", config.IsolationStrict, plan.CPUModeAffinity, false, &Placement{ThreadsOnReserved: []UnitThreads{coreThreads}}, IsolationDegraded, CauseOther, []string{"ransomeye-core.service"}},
		{"strict, v2, core widened: named once", config.IsolationStrict, plan.CPUModeAllowedCPUs, v2, &Placement{Services: []ServiceEffect{wide}, ThreadsOnReserved: []UnitThreads{coreThreads}}, IsolationDegraded, CauseOther, []string{"ransomeye-core.service"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := judgeIsolation(c.iso, c.mode, c.cg, core, own, c.p, "empty")
			if got.State != c.state || got.Cause != c.cause {
				t.Errorf("state %q cause %q, want %q %q", got.State, got.Cause, c.state, c.cause)
			}
			var units []string
			for _, e := range got.Escapes {
				units = append(units, e.Unit)
				if e.Reason == "" {
					t.Errorf("%s: no reason", e.Unit)
				}
			}
			if strings.Join(units, ",") != strings.Join(c.escapes, ",") {
				t.Errorf("escapes %v, want %v", units, c.escapes)
			}
			if got.Degraded() != (got.Remedy != "") {
				t.Errorf("degraded %v with remedy %q", got.Degraded(), got.Remedy)
			}
			if c.cause == CauseCgroupV1 {
				if !strings.Contains(got.Remedy, "CPUAffinity=0-3") || !strings.Contains(got.Remedy, "/etc/systemd/system.conf.d") {
					t.Errorf("remedy %q does not name CPUAffinity=0-3 under system.conf.d", got.Remedy)
				}
			}
			if c.cause == CauseInitScope && !strings.Contains(got.Remedy, "systemd 252 or later") {
				t.Errorf("remedy %q does not name systemd 252", got.Remedy)
			}
			if c.cause == CauseInitScope && !strings.Contains(got.Escapes[0].Reason, "cpuset.cpus is empty") {
				t.Errorf("init.scope reason %q does not say what its cgroup holds", got.Escapes[0].Reason)
			}
		})
	}
}
