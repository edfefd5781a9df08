package scripts

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/repotree"
)

// eachFile calls fn with the path and content of every file under root
// whose name ends in suffix, leaving out what is not source (repotree) and,
// when skipTestdata, testdata directories.
func eachFile(t *testing.T, root, suffix string, skipTestdata bool, fn func(p, text string)) {
	t.Helper()
	repotree.Walk(t, root, repotree.Options{Suffix: suffix, SkipTestdata: skipTestdata}, func(p, _, text string) error {
		fn(p, text)
		return nil
	})
}

// testFuncs returns, per package directory (relative to the module root,
// "activator", "internal/config"), the names of the test, fuzz and
// benchmark functions its files declare, whatever their build tags.
func testFuncs(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w+)\(`)
	funcs := map[string]map[string]bool{}
	eachFile(t, root, "_test.go", true, func(p, text string) {
		dir, _ := filepath.Rel(root, filepath.Dir(p))
		for _, m := range decl.FindAllStringSubmatch(text, -1) {
			if funcs[dir] == nil {
				funcs[dir] = map[string]bool{}
			}
			funcs[dir][m[1]] = true
		}
	})
	if len(funcs) == 0 {
		t.Fatal("found no test functions: the check checked nothing")
	}
	return funcs
}

// runAlternatives splits a -run pattern at its top-level "|" (written "\|"
// inside a Markdown table) and returns the test name each alternative
// starts with, and whether it is anchored at its end ("TestParse$").
// Alternatives that start with no plain test name are left out.
func runAlternatives(pattern string) (names []string, exact []bool) {
	pattern = strings.ReplaceAll(pattern, `\|`, "|")
	depth, start := 0, 0
	var alts []string
	for i, c := range pattern {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth == 0 {
				alts = append(alts, pattern[start:i])
				start = i + 1
			}
		}
	}
	alts = append(alts, pattern[start:])
	top := regexp.MustCompile(`^\^?((?:Test|Fuzz|Benchmark)\w*)(\$?)$`)
	for _, a := range alts {
		a, _, _ = strings.Cut(a, "/") // the subtest part
		if m := top.FindStringSubmatch(a); m != nil {
			names = append(names, m[1])
			exact = append(exact, m[2] == "$")
		}
	}
	return names, exact
}

// TestDocsNameExistingTests: the Markdown documents (FAULTS.md above all,
// which says which test shows each fault; integration/README.md; the
// CHANGELOG) name tests that exist. A `./PKG -run PATTERN` must match a
// test of that package with each alternative, and any other test name
// mentioned must be the start of some test's name (-run matches by
// regular expression, so a prefix selects). Why: `go test ./pkg -run X`
// with no test matching X passes ("no tests to run"), so a test renamed
// or moved to another package would leave a pointer that silently runs
// nothing.
func TestDocsNameExistingTests(t *testing.T) {
	const root = ".."
	funcs := testFuncs(t, root)
	named := func(name string) bool {
		for _, pf := range funcs {
			for f := range pf {
				if strings.HasPrefix(f, name) {
					return true
				}
			}
		}
		return false
	}
	pkgFirst := regexp.MustCompile("\\./([A-Za-z0-9_./-]+?)/?\\s+-run\\s+('[^']*'|[^\\s`]+)")
	runFirst := regexp.MustCompile("-run\\s+('[^']*'|[^\\s`]+)\\s+(?:-\\S+\\s+)*\\./([A-Za-z0-9_./-]+?)/?(?:\\.\\.\\.)?[\\s`]")
	mentioned := regexp.MustCompile(`\b(?:Test|Fuzz)[A-Z]\w*`)
	docs := 0
	eachFile(t, root, ".md", false, func(p, text string) {
		docs++
		check := func(pkg, pattern string) {
			pkg = strings.TrimSuffix(pkg, "/...")
			if strings.ContainsAny(pkg, "{}") {
				return
			}
			names, exact := runAlternatives(strings.Trim(pattern, "'"))
			for i, n := range names {
				found := false
				for f := range funcs[pkg] {
					found = found || f == n || !exact[i] && strings.HasPrefix(f, n)
				}
				if !found {
					t.Errorf("%s: `./%s -run %s`: no test in %s matches %s", p, pkg, pattern, pkg, n)
				}
			}
		}
		for _, m := range pkgFirst.FindAllStringSubmatch(text, -1) {
			check(m[1], m[2])
		}
		for _, m := range runFirst.FindAllStringSubmatch(text, -1) {
			check(m[2], m[1])
		}
		for _, n := range mentioned.FindAllString(text, -1) {
			if !named(n) {
				t.Errorf("%s names %s, which no test function matches", p, n)
			}
		}
	})
	if docs == 0 {
		t.Fatal("found no Markdown documents: the check checked nothing")
	}
}
