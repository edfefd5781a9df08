package msgid

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/repotree"
)

const catalogFile = "../../catalog/ransomeye-tuner.catalog"

// constants returns the IDs declared in msgid.go, by name.
func constants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "msgid.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", n.Name)
				}
				val, _ := strconv.Unquote(lit.Value)
				out[n.Name] = val
			}
		}
	}
	return out
}

// used returns the names of msgid constants referenced by the repository's
// non-test Go code outside this package.
func used(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	repotree.Walk(t, "../..", repotree.Options{
		Suffix:       ".go",
		SkipTests:    true,
		SkipTestdata: true,
		Skip:         []string{"internal/msgid"},
	}, func(p, _, text string) error {
		f, err := parser.ParseFile(token.NewFileSet(), p, text, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := s.X.(*ast.Ident); ok && x.Name == "msgid" && s.Sel.Name != "ID" {
					out[s.Sel.Name] = true
				}
			}
			return true
		})
		return nil
	})
	return out
}

type entry struct {
	id     string
	header map[string]string
	body   string
}

// parseCatalog reads the catalog the way journalctl --update-catalog does:
// comments (#) outside entries, "-- ID" starts an entry, header lines until
// an empty line, then the body.
func parseCatalog(t *testing.T, text string) []entry {
	t.Helper()
	var out []entry
	var cur *entry
	inHeader := false
	idLine := regexp.MustCompile(`^-- ([0-9a-f]{32})$`)
	for i, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "-- "):
			m := idLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("catalog line %d: %q is not \"-- \" and 32 lowercase hex digits", i+1, line)
				continue
			}
			out = append(out, entry{id: m[1], header: map[string]string{}})
			cur, inHeader = &out[len(out)-1], true
		case cur == nil:
			if line != "" && !strings.HasPrefix(line, "#") {
				t.Errorf("catalog line %d: text before the first entry: %q", i+1, line)
			}
		case inHeader && line == "":
			inHeader = false
		case inHeader:
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				t.Errorf("catalog line %d: header %q is not \"Key: value\"", i+1, line)
			}
			cur.header[k] = v
		default:
			cur.body += line + "\n"
		}
	}
	return out
}

// TestCatalog: every id has exactly one catalog entry with Subject:,
// Defined-By: and Documentation: man:ransomeye-tuner(8) and a body, every
// entry is an id of this package, and every id is used by the code (an
// event nobody logs is a catalog entry nobody reads).
func TestCatalog(t *testing.T) {
	b, err := os.ReadFile(catalogFile)
	if err != nil {
		t.Fatal(err)
	}
	consts := constants(t)
	byID := map[string]string{}
	for name, id := range consts {
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
			t.Errorf("%s = %q: not 32 lowercase hex digits", name, id)
		}
		if other, dup := byID[id]; dup {
			t.Errorf("%s and %s share the id %s", name, other, id)
		}
		byID[id] = name
	}
	seen := map[string]bool{}
	for _, e := range parseCatalog(t, string(b)) {
		name, ok := byID[e.id]
		if !ok {
			t.Errorf("catalog entry %s is no constant of internal/msgid", e.id)
		}
		if seen[e.id] {
			t.Errorf("catalog has %s (%s) twice", e.id, name)
		}
		seen[e.id] = true
		if e.header["Subject"] == "" || e.header["Defined-By"] != "ransomeye-tuner" ||
			!strings.Contains(e.header["Documentation"], "man:ransomeye-tuner(8)") {
			t.Errorf("catalog entry %s (%s): header %v lacks Subject:, Defined-By: ransomeye-tuner or Documentation: man:ransomeye-tuner(8)", e.id, name, e.header)
		}
		if strings.TrimSpace(e.body) == "" {
			t.Errorf("catalog entry %s (%s) has no text", e.id, name)
		}
	}
	man, err := os.ReadFile("../../docs/man/ransomeye-tuner.8.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range consts {
		if !strings.Contains(string(man), "**"+id+"**") {
			t.Errorf("ransomeye-tuner(8) THE JOURNAL does not list %s (%s)", name, id)
		}
	}
	u := used(t)
	var names []string
	for name := range consts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !seen[consts[name]] {
			t.Errorf("%s (%s) has no catalog entry", name, consts[name])
		}
		if !u[name] {
			t.Errorf("%s is logged nowhere in the code", name)
		}
	}
	for name := range u {
		if _, ok := consts[name]; !ok {
			t.Errorf("the code uses msgid.%s, which is not declared", name)
		}
	}
}

// TestCatalogImports: systemd's own parser takes the catalog
// (journalctl --update-catalog into a temporary root), and lists every entry.
func TestCatalogImports(t *testing.T) {
	if _, err := exec.LookPath("journalctl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("journalctl is not installed (apt-get install systemd)")
		}
		t.Skip("journalctl is not installed (apt-get install systemd)")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "usr/lib/systemd/catalog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(catalogFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ransomeye-tuner.catalog"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("journalctl", "--update-catalog", "--root="+root).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("journalctl --update-catalog: %v\n%s", err, out)
	}
	out, err := exec.Command("journalctl", "--list-catalog", "--root="+root).Output()
	if err != nil {
		t.Fatalf("journalctl --list-catalog: %v", err)
	}
	for name, id := range constants(t) {
		if !strings.Contains(string(out), id+" ransomeye-tuner: ") {
			t.Errorf("journalctl --list-catalog lacks %s (%s):\n%s", name, id, out)
		}
	}
}
