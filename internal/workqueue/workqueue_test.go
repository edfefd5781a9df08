package workqueue

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// fakeSys writes the workqueue mask files of an 8-CPU machine (a fake:
// regular files stand for sysfs); writeback is optional.
func fakeSys(t *testing.T, writeback bool) hostroot.Root {
	t.Helper()
	root := t.TempDir()
	files := []string{CPUMaskPath}
	if writeback {
		files = append(files, WritebackPath)
	}
	for _, p := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("ff\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(root)
}

func TestApplyAndReadBack(t *testing.T) {
	root := fakeSys(t, true)
	rs := Apply(root, span(0, 3))
	if len(rs) != 2 {
		t.Fatalf("results: %+v", rs)
	}
	for _, r := range rs {
		if !r.Changed || r.Err != nil || r.Before.String() != "0-7" {
			t.Errorf("%s: %+v", r.Path, r)
		}
		if b, _ := os.ReadFile(root.Path(r.Path)); string(b) != "f\n" {
			t.Errorf("%s holds %q", r.Path, b)
		}
	}
	m, err := Read(root)
	if err != nil || m[CPUMaskPath].String() != "0-3" || m[WritebackPath].String() != "0-3" {
		t.Errorf("read: %v, %v", m, err)
	}
	// Again: nothing to change.
	for _, r := range Apply(root, span(0, 3)) {
		if r.Changed {
			t.Errorf("%s rewritten", r.Path)
		}
	}
}

// TestApplyKeepsNarrowerMask: a mask already inside the set (an
// administrator's 0-1 inside the core's 0-3) is left as it is, not widened
// to the set; one partly inside keeps only its CPUs in the set.
func TestApplyKeepsNarrowerMask(t *testing.T) {
	root := fakeSys(t, true)
	_ = os.WriteFile(root.Path(CPUMaskPath), []byte("3\n"), 0o644)
	_ = os.WriteFile(root.Path(WritebackPath), []byte("3c\n"), 0o644)
	rs := Apply(root, span(0, 3))
	if rs[0].Changed || rs[0].After.String() != "0-1" {
		t.Errorf("%s: %+v", rs[0].Path, rs[0])
	}
	if !rs[1].Changed || rs[1].After.String() != "2-3" {
		t.Errorf("%s: %+v", rs[1].Path, rs[1])
	}
	if m, _ := Read(root); m[CPUMaskPath].String() != "0-1" || m[WritebackPath].String() != "2-3" {
		t.Errorf("masks after apply: %v", m)
	}
}

func TestMissingWriteback(t *testing.T) {
	root := fakeSys(t, false)
	rs := Apply(root, span(0, 3))
	if rs[0].Err != nil || !rs[0].Changed || !rs[1].Missing || rs[1].Err != nil {
		t.Errorf("results: %+v", rs)
	}
}

// TestLinkRefused: a mask file that is a symbolic link is not written
// through (root follows no link it did not make): an error, and the
// link's target is untouched.
func TestLinkRefused(t *testing.T) {
	root := fakeSys(t, false)
	other := filepath.Join(string(root), "elsewhere")
	if err := os.WriteFile(other, []byte("ff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := root.Path(CPUMaskPath)
	_ = os.Remove(p)
	if err := os.Symlink(other, p); err != nil {
		t.Fatal(err)
	}
	rs := Apply(root, span(0, 3))
	if rs[0].Err == nil {
		t.Errorf("write through a link: %+v", rs[0])
	}
	if b, _ := os.ReadFile(other); string(b) != "ff\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// span is the CPU set lo-hi.
func span(lo, hi int) cpuset.Set {
	var ids []int
	for i := lo; i <= hi; i++ {
		ids = append(ids, i)
	}
	return cpuset.Of(ids...)
}
