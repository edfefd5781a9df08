package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
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

// TestSetCoreSwappiness: activate sets memory.swappiness of the core's
// slice and of the slices above it, and of the core's own memory cgroup
// while it runs, so that the core's cgroup holds the value when it starts
// (it copies its parent's); other cgroups are left as they are, and each
// change names the value it replaced.
func TestSetCoreSwappiness(t *testing.T) {
	const core = "ransomeye-core.service"
	root := v1Root(t, "/system.slice/ransomeye-tuner.service")
	writeTree(t, root, map[string]string{
		"/sys/fs/cgroup/memory/system.slice/other.service/memory.swappiness": "60\n",
	})
	changed, err := SetCoreSwappiness(facts.NewCgroupFiles(root), core, "system.slice", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || !strings.Contains(changed[0], "memory.swappiness of /system.slice set to 10 (it was 60") || !strings.Contains(changed[0], "echo 60 > /sys/fs/cgroup/memory/system.slice/memory.swappiness") {
		t.Errorf("changes: %q", changed)
	}
	for p, want := range map[string]string{"/system.slice": "10", "/system.slice/other.service": "60"} {
		got, err := kernfile.Read(root, facts.MemoryV1Dir+p+"/memory.swappiness")
		if err != nil || got != want {
			t.Errorf("memory.swappiness of %s = %q, %v; want %q", p, got, err, want)
		}
	}
	if e := coreMemory(root, facts.Core{Unit: core}); !e.OK {
		t.Errorf("after SetCoreSwappiness: %+v", e)
	}
	// Again: nothing to change.
	if changed, err := SetCoreSwappiness(facts.NewCgroupFiles(root), core, "system.slice", 10); err != nil || len(changed) != 0 {
		t.Errorf("second run: %q, %v", changed, err)
	}

	// A running core in a nested slice: every slice above it, and the
	// core's own.
	writeTree(t, root, map[string]string{
		"/sys/fs/cgroup/memory/ransomeye.slice/memory.swappiness":                                           "60\n",
		"/sys/fs/cgroup/memory/ransomeye.slice/ransomeye-db.slice/memory.swappiness":                        "60\n",
		"/sys/fs/cgroup/memory/ransomeye.slice/ransomeye-db.slice/ransomeye-core.service/memory.swappiness": "60\n",
	})
	changed, err = SetCoreSwappiness(facts.NewCgroupFiles(root), core, "ransomeye-db.slice", 10)
	if err != nil || len(changed) != 3 {
		t.Fatalf("nested slice: %q, %v", changed, err)
	}
	if e := coreMemory(root, facts.Core{Unit: core, Slice: "ransomeye-db.slice"}); !e.OK || e.Source != "memory.swappiness of /ransomeye.slice/ransomeye-db.slice/ransomeye-core.service" {
		t.Errorf("after SetCoreSwappiness, nested slice: %+v", e)
	}

	// A link in the path is not followed.
	root = v1Root(t, "/system.slice/ransomeye-tuner.service")
	elsewhere := t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "memory.swappiness"), []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root.Path("/sys/fs/cgroup/memory/system.slice")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, root.Path("/sys/fs/cgroup/memory/system.slice")); err != nil {
		t.Fatal(err)
	}
	if _, err := SetCoreSwappiness(facts.NewCgroupFiles(root), core, "system.slice", 10); err == nil || !strings.Contains(err.Error(), "system.slice") {
		t.Errorf("a link in the path: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(elsewhere, "memory.swappiness")); string(b) != "60\n" {
		t.Errorf("wrote through a link: %q", b)
	}

	// Not on cgroup v1: nothing to do.
	root = hostroot.Root(t.TempDir())
	writeTree(t, root, map[string]string{
		"/proc/self/cgroup":                  "0::/system.slice/ransomeye-tuner.service\n",
		"/sys/fs/cgroup/cgroup.controllers":  "cpuset cpu io memory pids\n",
		"/sys/fs/cgroup/system.slice/x.conf": "",
	})
	if changed, err := SetCoreSwappiness(facts.NewCgroupFiles(root), core, "system.slice", 10); err != nil || changed != nil {
		t.Errorf("cgroup v2: %q, %v", changed, err)
	}
}

// coreMemory judges the core's memory cgroup under root as c places it
// (swappiness 10, a 16 GiB swap target).
func coreMemory(root hostroot.Root, c facts.Core) check.Check {
	return check.CoreMemory(c.Unit, facts.ReadMemory(root, c), 10, 16<<30)
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
