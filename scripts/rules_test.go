package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
)

// promtool returns promtool's path, skipping the test without it (failing
// under CI=true, where .ci/run installs it with Debian's prometheus).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed (apt-get install --no-install-recommends prometheus)")
		}
		t.Skip("promtool is not installed (apt-get install --no-install-recommends prometheus)")
	}
	return p
}

// TestAlertRules: the shipped rules load (promtool check rules) and each
// alert fires and stays quiet where the unit tests say (promtool test rules
// on monitoring/ransomeye-tuner.rules.test.yml).
func TestAlertRules(t *testing.T) {
	p := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "ransomeye-tuner.rules.yml"},
		{"test", "rules", "ransomeye-tuner.rules.test.yml"},
	} {
		cmd := exec.Command(p, args...)
		cmd.Dir = "../monitoring"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestAlertRulesCoveredAndDocumented: every alert has a runbook annotation
// naming a subsection of ransomeye-tuner(8)'s ALERTS section that exists,
// and the rules' unit tests exercise every alert.
func TestAlertRulesCoveredAndDocumented(t *testing.T) {
	rules := mustRead(t, "../monitoring/ransomeye-tuner.rules.yml")
	tests := mustRead(t, "../monitoring/ransomeye-tuner.rules.test.yml")
	man := mustRead(t, "../docs/man/ransomeye-tuner.8.md")
	alerts := regexp.MustCompile(`(?m)^      - alert: (\S+)$`).FindAllStringSubmatch(rules, -1)
	if len(alerts) < 6 {
		t.Fatalf("found %d alerts in the rules, want at least 6", len(alerts))
	}
	_, alertSection, ok := strings.Cut(man, "\n# ALERTS\n")
	if !ok {
		t.Fatal("ransomeye-tuner(8) has no ALERTS section")
	}
	alertSection, _, _ = strings.Cut(alertSection, "\n# ")
	for _, a := range alerts {
		name := a[1]
		if !strings.Contains(rules, `runbook: "man:ransomeye-tuner(8) ALERTS, `+name+`"`) {
			t.Errorf("alert %s has no runbook annotation pointing at its section", name)
		}
		if !strings.Contains(alertSection, "\n## "+name+"\n") {
			t.Errorf("ransomeye-tuner(8) ALERTS has no subsection %s", name)
		}
		if !strings.Contains(tests, "alertname: "+name+"\n") {
			t.Errorf("the rules' tests never evaluate %s", name)
		}
	}
}

// sample is a textfile with every family and label filled in.
func sample() []byte {
	var r report.Report
	r.Compliant, r.CoreGated, r.Marker.Planted = true, true, []string{"/run/lock/ransomeye-resource-fail (a symbolic link)"}
	r.Doc.Swap, r.Swap.Target, r.Swap.Active, r.Swap.Provided = struct{}{}, 16<<30, 16<<30, 16<<30
	r.Guarantees = []check.Check{{Name: "swap", OK: true}, {Name: "sysctl:vm.swappiness", OK: false}}
	r.CPU = &report.CPU{Isolation: "strict", Mode: "allowed-cpus", Reserved: true, Sets: map[string]report.Set{
		"dpi": {Unit: "ransomeye-dpi.service", Count: 2}, "training": {Unit: "ransomeye-training.service", Count: 4}}}
	return r.Metrics(report.Run{Start: time.Unix(1700000000, 5e8), Duration: 1500 * time.Millisecond})
}

// TestTextfileLints: the textfile passes promtool check metrics (names,
// units, HELP and TYPE lines as Prometheus wants them).
func TestTextfileLints(t *testing.T) {
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(sample())
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, sample())
	}
}

// proposed are the series the rules read that the textfile does not carry
// yet (ransomeye-tuner(8) METRICS says so). Remove a name once the textfile
// carries it.
var proposed = map[string]bool{}

// TestRulesReadWrittenMetrics: every ransomeye_tuner_ series the rules or
// the man page's ALERTS read is in the textfile, or listed in proposed; a
// proposed name the textfile carries must leave the list.
func TestRulesReadWrittenMetrics(t *testing.T) {
	text := string(sample())
	written := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (ransomeye_tuner_\w+) `).FindAllStringSubmatch(text, -1) {
		written[m[1]] = true
	}
	if !written["ransomeye_tuner_compliant"] {
		t.Fatalf("no ransomeye_tuner_compliant in the sample textfile:\n%s", text)
	}
	rules := mustRead(t, "../monitoring/ransomeye-tuner.rules.yml")
	for _, name := range regexp.MustCompile(`ransomeye_tuner_\w+`).FindAllString(rules, -1) {
		if !written[name] && !proposed[name] {
			t.Errorf("the rules read %s, which the textfile does not carry", name)
		}
	}
	man := mustRead(t, "../docs/man/ransomeye-tuner.8.md")
	for name := range proposed {
		if written[name] {
			t.Errorf("the textfile now carries %s: remove it from proposed (and from the man page's list of what is to come)", name)
		}
		if !strings.Contains(man, "*"+name+"{") && !strings.Contains(man, "*"+name+"*") {
			t.Errorf("ransomeye-tuner(8) METRICS does not describe %s", name)
		}
	}
}
