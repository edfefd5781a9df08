package guarantee

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func set(t *testing.T, s string) cpuset.Set {
	t.Helper()
	c, err := cpuset.ParseMaybeEmpty(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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

// TestApplied: what systemd gives the core from its properties, in each
// CPU mode; an administrator's AllowedCPUs= that overrides ours shows.
func TestApplied(t *testing.T) {
	online := set(t, "0-15")
	for _, tc := range []struct {
		mode                      generate.CPUMode
		parent, allowed, affinity string
		want                      string
	}{
		{generate.CPUModeAllowedCPUs, "", "0-3", "", "0-3"},
		{generate.CPUModeAllowedCPUs, "", "0-7", "", "0-7"},    // the administrator's drop-in, no slice limit (isolation services)
		{generate.CPUModeAllowedCPUs, "0-3", "0-7", "", "0-3"}, // the same under strict isolation: system.slice keeps it on 0-3
		{generate.CPUModeAllowedCPUs, "0-7", "0-7", "", "0-7"}, // and with system.slice widened too
		{generate.CPUModeAllowedCPUs, "0-3", "4-5", "", "0-3"}, // disjoint: the kernel gives the parent's set
		{generate.CPUModeAllowedCPUs, "", "", "", "0-15"},      // nothing applied (no daemon-reload)
		{generate.CPUModeAllowedCPUs, "", "0-7", "0-3", "0-3"},
		{generate.CPUModeAffinity, "0-1", "0-7", "0-3", "0-3"}, // AllowedCPUs= and the slice have no effect without cpuset
		{generate.CPUModeAffinity, "", "0-3", "", "0-15"},
	} {
		got := Applied(tc.mode, online, set(t, tc.parent), set(t, tc.allowed), set(t, tc.affinity))
		if got.String() != tc.want {
			t.Errorf("Applied(%s, parent %q, allowed %q, affinity %q) = %q, want %q", tc.mode, tc.parent, tc.allowed, tc.affinity, got, tc.want)
		}
	}
}

func TestCoreCPUs(t *testing.T) {
	out := generate.Output{CPUMode: generate.CPUModeAllowedCPUs, Plan: cpuplan.Plan{Reserved: true, Core: set(t, "0-3")}}
	measured := func(s string) Measure {
		return func(core string, mode generate.CPUMode, online cpuset.Set) Measurement {
			return Measurement{Set: set(t, s), Source: "test"}
		}
	}
	e := CoreCPUs("mydb.service", out, set(t, "0-15"), measured("0-3"))
	if !e.OK || e.Failed() || e.Actual != "0-3" {
		t.Errorf("matching set: %+v", e)
	}
	e = CoreCPUs("mydb.service", out, set(t, "0-15"), measured("0-7"))
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
	e = CoreCPUs("mydb.service", out, set(t, "0-15"), measured("0-1"))
	if e.OK || !strings.Contains(e.Reason, "it lacks CPUs 2-3 of its own") {
		t.Errorf("smaller set: %+v", e)
	}
	e = CoreCPUs("mydb.service", out, set(t, "0-15"), func(string, generate.CPUMode, cpuset.Set) Measurement {
		return Measurement{NotMeasured: "no systemd here"}
	})
	if e.OK || e.Failed() || !e.NotMeasured || e.Actual != "" || !strings.Contains(e.Reason, "not measured: no systemd here") {
		t.Errorf("not measured: %+v", e)
	}
	e = CoreCPUs("mydb.service", out, set(t, "0-15"), func(string, generate.CPUMode, cpuset.Set) Measurement {
		return Measurement{Err: errors.New("boom")}
	})
	if !e.Failed() || !strings.Contains(e.Reason, "boom") {
		t.Errorf("measurement error: %+v", e)
	}
}

// TestSystemdUnderRootPrefix: under a root prefix, outside the core's
// cgroup, systemd is not asked: not measured, said so.
func TestSystemdUnderRootPrefix(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	m := Systemd(root)("mydb.service", generate.CPUModeAllowedCPUs, set(t, "0-15"))
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
		if got := InUnitCgroup(root, tc.unit); got != tc.want {
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
		if !InUnitCgroup(root, tc.unit) {
			t.Errorf("InUnitCgroup(%s) with %q = false: the gate runs in the unit's own control sub-cgroup", tc.unit, tc.content)
		}
	}
}

// TestSysctl: the drifted value fails with the key, both values and the
// remedy that names what usually changes it.
func TestSysctl(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/proc/sys/vm"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("60\n"), 0o644)
	e := Sysctl(root, Sysctls(defaultConfig())[0])
	if e.OK || !e.Failed() || e.Actual != "60" || e.Expected != "10" || !strings.Contains(e.Reason, `vm.swappiness is "60", want "10"`) || !strings.Contains(e.Remedy, "sysctl --system") {
		t.Errorf("drifted swappiness: %+v", e)
	}
	// The file sysctl --system applies last for the key gives that value:
	// the remedy names it.
	if err := os.MkdirAll(root.Path("/etc/sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(root.Path("/etc/sysctl.d/70-local.conf"), []byte("vm.swappiness = 60\n"), 0o644)
	if e := Sysctl(root, Sysctls(defaultConfig())[0]); !strings.Contains(e.Remedy, "/etc/sysctl.d/70-local.conf sets vm.swappiness = 60") {
		t.Errorf("remedy does not name the file that sets the key: %+v", e)
	}
	os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("10\n"), 0o644)
	if e := Sysctl(root, Sysctls(defaultConfig())[0]); !e.OK {
		t.Errorf("swappiness 10: %+v", e)
	}
	if e := Sysctl(root, Sysctls(defaultConfig())[1]); e.OK || !strings.Contains(e.Reason, "cannot be read") {
		t.Errorf("missing vfs_cache_pressure: %+v", e)
	}
}

func defaultConfig() config.Config { return config.Default() }

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

// writeTree writes files (host path to content) under root, making their
// directories.
func writeTree(t *testing.T, root hostroot.Root, files map[string]string) {
	t.Helper()
	for p, v := range files {
		full := root.Path(p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
