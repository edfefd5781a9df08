package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsTimerVerifies runs `systemd-analyze verify` on the metrics
// timer and its service, in a root made of this host's unit directory, the
// repository's units/ and a stand-in for /usr/sbin/ransomeye-tuner (verify
// checks that ExecStart= exists), and fails on any message.
func TestMetricsTimerVerifies(t *testing.T) {
	verifyUnits(t, "timers.target", "ransomeye-tuner-metrics.timer", "ransomeye-tuner-metrics.service", "ransomeye-tuner.service", "ransomeye-tuner-fail-closed.service")
}

// verifyUnits runs `systemd-analyze verify` on units in a root made of this
// host's unit directory, the repository's units/ and a stand-in for
// /usr/sbin/ransomeye-tuner (verify checks that ExecStart= exists), and
// fails on any message. It skips without systemd-analyze (fails in CI) or
// without /usr/lib/systemd/system/need, a unit the verified ones refer to.
func verifyUnits(t *testing.T, need string, units ...string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is not installed (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is not installed (apt-get install systemd)")
	}
	if _, err := os.Stat("/usr/lib/systemd/system/" + need); err != nil {
		t.Skip("no /usr/lib/systemd/system/" + need + " to verify against")
	}
	base := t.TempDir()
	sbin := filepath.Join(base, "usr/sbin")
	if err := os.MkdirAll(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sbin, "ransomeye-tuner"), []byte("#!/bin/sh\n# test stand-in\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The programs of the netdev unit (verify checks them in the root too).
	if err := os.MkdirAll(filepath.Join(base, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"true", "sleep"} {
		if err := os.WriteFile(filepath.Join(base, "bin", p), []byte("#!/bin/sh\n# test stand-in\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(base, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{
		{"cp", "-a", "/usr/lib/systemd/system", filepath.Join(base, "usr/lib/systemd/")},
		{"cp", "-a", "../units", filepath.Join(base, "units")},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no", "--root=" + base}, units...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH=/units:", "SYSTEMD_LOG_LEVEL=notice")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(units, " "), err, out)
	}
}

// TestMetricsTimerShipped: the timer runs every minute, its service runs
// the metrics command, and the package installs both with the static link
// that enables the timer, the catalog and the alerting rules.
func TestMetricsTimerShipped(t *testing.T) {
	timer := mustRead(t, "../units/ransomeye-tuner-metrics.timer")
	for _, want := range []string{"\nOnBootSec=", "\nOnUnitActiveSec=1min\n", "\nAccuracySec="} {
		if !strings.Contains(timer, want) {
			t.Errorf("ransomeye-tuner-metrics.timer lacks %q", strings.TrimSpace(want))
		}
	}
	if svc := mustRead(t, "../units/ransomeye-tuner-metrics.service"); !strings.Contains(svc, "\nExecStart=/usr/sbin/ransomeye-tuner metrics\n") {
		t.Errorf("ransomeye-tuner-metrics.service does not run the metrics command")
	}
	nfpm := mustRead(t, "nfpm.yaml")
	for _, want := range []string{
		`(?m)^  - src: units/ransomeye-tuner-metrics\.timer\n    dst: \$\{SYSTEMD_UNIT_DIR\}/ransomeye-tuner-metrics\.timer\n    expand: true$`,
		`(?m)^  - src: units/ransomeye-tuner-metrics\.service\n    dst: \$\{SYSTEMD_UNIT_DIR\}/ransomeye-tuner-metrics\.service\n    expand: true$`,
		`(?m)^  - src: \.\./ransomeye-tuner-metrics\.timer\n    dst: \$\{SYSTEMD_UNIT_DIR\}/timers\.target\.wants/ransomeye-tuner-metrics\.timer\n    expand: true\n    type: symlink$`,
		`(?m)^  - src: catalog/ransomeye-tuner\.catalog\n    dst: /usr/lib/systemd/catalog/ransomeye-tuner\.catalog$`,
		`(?m)^  - src: monitoring/ransomeye-tuner\.rules\.yml\n    dst: /usr/share/ransomeye-tuner/prometheus/ransomeye-tuner\.rules\.yml$`,
	} {
		if !regexp.MustCompile(want).MatchString(nfpm) {
			t.Errorf("nfpm.yaml lacks an entry matching %s", want)
		}
	}
	post := mustRead(t, "maint/postinstall.sh")
	for _, want := range []string{"journalctl --update-catalog", "rt_invoke start ransomeye-tuner-metrics.timer"} {
		if !strings.Contains(post, want) {
			t.Errorf("postinstall lacks %q", want)
		}
	}
}
