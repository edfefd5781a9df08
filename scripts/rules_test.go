package scripts

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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

// TestAlertRulesCoveredAndDocumented: every alert has the conventional
// annotations (summary, description, and a runbook_url naming a subsection
// of ransomeye-tuner(8)'s ALERTS section that exists), the rules' unit tests
// exercise every alert, an alert about the guarantees carries the failing
// one (it reads ransomeye_tuner_guarantee_ok, whose guarantee label it
// keeps), and one alert fires when the tuner's series are absent.
func TestAlertRulesCoveredAndDocumented(t *testing.T) {
	rules := mustRead(t, "../monitoring/ransomeye-tuner.rules.yml")
	tests := mustRead(t, "../monitoring/ransomeye-tuner.rules.test.yml")
	man := mustRead(t, "../docs/man/ransomeye-tuner.8.md")
	blocks := strings.Split(rules, "\n      - alert: ")[1:]
	if len(blocks) < 7 {
		t.Fatalf("found %d alerts in the rules, want at least 7", len(blocks))
	}
	_, alertSection, ok := strings.Cut(man, "\n# ALERTS\n")
	if !ok {
		t.Fatal("ransomeye-tuner(8) has no ALERTS section")
	}
	alertSection, _, _ = strings.Cut(alertSection, "\n# ")
	absent := false
	for _, b := range blocks {
		name, _, _ := strings.Cut(b, "\n")
		for _, a := range []string{"summary", "description"} {
			if !regexp.MustCompile(`(?m)^          ` + a + `: "\S`).MatchString(b) {
				t.Errorf("alert %s has no %s annotation", name, a)
			}
		}
		if !strings.Contains(b, `          runbook_url: "man:ransomeye-tuner(8)#`+name+`"`) {
			t.Errorf("alert %s has no runbook_url annotation pointing at its section", name)
		}
		if !strings.Contains(alertSection, "\n## "+name+"\n") {
			t.Errorf("ransomeye-tuner(8) ALERTS has no subsection %s", name)
		}
		if !strings.Contains(tests, "alertname: "+name+"\n") {
			t.Errorf("the rules' tests never evaluate %s", name)
		}
		expr, _, _ := strings.Cut(b, "        for:")
		if regexp.MustCompile(`ransomeye_tuner_(compliant|core_gated)\b`).MatchString(expr) && !strings.Contains(expr, "ransomeye_tuner_guarantee_ok == 0") {
			t.Errorf("alert %s is about the guarantees but does not carry the failing one (ransomeye_tuner_guarantee_ok == 0)", name)
		}
		if strings.Contains(expr, "absent(ransomeye_tuner_build_info)") && strings.Contains(b, "        for: ") {
			absent = true
		}
	}
	if !absent {
		t.Error("no alert fires when the tuner's series are absent (absent(ransomeye_tuner_build_info) with a for:)")
	}
}

// sample is a textfile with every family and label filled in.
func sample() []byte {
	var r report.Report
	gated := true
	r.Compliant, r.CoreGated, r.Marker.Planted = true, &gated, []string{"/run/lock/ransomeye-resource-fail (a symbolic link)"}
	r.Config = &report.Config{Valid: true, Warnings: []report.Warning{{File: "/etc/ransomeye/tuner.conf", Line: 3, Message: "unknown section [swap] (did you mean [Swap]?), ignoring it"}}}
	r.Doc.Swap, r.Swap.Target, r.Swap.Active, r.Swap.Provided, r.Swap.TargetKnown = struct{}{}, 16<<30, 16<<30, 16<<30, true
	r.Guarantees = []check.Check{{Name: "swap", OK: true}, {Name: "sysctl:vm.swappiness", OK: false}}
	r.CPU = &report.CPU{Isolation: "strict", Mode: "allowed-cpus", Reserved: true, Sets: map[string]report.Set{
		"dpi": {Unit: "ransomeye-dpi.service", Count: 2}, "training": {Unit: "ransomeye-training.service", Count: 4}}}
	mem, swp := uint64(3<<30), uint64(0)
	line := check.PressureLine{Avg10: 1.5, Avg60: 0.5, Avg300: 0.1, TotalUS: 1234567}
	r.Memory = &check.Memory{State: check.MemoryHeld, PSI: true, Services: []check.ServiceMemory{{
		Role: "core", Unit: "ransomeye-core.service", Cgroup: "/system.slice/ransomeye-core.service", Running: true,
		Settings:    []check.MemorySetting{{File: "memory.low", Cgroup: "/system.slice", Want: 4 << 30, Actual: "max", OK: true}},
		MemoryBytes: &mem, SwapBytes: &swp, Events: map[string]uint64{"low": 0, "oom_kill": 0},
		Pressure: map[string]check.Pressure{"memory": {Some: line, Full: &line}, "cpu": {Some: line}}}}}
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

// TestMetricsDocumented: every family the textfile carries is described in
// ransomeye-tuner(8), METRICS.
func TestMetricsDocumented(t *testing.T) {
	man := mustRead(t, "../docs/man/ransomeye-tuner.8.md")
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (ransomeye_tuner_\w+) `).FindAllStringSubmatch(string(sample()), -1) {
		if !strings.Contains(man, "*"+m[1]+"{") && !strings.Contains(man, "*"+m[1]+"*") {
			t.Errorf("ransomeye-tuner(8) METRICS does not describe %s", m[1])
		}
	}
}

// alertmanager returns the paths of Alertmanager and amtool, skipping the
// test without them (failing under CI=true, where .ci/run installs them).
func alertmanager(t *testing.T) (am, amtool string) {
	t.Helper()
	const install = "Alertmanager is not installed (apt-get install --no-install-recommends prometheus-alertmanager)"
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			am = p
			break
		}
	}
	amtool, err := exec.LookPath("amtool")
	if am == "" || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(install)
		}
		t.Skip(install)
	}
	return am, amtool
}

// amAlert is one alert as Alertmanager's API v2 reads and returns it.
type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status *struct {
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status,omitempty"`
}

// TestInhibitNotCompliantByCoreGated: the shipped Alertmanager example is a
// valid configuration (amtool check-config), and in a running Alertmanager
// (on 127.0.0.1, its own storage in a temporary directory) its inhibit rule
// silences RansomEyeTunerNotCompliant while RansomEyeTunerCoreGated fires
// for the same machine and cause (the guarantee label, or none for a
// marker), and only then.
func TestInhibitNotCompliantByCoreGated(t *testing.T) {
	am, amtool := alertmanager(t)
	cfg, err := filepath.Abs("../monitoring/alertmanager.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(am, "--config.file="+cfg, "--storage.path="+t.TempDir(), "--web.listen-address="+addr, "--cluster.listen-address=")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager's log:\n%s", log.String())
		}
	}()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready at %s after 30 s: %v", base, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	const gated, notCompliant = "RansomEyeTunerCoreGated", "RansomEyeTunerNotCompliant"
	alert := func(name, instance, guarantee string) amAlert {
		l := map[string]string{"alertname": name, "instance": instance, "job": "node"}
		if guarantee != "" {
			l["guarantee"] = guarantee
		}
		return amAlert{Labels: l}
	}
	// want: NotCompliant alerts by instance/guarantee, and whether each is
	// inhibited.
	want := map[string]bool{
		"a/swap":                 true,  // the gate's cause: inhibited
		"a/sysctl:vm.swappiness": false, // another cause on the same machine
		"b/swap":                 false, // the same cause on a machine not gated
		"c/":                     true,  // a marker gates c: no label on either
		"c/swap":                 false, // c is gated by its marker, not by swap
	}
	posted := []amAlert{alert(gated, "a", "swap"), alert(gated, "c", "")}
	for k := range want {
		inst, g, _ := strings.Cut(k, "/")
		posted = append(posted, alert(notCompliant, inst, g))
	}
	body, err := json.Marshal(posted)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}
	// The inhibitor learns its sources asynchronously: ask until the
	// answer is the one wanted, or 10 s have passed.
	var got map[string]bool
	for end := time.Now().Add(10 * time.Second); ; {
		got = inhibitedNotCompliant(t, base, notCompliant)
		if reflect.DeepEqual(got, want) || time.Now().After(end) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("NotCompliant %s: not listed by Alertmanager", k)
		} else if g != w {
			t.Errorf("NotCompliant %s: inhibited %v, want %v", k, g, w)
		}
	}
}

// inhibitedNotCompliant lists the NotCompliant alerts Alertmanager holds,
// as "instance/guarantee", and whether each is inhibited.
func inhibitedNotCompliant(t *testing.T, base, name string) map[string]bool {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	got := map[string]bool{}
	for _, a := range alerts {
		if a.Labels["alertname"] == name && a.Status != nil {
			got[a.Labels["instance"]+"/"+a.Labels["guarantee"]] = len(a.Status.InhibitedBy) > 0
		}
	}
	return got
}
