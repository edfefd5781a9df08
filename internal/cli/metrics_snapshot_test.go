package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestMetricsMatchStatus: on every fake machine, the textfile the metrics
// command writes carries one ransomeye_tuner_guarantee_ok per measured
// guarantee of status --json, with its verdict, and core_gated and
// compliant as status says; the swap series have no sample where status
// measured no swap (disabled, invalid configuration). With promtool
// installed, the file passes promtool check metrics.
func TestMetricsMatchStatus(t *testing.T) {
	for _, c := range fakeroot.Cases {
		t.Run(string(c), func(t *testing.T) {
			root := fakeroot.New(t, c)
			if err := os.MkdirAll(root.Path("/var/lib/prometheus/node-exporter"), 0o755); err != nil {
				t.Fatal(err)
			}
			_, out, _ := runMain("--root", root.String(), "status", "--json")
			var doc struct {
				Compliant  bool `json:"compliant"`
				CoreGated  bool `json:"core_gated"`
				Guarantees []struct {
					Name        string `json:"name"`
					OK          bool   `json:"ok"`
					NotMeasured bool   `json:"not_measured"`
				} `json:"guarantees"`
				Swap json.RawMessage `json:"swap"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runMain("--root", root.String(), "metrics"); code != ExitOK {
				t.Fatalf("metrics: exit %d\n%s", code, errOut)
			}
			text, err := os.ReadFile(root.Path(names.DefaultMetricsPath))
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, g := range doc.Guarantees {
				if !g.NotMeasured {
					want = append(want, g.Name+"="+map[bool]string{true: "1", false: "0"}[g.OK])
				}
			}
			for _, m := range regexp.MustCompile(`(?m)^ransomeye_tuner_guarantee_ok\{guarantee="([^"]+)"\} (\d)$`).FindAllStringSubmatch(string(text), -1) {
				got = append(got, m[1]+"="+m[2])
			}
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("guarantee_ok series %q, status's guarantees %q\n%s", got, want, text)
			}
			b01 := map[bool]string{true: "1", false: "0"}
			for name, v := range map[string]bool{"core_gated": doc.CoreGated, "compliant": doc.Compliant} {
				if line := "ransomeye_tuner_" + name + " " + b01[v] + "\n"; !strings.Contains(string(text), line) {
					t.Errorf("textfile lacks %q (status --json: %v)\n%s", line, v, text)
				}
			}
			hasSwap := strings.Contains(string(text), "\nransomeye_tuner_swap_target_bytes ")
			if hasSwap != (doc.Swap != nil) {
				t.Errorf("swap_target_bytes sample present %v, status's swap section present %v\n%s", hasSwap, doc.Swap != nil, text)
			}
			if p, err := exec.LookPath("promtool"); err == nil {
				cmd := exec.Command(p, "check", "metrics")
				cmd.Stdin = bytes.NewReader(text)
				if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
					t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
				}
			}
		})
	}
}

// typeLines returns the "# TYPE" lines of a textfile: its families.
func typeLines(text []byte) string {
	return strings.Join(regexp.MustCompile(`(?m)^# TYPE .*$`).FindAllString(string(text), -1), "\n")
}

// TestActivateMetricsSnapshot: activate writes its textfile from the same
// snapshot as the metrics command (the same families, in the same order),
// with the state at its end: here a configuration that cannot be read
// (core gated, swap not measured), and the planted marker it removed while
// writing the failure marker counted in ransomeye_tuner_planted_markers.
func TestActivateMetricsSnapshot(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Invalid)
	if err := os.MkdirAll(root.Path("/var/lib/prometheus/node-exporter"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root.Path(filepath.Dir(names.MarkerPath)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root.Path("/elsewhere"), root.Path(names.MarkerPath)); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain("--root", root.String(), "activate")
	if code != ExitFail {
		t.Fatalf("activate with an invalid configuration: exit %d, want %d\n%s", code, ExitFail, errOut)
	}
	act, err := os.ReadFile(root.Path(names.DefaultMetricsPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"ransomeye_tuner_planted_markers 1\n", "ransomeye_tuner_core_gated 1\n", "ransomeye_tuner_marker_present 1\n", "ransomeye_tuner_guarantee_ok{guarantee=\"configuration\"} 0\n"} {
		if !strings.Contains(string(act), line) {
			t.Errorf("activate's textfile lacks %q:\n%s", line, act)
		}
	}
	if strings.Contains(string(act), "\nransomeye_tuner_swap_target_bytes ") {
		t.Errorf("activate's textfile has a swap target, but the configuration cannot be read:\n%s", act)
	}
	if code, _, errOut := runMain("--root", root.String(), "metrics"); code != ExitOK {
		t.Fatalf("metrics: exit %d\n%s", code, errOut)
	}
	met, err := os.ReadFile(root.Path(names.DefaultMetricsPath))
	if err != nil {
		t.Fatal(err)
	}
	if typeLines(act) != typeLines(met) {
		t.Errorf("activate and metrics write different families:\n--- activate\n%s\n--- metrics\n%s", typeLines(act), typeLines(met))
	}
	if !strings.Contains(string(met), "ransomeye_tuner_planted_markers 0\n") {
		t.Errorf("metrics after activate removed the planted marker:\n%s", met)
	}
}
