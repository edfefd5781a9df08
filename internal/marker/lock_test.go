package marker

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/rundir"
)

// probeLocked reports whether another open file description of the lock
// file is kept from taking the lock (LOCK_NB: no waiting, no timing).
func probeLocked(t *testing.T, file string) bool {
	t.Helper()
	fd, err := unix.Open(file, unix.O_RDONLY, 0)
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

// TestLockSerialises: the activation lock is a root-only file in the
// tuner's directory under /run, which other users may read (the plan file
// is for services): whoever can open a file can flock it, so the lock is
// not the directory.
func TestLockSerialises(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	unlock, err := Lock(root)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	dir := root.Path(rundir.Path)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != rundir.Mode {
		t.Fatalf("lock directory %q: %v, mode %v; want %v", dir, err, fi.Mode(), rundir.Mode)
	}
	file := filepath.Join(dir, LockName)
	fi, err = os.Stat(file)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file %q: %v, mode %v; want a regular file, mode 0600", file, err, fi.Mode())
	}
	if !probeLocked(t, file) {
		t.Fatal("a second activation could take the lock while the first holds it")
	}
	unlock()
	if probeLocked(t, file) {
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
