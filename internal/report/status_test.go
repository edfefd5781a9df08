package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
)

func fakeRoot(t *testing.T, files map[string]string) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{
		"proc/meminfo":                   "MemTotal: 4194304 kB\n",
		"proc/swaps":                     "Filename Type Size Used Priority\n/swapfile file 2097148 0 -2\n",
		"proc/cmdline":                   "root=/dev/vda\n",
		"proc/sys/vm/swappiness":         "10\n",
		"proc/sys/vm/vfs_cache_pressure": "50\n",
		"etc/ransomeye/tuner.conf":       "[CPU]\nIsolation=off\n",
	}
	for k, v := range files {
		base[k] = v
	}
	for k, v := range base {
		p := filepath.Join(dir, k)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(dir)
}

// gather is status's report of root.
func gather(root hostroot.Root) report.Report {
	f := facts.Gather(root, facts.Status)
	defer f.Close()
	p := plan.Decide(f)
	return report.Build(f, p, check.Run(f, p))
}

func TestGatherNotCompliant(t *testing.T) {
	root := fakeRoot(t, map[string]string{"proc/sys/vm/swappiness": "60\n"})
	r := gather(root)
	if r.Compliant || r.State == check.StateDisabled {
		t.Fatalf("report %+v", r)
	}
	if sw := r.Doc.Swap.(swapfile.Section); sw.Target == nil || *sw.Target != 16<<30 || sw.Active || sw.OthersBytes != 2097148*1024 || sw.Decision != "create" {
		t.Errorf("swap %+v", sw)
	}
	want := []string{`swapfile "/ransomeye/swap" is not active`, `vm.swappiness is "60", want "10"`}
	for _, w := range want {
		if !strings.Contains(strings.Join(r.Problems, "\n"), w) {
			t.Errorf("problems %q lack %q", r.Problems, w)
		}
	}
	textHas(t, r, "NOT COMPLIANT", "(reported, not counted toward the target)", "no reservation: CPU isolation is off", "[FAIL]")
	js := writeJSON(t, r)
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("JSON does not parse: %v\n%s", err, js)
	}
	if back["compliant"] != false || back["swap"].(map[string]any)["target_bytes"].(float64) != float64(16<<30) {
		t.Errorf("JSON %s", js)
	}
}

// textHas writes r as text, fails on each of wants it lacks, and returns
// the text.
func textHas(t *testing.T, r report.Report, wants ...string) string {
	t.Helper()
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, text.String())
		}
	}
	return text.String()
}

// writeJSON writes r as JSON.
func writeJSON(t *testing.T, r report.Report) []byte {
	t.Helper()
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	return js.Bytes()
}

func TestGatherDisabledAndInvalid(t *testing.T) {
	r := gather(fakeRoot(t, map[string]string{"proc/cmdline": "ransomeye.tuner=0\n"}))
	if r.State != check.StateDisabled || r.Compliant {
		t.Errorf("disabled report %+v", r)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	if !strings.Contains(text.String(), "DISABLED") {
		t.Errorf("text:\n%s", text.String())
	}
	r = gather(fakeRoot(t, map[string]string{"etc/ransomeye/tuner.conf": "[Swap]\nMinSize=huge\n"}))
	if r.Compliant || !strings.Contains(r.Config.Error, "tuner.conf:2") {
		t.Errorf("invalid config report %+v", r)
	}
}
