package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Regular(p, 3); err != nil || string(b) != "abc" {
		t.Errorf("Regular = %q, %v", b, err)
	}
	if _, err := Regular(p, 2); err == nil || !strings.Contains(err.Error(), "larger than 2 bytes") {
		t.Errorf("oversized file: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Regular(fifo, 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: %v (and it must not block)", err)
	}
	if _, err := Regular("/dev/zero", 10); err == nil {
		t.Error("/dev/zero accepted")
	}
	if _, err := Regular(dir, 10); !errors.Is(err, syscall.EISDIR) || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v, want EISDIR naming it", err)
	}
	if _, err := Regular("/dev/null", 10); err == nil || !strings.Contains(err.Error(), "is a character device, not a regular file") {
		t.Errorf("/dev/null: %v", err)
	}
	if _, err := Regular(filepath.Join(dir, "missing"), 10); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}
