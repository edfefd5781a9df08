package sysctl

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// fakeRoot makes <root>/proc/sys/vm with the given files.
func fakeRoot(t *testing.T, files map[string]string) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	vm := filepath.Join(dir, "proc/sys/vm")
	if err := os.MkdirAll(vm, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(vm, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(dir)
}

func TestApplyReadBack(t *testing.T) {
	root := fakeRoot(t, map[string]string{"swappiness": "60\n", "vfs_cache_pressure": "100\n"})
	for _, s := range []Setting{{"vm.swappiness", "10"}, {"vm.vfs_cache_pressure", "50"}} {
		if err := Apply(root, s); err != nil {
			t.Fatalf("Apply(%v): %v", s, err)
		}
		got, err := Read(root, s.Key)
		if err != nil || got != s.Value {
			t.Errorf("Read(%s) = %q, %v; want %q", s.Key, got, err, s.Value)
		}
	}
	b, _ := os.ReadFile(root.Path("/proc/sys/vm/swappiness"))
	if string(b) != "10\n" {
		t.Errorf("file holds %q", b)
	}
}

// Fault row 17: a write the kernel refuses, or a value that reads back
// different, fails closed naming the key.
func TestApplyRefused(t *testing.T) {
	root := fakeRoot(t, nil)
	vm := root.Path("/proc/sys/vm")
	// A FIFO: a write would block forever on a naive open.
	if err := syscall.Mkfifo(filepath.Join(vm, "swappiness"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory stands for a parameter the kernel does not have.
	if err := os.Mkdir(filepath.Join(vm, "vfs_cache_pressure"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Setting{{"vm.swappiness", "10"}, {"vm.vfs_cache_pressure", "50"}, {"vm.missing", "1"}} {
		err := Apply(root, s)
		if err == nil || !strings.Contains(err.Error(), s.Key) {
			t.Errorf("Apply(%v) = %v, want an error naming the key", s, err)
		}
	}
	// A symlink at the key is never followed.
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, []byte("keep"), 0o644)
	os.Symlink(target, filepath.Join(vm, "dirty_ratio"))
	if err := Apply(root, Setting{"vm.dirty_ratio", "5"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Apply through a symlink: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("symlink target changed to %q", b)
	}
	for _, k := range []string{"../etc/passwd", "vm/swappiness", "", ".vm", "vm..x"} {
		if err := Apply(root, Setting{k, "1"}); err == nil {
			t.Errorf("Apply with key %q: no error", k)
		}
	}
}

// A read-only parameter file (as root, a read-only bind mount) refuses the
// write; a file that keeps another value fails the read-back.
func TestApplyReadOnlyAndDifferent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount a read-only parameter file")
	}
	root := fakeRoot(t, map[string]string{"swappiness": "60\n"})
	p := root.Path("/proc/sys/vm/swappiness")
	if err := syscall.Mount(p, p, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	defer syscall.Unmount(p, 0)
	if err := syscall.Mount("", p, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	err := Apply(root, Setting{"vm.swappiness", "10"})
	if err == nil || !strings.Contains(err.Error(), "vm.swappiness") {
		t.Errorf("Apply on a read-only file: %v", err)
	}
}

func TestPath(t *testing.T) {
	if got := Path("vm.vfs_cache_pressure"); got != "/proc/sys/vm/vfs_cache_pressure" {
		t.Errorf("Path = %q", got)
	}
}

// A parameter file that reads back something else than was written (here a
// plain file whose longer old content survives the write, unlike /proc/sys)
// fails the read-back, naming the key and both values.
func TestApplyReadBackDifferent(t *testing.T) {
	root := fakeRoot(t, map[string]string{"vfs_cache_pressure": "100000\n"})
	err := Apply(root, Setting{"vm.vfs_cache_pressure", "50"})
	if err == nil || !strings.Contains(err.Error(), "vm.vfs_cache_pressure=50: read back") {
		t.Errorf("Apply = %v, want a read-back error naming the key", err)
	}
}

// TestApplyRefusesDirLink: proc/sys/vm is a link (made by root, inside the
// root prefix) to a directory of ordinary files: Apply and Read refuse it,
// naming the link, and the files behind it keep their content. O_NOFOLLOW
// on the last component had let the write through.
func TestApplyRefusesDirLink(t *testing.T) {
	root := fakeRoot(t, nil)
	vm := root.Path("/proc/sys/vm")
	victim := root.Path("/victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	const precious = "precious line one\nprecious line two\n"
	if err := os.WriteFile(filepath.Join(victim, "swappiness"), []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(vm); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../victim", vm); err != nil {
		t.Fatal(err)
	}
	if err := Apply(root, Setting{"vm.swappiness", "10"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Apply through proc/sys/vm, a link: %v, want a refusal naming the link", err)
	}
	if _, err := Read(root, "vm.swappiness"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Read through proc/sys/vm, a link: %v, want a refusal naming the link", err)
	}
	if b, _ := os.ReadFile(filepath.Join(victim, "swappiness")); string(b) != precious {
		t.Errorf("the file behind the link is now %q", b)
	}
}
