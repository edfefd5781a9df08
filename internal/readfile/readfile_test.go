package readfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
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

// TestKernelReadsWholeFilesUpToMax: Kernel, KernelAt, AttrAt and Regular
// return the whole file whatever its size around their buffers', refuse
// one over max and name the file in errors.
func TestKernelReadsWholeFilesUpToMax(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 127, 128, 129, 511, 512, 513, 4096, 100000} {
		content := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		p := filepath.Join(dir, fmt.Sprintf("f%d", size))
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := Kernel(p, size)
		if err != nil || !bytes.Equal(b, content) {
			t.Errorf("size %d: read %d bytes, %v", size, len(b), err)
		}
		if b, err := Regular(p, int64(size)); err != nil || !bytes.Equal(b, content) {
			t.Errorf("Regular size %d: read %d bytes, %v", size, len(b), err)
		}
		if size > 0 {
			if _, err := Kernel(p, size-1); err == nil || !strings.Contains(err.Error(), "larger than") || !strings.Contains(err.Error(), p) {
				t.Errorf("size %d with max %d: %v", size, size-1, err)
			}
			if _, err := Regular(p, int64(size-1)); err == nil || !strings.Contains(err.Error(), "larger than") || !strings.Contains(err.Error(), p) {
				t.Errorf("Regular size %d with max %d: %v", size, size-1, err)
			}
		}
		fd, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err = KernelAt(fd, dir, filepath.Base(p), size)
		if err != nil || !bytes.Equal(b, content) {
			t.Errorf("KernelAt size %d: read %d bytes, %v", size, len(b), err)
		}
		b, err = AttrAt(fd, dir, filepath.Base(p), size)
		if err != nil || !bytes.Equal(b, content) {
			t.Errorf("AttrAt size %d: read %d bytes, %v", size, len(b), err)
		}
		if size > 0 {
			if _, err := AttrAt(fd, dir, filepath.Base(p), size-1); err == nil || !strings.Contains(err.Error(), "larger than") {
				t.Errorf("AttrAt size %d with max %d: %v", size, size-1, err)
			}
		}
		unix.Close(fd)
	}
	fd, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	_, err = KernelAt(fd, dir, "missing", 10)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, "missing")) {
		t.Errorf("missing file: %v", err)
	}
}
