package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// v1Root is a fake machine on the cgroup v1 memory hierarchy after
// activate set vm.swappiness to 10 on a boot where systemd had made
// system.slice's memory cgroup before (it copied the boot default, 60),
// with the process's cgroups as self gives them ("" is the gate's: in
// the core's cgroup).
func v1Root(t *testing.T, self string) hostroot.Root {
	t.Helper()
	if self == "" {
		self = "/system.slice/ransomeye-core.service"
	}
	root := hostroot.Root(t.TempDir())
	writeTree(t, root, map[string]string{
		"/proc/self/cgroup":                                    "9:name=systemd:" + self + "\n4:memory:" + self + "\n3:cpuset:/\n0::" + self + "\n",
		"/proc/sys/vm/swappiness":                              "10\n",
		"/sys/fs/cgroup/memory/memory.swappiness":              "10\n",
		"/sys/fs/cgroup/memory/system.slice/memory.swappiness": "60\n",
	})
	return root
}

// TestCoreMemoryV1Swappiness: on cgroup v1 the swappiness guarantee is
// what the core's memory cgroup holds (or, before it starts, what it will
// copy from its slice), not vm.swappiness. Before, the core reclaimed with
// 60 while vm.swappiness said 10, and status and the gate said it held.
func TestCoreMemoryV1Swappiness(t *testing.T) {
	const core = "ransomeye-core.service"
	coreCg := "/sys/fs/cgroup/memory/system.slice/ransomeye-core.service/memory.swappiness"

	// The gate, in the core's cgroup, which copied system.slice's 60.
	root := v1Root(t, "")
	writeTree(t, root, map[string]string{coreCg: "60\n"})
	e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{InCgroup: true})
	if e.OK || !e.Failed() || e.Actual != "60" {
		t.Fatalf("the core's memory cgroup at 60 holds: %+v", e)
	}
	for _, w := range []string{"memory.swappiness 60, want 10", "/system.slice/ransomeye-core.service", "copies its parent's value"} {
		if !strings.Contains(e.Reason, w) {
			t.Errorf("reason lacks %q: %s", w, e.Reason)
		}
	}
	if !strings.Contains(e.Remedy, "then: "+names.RecoverCommand) {
		t.Errorf("remedy: %s", e.Remedy)
	}

	// Once activate set it: holds.
	writeTree(t, root, map[string]string{coreCg: "10\n"})
	if e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{InCgroup: true}); !e.OK || e.Source != "memory.swappiness of /system.slice/ransomeye-core.service" {
		t.Errorf("the core's memory cgroup at 10: %+v", e)
	}

	// status, the core not running: what it will copy from system.slice.
	root = v1Root(t, "/user.slice/user-0.slice/session-1.scope")
	e = coreMemoryAt(root, core, 10, 16<<30, facts.Core{NotMeasured: "root prefix"})
	if e.OK || e.Actual != "60" || !strings.Contains(e.Source, "/system.slice, which ransomeye-core.service's memory cgroup /system.slice/ransomeye-core.service copies when it starts") {
		t.Errorf("the core not running, system.slice at 60: %+v", e)
	}
	writeTree(t, root, map[string]string{"/sys/fs/cgroup/memory/system.slice/memory.swappiness": "10\n"})
	if e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{NotMeasured: "root prefix"}); !e.OK {
		t.Errorf("the core not running, system.slice at 10: %+v", e)
	}

	// A core moved by Slice=cpu.slice (escaped "_cpu.slice" in the tree).
	writeTree(t, root, map[string]string{"/sys/fs/cgroup/memory/_cpu.slice/memory.swappiness": "60\n"})
	if e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{Slice: "cpu.slice"}); e.OK || !strings.Contains(e.Source, "/_cpu.slice") {
		t.Errorf("the core in cpu.slice at 60: %+v", e)
	}
	// In the root slice, nothing between it and vm.swappiness.
	if e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{Slice: "-.slice"}); !e.OK || !strings.Contains(e.Source, "the root memory cgroup (vm.swappiness)") {
		t.Errorf("the core in the root slice: %+v", e)
	}

	// A core without memory accounting runs in system.slice's memory
	// cgroup: that is the one the gate sees.
	root = v1Root(t, "")
	writeTree(t, root, map[string]string{"/proc/self/cgroup": "9:name=systemd:/system.slice/ransomeye-core.service\n4:memory:/system.slice\n"})
	if e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{InCgroup: true}); e.OK || e.Source != "memory.swappiness of /system.slice" {
		t.Errorf("the core in system.slice's memory cgroup at 60: %+v", e)
	}

	// An unreadable value keeps the core down.
	root = v1Root(t, "")
	if err := os.MkdirAll(root.Path(coreCg), 0o755); err != nil {
		t.Fatal(err)
	}
	if e := coreMemoryAt(root, core, 10, 16<<30, facts.Core{InCgroup: true}); !e.Failed() || !strings.Contains(e.Reason, "cannot be measured") {
		t.Errorf("memory.swappiness a directory: %+v", e)
	}
}

// v2Root is a fake machine on cgroup v2 with the memory controller, the
// process in cgroup self.
func v2Root(t *testing.T, self string) hostroot.Root {
	t.Helper()
	root := hostroot.Root(t.TempDir())
	writeTree(t, root, map[string]string{
		"/proc/self/cgroup":                                                  "0::" + self + "\n",
		"/sys/fs/cgroup/cgroup.controllers":                                  "cpuset cpu io memory pids\n",
		"/sys/fs/cgroup/system.slice/memory.swap.max":                        "max\n",
		"/sys/fs/cgroup/system.slice/ransomeye-core.service/memory.swap.max": "max\n",
	})
	return root
}

// TestCoreMemorySwapMax: on cgroup v2 the swap guarantee is for the core:
// memory.swap.max (MemorySwapMax=) of its cgroup or of a slice above it
// below the swap target fails it, naming the unit whose setting it is.
// Before, status said the swap held while the core could not use it.
func TestCoreMemorySwapMax(t *testing.T) {
	const core = "ransomeye-core.service"
	const target = 16 << 30
	gate := facts.Core{InCgroup: true}
	coreFile := "/sys/fs/cgroup/system.slice/ransomeye-core.service/memory.swap.max"
	for _, tc := range []struct {
		name   string
		files  map[string]string
		m      facts.Core
		ok     bool
		reason []string
		remedy string
	}{
		{"no limit", nil, gate, true, nil, ""},
		{"core MemorySwapMax=0", map[string]string{coreFile: "0\n"}, gate, false,
			[]string{"may not swap at all", "memory.swap.max of /system.slice/ransomeye-core.service", "below the swap target 16.0 GiB"}, "systemctl cat ransomeye-core.service"},
		{"slice MemorySwapMax=0", map[string]string{"/sys/fs/cgroup/system.slice/memory.swap.max": "0\n"}, gate, false,
			[]string{"may not swap at all", "MemorySwapMax= of system.slice"}, "systemctl cat system.slice"},
		{"below the target", map[string]string{coreFile: "8589934592\n"}, gate, false,
			[]string{"may use only 8.0 GiB of swap"}, "systemctl cat ransomeye-core.service"},
		{"at the target", map[string]string{coreFile: "17179869184\n"}, gate, true, nil, ""},
		{"escaped slice", map[string]string{"/sys/fs/cgroup/_cpu.slice/memory.swap.max": "0\n", "/sys/fs/cgroup/_cpu.slice/ransomeye-core.service/memory.swap.max": "max\n"},
			facts.Core{Slice: "cpu.slice"}, false, []string{"MemorySwapMax= of cpu.slice"}, "systemctl cat cpu.slice"},
		{"not running, systemd's MemorySwapMax=0", nil,
			facts.Core{Slice: "db.slice", SwapMax: 0, SwapMaxKnown: true, SliceSwapMax: map[string]uint64{"db.slice": facts.NoSwapLimit}}, false, []string{"systemd's MemorySwapMax= of ransomeye-core.service"}, "systemctl cat ransomeye-core.service"},
		{"not running, infinity", nil, facts.Core{Slice: "db.slice", SwapMax: facts.NoSwapLimit, SwapMaxKnown: true, SliceSwapMax: map[string]uint64{"db.slice": facts.NoSwapLimit}}, true, nil, ""},
		{"unreadable", map[string]string{coreFile + "/x": ""}, gate, false, []string{"cannot be measured"}, "fix the cause"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := v2Root(t, "/system.slice/ransomeye-core.service")
			if tc.name == "unreadable" {
				os.Remove(root.Path(coreFile))
			}
			writeTree(t, root, tc.files)
			e := coreMemoryAt(root, core, 10, target, tc.m)
			if e.OK != tc.ok || e.Failed() == tc.ok {
				t.Fatalf("ok = %v, want %v: %+v", e.OK, tc.ok, e)
			}
			for _, w := range tc.reason {
				if !strings.Contains(e.Reason, w) {
					t.Errorf("reason lacks %q: %s", w, e.Reason)
				}
			}
			if !strings.Contains(e.Remedy, tc.remedy) {
				t.Errorf("remedy lacks %q: %s", tc.remedy, e.Remedy)
			}
		})
	}
}

// TestCoreMemoryNoController: without a memory controller (or outside a
// test's fake, no /proc/self/cgroup) nothing stands between the core and
// the sysctls: it holds, and says why.
func TestCoreMemoryNoController(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	e := coreMemoryAt(root, "ransomeye-core.service", 10, 16<<30, facts.Core{})
	if !e.OK || !strings.Contains(e.Actual, "no memory cgroup controller") {
		t.Errorf("%+v", e)
	}
}

// TestCoreMemorySliceNotMadeYet: the core in a slice of its own
// (Slice=ransomeye.slice, MemorySwapMax=0 on the slice). Before the core
// first starts, systemd has not made the slice's cgroup, so no
// memory.swap.max is on the path; status took that for no limit and said
// core-memory held, while the gate, reading the slice's file once systemd
// made it for the core's start, refused. The slice's MemorySwapMax= as
// systemd has it counts while its cgroup is not there (the outer slice's
// file when only the inner one is missing), and status and the gate agree;
// a slice whose setting systemd did not give cannot be judged.
func TestCoreMemorySliceNotMadeYet(t *testing.T) {
	const core = "ransomeye-core.service"
	const target = 16 << 30
	// The gate, once systemd made the slice's cgroup for the core's start.
	gateRoot := v2Root(t, "/ransomeye.slice/ransomeye-core.service")
	writeTree(t, gateRoot, map[string]string{
		"/sys/fs/cgroup/ransomeye.slice/memory.swap.max":                        "0\n",
		"/sys/fs/cgroup/ransomeye.slice/ransomeye-core.service/memory.swap.max": "max\n",
	})
	g := coreMemoryAt(gateRoot, core, 10, target, facts.Core{InCgroup: true})
	if g.OK {
		t.Fatalf("the gate: %+v", g)
	}
	for _, tc := range []struct {
		name   string
		slice  string
		files  map[string]string
		known  map[string]uint64
		ok     bool
		reason string
	}{
		{"MemorySwapMax=0", "ransomeye.slice", nil, map[string]uint64{"ransomeye.slice": 0}, false, "may not swap at all (systemd's MemorySwapMax= of ransomeye.slice, MemorySwapMax= of ransomeye.slice)"},
		{"setting not known", "ransomeye.slice", nil, nil, false, "systemd has not made the cgroup of ransomeye.slice yet, and its MemorySwapMax= is not known"},
		{"no limit", "ransomeye.slice", nil, map[string]uint64{"ransomeye.slice": facts.NoSwapLimit}, true, ""},
		{"inner slice not made, outer's file", "ransomeye-db.slice", map[string]string{"/sys/fs/cgroup/ransomeye.slice/memory.swap.max": "8589934592\n"},
			map[string]uint64{"ransomeye.slice": facts.NoSwapLimit, "ransomeye-db.slice": facts.NoSwapLimit}, false, "may use only 8.0 GiB of swap (memory.swap.max of /ransomeye.slice"},
		{"inner slice not made, its own", "ransomeye-db.slice", map[string]string{"/sys/fs/cgroup/ransomeye.slice/memory.swap.max": "max\n"},
			map[string]uint64{"ransomeye-db.slice": 0}, false, "MemorySwapMax= of ransomeye-db.slice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// status, before the core ever started: the slice has no cgroup yet.
			root := v2Root(t, "/user.slice/user-0.slice/session-1.scope")
			writeTree(t, root, tc.files)
			st := coreMemoryAt(root, core, 10, target, facts.Core{Slice: tc.slice, SwapMax: facts.NoSwapLimit, SwapMaxKnown: true, SliceSwapMax: tc.known})
			if st.OK != tc.ok || st.Failed() == tc.ok || !strings.Contains(st.Reason, tc.reason) {
				t.Errorf("ok = %v, want %v; reason %q, want %q", st.OK, tc.ok, st.Reason, tc.reason)
			}
			if tc.name == "MemorySwapMax=0" && st.OK != g.OK {
				t.Errorf("same machine, status says core-memory ok=%v (%s), the gate ok=%v (%s)", st.OK, st.Actual, g.OK, g.Reason)
			}
		})
	}
}

// TestSysctlVFSCachePressureDenom: on a kernel with
// vm.vfs_cache_pressure_denom the configured vm.vfs_cache_pressure counts
// per 100, so an administrator's denominator other than 100 changes what
// the value means, and the guarantee fails naming the file that sets it.
// Before, 50 read back as 50 and held with a denominator of 1000 (the
// kernel reclaimed at 5 per 100).
func TestSysctlVFSCachePressureDenom(t *testing.T) {
	s := sysctl.Setting{Key: "vm.vfs_cache_pressure", Value: "50"}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		ok     bool
		actual string
		reason string
		remedy string
	}{
		{"no denominator (before 6.16)", nil, true, "50", "", ""},
		{"denominator 100", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom": "100\n"}, true, "50", "", ""},
		{"administrator's denominator", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom": "1000\n", "/etc/sysctl.d/90-dentries.conf": "vm.vfs_cache_pressure_denom = 1000\n"},
			false, "50 with vm.vfs_cache_pressure_denom=1000: 5 per 100", "reclaim dentries and inodes at 5 per 100, not the configured 50", "/etc/sysctl.d/90-dentries.conf sets vm.vfs_cache_pressure_denom = 1000: remove that line, then: sysctl -w vm.vfs_cache_pressure_denom=100 && ransomeye-tuner recover"},
		{"denominator set by hand", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom": "200\n"},
			false, "50 with vm.vfs_cache_pressure_denom=200: 25 per 100", "at 25 per 100", "sysctl -w vm.vfs_cache_pressure_denom=100"},
		{"unreadable denominator", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom/x": ""}, false, "50", "cannot be read", "fix the cause"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := hostroot.Root(t.TempDir())
			writeTree(t, root, map[string]string{"/proc/sys/vm/vfs_cache_pressure": "50\n"})
			writeTree(t, root, tc.files)
			e := sysctlAt(root, s)
			if e.OK != tc.ok || e.Actual != tc.actual {
				t.Fatalf("ok %v actual %q, want %v %q: %+v", e.OK, e.Actual, tc.ok, tc.actual, e)
			}
			if !strings.Contains(e.Reason, tc.reason) || !strings.Contains(e.Remedy, tc.remedy) {
				t.Errorf("reason %q remedy %q, want %q and %q", e.Reason, e.Remedy, tc.reason, tc.remedy)
			}
		})
	}
	// 0 never reclaims, whatever the denominator.
	root := hostroot.Root(t.TempDir())
	writeTree(t, root, map[string]string{"/proc/sys/vm/vfs_cache_pressure": "0\n", "/proc/sys/vm/vfs_cache_pressure_denom": "1000\n"})
	if e := sysctlAt(root, sysctl.Setting{Key: "vm.vfs_cache_pressure", Value: "0"}); !e.OK {
		t.Errorf("0 with a denominator: %+v", e)
	}
}

// coreMemoryAt reads the memory cgroup of core as m places it under root,
// and judges it.
func coreMemoryAt(root hostroot.Root, core string, swappiness int, target int64, m facts.Core) Check {
	m.Unit = core
	return CoreMemory(core, facts.ReadMemory(root, m), swappiness, target)
}

// sysctlAt reads the sysctls under root and judges s.
func sysctlAt(root hostroot.Root, s sysctl.Setting) Check {
	f := facts.Gather(root, facts.ReadSysctls)
	defer f.Close()
	return Sysctl(f, s)
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
