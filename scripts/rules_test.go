package scripts

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
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
