package scripts

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCodeCitesNoProcessArtefacts: Go comments say why in the code's own
// words; a fault-table row number, a finding's number or the name of the
// review that found something means nothing to a maintainer who has only
// the code, and goes stale when the table is renumbered (FAULTS.md points
// at tests by name instead). Test files and test functions are named for
// the behaviour they pin, not for the review that found it.
func TestCodeCitesNoProcessArtefacts(t *testing.T) {
	const root = ".."
	cite := regexp.MustCompile(`(?i)(FAULTS\.md,? rows? \d|\brows? \d+(-\d+)? of FAULTS|\bfinding \d+|\b(outside |third |second |first )?review(er)?'?s? (round|r\d)|\bround \d+ review)`)
	reviewName := regexp.MustCompile(`(?i)(^|_)(review|r\d|round\d?)(_|\.go$)`)
	reviewFunc := regexp.MustCompile(`(?m)^func (Test\w*(Review|Round\d|R[1-9][A-Z])\w*)\(`)
	files := 0
	eachFile(t, root, ".go", true, func(p, text string) {
		files++
		rel, _ := filepath.Rel(root, p)
		for i, line := range strings.Split(text, "\n") {
			c := strings.Index(line, "//")
			if c < 0 {
				continue
			}
			if m := cite.FindString(line[c:]); m != "" {
				t.Errorf("%s:%d: a comment cites %q: say the why in the code's own words", rel, i+1, m)
			}
		}
		if strings.HasSuffix(p, "_test.go") {
			if reviewName.MatchString(filepath.Base(p)) {
				t.Errorf("%s: a test file named after a review: name it for the area it tests", rel)
			}
			for _, m := range reviewFunc.FindAllStringSubmatch(text, -1) {
				t.Errorf("%s: %s is named after a review: name it for the behaviour it pins", rel, m[1])
			}
		}
	})
	if files < 50 {
		t.Fatalf("walked %d Go files: the check checked almost nothing", files)
	}
}
