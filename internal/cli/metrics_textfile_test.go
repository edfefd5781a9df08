package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// writeRootFile writes content at the host path p under root.
func writeRootFile(t *testing.T, root, p, content string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsInvalidConfigWritesConfiguredTextfile: an invalid setting
// elsewhere in the file keeps the core down (core_gated 1). metrics must
// tell Prometheus so at the TextfilePath= the administrator set
// (node_exporter reads only that directory), not at the default path,
// whose directory need not exist: there nothing would be written, exit 0,
// and the gated core invisible to every alert.
func TestMetricsInvalidConfigWritesConfiguredTextfile(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	r := root.String()
	const textfile = "/srv/textfiles/ransomeye_tuner.prom"
	if err := os.MkdirAll(root.Path("/srv/textfiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeRootFile(t, r, names.ConfigFile, "[Swap]\nMinSize=huge\nReserve=0\n[Metrics]\nTextfilePath="+textfile+"\n")
	if code, _, _ := runMain("--root", r, "gate"); code != ExitFail {
		t.Fatalf("gate: exit %d, want 1 (premise: the configuration is invalid)", code)
	}
	code, _, errOut := runMain("--root", r, "metrics")
	b, err := os.ReadFile(root.Path(textfile))
	if code != ExitOK || err != nil {
		t.Fatalf("metrics: exit %d, stderr %q; the configured %s: %v", code, errOut, textfile, err)
	}
	if !strings.Contains(string(b), "ransomeye_tuner_core_gated 1") {
		t.Errorf("metrics at %s do not say the core is gated:\n%s", textfile, b)
	}
}

// TestMetricsInvalidTextfilePathNamed: when TextfilePath= itself is what
// is invalid, the administrator's textfile is not known: metrics exits 1
// naming the file, the line and the setting, and writes nothing at the
// default path either.
func TestMetricsInvalidTextfilePathNamed(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	r := root.String()
	if err := os.MkdirAll(root.Path(filepath.Dir(names.DefaultMetricsPath)), 0o755); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(root.Path(names.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	writeRootFile(t, r, names.ConfigFile, string(conf)+"[Metrics]\nTextfilePath=textfiles/tuner.prom\n")
	code, _, errOut := runMain("--root", r, "metrics")
	if code != ExitFail || !strings.Contains(errOut, names.ConfigFile+":") || !strings.Contains(errOut, "TextfilePath=textfiles/tuner.prom") {
		t.Errorf("metrics: exit %d, stderr %q; want 1 naming %s, its line and the setting", code, errOut, names.ConfigFile)
	}
	if _, err := os.Lstat(root.Path(names.DefaultMetricsPath)); err == nil {
		t.Errorf("metrics wrote the default %s although the configuration names another textfile", names.DefaultMetricsPath)
	}
}

// TestStatusMetricsRowFollowsWhatMetricsDid: when metrics cannot write
// the configured textfile (a directory, a dangling symbolic link or
// another program's file is at its path) it exits 1, and status must say
// the same, in its text and its JSON, with the same words: not that the
// metrics were "last written" because something is at the path.
func TestStatusMetricsRowFollowsWhatMetricsDid(t *testing.T) {
	const textfile = "/srv/textfiles/ransomeye_tuner.prom"
	for name, plant := range map[string]func(full string) error{
		"a directory":            func(full string) error { return os.Mkdir(full, 0o755) },
		"a dangling link":        func(full string) error { return os.Symlink("/nowhere/x.prom", full) },
		"another program's file": func(full string) error { return os.WriteFile(full, []byte("node_foo 1\n"), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			root := fakeroot.New(t, fakeroot.Healthy)
			r := root.String()
			conf, err := os.ReadFile(root.Path(names.ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			writeRootFile(t, r, names.ConfigFile, string(conf)+"[Metrics]\nTextfilePath="+textfile+"\n")
			if err := os.MkdirAll(root.Path("/srv/textfiles"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := plant(root.Path(textfile)); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runMain("--root", r, "metrics")
			if code != ExitFail {
				t.Fatalf("metrics: exit %d, want 1 (premise)\n%s", code, errOut)
			}
			said := strings.TrimPrefix(strings.TrimSpace(errOut), "error: metrics: ")
			_, m, out := metricsSection(t, r)
			if m["written"] != false || m["error"] != said {
				t.Errorf("metrics exited 1 saying %q; status --json says written %v, error %q\n%s", said, m["written"], m["error"], out)
			}
			_, text, _ := runMain("--root", r, "status")
			row := ""
			for _, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(l, "metrics ") {
					row = l
				}
			}
			if !strings.Contains(row, "NOT WRITTEN: "+said) {
				t.Errorf("status text's metrics row %q after metrics failed with %q", row, said)
			}
		})
	}
}
