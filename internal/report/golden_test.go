package report_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/report"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestGoldenStatus pins status's JSON document and its text on the fake
// machines of fakeroot: healthy, failed, disabled by ransomeye.tuner=0,
// invalid configuration, no CPU reservation. Besides the bytes it checks
// the contract's rules on each: a version, snake_case keys only, no null
// anywhere, and no swap or cpu section where nothing was measured.
func TestGoldenStatus(t *testing.T) {
	for _, c := range fakeroot.Cases {
		t.Run(string(c), func(t *testing.T) {
			root := fakeroot.New(t, c)
			r := gather(root)
			var js, text bytes.Buffer
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			checkContract(t, js.Bytes())
			man := fakeroot.ManSection(t, "../../docs/man/ransomeye-tuner.8.md", "JSON OUTPUT", "status --json (version 1)")
			for _, k := range fakeroot.Keys(t, js.Bytes()) {
				if !strings.Contains(man, "**"+k+"**") {
					t.Errorf("ransomeye-tuner(8), JSON OUTPUT, does not describe the key %q of status --json", k)
				}
			}
			fakeroot.Golden(t, "status-"+string(c)+".json", fakeroot.Mask(js.Bytes(), root), *report.Update)
			fakeroot.Golden(t, "status-"+string(c)+".txt", fakeroot.Mask(text.Bytes(), root), *report.Update)
		})
	}
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkContract checks the rules every status document keeps.
func checkContract(t *testing.T, b []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if doc["version"] != float64(report.JSONVersion) {
		t.Errorf("version = %v, want %d", doc["version"], report.JSONVersion)
	}
	if _, ok := doc["guarantees"].([]any); !ok {
		t.Errorf("guarantees is not a list: %v", doc["guarantees"])
	}
	nm, _ := doc["not_measured"].(map[string]any)
	for _, sec := range []string{"swap", "cpu", "activation", "config"} {
		_, present := doc[sec]
		_, why := nm[sec]
		if present == why {
			t.Errorf("section %q: present %v, reason under not_measured %v: want exactly one", sec, present, why)
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case nil:
			t.Errorf("%s is null", path)
		case map[string]any:
			for k, x := range v {
				// The sets and not_measured maps are keyed by role and section
				// names, the keys of the rest are field names: all snake_case.
				if !snake.MatchString(k) {
					t.Errorf("%s: key %q is not snake_case", path, k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(path+"["+string(rune('0'+i%10))+"]", x)
			}
		}
	}
	walk("", doc)
	if strings.Contains(string(b), "null") {
		t.Errorf("the document holds null:\n%s", b)
	}
}
