package sysctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func write(t *testing.T, root hostroot.Root, p, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(root.Path(p)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path(p), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLastSetter: the file sysctl --system applies last for a key, in
// sysctl.d(5)'s order: files by name, a name in /etc masking /run masking
// /usr/lib, /etc/sysctl.conf after all; a link to /dev/null masks.
func TestLastSetter(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	write(t, root, "/usr/lib/sysctl.d/60-ransomeye-tuner.conf", "vm.swappiness = 10\n")
	write(t, root, "/usr/lib/sysctl.d/50-default.conf", "vm.swappiness=30\nvm.vfs_cache_pressure = 70\n")
	if s, ok := LastSetter(root, "vm.swappiness"); !ok || s.File != "/usr/lib/sysctl.d/60-ransomeye-tuner.conf" || s.Value != "10" {
		t.Errorf("shipped file only: %+v %v", s, ok)
	}
	write(t, root, "/run/sysctl.d/60-ransomeye-tuner.conf", string(Content([]Setting{{Key: "vm.swappiness", Value: "1"}})))
	if s, ok := LastSetter(root, "vm.swappiness"); !ok || s.File != "/run/sysctl.d/60-ransomeye-tuner.conf" || s.Value != "1" {
		t.Errorf("/run overrides /usr/lib: %+v %v", s, ok)
	}
	write(t, root, "/etc/sysctl.d/70-local.conf", "# comment\n-vm/swappiness = 60\n")
	if s, ok := LastSetter(root, "vm.swappiness"); !ok || s.File != "/etc/sysctl.d/70-local.conf" || s.Value != "60" {
		t.Errorf("a later name wins, slash form, '-' prefix: %+v %v", s, ok)
	}
	write(t, root, "/etc/sysctl.conf", "vm.swappiness=99\n")
	if s, ok := LastSetter(root, "vm.swappiness"); !ok || s.File != "/etc/sysctl.conf" || s.Value != "99" {
		t.Errorf("/etc/sysctl.conf last: %+v %v", s, ok)
	}
	if err := os.Symlink("/dev/null", root.Path("/etc/sysctl.d/50-default.conf")); err != nil {
		t.Fatal(err)
	}
	if _, ok := LastSetter(root, "vm.vfs_cache_pressure"); ok {
		t.Errorf("50-default.conf masked by /etc/sysctl.d's link to /dev/null still sets vm.vfs_cache_pressure")
	}
	write(t, root, "/usr/local/lib/sysctl.d/80-glob.conf", "vm.vfs_cache_*=5\n")
	if s, ok := LastSetter(root, "vm.vfs_cache_pressure"); !ok || s.Value != "5" {
		t.Errorf("glob: %+v %v", s, ok)
	}
	if _, ok := LastSetter(root, "vm.dirty_ratio"); ok {
		t.Errorf("a key no file sets was found")
	}
}

// TestWriteRun: activate's file overrides the shipped one by name, holds
// the configured values, replaces the tuner's own earlier file, and leaves
// a file it did not write alone.
func TestWriteRun(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	set := []Setting{{Key: "vm.swappiness", Value: "1"}, {Key: "vm.vfs_cache_pressure", Value: "50"}}
	for _, v := range []string{"1", "2"} {
		set[0].Value = v
		if err := WriteRun(root, set); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(root.Path("/run/sysctl.d/" + FileName))
		if err != nil || !strings.Contains(string(b), "\nvm.swappiness = "+v+"\n") {
			t.Errorf("file holds %q, %v", b, err)
		}
	}
	if s, ok := LastSetter(root, "vm.swappiness"); !ok || s.Value != "2" {
		t.Errorf("LastSetter after WriteRun: %+v %v", s, ok)
	}
	const theirs = "vm.swappiness = 42\n"
	write(t, root, "/run/sysctl.d/"+FileName, theirs)
	if err := WriteRun(root, set); err == nil || !strings.Contains(err.Error(), "not written by ransomeye-tuner") {
		t.Errorf("WriteRun over a file it did not write: %v", err)
	}
	if b, _ := os.ReadFile(root.Path("/run/sysctl.d/" + FileName)); string(b) != theirs {
		t.Errorf("their file is now %q", b)
	}
}
