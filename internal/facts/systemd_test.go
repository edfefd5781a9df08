package facts

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func TestFromMask(t *testing.T) {
	for _, tc := range []struct {
		mask []byte
		want string
	}{
		{nil, ""},
		{[]byte{0x0f}, "0-3"},
		{[]byte{0x00, 0x01}, "8"},
		{[]byte{0xf0, 0x0f}, "4-11"},
		{[]byte{0x81}, "0,7"},
	} {
		if got := FromMask(tc.mask).String(); got != tc.want {
			t.Errorf("FromMask(%x) = %q, want %q", tc.mask, got, tc.want)
		}
	}
}

// TestSystemdUnderRootPrefix: under a root prefix, outside the core's
// cgroup, systemd is not asked: not measured, said so.
func TestSystemdUnderRootPrefix(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	m := measureCore(root, "mydb.service", true, nil)
	if m.NotMeasured == "" || !strings.Contains(m.NotMeasured, "root prefix") {
		t.Errorf("measurement under a root prefix: %+v", m)
	}
}

// TestInUnitCgroup also covers a template core: its gate runs in an
// instance's cgroup, which counts as the core's (it never matched, so the
// gate asked D-Bus, chosen by the core's environment).
func TestInUnitCgroup(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/proc/self"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		unit    string
		content string
		want    bool
	}{
		{"mydb.service", "0::/system.slice/mydb.service\n", true},
		{"mydb.service", "0::/system.slice/notmydb.service\n", false},
		{"mydb.service", "0::/user.slice/user-0.slice/session-1.scope\n", false},
		{"mydb.service", "12:cpuset:/\n1:name=systemd:/system.slice/mydb.service\n", true},
		{"mydb@.service", "0::/system.slice/system-mydb.slice/mydb@main.service\n", true},
		{"mydb@.service", "0::/system.slice/notmydb@main.service\n", false},
		{"mydb@.service", "0::/system.slice/mydb.service\n", false},
		{"mydb@.service", "0::/system.slice/mydb@main.scope\n", false},
		{"cpu.service", "0::/system.slice/_cpu.service\n", true}, // systemd's cg_escape()
		{"cpu.service", "0::/system.slice/cpu.service\n", true},
	} {
		if err := os.WriteFile(filepath.Join(root.Path("/proc/self"), "cgroup"), []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := inUnitCgroup(selfCgroups(root), tc.unit); got != tc.want {
			t.Errorf("InUnitCgroup(%s) with %q = %v, want %v", tc.unit, tc.content, got, tc.want)
		}
	}
}

// TestInUnitCgroupCountsControlSubcgroup: with Delegate=yes systemd runs
// a service's control processes (ExecCondition= among them) in the
// ".control" sub-cgroup of the unit's cgroup (the no-processes-in-inner-
// nodes rule), so the gate of a delegated core reads
// "0::/system.slice/system-db.slice/db@a.service/.control": InUnitCgroup
// must count it as the unit's cgroup. Missing it, for a template core
// Systemd() answered "not measured" (systemd has no properties for a
// template), core-gate and core-cpus counted as not failed, and the gate
// exited 0 whatever AllowedCPUs= an administrator's drop-in set.
func TestInUnitCgroupCountsControlSubcgroup(t *testing.T) {
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
		if !inUnitCgroup(selfCgroups(root), tc.unit) {
			t.Errorf("InUnitCgroup(%s) with %q = false: the gate runs in the unit's own control sub-cgroup", tc.unit, tc.content)
		}
	}
}

// TestSliceEffective: a slice's CPUs are read from the directory systemd
// gives it: its parents' for a dash, "_" before a name cg_escape()
// escapes (Slice=cpu.slice is /sys/fs/cgroup/_cpu.slice); the root slice
// is the cgroup root. A missing file is no restriction.
func TestSliceEffective(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	for p, v := range map[string]string{
		"/sys/fs/cgroup/cpuset.cpus.effective":                           "0-7\n",
		"/sys/fs/cgroup/_cpu.slice/cpuset.cpus.effective":                "4-7\n",
		"/sys/fs/cgroup/db.slice/db-a\\x2db.slice/cpuset.cpus.effective": "2-3\n",
	} {
		full := root.Path(p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for slice, want := range map[string]string{"cpu.slice": "4-7", `db-a\x2db.slice`: "2-3", "-.slice": "0-7", "none.slice": ""} {
		got, err := sliceEffective(root, slice)
		if err != nil || got.String() != want {
			t.Errorf("sliceEffective(%q) = %q, %v; want %q", slice, got, err, want)
		}
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

// BenchmarkThreads walks this machine's /proc as status does (read only),
// to show what the thread walk costs each minute.
func BenchmarkThreads(b *testing.B) {
	for b.Loop() {
		threads(hostroot.Root("/"))
	}
}

// TestUnitOfSelf: the gate names the unit whose ExecCondition= runs it,
// found in its own cgroup: another unit than the configured core may carry
// the static gate.
func TestUnitOfSelf(t *testing.T) {
	for in, want := range map[string]string{
		"0::/system.slice/system-postgresql.slice/postgresql@15-main.service\n": "postgresql@15-main.service",
		"0::/system.slice/ransomeye-core.service/.control\n":                    "ransomeye-core.service",
		"12:name=systemd:/system.slice/ransomeye-core.service\n4:memory:/x\n":   "ransomeye-core.service",
		"0::/user.slice/user-0.slice/session-3.scope\n":                         "",
	} {
		var self []procCgroup
		for _, l := range strings.Split(strings.TrimSpace(in), "\n") {
			p := strings.SplitN(l, ":", 3)
			c := procCgroup{id: p[0], path: p[2]}
			if strings.HasPrefix(p[1], "name=") {
				c.name = p[1]
			}
			self = append(self, c)
		}
		if got := unitOfSelf(self); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
