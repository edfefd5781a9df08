package scripts

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// findings parses a numbered list section of FAULTS.md ("## Found and
// fixed", "## Open findings") into item number -> the rows its first
// parenthesis names ("(row 16", "(rows 9, 18", "(rows 14-16").
func findings(t *testing.T, faults, section string) map[int][]int {
	t.Helper()
	_, body, ok := strings.Cut(faults, "\n## "+section)
	if !ok {
		t.Fatalf("FAULTS.md has no %q section", section)
	}
	if i := strings.Index(body, "\n## "); i >= 0 {
		body = body[:i]
	}
	items := map[int][]int{}
	item := regexp.MustCompile(`(?m)^(\d+)\. \*\*`)
	rows := regexp.MustCompile(`\(rows? ([0-9][0-9, and-]*)`)
	locs := item.FindAllStringSubmatchIndex(body, -1)
	for i, l := range locs {
		n, _ := strconv.Atoi(body[l[2]:l[3]])
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		var rs []int
		if m := rows.FindStringSubmatch(body[l[0]:end]); m != nil {
			for _, f := range regexp.MustCompile(`\d+(-\d+)?`).FindAllString(m[1], -1) {
				lo, hi, _ := strings.Cut(f, "-")
				a, _ := strconv.Atoi(lo)
				b := a
				if hi != "" {
					b, _ = strconv.Atoi(hi)
				}
				for r := a; r <= b; r++ {
					rs = append(rs, r)
				}
			}
		}
		items[n] = rs
	}
	return items
}

// TestFaultsReferencesResolve: a Go comment citing "FAULTS.md, finding N"
// or "open finding N" names an item that exists in that list, and when it
// adds "(row M" / "(rows M and K" the item is about those rows; every test
// FAULTS.md tells the reader to run exists. Comments had kept the numbers of
// an older FAULTS.md (finding 4 for what is now 3 and 9, open findings 2
// and 3 after the open list shrank to one item).
func TestFaultsReferencesResolve(t *testing.T) {
	faults := mustRead(t, "../FAULTS.md")
	fixed := findings(t, faults, "Found and fixed")
	open := findings(t, faults, "Open findings")
	// A reference may run on over the next comment line.
	joinComments := regexp.MustCompile(`\s*\n\s*//\s*`)
	ref := regexp.MustCompile(`FAULTS\.md,? (open )?finding (\d+)(?: \(rows? ([0-9][0-9, and-]*))?`)
	funcs := map[string]bool{}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "vmwork" || d.Name() == "dist" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(src, -1) {
			funcs[m[1]] = true
		}
		for _, m := range ref.FindAllStringSubmatch(joinComments.ReplaceAllString(src, " "), -1) {
			list, name := fixed, "finding"
			if m[1] != "" {
				list, name = open, "open finding"
			}
			n, _ := strconv.Atoi(m[2])
			rows, ok := list[n]
			if !ok {
				t.Errorf("%s: %q: FAULTS.md has no %s %d", p, m[0], name, n)
				continue
			}
			for _, r := range regexp.MustCompile(`\d+`).FindAllString(m[3], -1) {
				want, _ := strconv.Atoi(r)
				found := false
				for _, x := range rows {
					found = found || x == want
				}
				if !found {
					t.Errorf("%s: %q: FAULTS.md %s %d is about rows %v, not row %d", p, m[0], name, n, rows, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`\bTest[A-Z]\w*`).FindAllString(faults, -1) {
		found := false
		for f := range funcs {
			found = found || strings.HasPrefix(f, name) // a -run pattern matches by prefix
		}
		if !found {
			t.Errorf("FAULTS.md names %s, which no test function matches", name)
		}
	}
}
