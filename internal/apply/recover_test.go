package apply_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/cli"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// fakeSystemd is a fake of the service manager, for what cannot run here
// (systemd as PID 1; the boot suite runs the real one): its daemon-reload
// empties the generator's directories and runs the real generator, as
// systemd does; its activator runs the real activate on the fake root; its
// swap unit's start lists the swapfile in the fake /proc/swaps, as swapon
// would; every other unit is a state the test sets.
type fakeSystemd struct {
	t         *testing.T
	root      hostroot.Root
	calls     []string
	units     map[string]apply.UnitState
	instances []string
}

func newFakeSystemd(t *testing.T, root hostroot.Root) *fakeSystemd {
	return &fakeSystemd{t: t, root: root, units: map[string]apply.UnitState{}}
}

func (s *fakeSystemd) Reload() error {
	s.calls = append(s.calls, "daemon-reload")
	for _, d := range []string{units.NormalDir, units.LateDir} {
		if err := os.RemoveAll(s.root.Path(d)); err != nil {
			return err
		}
	}
	apply.Generator(s.root, apply.Dirs{Normal: s.root.Path(units.NormalDir), Late: s.root.Path(units.LateDir)}, priolog.New(io.Discard, ""))
	return nil
}

func (s *fakeSystemd) Run(u string, restart bool) (string, error) {
	verb := "start"
	if restart {
		verb = "restart"
	}
	s.calls = append(s.calls, verb+" "+u)
	switch {
	case u == names.ActivatorUnit:
		if apply.Activate(s.root, priolog.New(io.Discard, ""), func(string) {}) {
			return "done", nil
		}
		return "failed", nil
	case u == names.SwapUnitName(names.DefaultSwapPath):
		s.swapon(true)
		return "done", nil
	}
	st := s.units[u]
	st.Active, st.Result = "active", "success"
	s.units[u] = st
	return "done", nil
}

func (s *fakeSystemd) State(u string) (apply.UnitState, error) {
	st, ok := s.units[u]
	if !ok {
		return apply.UnitState{Load: "not-found", Active: "inactive", Result: "success"}, nil
	}
	return st, nil
}

func (s *fakeSystemd) Instances(string) ([]string, error) { return s.instances, nil }

// swapon lists (or, off, removes) the swapfile in the fake /proc/swaps.
func (s *fakeSystemd) swapon(on bool) {
	swaps := "Filename\tType\tSize\tUsed\tPriority\n"
	if on {
		swaps += "/ransomeye/swap\tfile\t1020\t0\t-2\n"
	}
	if err := os.WriteFile(s.root.Path("/proc/swaps"), []byte(swaps), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// follow runs a printed remedy command, word for word, against the fake:
// the commands remedies name (systemctl's, swapoff, ransomeye-tuner
// recover), joined by "&&"; anything else fails the test.
func (s *fakeSystemd) follow(cmd string) (ok bool, out string) {
	var b bytes.Buffer
	for _, part := range strings.Split(cmd, " && ") {
		w := strings.Fields(part)
		switch {
		case part == names.RecoverCommand:
			if !apply.Recover(s.root, s, &b) {
				return false, b.String()
			}
		case len(w) == 2 && w[0] == "systemctl" && w[1] == "daemon-reload":
			s.Reload()
		case len(w) >= 3 && w[0] == "systemctl" && (w[1] == "restart" || w[1] == "start"):
			for _, u := range w[2:] {
				if res, _ := s.Run(u, w[1] == "restart"); res != "done" {
					return false, b.String() + u + ": " + res + "\n"
				}
			}
		case len(w) == 2 && w[0] == "swapoff":
			s.swapon(false)
		default:
			s.t.Fatalf("the remedy %q holds %q, which this test cannot follow", cmd, part)
		}
	}
	return true, b.String()
}

// status runs ransomeye-tuner status --json on the fake root.
func status(t *testing.T, root hostroot.Root) (code int, doc statusDoc, text string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main([]string{"--root", root.String(), "status", "--json"}, &out, &errOut)
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s%s", err, out.String(), errOut.String())
	}
	return code, doc, out.String()
}

type statusDoc struct {
	State      string `json:"state"`
	Guarantees []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Remedy string `json:"remedy"`
	} `json:"guarantees"`
}

// printedRemedy is the command of the first failing guarantee's remedy:
// what follows its "then: ".
func printedRemedy(t *testing.T, doc statusDoc, text string) string {
	t.Helper()
	for _, g := range doc.Guarantees {
		if _, cmd, ok := strings.Cut(g.Remedy, "then: "); !g.OK && ok {
			return cmd
		}
	}
	t.Fatalf("status names no remedy command (then: ...):\n%s", text)
	return ""
}

// markerRemedy is the command the failure marker's header says to run.
func markerRemedy(t *testing.T, root hostroot.Root) string {
	t.Helper()
	b, err := os.ReadFile(root.Path(names.MarkerPath))
	if err != nil {
		t.Fatalf("the failure marker: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if _, cmd, ok := strings.Cut(l, "then run: "); ok && strings.HasPrefix(l, "#") {
			return cmd
		}
	}
	t.Fatalf("the failure marker names no command (then run: ...):\n%s", b)
	return ""
}

// gateRefusedCore is the core as systemd left it when the gate refused
// its start: inactive, Result exec-condition.
var gateRefusedCore = apply.UnitState{Load: "loaded", Active: "inactive", Result: apply.GateRefused}

// TestRemedyAfterFailureStartsTheCore follows the remedy status prints on
// a machine whose activation failed (the marker present, the swapfile not
// active, the core skipped by its gate), word for word, once the cause is
// gone: the swap unit is started and the core the gate kept down runs,
// and status is compliant. Before, the remedy restarted the activator and
// the swap unit and left the core skipped until someone started it.
func TestRemedyAfterFailureStartsTheCore(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Failed)
	code, doc, text := status(t, root)
	if code != cli.ExitFail {
		t.Fatalf("status on the failed machine: exit %d\n%s", code, text)
	}
	cmd := printedRemedy(t, doc, text)
	sd := newFakeSystemd(t, root)
	sd.units[names.CoreService] = gateRefusedCore
	ok, out := sd.follow(cmd)
	t.Logf("followed %q:\n%s", cmd, out)
	if !ok {
		t.Fatalf("the printed remedy %q failed", cmd)
	}
	want := []string{"daemon-reload", "restart " + names.ActivatorUnit, "start ransomeye-swap.swap", "start " + names.CoreService}
	if !slices.Equal(sd.calls, want) {
		t.Errorf("the remedy asked systemd for %q, want %q", sd.calls, want)
	}
	if st := sd.units[names.CoreService]; st.Active != "active" {
		t.Errorf("after the remedy the core is %s (result %s), want active", st.Active, st.Result)
	}
	if code, doc, text := status(t, root); code != cli.ExitOK || doc.State != "compliant" {
		t.Errorf("status after the remedy: exit %d, state %s\n%s", code, doc.State, text)
	}
}

// TestRemedyAfterInvalidConfigRunsTheGenerator: the configuration was
// invalid at boot (the generator wrote no CPU drop-in, activate failed);
// once the file is fixed, the remedy the marker prints (status prints the
// same), followed word for word, runs the generator before activate and
// starts the core. Before, the marker's remedy restarted the activator
// alone, which failed on "the CPU drop-ins in effect do not match", the
// generator not having run.
func TestRemedyAfterInvalidConfigRunsTheGenerator(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	sd := newFakeSystemd(t, root)
	good, err := os.ReadFile(root.Path(names.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	// The boot with an invalid configuration: the generator's run, then
	// activate's, both real.
	if err := os.WriteFile(root.Path(names.ConfigFile), []byte("[Swap]\nMinSize=huge\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sd.Reload()
	if res, _ := sd.Run(names.ActivatorUnit, true); res != "failed" {
		t.Fatalf("activate with an invalid configuration: %s", res)
	}
	sd.units[names.CoreService] = gateRefusedCore
	sd.calls = nil
	// The fix, then the remedy as printed.
	if err := os.WriteFile(root.Path(names.ConfigFile), good, 0o644); err != nil {
		t.Fatal(err)
	}
	code, doc, text := status(t, root)
	if code == cli.ExitOK {
		t.Fatalf("status after the failed boot: exit 0\n%s", text)
	}
	// The marker's remedy (what cat /var/lock/ransomeye-resource-fail
	// shows), the same as status's.
	cmd := markerRemedy(t, root)
	if st := printedRemedy(t, doc, text); st != cmd {
		t.Errorf("status's remedy %q and the marker's %q differ", st, cmd)
	}
	ok, out := sd.follow(cmd)
	t.Logf("followed %q:\n%s", cmd, out)
	if !ok {
		t.Fatalf("the printed remedy %q failed:\n%s", cmd, out)
	}
	if len(sd.calls) == 0 || sd.calls[0] != "daemon-reload" {
		t.Errorf("the remedy did not run the generator first: %q", sd.calls)
	}
	if st := sd.units[names.CoreService]; st.Active != "active" {
		t.Errorf("after the remedy the core is %s, want active", st.Active)
	}
	if code, doc, text := status(t, root); code != cli.ExitOK {
		t.Errorf("status after the remedy: exit %d, state %s\n%s", code, doc.State, text)
	}
}

// TestRecoverLeavesAStoppedCore: recover starts the core only when the
// gate refused its last start; a core someone stopped stays stopped, and
// recover says how to start it.
func TestRecoverLeavesAStoppedCore(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Failed)
	sd := newFakeSystemd(t, root)
	sd.units[names.CoreService] = apply.UnitState{Load: "loaded", Active: "inactive", Result: "success"}
	var out bytes.Buffer
	if !apply.Recover(root, sd, &out) {
		t.Fatalf("recover failed:\n%s", out.String())
	}
	if slices.Contains(sd.calls, "start "+names.CoreService) || sd.units[names.CoreService].Active != "inactive" {
		t.Errorf("recover started a core that was stopped on purpose: %q", sd.calls)
	}
	if !strings.Contains(out.String(), "left as it is; start it with: systemctl start "+names.CoreService) {
		t.Errorf("recover does not say it left the core:\n%s", out.String())
	}
}

// TestRecoverStopsAtAFailedActivation: when activate still fails, recover
// starts nothing after it and prints the gate's reasons, the marker's
// first.
func TestRecoverStopsAtAFailedActivation(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Failed)
	if err := os.WriteFile(root.Path(names.ConfigFile), []byte("[Swap]\nMinSize=huge\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sd := newFakeSystemd(t, root)
	sd.units[names.CoreService] = gateRefusedCore
	var out bytes.Buffer
	if apply.Recover(root, sd, &out) {
		t.Fatalf("recover succeeded with an invalid configuration:\n%s", out.String())
	}
	want := []string{"daemon-reload", "restart " + names.ActivatorUnit}
	if !slices.Equal(sd.calls, want) {
		t.Errorf("recover asked systemd for %q after a failed activation, want %q", sd.calls, want)
	}
	for _, w := range []string{names.CoreService + " may not start: " + names.MarkerPath + ": ", "MinSize", "then run again: " + names.RecoverCommand} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("recover's output lacks %q:\n%s", w, out.String())
		}
	}
}

// TestRecoverStartsRefusedInstances: with a template core, each loaded
// instance the gate refused is started, and only those.
func TestRecoverStartsRefusedInstances(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Failed)
	conf, err := os.ReadFile(root.Path(names.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path(names.ConfigFile), append(conf, "[CPU]\nCoreService=db@.service\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	sd := newFakeSystemd(t, root)
	sd.instances = []string{"db@a.service", "db@b.service", "db@c.service"}
	sd.units["db@a.service"] = gateRefusedCore
	sd.units["db@b.service"] = apply.UnitState{Load: "loaded", Active: "active", Result: "success"}
	sd.units["db@c.service"] = apply.UnitState{Load: "loaded", Active: "inactive", Result: "success"}
	var out bytes.Buffer
	if !apply.Recover(root, sd, &out) {
		t.Fatalf("recover failed:\n%s", out.String())
	}
	for _, u := range sd.instances {
		if started := slices.Contains(sd.calls, "start "+u); started != (u == "db@a.service") {
			t.Errorf("%s started: %v (calls %q)", u, started, sd.calls)
		}
	}
}

// TestRecoverStartsTheTunersOwnStoppedUnits: a refused package removal
// stops the metrics timer and the netdev unit and then tells the
// administrator to run recover to keep the tuner. recover starts them
// again when they are stopped and not masked, whatever else their unit
// file state (the package enables them by static links, reported "static"
// or "disabled"), else no metrics, every alert blind, and no placement
// after a network device event; it leaves a masked one (the way to keep
// one off), and still never starts a core that someone stopped.
func TestRecoverStartsTheTunersOwnStoppedUnits(t *testing.T) {
	for _, file := range []string{"enabled", "static", "disabled", "masked", "masked-runtime"} {
		t.Run(file, func(t *testing.T) {
			root := fakeroot.New(t, fakeroot.Failed)
			sd := newFakeSystemd(t, root)
			for _, u := range apply.OwnUnits {
				sd.units[u] = apply.UnitState{Load: "loaded", Active: "inactive", File: file}
			}
			sd.units[names.CoreService] = apply.UnitState{Load: "loaded", Active: "inactive", Result: "success", File: "enabled"}
			var out bytes.Buffer
			if !apply.Recover(root, sd, &out) {
				t.Fatalf("recover failed:\n%s", out.String())
			}
			for _, u := range apply.OwnUnits {
				started := slices.Contains(sd.calls, "start "+u)
				if started != !strings.HasPrefix(file, "masked") {
					t.Errorf("%s %s: started %v (calls %q)\n%s", file, u, started, sd.calls, out.String())
				}
			}
			if slices.Contains(sd.calls, "start "+names.CoreService) {
				t.Errorf("recover started a core someone stopped: %q", sd.calls)
			}
		})
	}
}

// TestRecoverLeavesAMaskedCore: a stop after the gate's refusal changes
// nothing systemd records (Result stays exec-condition), so the way to
// keep a core down on purpose is to mask it, as the manual says: recover
// must leave a masked core alone, and start a disabled one whose last start
// the gate refused (disabling changes only what starts it at boot).
func TestRecoverLeavesAMaskedCore(t *testing.T) {
	for file, wantStart := range map[string]bool{"masked": false, "disabled": true} {
		t.Run(file, func(t *testing.T) {
			root := fakeroot.New(t, fakeroot.Failed)
			sd := newFakeSystemd(t, root)
			st := gateRefusedCore
			st.File = file
			if file == "masked" {
				st.Load = "masked"
			}
			sd.units[names.CoreService] = st
			var out bytes.Buffer
			if !apply.Recover(root, sd, &out) {
				t.Fatalf("recover failed:\n%s", out.String())
			}
			if started := slices.Contains(sd.calls, "start "+names.CoreService); started != wantStart {
				t.Errorf("%s core whose last start the gate refused: started %v, want %v (calls %q)\n%s", file, started, wantStart, sd.calls, out.String())
			}
		})
	}
}
