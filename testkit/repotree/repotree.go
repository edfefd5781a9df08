// Package repotree walks the repository's own files for the tests that
// check the code as text (who calls a writer, which comments cite what).
//
// It leaves out what is not the repository's source: .git, and the
// top-level directories .gitignore names (bin, dist, vmwork, .cache), only
// at the top, as .gitignore does: a package directory called bin deeper in
// the tree is still checked. It reads no symbolic link. vmwork matters
// most: CI builds the boot suite's images there while the tests run, and
// an image being built is a chroot with /proc mounted in it, whose
// directories even root cannot read.
//
// Test-only, like everything under testkit/: only _test.go files import
// it, and the shipped binaries never link it.
package repotree

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// notSource are the top-level directories never walked into.
var notSource = map[string]bool{".git": true, "vmwork": true, "dist": true, "bin": true, ".cache": true}

// Options narrow a walk.
type Options struct {
	// Suffix keeps only files whose name ends in it (".go").
	Suffix string
	// SkipTests leaves out _test.go files.
	SkipTests bool
	// SkipTestdata leaves out testdata directories.
	SkipTestdata bool
	// Skip leaves out these directories, relative to root with slashes
	// ("internal/apply").
	Skip []string
}

// Walk calls fn with the path, its path relative to root, and the content
// of every file under root that o keeps, and fails t on any error, fn's
// included. It returns how many files it passed to fn.
func Walk(t testing.TB, root string, o Options, fn func(path, rel, text string) error) int {
	t.Helper()
	skip := map[string]bool{}
	for _, s := range o.Skip {
		skip[s] = true
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if notSource[rel] || skip[rel] || o.SkipTestdata && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(p, o.Suffix) || o.SkipTests && strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		return fn(p, rel, string(b))
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
