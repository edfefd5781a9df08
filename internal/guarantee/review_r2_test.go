package guarantee

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// TestReviewR2GateWithIgnoreFailure: an administrator's drop-in
//
//	ExecCondition=
//	ExecCondition=-/usr/sbin/ransomeye-tuner --root=/ gate
//
// keeps the gate's command line but prefixes it with "-": systemd then
// records the gate's exit 1 and starts the core anyway ("considered
// equivalent to success", systemd.service(5)). systemd carries the prefix
// as the third field (ignore-failure, b) of the a(sasbttttuii) it sends;
// Commands drops it, so core-gate holds and status says COMPLIANT while
// nothing can keep the core down: the same fail-open as the empty
// ExecCondition= reset (FAULTS.md, finding 32).
func TestReviewR2GateWithIgnoreFailure(t *testing.T) {
	v := [][]any{{"/usr/sbin/ransomeye-tuner", []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}, true, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}}
	cmds, ok := Commands(v)
	if !ok {
		t.Fatal("Commands refused systemd's property")
	}
	if e := CoreGate("mydb.service", Measurement{ExecCondition: cmds}); e.OK {
		t.Errorf("core-gate holds for an ExecCondition=- gate whose failure systemd ignores: %+v", e)
	}
}

// TestReviewR2GateInDelegatedControlCgroup: with Delegate=yes systemd runs
// a service's control processes (ExecCondition= among them) in the
// ".control" sub-cgroup of the unit's cgroup (the no-processes-in-inner-
// nodes rule), so the gate of a delegated core reads
// "0::/system.slice/system-db.slice/db@a.service/.control". InUnitCgroup
// misses it; for a template core Systemd() then answers "not measured"
// (systemd has no properties for a template), core-gate and core-cpus
// count as not failed, and the gate exits 0 whatever AllowedCPUs= an
// administrator's drop-in set: fail-open on the CPU guarantee.
func TestReviewR2GateInDelegatedControlCgroup(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/proc/self"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ unit, content string }{
		{"db@.service", "0::/system.slice/system-db.slice/db@a.service/.control\n"},
		{"mydb.service", "0::/system.slice/mydb.service/.control\n"},
	} {
		if err := os.WriteFile(root.Path("/proc/self/cgroup"), []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if !InUnitCgroup(root, tc.unit) {
			t.Errorf("InUnitCgroup(%s) with %q = false: the gate runs in the unit's own control sub-cgroup", tc.unit, tc.content)
		}
	}
}

// TestReviewR2RunsGateOtherRoot: RunsGate counts any command whose program
// is named ransomeye-tuner and whose arguments hold "gate" anywhere. A gate
// run on another tree (--root=/srv/copy), or left to take its root from
// RANSOMEYE_TUNER_ROOT in the core's environment (no --root), or a
// program of that name outside the package's path, checks nothing about
// this host, yet core-gate holds.
func TestReviewR2RunsGateOtherRoot(t *testing.T) {
	for _, c := range []Command{
		{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"/usr/sbin/ransomeye-tuner", "--root=/srv/copy", "gate"}},
		{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"/usr/sbin/ransomeye-tuner", "gate"}},
		{Path: "/tmp/ransomeye-tuner", Argv: []string{"/tmp/ransomeye-tuner", "--root=/", "gate"}},
	} {
		if RunsGate([]Command{c}) {
			t.Errorf("RunsGate(%q) = true: it does not gate this host's core", c.Argv)
		}
	}
}

// TestRunsGateForms: only our gate as systemd runs it counts: GatePath,
// "--root=/" or "--root /", the subcommand "gate", no ignore-failure flag
// (FAULTS.md, findings 38 and 39); and core-gate says why a "-" line fails.
func TestRunsGateForms(t *testing.T) {
	const p = "/usr/sbin/ransomeye-tuner"
	for _, tc := range []struct {
		c  Command
		ok bool
	}{
		{Command{Path: p, Argv: []string{p, "--root=/", "gate"}}, true},
		{Command{Path: p, Argv: []string{p, "--root", "/", "gate"}}, true},
		{Command{Path: p, Argv: []string{p, "--root=/", "gate"}, IgnoreFailure: true}, false},
		{Command{Path: p, Argv: []string{p, "--root=/", "gate", "extra"}}, false},
		{Command{Path: p, Argv: []string{p, "--root=/", "status"}}, false},
		{Command{Path: p, Argv: []string{p, "gate", "--root=/"}}, false},
		{Command{Path: p, Argv: []string{p, "--root=//", "gate"}}, false},
		{Command{Path: p, Argv: []string{"/bin/sh", "--root=/", "gate"}}, false},
		{Command{Path: "/usr/sbin/../sbin/ransomeye-tuner", Argv: []string{p, "--root=/", "gate"}}, false},
		{Command{Path: p}, false},
	} {
		if got := RunsGate([]Command{tc.c}); got != tc.ok {
			t.Errorf("RunsGate(%+v) = %v, want %v", tc.c, got, tc.ok)
		}
	}
	cmds, ok := Commands([][]any{{p, []string{p, "--root=/", "gate"}, true, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}})
	if !ok || len(cmds) != 1 || !cmds[0].IgnoreFailure {
		t.Fatalf("Commands dropped the ignore-failure flag: %+v, %v", cmds, ok)
	}
	e := CoreGate("mydb.service", Measurement{ExecCondition: cmds})
	if e.OK || !strings.Contains(e.Actual, "-"+p) || !strings.Contains(e.Reason, `"-" prefix`) || !strings.Contains(e.Remedy, "systemctl cat mydb.service") {
		t.Errorf("core-gate for a \"-\" gate: %+v", e)
	}
	if _, ok := Commands([][]any{{p, []string{p}, "yes"}}); ok {
		t.Error("Commands took a non-boolean ignore-failure field")
	}
}
