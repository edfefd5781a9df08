package repotree

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestWalkLeavesOutWhatIsNotSource: files under the top-level .git,
// vmwork, dist, bin and .cache never reach fn (a boot image being built
// under vmwork has a /proc in it that root cannot walk), nor symbolic
// links; a deeper directory of the same name is source and is walked; the
// options narrow the rest.
func TestWalkLeavesOutWhatIsNotSource(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"a.go", "a_test.go", "README.md",
		"internal/x/x.go", "internal/x/testdata/t.go", "internal/skipme/s.go",
		".git/h.go", "vmwork/base/rootfs/usr/y.go", "dist/d.go", "bin/b.go", ".cache/c.go", "internal/x/bin/z.go",
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
	check("all", walk(Options{}), "README.md", "a.go", "a_test.go", "internal/skipme/s.go", "internal/x/bin/z.go", "internal/x/testdata/t.go", "internal/x/x.go")
	check("narrowed", walk(Options{Suffix: ".go", SkipTests: true, SkipTestdata: true, Skip: []string{"internal/skipme"}}), "a.go", "internal/x/bin/z.go", "internal/x/x.go")
}

// fatalRecorder is a testing.TB whose Fatal ends the goroutine's walk by
// a panic the test recovers, recording the message.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(f)
}

// walkFatal runs Walk with a recorder and returns what it passed to Fatal.
func walkFatal(t *testing.T, root string, fn func(path, rel, text string) error) string {
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != any(rec) {
				panic(r)
			}
		}()
		Walk(rec, root, Options{}, fn)
	}()
	return rec.msg
}

// TestWalkFailsOnAnError: an error while walking (one fn returns, a
// directory that cannot be read) fails the test instead of leaving the rest
// of the tree unchecked.
func TestWalkFailsOnAnError(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.go"), []byte("package x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg := walkFatal(t, root, func(_, rel, _ string) error { return fmt.Errorf("cannot parse %q", rel) }); !strings.Contains(msg, `cannot parse "a.go"`) {
		t.Errorf("Walk did not fail the test on fn's error (Fatal got %q)", msg)
	}
	missing := filepath.Join(root, "missing")
	if msg := walkFatal(t, missing, func(_, _, _ string) error { return nil }); !strings.Contains(msg, missing) {
		t.Errorf("Walk did not fail the test on a directory it cannot read (Fatal got %q)", msg)
	}
}
