package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestGateAndMarkerNameTheConfiguredCore: with [CPU] CoreService= set, the
// failure marker's header and every line of the gate name that unit and
// the remedy, not ransomeye-core.service: a PostgreSQL cluster kept down
// was reported as the stock core's.
func TestGateAndMarkerNameTheConfiguredCore(t *testing.T) {
	const core = "postgresql@15-main.service"
	root := fakeroot.New(t, fakeroot.Healthy)
	// Invalid, yet the core's name is settled: activate fails at the
	// configuration and writes the marker.
	if err := os.WriteFile(root.Path(names.ConfigFile), []byte("[CPU]\nCoreService="+core+"\n[Swap]\nMinSize=huge\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runMain("--root", root.String(), "activate"); code != ExitFail {
		t.Fatalf("activate with an invalid configuration: exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(root.Path(names.MarkerPath))
	if err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(string(b), "\n", 3)
	if len(header) < 3 || header[0] != "# ransomeye-tuner: "+core+" does not start while this file exists." ||
		header[1] != "# Fix the cause below, then run: "+names.RecoverCommand {
		t.Errorf("the marker's header does not name %s and %q:\n%s", core, names.RecoverCommand, b)
	}
	t.Setenv("JOURNAL_STREAM", "")
	code, out, _ := runMain("--root", root.String(), "gate")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitFail || len(lines) == 0 {
		t.Fatalf("gate: exit %d\n%s", code, out)
	}
	for _, l := range lines {
		l = count.ReplaceAllString(l, "")
		if strings.Contains(l, names.CoreService) || strings.Contains(l, "may not start") && !strings.HasPrefix(l, core+" may not start: ") {
			t.Errorf("a gate line does not name %s: %q", core, l)
		}
	}
	if !strings.HasSuffix(lines[0], "then: "+names.RecoverCommand) {
		t.Errorf("the gate's first line does not end with the remedy %q: %q", names.RecoverCommand, lines[0])
	}
}
