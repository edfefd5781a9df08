package apply

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/repotree"
)

// recordWriters are the functions that change the machine's records and
// kernel settings, by package: only this package calls them, so that
// Apply is the one place a run writes (docs/design.md).
var recordWriters = map[string][]string{
	"marker": {"Write", "WriteOK", "RemoveOK", "Clear", "RemovePlanted", "Lock"},
	"sysctl": {"Apply", "WriteRun", "RecordBefore"},
}

// TestOnlyApplyWritesRecords: no product file outside internal/apply (and
// the packages that implement the writers) calls the marker's or the
// sysctls' writers. A verb that wrote a record itself would bypass what
// Apply logs and folds back into the facts.
func TestOnlyApplyWritesRecords(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := repotree.Walk(t, repo, repotree.Options{
		Suffix:    ".go",
		SkipTests: true,
		Skip:      []string{"testkit", "tools", "integration", "internal/apply", "internal/marker", "internal/sysctl"},
	}, func(p, _, text string) error {
		f, err := parser.ParseFile(fset, p, text, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			for _, fn := range recordWriters[pkg.Name] {
				if sel.Sel.Name == fn {
					t.Errorf("%s: calls %s.%s: only internal/apply writes the records", fset.Position(sel.Pos()), pkg.Name, fn)
				}
			}
			return true
		})
		return nil
	})
	if checked < 50 {
		t.Fatalf("checked only %d product files: is the walk looking at the repository?", checked)
	}
}
