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
// or another command only fails it, naming the remedy (FAULTS.md, finding
// 32). In the core's cgroup the running gate is the proof; under a root
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

// TestConnectIgnoresEnvironment: DBUS_SYSTEM_BUS_ADDRESS pointing at a
// socket that a test listens on is never dialled (the gate runs in the
// core's environment, FAULTS.md finding 34).
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
