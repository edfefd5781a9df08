package units

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
)

func listAll(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestWriteFileAndSymlink(t *testing.T) {
	dir := t.TempDir()
	content := []byte("# Automatically generated\n[Unit]\n")
	if err := WriteFile(dir, "a.swap.d/x.conf", content); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "a.swap.d/x.conf"))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("content %q, %v", got, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "a.swap.d/x.conf"))
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
	if err := Symlink(dir, "swap.target.wants/a.swap", "../a.swap"); err != nil {
		t.Fatal(err)
	}
	if tgt, err := os.Readlink(filepath.Join(dir, "swap.target.wants/a.swap")); err != nil || tgt != "../a.swap" {
		t.Fatalf("link %q, %v", tgt, err)
	}
	// Rerun with the same bytes: no error, nothing new.
	if err := WriteFile(dir, "a.swap.d/x.conf", content); err != nil {
		t.Errorf("identical rewrite: %v", err)
	}
	if err := Symlink(dir, "swap.target.wants/a.swap", "../a.swap"); err != nil {
		t.Errorf("identical relink: %v", err)
	}
	if l := listAll(t, dir); strings.Join(l, " ") != "a.swap.d a.swap.d/x.conf swap.target.wants swap.target.wants/a.swap" {
		t.Errorf("directory holds %q", l)
	}
}

// TestExclusive: a unit of that name written by someone else is kept.
func TestExclusive(t *testing.T) {
	dir := t.TempDir()
	theirs := []byte("[Swap]\nWhat=/theirs\n")
	if err := os.WriteFile(filepath.Join(dir, "a.swap"), theirs, 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(dir, "a.swap", []byte("[Swap]\nWhat=/ours\n"))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("want ErrExists, got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.swap")); !bytes.Equal(b, theirs) {
		t.Errorf("their file was changed to %q", b)
	}
	if err := os.Symlink("../other.swap", filepath.Join(dir, "link.swap")); err != nil {
		t.Fatal(err)
	}
	if err := Symlink(dir, "link.swap", "../a.swap"); !errors.Is(err, ErrExists) {
		t.Fatalf("symlink: want ErrExists, got %v", err)
	}
	if l := listAll(t, dir); len(l) != 2 {
		t.Errorf("leftovers: %q", l)
	}
}

func TestBadPaths(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"", "/abs", "../up", "a/../../b", "a//b", ".", "a\nb"} {
		if err := WriteFile(dir, rel, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) accepted", rel)
		}
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a loop device / bind mount")
	}
	for _, tool := range []string{"mount", "umount", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Skipf("%s %q failed (no loop devices or mounts here?): %v: %s", name, args, err, out)
	}
}

// TestFaultOutputDirReadOnly is fault-matrix row 4 (read-only): a read-only
// bind mount of the output directory gives an error and no file at all.
func TestFaultOutputDirReadOnly(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	mnt := filepath.Join(dir, "out")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "mount", "--bind", mnt, mnt)
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	run(t, "mount", "-o", "remount,ro,bind", mnt)
	if err := WriteFile(mnt, "a.swap", []byte("[Swap]\n")); err == nil {
		t.Fatal("write to a read-only directory succeeded")
	}
	if err := Symlink(mnt, "swap.target.wants/a.swap", "../a.swap"); err == nil {
		t.Fatal("symlink in a read-only directory succeeded")
	}
	if l := listAll(t, mnt); len(l) != 0 {
		t.Errorf("read-only dir holds %q", l)
	}
}

// TestFaultOutputDirFull is fault-matrix row 4 (full): on a full ext4 loop
// filesystem the write fails and leaves neither the unit nor a temporary.
func TestFaultOutputDirFull(t *testing.T) {
	blackbox.NeedRoot(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	blackbox.LoopFS(t, "ext4", "2M", mnt, "-O", "^has_journal")
	if err := os.Mkdir(filepath.Join(mnt, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(mnt, "out")
	// Fill the filesystem (as root, reserved blocks included).
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for {
		if _, err := f.Write(chunk[:1024]); err != nil {
			break
		}
	}
	_ = f.Sync()
	_ = f.Close()
	big := bytes.Repeat([]byte("# x\n"), 4096) // 16 KiB: needs blocks
	err = WriteFile(out, "ransomeye-swap.swap", big)
	if err == nil {
		t.Fatal("write to a full filesystem succeeded")
	}
	t.Logf("error on a full filesystem: %v", err)
	if l := listAll(t, out); len(l) != 0 {
		t.Errorf("full filesystem left %q (a partial unit or temporary)", l)
	}
}
