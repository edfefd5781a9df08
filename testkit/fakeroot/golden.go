package fakeroot

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// New builds the fake machine of c in a temporary directory of t, skipping
// the test without root or mkswap (the swapfile must be root's, made by
// mkswap).
func New(t testing.TB, c Case) hostroot.Root {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the fake root's swapfile must be owned by root")
	}
	if _, err := exec.LookPath("mkswap"); err != nil {
		t.Skip("needs mkswap")
	}
	dir := t.TempDir()
	if err := Make(dir, c); err != nil {
		t.Fatal(err)
	}
	return hostroot.Root(dir)
}

// Mask replaces what varies from run to run and machine to machine, and
// only that: the temporary root's path (in "root" and inside messages)
// becomes /ROOT, the swapfile's inode number 1, and the free space of the
// filesystem the test runs on 1 byte (JSON) or "N" (text). The boot id,
// the times and everything else are fixed by the fake machine.
func Mask(b []byte, root hostroot.Root) []byte {
	b = bytes.ReplaceAll(b, []byte(root.String()), []byte("/ROOT"))
	for _, m := range []struct{ re, with string }{
		{`"inode": \d+`, `"inode": 1`},
		{`"free_bytes": \d+`, `"free_bytes": 1`},
		{`(?m)^(filesystem\s+\S+, )[0-9.]+ [KMGT]?i?B free$`, "${1}N free"},
	} {
		b = regexp.MustCompile(m.re).ReplaceAll(b, []byte(m.with))
	}
	return b
}

// Golden compares got with testdata/name of the test's package, or
// rewrites that file when update is set (go test -update).
func Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -run '%s' -update rewrites it; read the diff before committing):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}
