package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestStatusExitCodes: status exits with one code per state on the fake
// machines (0 compliant, 1 not compliant, 3 disabled by ransomeye.tuner=0,
// 4 cannot determine: an invalid configuration), the same with --json and
// --quiet, and --quiet prints nothing at all. Before, status exited 1 for
// not compliant, for disabled and for a report it could not write.
func TestStatusExitCodes(t *testing.T) {
	want := map[fakeroot.Case]int{
		fakeroot.Healthy:       ExitOK,
		fakeroot.NoReservation: ExitOK,
		fakeroot.Failed:        ExitFail,
		fakeroot.Disabled:      ExitDisabled,
		fakeroot.Invalid:       ExitUnknown,
		fakeroot.Capture:       ExitOK,
	}
	for _, c := range fakeroot.Cases {
		t.Run(string(c), func(t *testing.T) {
			root := fakeroot.New(t, c)
			for _, args := range [][]string{{"status"}, {"status", "--json"}, {"status", "--quiet"}, {"status", "--json", "--quiet"}} {
				code, out, errOut := runMain(append([]string{"--root", root.String()}, args...)...)
				if code != want[c] {
					t.Errorf("%v: exit %d, want %d\n%s%s", args, code, want[c], out, errOut)
				}
				quiet := len(args) > 1 && args[len(args)-1] == "--quiet"
				if quiet && (out != "" || errOut != "") {
					t.Errorf("%v printed something:\nstdout: %q\nstderr: %q", args, out, errOut)
				}
				if !quiet && out == "" {
					t.Errorf("%v printed no report", args)
				}
			}
		})
	}
}

// TestStatusCoreGatedIsTheGate: the JSON's core_gated says what the gate
// decides on every fake machine (exit 1 of gate: the core is kept down).
func TestStatusCoreGatedIsTheGate(t *testing.T) {
	for _, c := range fakeroot.Cases {
		t.Run(string(c), func(t *testing.T) {
			root := fakeroot.New(t, c)
			_, out, _ := runMain("--root", root.String(), "status", "--json")
			var doc struct {
				CoreGated *bool `json:"core_gated"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.CoreGated == nil {
				t.Fatalf("status --json: %v, core_gated %v\n%s", err, doc.CoreGated, out)
			}
			gate, gout, _ := runMain("--root", root.String(), "gate")
			if *doc.CoreGated != (gate == ExitFail) {
				t.Errorf("core_gated %v, gate exit %d:\n%s", *doc.CoreGated, gate, gout)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestStatusCannotWrite: a report that cannot be written is "cannot
// determine" (4), not "not compliant" (1), on a compliant machine too.
func TestStatusCannotWrite(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		var errOut bytes.Buffer
		code := Main(append([]string{"--root", root.String()}, args...), failingWriter{}, &errOut)
		if code != ExitUnknown {
			t.Errorf("%v with stdout failing: exit %d, want %d\n%s", args, code, ExitUnknown, errOut.String())
		}
	}
}

// TestStatusUsage: a usage error stays 2.
func TestStatusUsage(t *testing.T) {
	if code, _, _ := runMain("--root", t.TempDir(), "status", "--bogus"); code != ExitUsage {
		t.Errorf("status --bogus: exit %d, want %d", code, ExitUsage)
	}
}

// TestGoldenPlanJSON pins plan --json, the CPU plan document (version 1,
// also the content of /run/ransomeye-tuner/plan.json without "applied"),
// on the fake machines.
func TestGoldenPlanJSON(t *testing.T) {
	for _, c := range fakeroot.Cases {
		t.Run(string(c), func(t *testing.T) {
			root := fakeroot.New(t, c)
			code, out, errOut := runMain("--root", root.String(), "plan", "--json")
			if code != ExitOK {
				t.Fatalf("plan --json: exit %d\n%s", code, errOut)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["version"] != float64(1) {
				t.Fatalf("plan --json: %v, version %v\n%s", err, doc["version"], out)
			}
			fakeroot.Golden(t, "plan-"+string(c)+".json", fakeroot.Mask([]byte(out), root), *update)
			man := fakeroot.ManSection(t, "../../docs/man/ransomeye-tuner.8.md", "JSON OUTPUT", "plan --json (version 1)")
			for _, k := range fakeroot.Keys(t, []byte(out), "environment") {
				if !strings.Contains(man, "**"+k+"**") {
					t.Errorf("ransomeye-tuner(8), JSON OUTPUT, does not describe the key %q of plan --json", k)
				}
			}
		})
	}
}

// TestStatusInvalidConfigTextAgreesWithJSON: on an invalid configuration
// status exits 4 and its JSON says state "unknown" with the remedy "...
// then: ransomeye-tuner recover", as the gate and the marker do. The text
// must say the same state word and end with the same remedy (it said "NOT
// COMPLIANT", the word of exit 1, and no remedy).
func TestStatusInvalidConfigTextAgreesWithJSON(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Invalid)
	r := root.String()
	code, text, _ := runMain("--root", r, "status")
	_, js, _ := runMain("--root", r, "status", "--json")
	var doc struct {
		State      string
		Guarantees []struct{ Name, Remedy string }
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	if code != ExitUnknown || doc.State != "unknown" || len(doc.Guarantees) != 1 || !strings.HasSuffix(doc.Guarantees[0].Remedy, names.RecoverCommand) {
		t.Fatalf("exit %d, JSON state %q, guarantees %v: the premise changed", code, doc.State, doc.Guarantees)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if f := strings.Fields(lines[0]); len(f) < 2 || f[0] != "state" || f[1] != "UNKNOWN" {
		t.Errorf("text's state line %q; the exit code (4) and the JSON say unknown", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, doc.Guarantees[0].Remedy) {
		t.Errorf("text ends with %q, not the JSON's remedy %q:\n%s", last, doc.Guarantees[0].Remedy, text)
	}
}
