package facts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func writeTree(t *testing.T, files map[string]string) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(dir)
}

// TestReadPressure: both lines of a pressure file, a cpu.pressure without
// "full" (before Linux 5.13), and a file that is not one.
func TestReadPressure(t *testing.T) {
	root := writeTree(t, map[string]string{
		"memory.pressure": "some avg10=1.50 avg60=0.25 avg300=0.05 total=123456\nfull avg10=0.00 avg60=0.10 avg300=0.00 total=789\n",
		"cpu.pressure":    "some avg10=3.00 avg60=2.00 avg300=1.00 total=42\n",
		"bad.pressure":    "some avg10=x avg60=0 avg300=0 total=1\n",
		"short.pressure":  "some avg10=0.00 total=1\n",
	})
	p, err := ReadPressure(root, "/memory.pressure")
	if err != nil || p.Some != (PressureLine{true, 1.5, 0.25, 0.05, 123456}) || p.Full != (PressureLine{true, 0, 0.1, 0, 789}) {
		t.Errorf("memory.pressure: %+v, %v", p, err)
	}
	p, err = ReadPressure(root, "/cpu.pressure")
	if err != nil || !p.Some.Present || p.Full.Present || p.Some.TotalUS != 42 {
		t.Errorf("cpu.pressure without full: %+v, %v", p, err)
	}
	for _, f := range []string{"/bad.pressure", "/short.pressure", "/missing.pressure"} {
		if _, err := ReadPressure(root, f); err == nil {
			t.Errorf("%s: no error", f)
		}
	}
}

// TestPSIAvailable: /proc/pressure is the kernel's answer; without it the
// reason names psi=0 when the command line holds it, and the build
// options otherwise.
func TestPSIAvailable(t *testing.T) {
	on := writeTree(t, map[string]string{"proc/pressure/memory": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"})
	if ok, why := psiAvailable(on, nil); !ok || why != "" {
		t.Errorf("with /proc/pressure: %v %q", ok, why)
	}
	off := writeTree(t, map[string]string{"proc/cmdline": "x\n"})
	if ok, why := psiAvailable(off, []string{"root=/dev/vda", "psi=0"}); ok || !strings.Contains(why, "psi=0 on the kernel command line") {
		t.Errorf("psi=0: %v %q", ok, why)
	}
	if ok, why := psiAvailable(off, []string{"root=/dev/vda"}); ok || !strings.Contains(why, "CONFIG_PSI_DEFAULT_DISABLED and booted without psi=1") {
		t.Errorf("no PSI: %v %q", ok, why)
	}
}

// TestCgroup2Options: the super-block options of the cgroup2 mount at
// /sys/fs/cgroup, not another cgroup2 mount's nor the per-mount options.
func TestCgroup2Options(t *testing.T) {
	root := writeTree(t, map[string]string{"proc/self/mountinfo": "22 27 0:21 / /proc rw,nosuid - proc proc rw\n" +
		"30 22 0:26 / /mnt/cg rw - cgroup2 cgroup2 rw\n" +
		"26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"})
	got, err := cgroup2Options(root)
	if err != nil || got != "rw,nsdelegate,memory_recursiveprot" || !(MemoryEffect{Mount: got}).RecursiveProt() {
		t.Errorf("options %q, %v", got, err)
	}
	if (MemoryEffect{Mount: "rw,nsdelegate"}).RecursiveProt() {
		t.Error("nsdelegate alone read as memory_recursiveprot")
	}
	v1 := writeTree(t, map[string]string{"proc/self/mountinfo": "26 23 0:24 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"})
	if _, err := cgroup2Options(v1); err == nil {
		t.Error("no cgroup2 mount: no error")
	}
}

// TestReadMemoryEffect: on a cgroup v2 tree, the core's cgroup and every
// cgroup above it, and training's in its own slice (the first candidate
// that exists), each file as the kernel has it: bytes, "max", absent.
func TestReadMemoryEffect(t *testing.T) {
	cg := "sys/fs/cgroup/"
	root := writeTree(t, map[string]string{
		"proc/cmdline":                 "root=/dev/vda\n",
		"proc/self/cgroup":             "0::/system.slice/ransomeye-tuner.service\n",
		"proc/pressure/memory":         "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		cg + "cgroup.controllers":      "cpuset cpu io memory pids\n",
		cg + "system.slice/memory.low": "4096\n",
		cg + "system.slice/ransomeye-core.service/memory.low":                                  "4096\n",
		cg + "system.slice/ransomeye-core.service/memory.swap.current":                         "8192\n",
		cg + "system.slice/ransomeye-core.service/memory.events":                               "low 3\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
		cg + "system.slice/ransomeye-core.service/memory.pressure":                             "some avg10=0.00 avg60=0.50 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n",
		cg + "ransomeye.slice/ransomeye-training.slice/ransomeye-training.service/memory.high": "max\n",
	})
	f := &Facts{Root: root, Scope: Status, Enabled: true}
	f.Cmdline = []string{"root=/dev/vda"}
	f.Config.Units = map[string]string{"core": "ransomeye-core.service", "dpi": "ransomeye-dpi.service", "training": "ransomeye-training.service"}
	f.Memory = ReadMemory(root, Core{Unit: "ransomeye-core.service"})
	f.readMemoryEffect()
	e := f.MemoryEffect
	if !e.Read || !e.PSI {
		t.Fatalf("not read: %+v", e)
	}
	core := e.Cgroups["/system.slice/ransomeye-core.service"]
	if !core.Exists || core.Low.Bytes != 4096 || !core.Min.Missing || core.SwapCurrent.Bytes != 8192 || core.Events["low"] != 3 ||
		core.Pressure["memory"].Some.Avg60 != 0.5 {
		t.Errorf("core: %+v", core)
	}
	if s := e.Cgroups["/system.slice"]; !s.Exists || s.Low.Bytes != 4096 || s.Pressure != nil {
		t.Errorf("system.slice (a slice: no pressure read): %+v", s)
	}
	tr := e.Cgroups["/ransomeye.slice/ransomeye-training.slice/ransomeye-training.service"]
	if !tr.Exists || !tr.High.Max || !tr.SwapMax.Missing {
		t.Errorf("training: %+v", tr)
	}
	if c := e.Candidates["training"]; len(c) != 2 || c[1] != "/system.slice/ransomeye-training.service" {
		t.Errorf("training's candidates: %q", c)
	}
	if e.Cgroups["/system.slice/ransomeye-dpi.service"].Exists {
		t.Error("DPI, not running, read as existing")
	}
}
