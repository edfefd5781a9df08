package fakeroot

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
)

// Keys returns every object key of the JSON document b, without the keys
// of the objects under the names in skip (maps keyed by data, such as a
// service's environment).
func Keys(t testing.TB, b []byte, skip ...string) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				seen[k] = true
				if !contains(skip, k) {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ManSection returns the text of the subsection "## title" of section
// "# section" of the man page at path (Markdown source).
func ManSection(t testing.TB, path, section, title string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, s, ok := strings.Cut(string(b), "\n# "+section+"\n")
	if !ok {
		t.Fatalf("%s has no section %s", path, section)
	}
	s, _, _ = strings.Cut(s, "\n# ")
	_, s, ok = strings.Cut(s, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("%s, %s, has no subsection %q", path, section, title)
	}
	s, _, _ = strings.Cut(s, "\n## ")
	return s
}
