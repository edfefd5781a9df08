package check

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

func set(t *testing.T, s string) cpuset.Set {
	t.Helper()
	c, err := cpuset.ParseMaybeEmpty(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withUnit is m measured for the core mydb.service.
func withUnit(m facts.Core) facts.Core {
	m.Unit = "mydb.service"
	return m
}

// TestCoreGate: the core's ExecCondition= as systemd reports it must run
// the gate; an administrator's empty ExecCondition= (which resets the list)
// or another command only fails it, naming the remedy. In the core's
// cgroup the running gate is the proof; under a root
// prefix nothing is measured.
func TestCoreGate(t *testing.T) {
	gate := facts.Command{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}}
	other := facts.Command{Path: "/usr/bin/true", Argv: []string{"true"}}
	for _, tc := range []struct {
		name   string
		m      facts.Core
		ok, nm bool
	}{
		{"gate", facts.Core{ExecCondition: []facts.Command{other, gate}}, true, false},
		{"reset to none", facts.Core{ExecCondition: []facts.Command{}}, false, false},
		{"reset, another command", facts.Core{ExecCondition: []facts.Command{other}}, false, false},
		{"gate's name, no gate verb", facts.Core{ExecCondition: []facts.Command{{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"ransomeye-tuner", "status"}}}}, false, false},
		{"in the core's cgroup", facts.Core{InCgroup: true}, true, false},
		{"not measured", facts.Core{NotMeasured: "systemd cannot be asked about a root prefix"}, false, true},
		{"error", facts.Core{Err: errors.New("boom")}, false, false},
	} {
		e := coreGate(withUnit(tc.m))
		if e.Name != NameCoreGate || e.OK != tc.ok || e.NotMeasured != tc.nm {
			t.Errorf("%s: %+v, want ok %v not measured %v", tc.name, e, tc.ok, tc.nm)
		}
		if e.Failed() && (!strings.Contains(e.Reason, "mydb.service") || e.Remedy == "") {
			t.Errorf("%s: a failure must name the core and a remedy: %+v", tc.name, e)
		}
	}
	e := coreGate(withUnit(facts.Core{ExecCondition: []facts.Command{}}))
	if !strings.Contains(e.Reason, "empty ExecCondition=") || !strings.Contains(e.Remedy, "systemctl cat mydb.service") || !strings.Contains(e.Remedy, "daemon-reload") {
		t.Errorf("reset: %+v", e)
	}
}

// TestCoreGateFailsOnIgnoreFailurePrefix: an administrator's drop-in
//
//	ExecCondition=
//	ExecCondition=-/usr/sbin/ransomeye-tuner --root=/ gate
//
// keeps the gate's command line but prefixes it with "-": systemd then
// records the gate's exit 1 and starts the core anyway ("considered
// equivalent to success", systemd.service(5)). systemd carries the prefix
// as the third field (ignore-failure, b) of the a(sasbttttuii) it sends;
// core-gate must fail on it. With the field dropped, core-gate held and
// status said COMPLIANT while nothing could keep the core down, as with an
// empty ExecCondition= reset.
func TestCoreGateFailsOnIgnoreFailurePrefix(t *testing.T) {
	v := [][]any{{"/usr/sbin/ransomeye-tuner", []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}, true, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}}
	cmds, ok := facts.Commands(v)
	if !ok {
		t.Fatal("Commands refused systemd's property")
	}
	if e := coreGate(withUnit(facts.Core{ExecCondition: cmds})); e.OK {
		t.Errorf("core-gate holds for an ExecCondition=- gate whose failure systemd ignores: %+v", e)
	}
}

// TestRunsGateRefusesOtherRootOrProgram: a gate run on another tree
// (--root=/srv/copy), or left to take its root from RANSOMEYE_TUNER_ROOT in
// the core's environment (no --root), or a program of that name outside
// the package's path, checks nothing about this host: RunsGate must not
// count it. Counting any ransomeye-tuner command holding "gate" let
// core-gate hold for all three.
func TestRunsGateRefusesOtherRootOrProgram(t *testing.T) {
	for _, c := range []facts.Command{
		{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"/usr/sbin/ransomeye-tuner", "--root=/srv/copy", "gate"}},
		{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"/usr/sbin/ransomeye-tuner", "gate"}},
		{Path: "/tmp/ransomeye-tuner", Argv: []string{"/tmp/ransomeye-tuner", "--root=/", "gate"}},
	} {
		if RunsGate([]facts.Command{c}) {
			t.Errorf("RunsGate(%q) = true: it does not gate this host's core", c.Argv)
		}
	}
}

// TestRunsGateForms: only our gate as systemd runs it counts: GatePath,
// "--root=/" or "--root /", the subcommand "gate", no ignore-failure flag;
// and core-gate says why a "-" line fails.
func TestRunsGateForms(t *testing.T) {
	const p = "/usr/sbin/ransomeye-tuner"
	for _, tc := range []struct {
		c  facts.Command
		ok bool
	}{
		{facts.Command{Path: p, Argv: []string{p, "--root=/", "gate"}}, true},
		{facts.Command{Path: p, Argv: []string{p, "--root", "/", "gate"}}, true},
		{facts.Command{Path: p, Argv: []string{p, "--root=/", "gate"}, IgnoreFailure: true}, false},
		{facts.Command{Path: p, Argv: []string{p, "--root=/", "gate", "extra"}}, false},
		{facts.Command{Path: p, Argv: []string{p, "--root=/", "status"}}, false},
		{facts.Command{Path: p, Argv: []string{p, "gate", "--root=/"}}, false},
		{facts.Command{Path: p, Argv: []string{p, "--root=//", "gate"}}, false},
		{facts.Command{Path: p, Argv: []string{"/bin/sh", "--root=/", "gate"}}, false},
		{facts.Command{Path: "/usr/sbin/../sbin/ransomeye-tuner", Argv: []string{p, "--root=/", "gate"}}, false},
		{facts.Command{Path: p}, false},
	} {
		if got := RunsGate([]facts.Command{tc.c}); got != tc.ok {
			t.Errorf("RunsGate(%+v) = %v, want %v", tc.c, got, tc.ok)
		}
	}
	cmds, ok := facts.Commands([][]any{{p, []string{p, "--root=/", "gate"}, true, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}})
	if !ok || len(cmds) != 1 || !cmds[0].IgnoreFailure {
		t.Fatalf("Commands dropped the ignore-failure flag: %+v, %v", cmds, ok)
	}
	e := coreGate(withUnit(facts.Core{ExecCondition: cmds}))
	if e.OK || !strings.Contains(e.Actual, "-"+p) || !strings.Contains(e.Reason, `"-" prefix`) || !strings.Contains(e.Remedy, "systemctl cat mydb.service") {
		t.Errorf("core-gate for a \"-\" gate: %+v", e)
	}
	if _, ok := facts.Commands([][]any{{p, []string{p}, "yes"}}); ok {
		t.Error("Commands took a non-boolean ignore-failure field")
	}
}

// TestApplied: what systemd gives the core from its properties, in each
// CPU mode; an administrator's AllowedCPUs= that overrides ours shows.
func TestApplied(t *testing.T) {
	online := set(t, "0-15")
	for _, tc := range []struct {
		mode                      plan.CPUMode
		parent, allowed, affinity string
		want                      string
	}{
		{plan.CPUModeAllowedCPUs, "", "0-3", "", "0-3"},
		{plan.CPUModeAllowedCPUs, "", "0-7", "", "0-7"},    // the administrator's drop-in, no slice limit (isolation services)
		{plan.CPUModeAllowedCPUs, "0-3", "0-7", "", "0-3"}, // the same under strict isolation: system.slice keeps it on 0-3
		{plan.CPUModeAllowedCPUs, "0-7", "0-7", "", "0-7"}, // and with system.slice widened too
		{plan.CPUModeAllowedCPUs, "0-3", "4-5", "", "0-3"}, // disjoint: the kernel gives the parent's set
		{plan.CPUModeAllowedCPUs, "", "", "", "0-15"},      // nothing applied (no daemon-reload)
		{plan.CPUModeAllowedCPUs, "", "0-7", "0-3", "0-3"},
		{plan.CPUModeAffinity, "0-1", "0-7", "0-3", "0-3"}, // AllowedCPUs= and the slice have no effect without cpuset
		{plan.CPUModeAffinity, "", "0-3", "", "0-15"},
	} {
		m := facts.Core{Unit: "mydb.service", Allowed: set(t, tc.allowed), Affinity: set(t, tc.affinity), Slice: "system.slice", SliceCPUs: set(t, tc.parent)}
		got, _, err := Applied(m, tc.mode, online)
		if err != nil || got.String() != tc.want {
			t.Errorf("Applied(%s, parent %q, allowed %q, affinity %q) = %q, want %q", tc.mode, tc.parent, tc.allowed, tc.affinity, got, tc.want)
		}
	}
}

func TestCoreCPUs(t *testing.T) {
	p := plan.Plan{CPUMode: plan.CPUModeAllowedCPUs, CPU: cpuplan.Plan{Reserved: true, Assignments: []cpuplan.Assignment{{Role: roles.Core(), CPUs: set(t, "0-3")}}}}
	check := func(m facts.Core) Check {
		m.Unit = "mydb.service"
		return coreCPUs(&facts.Facts{Topology: topology.Info{Online: set(t, "0-15")}, Core: m}, p)
	}
	measured := func(s string) facts.Core { return facts.Core{Allowed: set(t, s)} }
	e := check(measured("0-3"))
	if !e.OK || e.Failed() || e.Actual != "0-3" {
		t.Errorf("matching set: %+v", e)
	}
	e = check(measured("0-7"))
	if e.OK || !e.Failed() {
		t.Fatalf("administrator's AllowedCPUs=0-7 passed: %+v", e)
	}
	for _, w := range []string{"mydb.service", `"0-7"`, `"0-3"`, "it also gets CPUs 4-7, which the plan keeps from it"} {
		if !strings.Contains(e.Reason, w) {
			t.Errorf("reason lacks %q: %s", w, e.Reason)
		}
	}
	if !strings.Contains(e.Remedy, "/etc/systemd/system/mydb.service.d/") || !strings.Contains(e.Remedy, "daemon-reload") {
		t.Errorf("remedy: %s", e.Remedy)
	}
	e = check(measured("0-1"))
	if e.OK || !strings.Contains(e.Reason, "it lacks CPUs 2-3 of its own") {
		t.Errorf("smaller set: %+v", e)
	}
	e = check(facts.Core{NotMeasured: "no systemd here"})
	if e.OK || e.Failed() || !e.NotMeasured || e.Actual != "" || !strings.Contains(e.Reason, "not measured: no systemd here") {
		t.Errorf("not measured: %+v", e)
	}
	e = check(facts.Core{Err: errors.New("boom")})
	if !e.Failed() || !strings.Contains(e.Reason, "boom") {
		t.Errorf("measurement error: %+v", e)
	}
}

// TestSysctl: the drifted value fails with the key, both values and the
// remedy that names what usually changes it.
func TestSysctl(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/proc/sys/vm"), 0o755); err != nil {
		t.Fatal(err)
	}
	sysctl := func(key string) Check {
		f := facts.Gather(root, facts.Gate)
		defer f.Close()
		for _, c := range Run(f, plan.Decide(f)).Checks {
			if c.Name == NameSysctl+key {
				return c
			}
		}
		t.Fatalf("no check of %s", key)
		return Check{}
	}
	os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("60\n"), 0o644)
	e := sysctl("vm.swappiness")
	if e.OK || !e.Failed() || e.Actual != "60" || e.Expected != "10" || !strings.Contains(e.Reason, `vm.swappiness is "60", want "10"`) || !strings.Contains(e.Remedy, "sysctl --system") {
		t.Errorf("drifted swappiness: %+v", e)
	}
	// The file sysctl --system applies last for the key gives that value:
	// the remedy names it.
	if err := os.MkdirAll(root.Path("/etc/sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(root.Path("/etc/sysctl.d/70-local.conf"), []byte("vm.swappiness = 60\n"), 0o644)
	if e := sysctl("vm.swappiness"); !strings.Contains(e.Remedy, "/etc/sysctl.d/70-local.conf sets vm.swappiness = 60") {
		t.Errorf("remedy does not name the file that sets the key: %+v", e)
	}
	os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("10\n"), 0o644)
	if e := sysctl("vm.swappiness"); !e.OK {
		t.Errorf("swappiness 10: %+v", e)
	}
	if e := sysctl("vm.vfs_cache_pressure"); e.OK || !strings.Contains(e.Reason, "cannot be read") {
		t.Errorf("missing vfs_cache_pressure: %+v", e)
	}
}

// TestCommands decodes systemd's a(sasbttttuii) as godbus delivers it, and
// refuses anything else (a missing property, systemd < 243).
func TestCommands(t *testing.T) {
	v := [][]any{{"/usr/sbin/ransomeye-tuner", []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}, false, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}}
	cmds, ok := facts.Commands(v)
	if !ok || len(cmds) != 1 || !RunsGate(cmds) {
		t.Errorf("Commands = %+v, %v", cmds, ok)
	}
	if cmds, ok := facts.Commands([][]any{}); !ok || cmds == nil || len(cmds) != 0 || RunsGate(cmds) {
		t.Errorf("empty list: %+v, %v", cmds, ok)
	}
	for _, bad := range []any{nil, "x", [][]any{{"/bin/true"}}, [][]any{{1, []string{"a"}}}} {
		if _, ok := facts.Commands(bad); ok {
			t.Errorf("facts.Commands(%#v) accepted", bad)
		}
	}
}

// TestCoreGateInCoreRoot: a core with RootDirectory= or RootImage= and
// without RootDirectoryStartOnly=yes runs its ExecCondition= in that tree
// ("+" lifts User= and the sandboxing options, not the root), where the
// gate cannot see this host: core-gate fails and names
// RootDirectoryStartOnly=yes. Before, it held, and the core stayed down
// at every start with the gate's misleading reasons only.
func TestCoreGateInCoreRoot(t *testing.T) {
	gate := facts.Command{Path: GatePath, Argv: []string{GatePath, "--root=/", "gate"}}
	e := coreGate(withUnit(facts.Core{ExecCondition: []facts.Command{gate}, ConditionRoot: "RootDirectory=/srv/db"}))
	if e.OK || !e.Failed() || !strings.Contains(e.Reason, "RootDirectory=/srv/db") || !strings.Contains(e.Remedy, "RootDirectoryStartOnly=yes") {
		t.Errorf("gate run in the core's root directory: %+v", e)
	}
	if e := coreGate(withUnit(facts.Core{ExecCondition: []facts.Command{gate}})); !e.OK {
		t.Errorf("gate on the host's root: %+v", e)
	}
}
