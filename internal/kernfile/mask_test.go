package kernfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// TestWriteFileLinkInMiddle: proc/irq/9 is a link (made by root, inside the
// root prefix) to a directory holding an ordinary smp_affinity_list:
// WriteFile refuses it and neither writes nor truncates the file behind it.
func TestWriteFileLinkInMiddle(t *testing.T) {
	root := t.TempDir()
	victim := filepath.Join(root, "victim")
	if err := os.MkdirAll(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	const precious = "precious line one\nprecious line two\n"
	if err := os.WriteFile(filepath.Join(victim, "smp_affinity_list"), []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "proc/irq"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../victim", filepath.Join(root, "proc/irq/9")); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(hostroot.Root(root), "/proc/irq/9/smp_affinity_list", "0-1")
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("WriteFile through proc/irq/9, a link: %v, want a refusal naming the link", err)
	}
	if b, _ := os.ReadFile(filepath.Join(victim, "smp_affinity_list")); string(b) != precious {
		t.Errorf("the file behind the link is now %q", b)
	}
}

// TestWriteMask: a mask written over a longer one in a fake tree reads back
// whole (the plain file is truncated once known to be one).
func TestWriteMask(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	p := root.Path("/proc/irq/default_smp_affinity")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("ffffffff,ffffffff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, _ := cpuset.Parse("0-1")
	if err := WriteMask(root, "/proc/irq/default_smp_affinity", set); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "3\n" {
		t.Errorf("file holds %q, want %q", b, "3\n")
	}
}
