package swapfile

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func TestFstabHasSwap(t *testing.T) {
	dir := t.TempDir()
	root := hostroot.Root(dir)
	if _, ok, err := FstabHasSwap(root, "/ransomeye/swap"); ok || err != nil {
		t.Fatalf("no fstab: %v %v", ok, err)
	}
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	fstab := "# /ransomeye/swap none swap sw 0 0\n/swap\\040file none swap sw 0 0\n/ransomeye//swap none swap defaults 0 0\n/other none ext4 defaults 0 0\n/nb\u00a0x none swap sw 0 0\n"
	_ = os.WriteFile(filepath.Join(dir, "etc/fstab"), []byte(fstab), 0o644)
	for p, want := range map[string]bool{"/ransomeye/swap": true, "/swap file": true, "/other": false, "/swapfile": false,
		"/nb": false, "/nb\u00a0x": true} { // a no-break space is part of a path, as libmount reads it
		if what, ok, err := FstabHasSwap(root, p); ok != want || err != nil || (ok && what != p) {
			t.Errorf("FstabHasSwap(%q) = %q, %v, %v", p, what, ok, err)
		}
	}
}

// TestFstabNotRegular: a FIFO or a device at /etc/fstab neither blocks nor
// floods the generator: it is an error (logged), and the fstab is taken as
// not holding the path.
func TestFstabNotRegular(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	fifo := filepath.Join(dir, "etc/fstab")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, ok, err := FstabHasSwap(hostroot.Root(dir), "/ransomeye/swap"); ok || err == nil {
		t.Errorf("FIFO fstab: %v, %v", ok, err)
	}
	_ = os.Remove(fifo)
	if err := os.Symlink("/dev/zero", fifo); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := FstabHasSwap(hostroot.Root(dir), "/ransomeye/swap"); ok || err == nil {
		t.Errorf("/dev/zero fstab: %v, %v", ok, err)
	}
	_ = os.Remove(fifo)
	if err := os.WriteFile(fifo, bytes.Repeat([]byte("#\n"), maxFstab), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FstabHasSwap(hostroot.Root(dir), "/ransomeye/swap"); err == nil {
		t.Errorf("2 MiB fstab read")
	}
}
