package check_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// TestGateDropInsPassRunsGate: the command lines of both gate drop-ins,
// the shipped units/ransomeye-core.service.d/ransomeye-tuner-gate.conf and
// the one the generator writes for another core, parsed as systemd parses
// an ExecCondition= line, are what check.RunsGate accepts. Why:
// RunsGate is strict (only GatePath --root=/ gate, no "-" prefix); if it
// refused our own gate, core-gate would fail and keep every core down.
func TestGateDropInsPassRunsGate(t *testing.T) {
	static, err := os.ReadFile("../../units/ransomeye-core.service.d/ransomeye-tuner-gate.conf")
	if err != nil {
		t.Fatal(err)
	}
	f := &facts.Facts{Enabled: true, Config: config.Default()}
	f.Config.Units["core"], f.Config.Isolation = "mydb.service", config.IsolationOff
	var generated []byte
	for _, file := range plan.Decide(f).Files {
		if file.Path == "mydb.service.d/"+plan.GateDropIn {
			generated = file.Content
		}
	}
	for name, content := range map[string][]byte{"units/": static, "generated": generated} {
		opts, err := unit.Deserialize(bytes.NewReader(content))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := 0
		for _, o := range opts {
			if o.Section != "Service" || o.Name != "ExecCondition" {
				continue
			}
			n++
			c := parseExec(t, o.Value)
			if !check.RunsGate([]facts.Command{c}) {
				t.Errorf("%s: RunsGate refuses our own gate ExecCondition=%s (parsed %+v)", name, o.Value, c)
			}
			// The same line with "-" must not count: the parse is real.
			if c.IgnoreFailure = true; check.RunsGate([]facts.Command{c}) {
				t.Errorf("%s: RunsGate accepts ExecCondition=-%s", name, o.Value)
			}
		}
		if n != 1 {
			t.Errorf("%s: %d ExecCondition= lines, want 1", name, n)
		}
	}
}

// parseExec turns an ExecCondition= value into the Command systemd reports
// over D-Bus: the prefixes of systemd.service(5) ("-" sets ignore-failure;
// "@" would take argv[0] from the next word), then the words.
func parseExec(t *testing.T, v string) facts.Command {
	t.Helper()
	var c facts.Command
	prefix := v[:len(v)-len(strings.TrimLeft(v, "-@:+!"))]
	c.IgnoreFailure = strings.Contains(prefix, "-")
	if strings.Contains(prefix, "@") || strings.ContainsAny(v, `"'\%$`) {
		t.Fatalf("ExecCondition=%s uses a form this parse does not handle", v)
	}
	words := strings.Fields(v[len(prefix):])
	if len(words) == 0 {
		t.Fatalf("ExecCondition=%s has no command", v)
	}
	c.Path, c.Argv = words[0], words
	return c
}
