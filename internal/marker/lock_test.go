package marker

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// probeLocked reports whether another open file description of dir is kept
// from taking the lock (LOCK_NB: no waiting, no timing).
func probeLocked(t *testing.T, dir string) bool {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		unix.Flock(fd, unix.LOCK_UN)
		return false
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("flock probe: %v", err)
	}
	return true
}

func TestLockSerialises(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	unlock, err := Lock(root)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	dir := root.Path(filepath.Dir(OKPath))
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("lock directory %q: %v, mode %v; want a root-only directory", dir, err, fi.Mode())
	}
	if !probeLocked(t, dir) {
		t.Fatal("a second activation could take the lock while the first holds it")
	}
	unlock()
	if probeLocked(t, dir) {
		t.Fatal("the lock is still held after unlock")
	}
}

func TestLockRefusesSymlinkedDirectory(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	elsewhere := t.TempDir()
	if err := os.MkdirAll(root.Path("/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, root.Path(filepath.Dir(OKPath))); err != nil {
		t.Fatal(err)
	}
	if unlock, err := Lock(root); err == nil {
		unlock()
		t.Fatal("Lock followed a symlink planted at the state directory")
	}
}
