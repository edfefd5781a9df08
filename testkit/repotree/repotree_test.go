package repotree

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestWalkLeavesOutWhatIsNotSource: files under .git, vmwork, dist, bin and
// .cache, at any depth, never reach fn (a boot image being built under
// vmwork has a /proc in it that root cannot walk); the options narrow the
// rest.
func TestWalkLeavesOutWhatIsNotSource(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"a.go", "a_test.go", "README.md",
		"internal/x/x.go", "internal/x/testdata/t.go", "internal/skipme/s.go",
		".git/h.go", "vmwork/base/rootfs/usr/y.go", "dist/d.go", "bin/b.go", ".cache/c.go", "internal/x/vmwork/z.go",
	} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.go", filepath.Join(root, "link.go")); err != nil {
		t.Fatal(err)
	}
	walk := func(o Options) []string {
		var got []string
		n := Walk(t, root, o, func(_, rel, text string) error {
			if text != "package x\n" {
				t.Errorf("%s: text %q", rel, text)
			}
			got = append(got, rel)
			return nil
		})
		if n != len(got) {
			t.Errorf("Walk returned %d, passed %d files", n, len(got))
		}
		sort.Strings(got)
		return got
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: walked %q, want %q", name, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: walked %q, want %q", name, got, want)
			}
		}
	}
	check("all", walk(Options{}), "README.md", "a.go", "a_test.go", "internal/skipme/s.go", "internal/x/testdata/t.go", "internal/x/x.go")
	check("narrowed", walk(Options{Suffix: ".go", SkipTests: true, SkipTestdata: true, Skip: []string{"internal/skipme"}}), "a.go", "internal/x/x.go")
}
