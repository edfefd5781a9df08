package scripts

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestNetdevUnitVerifies runs `systemd-analyze verify` on
// ransomeye-tuner-netdev.service and checks what its reload does: settle,
// then the place command, then a running irqbalance restarted, so that
// it asks its policy script again before it balances, and the place command
// once more; that it is armed by a plain start (ExecStart=
// places nothing: the boot's placements are the activator's and the place
// unit's, and it is ordered before the latter), and that the package
// installs it with the static link that enables it.
func TestNetdevUnitVerifies(t *testing.T) {
	svc := mustRead(t, "../units/ransomeye-tuner-netdev.service")
	for _, want := range []string{"\nType=oneshot\n", "\nRemainAfterExit=yes\n", "\nExecStart=/bin/true\n",
		"\nExecReload=/bin/sleep 2\nExecReload=/usr/sbin/ransomeye-tuner place\n",
		"\nExecReload=/bin/sh -c 'if systemctl --quiet is-active irqbalance.service; then systemctl try-restart irqbalance.service && /usr/sbin/ransomeye-tuner place; fi'\n",
		"\nAfter=ransomeye-tuner.service\n", "\nBefore=ransomeye-tuner-place.service\n", "\nWantedBy=multi-user.target\n"} {
		if !strings.Contains(svc, want) {
			t.Errorf("ransomeye-tuner-netdev.service lacks %q", strings.TrimSpace(want))
		}
	}
	nfpm := mustRead(t, "nfpm.yaml")
	for _, want := range []string{
		`(?m)^  - src: units/ransomeye-tuner-netdev\.service\n    dst: \$\{SYSTEMD_UNIT_DIR\}/ransomeye-tuner-netdev\.service\n    expand: true$`,
		`(?m)^  - src: \.\./ransomeye-tuner-netdev\.service\n    dst: \$\{SYSTEMD_UNIT_DIR\}/multi-user\.target\.wants/ransomeye-tuner-netdev\.service\n    expand: true\n    type: symlink$`,
		`(?m)^  - src: udev/90-ransomeye-tuner\.rules\n    dst: \$\{UDEV_RULES_DIR\}/90-ransomeye-tuner\.rules\n    expand: true$`,
	} {
		if !regexp.MustCompile(want).MatchString(nfpm) {
			t.Errorf("nfpm.yaml lacks an entry matching %s", want)
		}
	}
	verifyUnits(t, "multi-user.target", "ransomeye-tuner-netdev.service", "ransomeye-tuner-place.service", "ransomeye-tuner.service", "ransomeye-tuner-fail-closed.service")
}

// udevRule is one rule line of a udev rules file: its match and assignment
// keys, in order.
type udevRule []struct{ key, op, value string }

var udevKey = regexp.MustCompile(`^\s*([A-Z_]+(?:\{[^}]*\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)`)

// parseUdevRules reads the rule lines of a rules file (udev(7): comma-
// separated KEY OP "VALUE", comments and blank lines skipped); a line it
// cannot read fails the test.
func parseUdevRules(t *testing.T, text string) []udevRule {
	t.Helper()
	var rules []udevRule
	for n, line := range strings.Split(text, "\n") {
		if l := strings.TrimSpace(line); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var r udevRule
		rest := line
		for strings.TrimSpace(rest) != "" {
			m := udevKey.FindStringSubmatchIndex(rest)
			if m == nil {
				t.Fatalf("rules line %d: cannot read %q", n+1, rest)
			}
			r = append(r, struct{ key, op, value string }{rest[m[2]:m[3]], rest[m[4]:m[5]], rest[m[6]:m[7]]})
			rest = rest[m[1]:]
		}
		rules = append(rules, r)
	}
	return rules
}

// udevFires evaluates the rules for one event the way udev does for the
// keys this file uses (ACTION, SUBSYSTEM, DEVPATH with shell globs of | and
// *, GOTO and LABEL) and returns the RUN programs it adds.
func udevFires(t *testing.T, rules []udevRule, props map[string]string) []string {
	t.Helper()
	match := func(pattern, value string) bool {
		for _, alt := range strings.Split(pattern, "|") {
			re := "^" + strings.ReplaceAll(regexp.QuoteMeta(alt), `\*`, ".*") + "$"
			if regexp.MustCompile(re).MatchString(value) {
				return true
			}
		}
		return false
	}
	var run []string
	skipTo := ""
	for _, r := range rules {
		if skipTo != "" {
			if len(r) == 1 && r[0].key == "LABEL" && r[0].value == skipTo {
				skipTo = ""
			}
			continue
		}
		ok := true
		for _, k := range r {
			switch k.op {
			case "==", "!=":
				v, known := props[k.key]
				if !known {
					t.Fatalf("rule matches %s, which the test does not model", k.key)
				}
				if match(k.value, v) != (k.op == "==") {
					ok = false
				}
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		for _, k := range r {
			switch {
			case k.key == "RUN" && k.op == "+=":
				run = append(run, k.value)
			case k.key == "GOTO":
				skipTo = k.value
			case k.key == "LABEL", k.op == "==", k.op == "!=":
			default:
				t.Fatalf("rule assigns %s%s, which the test does not model", k.key, k.op)
			}
		}
	}
	return run
}

// TestUdevRuleReloadsNetdev: the shipped rule asks the netdev unit to
// reload (never to start: a stopped or masked unit stays off) for a
// physical network device's appearance and rename and its queues' coming
// and going, and for nothing else: not a virtual device's (containers'
// veths), not a device's removal or change, not other subsystems.
func TestUdevRuleReloadsNetdev(t *testing.T) {
	rules := parseUdevRules(t, mustRead(t, "../udev/90-ransomeye-tuner.rules"))
	const want = "/bin/systemctl --no-block try-reload-or-restart ransomeye-tuner-netdev.service"
	pci := "/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0"
	for _, c := range []struct {
		action, subsystem, devpath string
		fires                      bool
	}{
		{"add", "net", pci, true},
		{"move", "net", pci, true},
		{"add", "queues", pci + "/queues/rx-2", true},
		{"remove", "queues", pci + "/queues/tx-3", true},
		{"remove", "net", pci, false},
		{"change", "net", pci, false},
		{"change", "queues", pci + "/queues/rx-0", false},
		{"add", "net", "/devices/virtual/net/veth1a2b", false},
		{"add", "queues", "/devices/virtual/net/veth1a2b/queues/rx-0", false},
		{"add", "pci", "/devices/pci0000:00/0000:00:03.0", false},
		{"bind", "virtio", "/devices/pci0000:00/0000:00:03.0/virtio0", false},
	} {
		got := udevFires(t, rules, map[string]string{"ACTION": c.action, "SUBSYSTEM": c.subsystem, "DEVPATH": c.devpath})
		switch {
		case c.fires && (len(got) != 1 || got[0] != want):
			t.Errorf("%s %s %s: RUN %q, want [%q]", c.action, c.subsystem, c.devpath, got, want)
		case !c.fires && len(got) != 0:
			t.Errorf("%s %s %s: RUN %q, want none", c.action, c.subsystem, c.devpath, got)
		}
	}
	for _, r := range rules {
		for _, k := range r {
			if k.key == "RUN" && !strings.HasPrefix(k.value, "/") {
				t.Errorf("RUN %q: not an absolute path (udev looks relative names up in its own directory)", k.value)
			}
		}
	}
	// The unit the rule names exists and reloads.
	if _, err := os.Stat("../units/ransomeye-tuner-netdev.service"); err != nil {
		t.Error(err)
	}
}
