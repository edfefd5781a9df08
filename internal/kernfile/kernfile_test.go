package kernfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// TestOpenRefusesLinkInAnyComponent: a fake tree whose proc/sys/vm,
// proc/sys, or proc/irq/9 (a middle component of
// proc/irq/9/smp_affinity_list) is a link made by root to a directory of
// ordinary files, inside the root (relative target) or outside it
// (absolute): Open refuses it for reading and writing, naming the link, and
// the files behind it stay as they were.
func TestOpenRefusesLinkInAnyComponent(t *testing.T) {
	for _, tc := range []struct{ link, file, behind string }{
		{"proc/sys/vm", "/proc/sys/vm/swappiness", "swappiness"},
		{"proc/irq/9", "/proc/irq/9/smp_affinity_list", "smp_affinity_list"},
		{"proc/sys", "/proc/sys/vm/swappiness", "vm/swappiness"},
	} {
		for _, inside := range []bool{true, false} {
			root := t.TempDir()
			victim := filepath.Join(t.TempDir(), "victim")
			if inside {
				victim = filepath.Join(root, "victim")
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(victim, tc.behind)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(victim, tc.behind), []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(root, tc.link)
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				t.Fatal(err)
			}
			target := victim
			if inside {
				target, _ = filepath.Rel(filepath.Dir(link), victim)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			for _, mode := range []int{unix.O_RDONLY, unix.O_WRONLY} {
				fd, err := Open(hostroot.Root(root), tc.file, mode)
				if err == nil {
					unix.Close(fd)
					t.Errorf("%s with %s a link to %s: opened (mode %d)", tc.file, tc.link, target, mode)
				} else if !strings.Contains(err.Error(), "symbolic link") {
					t.Errorf("%s with %s a link to %s: %v, want an error naming the symbolic link", tc.file, tc.link, target, err)
				}
			}
			if b, _ := os.ReadFile(filepath.Join(victim, tc.behind)); string(b) != "precious\n" {
				t.Errorf("the file behind the link changed: %q", b)
			}
		}
	}
}

// TestOpen: a regular file opens; a missing one wraps fs.ErrNotExist, and
// so does a missing directory; a link as the last component, a FIFO and a
// directory are refused.
func TestOpen(t *testing.T) {
	root := t.TempDir()
	vm := filepath.Join(root, "proc/sys/vm")
	if err := os.MkdirAll(filepath.Join(vm, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(vm, "swappiness"), []byte("60\n"), 0o644)
	os.Symlink(filepath.Join(vm, "swappiness"), filepath.Join(vm, "alink"))
	if err := unix.Mkfifo(filepath.Join(vm, "afifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := hostroot.Root(root)
	fd, err := Open(r, "/proc/sys/vm/swappiness", unix.O_WRONLY)
	if err != nil {
		t.Fatalf("regular file: %v", err)
	}
	unix.Close(fd)
	for _, p := range []string{"/proc/sys/vm/missing", "/proc/irq/77/smp_affinity_list"} {
		if _, err := Open(r, p, unix.O_RDONLY); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want fs.ErrNotExist", p, err)
		}
	}
	for _, name := range []string{"alink", "afifo", "adir"} {
		if fd, err := Open(r, "/proc/sys/vm/"+name, unix.O_WRONLY); err == nil {
			unix.Close(fd)
			t.Errorf("%s: opened", name)
		}
	}
}
