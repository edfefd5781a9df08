package guarantee

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCoreGate: the core's ExecCondition= as systemd reports it must run
// the gate; an administrator's empty ExecCondition= (which resets the list)
// or another command only fails it, naming the remedy. In the core's
// cgroup the running gate is the proof; under a root
// prefix nothing is measured.
func TestCoreGate(t *testing.T) {
	gate := Command{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}}
	other := Command{Path: "/usr/bin/true", Argv: []string{"true"}}
	for _, tc := range []struct {
		name   string
		m      Measurement
		ok, nm bool
	}{
		{"gate", Measurement{ExecCondition: []Command{other, gate}}, true, false},
		{"reset to none", Measurement{ExecCondition: []Command{}}, false, false},
		{"reset, another command", Measurement{ExecCondition: []Command{other}}, false, false},
		{"gate's name, no gate verb", Measurement{ExecCondition: []Command{{Path: "/usr/sbin/ransomeye-tuner", Argv: []string{"ransomeye-tuner", "status"}}}}, false, false},
		{"in the core's cgroup", Measurement{InCgroup: true}, true, false},
		{"not measured", Measurement{NotMeasured: "systemd cannot be asked about a root prefix"}, false, true},
		{"error", Measurement{Err: errors.New("boom")}, false, false},
	} {
		e := CoreGate("mydb.service", tc.m)
		if e.Name != NameCoreGate || e.OK != tc.ok || e.NotMeasured != tc.nm {
			t.Errorf("%s: %+v, want ok %v not measured %v", tc.name, e, tc.ok, tc.nm)
		}
		if e.Failed() && (!strings.Contains(e.Reason, "mydb.service") || e.Remedy == "") {
			t.Errorf("%s: a failure must name the core and a remedy: %+v", tc.name, e)
		}
	}
	e := CoreGate("mydb.service", Measurement{ExecCondition: []Command{}})
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
	cmds, ok := Commands(v)
	if !ok {
		t.Fatal("Commands refused systemd's property")
	}
	if e := CoreGate("mydb.service", Measurement{ExecCondition: cmds}); e.OK {
		t.Errorf("core-gate holds for an ExecCondition=- gate whose failure systemd ignores: %+v", e)
	}
}

// TestCommands decodes systemd's a(sasbttttuii) as godbus delivers it, and
// refuses anything else (a missing property, systemd < 243).
func TestCommands(t *testing.T) {
	v := [][]any{{"/usr/sbin/ransomeye-tuner", []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}, false, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}}
	cmds, ok := Commands(v)
	if !ok || len(cmds) != 1 || !RunsGate(cmds) {
		t.Errorf("Commands = %+v, %v", cmds, ok)
	}
	if cmds, ok := Commands([][]any{}); !ok || cmds == nil || len(cmds) != 0 || RunsGate(cmds) {
		t.Errorf("empty list: %+v, %v", cmds, ok)
	}
	for _, bad := range []any{nil, "x", [][]any{{"/bin/true"}}, [][]any{{1, []string{"a"}}}} {
		if _, ok := Commands(bad); ok {
			t.Errorf("Commands(%#v) accepted", bad)
		}
	}
}

// TestRunsGateRefusesOtherRootOrProgram: a gate run on another tree
// (--root=/srv/copy), or left to take its root from RANSOMEYE_TUNER_ROOT in
// the core's environment (no --root), or a program of that name outside
// the package's path, checks nothing about this host: RunsGate must not
// count it. Counting any ransomeye-tuner command holding "gate" let
// core-gate hold for all three.
func TestRunsGateRefusesOtherRootOrProgram(t *testing.T) {
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
// "--root=/" or "--root /", the subcommand "gate", no ignore-failure flag;
// and core-gate says why a "-" line fails.
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

// TestConnectIgnoresEnvironment: DBUS_SYSTEM_BUS_ADDRESS pointing at a
// socket that a test listens on is never dialled (the gate runs in the
// core's environment, which must not choose who answers for systemd).
func TestConnectIgnoresEnvironment(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := netListenUnix(sock)
	if err != nil {
		t.Skipf("cannot listen on a unix socket: %v", err)
	}
	defer l.Close()
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+sock)
	accepted := make(chan bool, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err == nil
	}()
	ctx, cancel := testContext()
	defer cancel()
	if conn, err := connect(ctx); err == nil {
		conn.Close()
	}
	l.Close()
	if <-accepted {
		t.Errorf("connect dialled DBUS_SYSTEM_BUS_ADDRESS %q", sock)
	}
}

func netListenUnix(p string) (net.Listener, error) { return net.Listen("unix", p) }

func testContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Second)
}

// TestCoreGateInCoreRoot: a core with RootDirectory= or RootImage= and
// without RootDirectoryStartOnly=yes runs its ExecCondition= in that tree
// ("+" lifts User= and the sandboxing options, not the root), where the
// gate cannot see this host: core-gate fails and names
// RootDirectoryStartOnly=yes. Before, it held, and the core stayed down
// at every start with the gate's misleading reasons only.
func TestCoreGateInCoreRoot(t *testing.T) {
	gate := Command{Path: GatePath, Argv: []string{GatePath, "--root=/", "gate"}}
	e := CoreGate("mydb.service", Measurement{ExecCondition: []Command{gate}, ConditionRoot: "RootDirectory=/srv/db"})
	if e.OK || !e.Failed() || !strings.Contains(e.Reason, "RootDirectory=/srv/db") || !strings.Contains(e.Remedy, "RootDirectoryStartOnly=yes") {
		t.Errorf("gate run in the core's root directory: %+v", e)
	}
	if e := CoreGate("mydb.service", Measurement{ExecCondition: []Command{gate}}); !e.OK {
		t.Errorf("gate on the host's root: %+v", e)
	}
}
