package placement

import (
	"os"
	"path/filepath"
	"strings"
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

// placeWQ places the workqueue masks onto set as Place does.
func placeWQ(root hostroot.Root, set cpuset.Set) (*Applied, Report, map[string]Mask) {
	wq := ReadWorkqueue(root)
	a, r := &Applied{Workqueue: map[string]string{}, WorkqueueFrom: map[string]string{}}, Report{}
	placeWorkqueue(root, wq, &Applied{}, set, a, &r)
	return a, r, wq
}

func TestWorkqueuePlaceAndReadBack(t *testing.T) {
	root := fakeSys(t, true)
	a, r, wq := placeWQ(root, span(0, 3))
	if len(a.Workqueue) != 2 || len(r.Warnings) != 0 {
		t.Fatalf("record %+v, report %+v", a, r)
	}
	for _, p := range WorkqueuePaths {
		if b, _ := os.ReadFile(root.Path(p)); string(b) != "f\n" {
			t.Errorf("%s holds %q", p, b)
		}
		if !strings.Contains(strings.Join(r.Infos, "\n"), p+": 0-7 -> 0-3") {
			t.Errorf("%s: report %q", p, r.Infos)
		}
		if wq[p].Set.String() != "0-3" {
			t.Errorf("%s: the written mask is not folded into what was read: %+v", p, wq[p])
		}
	}
	m := ReadWorkqueue(root)
	if m[CPUMaskPath].Set.String() != "0-3" || m[WritebackPath].Set.String() != "0-3" {
		t.Errorf("read: %v", m)
	}
	// Again: nothing to change.
	if _, r, _ := placeWQ(root, span(0, 3)); len(r.Infos) != 0 {
		t.Errorf("rewritten: %q", r.Infos)
	}
}

func TestWorkqueueMissingWriteback(t *testing.T) {
	root := fakeSys(t, false)
	a, r, _ := placeWQ(root, span(0, 3))
	if a.Workqueue[CPUMaskPath] != "0-3" || len(r.Warnings) != 0 || !strings.Contains(strings.Join(r.Infos, "\n"), WritebackPath+`": no such file`) {
		t.Errorf("record %+v, report %+v", a, r)
	}
}

// TestWorkqueueLinkRefused: a mask file that is a symbolic link is not
// written through (root follows no link it did not make): an error, and
// the link's target is untouched.
func TestWorkqueueLinkRefused(t *testing.T) {
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
	if a, r, _ := placeWQ(root, span(0, 3)); len(r.Warnings) == 0 || a.Workqueue[CPUMaskPath] != "" {
		t.Errorf("write through a link: %+v %+v", a, r)
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

// TestWorkqueueKeepsNarrowerMask: a mask already inside the set (an
// administrator's 0-1 inside the core's 0-3) is left as it is, not widened
// to the set; one partly inside keeps only its CPUs in the set, and the
// record keeps what it held before.
func TestWorkqueueKeepsNarrowerMask(t *testing.T) {
	root := fakeSys(t, true)
	_ = os.WriteFile(root.Path(CPUMaskPath), []byte("3\n"), 0o644)
	_ = os.WriteFile(root.Path(WritebackPath), []byte("3c\n"), 0o644)
	a, _, _ := placeWQ(root, span(0, 3))
	if _, changed := a.Workqueue[CPUMaskPath]; changed {
		t.Errorf("%s written: %+v", CPUMaskPath, a)
	}
	if a.Workqueue[WritebackPath] != "2-3" || a.WorkqueueFrom[WritebackPath] != "2-5" {
		t.Errorf("%s: %+v", WritebackPath, a)
	}
	if m := ReadWorkqueue(root); m[CPUMaskPath].Set.String() != "0-1" || m[WritebackPath].Set.String() != "2-3" {
		t.Errorf("masks after placing: %v", m)
	}
}
