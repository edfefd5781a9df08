package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// metricsSection is status --json's metrics section.
func metricsSection(t *testing.T, root string) (int, map[string]any, string) {
	t.Helper()
	code, out, _ := runMain("--root", root, "status", "--json")
	var doc struct {
		Metrics map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Metrics == nil {
		t.Fatalf("status --json: %v, no metrics section\n%s", err, out)
	}
	return code, doc.Metrics, out
}

// TestMetricsDirectoryMissing: a [Metrics] TextfilePath= whose directory
// does not exist is an error: metrics exits 1 naming the directory and the
// remedy (on the journal at ERR, as the timer runs it), and status says the
// metrics are not written, without counting it against the guarantees.
// The default path's directory missing means no node_exporter here: metrics
// exits 0 and writes nothing, and status says so once. Before, metrics
// printed nothing and exited 0 in both cases, and status never mentioned
// the metrics.
func TestMetricsDirectoryMissing(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	r := root.String()

	// The default path, no node_exporter.
	if code, out, errOut := runMain("--root", r, "metrics"); code != ExitOK || out != "" || errOut != "" {
		t.Errorf("metrics without node_exporter: exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, errOut)
	}
	code, m, out := metricsSection(t, r)
	if code != ExitOK || m["written"] != false || m["configured"] != false || !strings.Contains(m["note"].(string), "no node_exporter here") {
		t.Errorf("status without node_exporter: exit %d, metrics %v\n%s", code, m, out)
	}

	// A configured path in a directory that does not exist.
	conf, err := os.ReadFile(root.Path(names.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	const textfile = "/srv/monitoring/textfiles/ransomeye_tuner.prom"
	if err := os.WriteFile(root.Path(names.ConfigFile), append(conf, "[Metrics]\nTextfilePath="+textfile+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain("--root", r, "metrics")
	if code != ExitFail || !strings.Contains(errOut, `the directory "/srv/monitoring/textfiles" of [Metrics] TextfilePath=`+textfile+` does not exist`) || !strings.Contains(errOut, "create it") {
		t.Errorf("metrics with a configured path in a missing directory: exit %d, stdout %q, stderr %q; want 1 and the directory named", code, out, errOut)
	}
	code, m, out = metricsSection(t, r)
	if code != ExitOK || m["written"] != false || m["configured"] != true || !strings.Contains(m["error"].(string), "does not exist") {
		t.Errorf("status with the metrics directory missing: exit %d (the guarantees hold: 0), metrics %v\n%s", code, m, out)
	}
	_, text, _ := runMain("--root", r, "status")
	if !strings.Contains(text, "\nmetrics ") || !strings.Contains(text, "NOT WRITTEN: the directory \"/srv/monitoring/textfiles\"") {
		t.Errorf("status's text does not say the metrics are not written:\n%s", text)
	}

	// The directory made: written, and status says when.
	if err := os.MkdirAll(root.Path("/srv/monitoring/textfiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runMain("--root", r, "metrics"); code != ExitOK {
		t.Fatalf("metrics once the directory exists: exit %d\n%s", code, errOut)
	}
	if _, m, out := metricsSection(t, r); m["written"] != true || m["written_at"] == nil || m["path"] != textfile {
		t.Errorf("status after metrics wrote the file: %v\n%s", m, out)
	}
}
