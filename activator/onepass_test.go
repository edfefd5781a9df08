package main_test

// One pass: a run gathers the machine once, and every command that
// reports or gates renders the same judgement.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// opens runs the tuner with args on root under strace and counts the
// opens (open, openat, openat2; failed ones too) of each host path; an
// open relative to a directory descriptor counts under the directory's
// path (strace -y names it).
func opens(t *testing.T, root string, args ...string) map[string]int {
	t.Helper()
	trace := filepath.Join(t.TempDir(), "trace")
	res := runAct(t, fakeRoot{root}, nil, []string{"strace", "-f", "-qq", "-y", "-e", "trace=open,openat,openat2", "-o", trace}, args...)
	if res.signal != "" {
		t.Fatalf("%v: killed by %s\n%s", args, res.signal, res.stderr)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, m := range regexp.MustCompile(`open(?:at2?)?\((?:[A-Z_]+|\d+)(?:<([^>]*)>)?, "([^"]*)"|open\("([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
		p := m[2] + m[3]
		if m[1] != "" && !strings.HasPrefix(p, "/") {
			p = m[1] + "/" + p
		}
		if rel, ok := strings.CutPrefix(p, root); ok {
			n[rel]++
		}
	}
	if len(n) == 0 {
		t.Fatalf("the trace shows no open under the root; is strace working?\n%s", b)
	}
	return n
}

// TestActivateReadsEachFactOnce: one activate run with everything in place
// (the swapfile there and active, the sysctls set, the drop-ins matching,
// this boot's success recorded) opens tuner.conf, /proc/cmdline,
// /proc/swaps and /proc/meminfo once each, and the CPU topology once (each
// sibling list, and every file of the CPU and NUMA trees, at most once);
// so do the gate, status and metrics, with a capture interface too. Before, activate read tuner.conf and the
// command line four times and the topology three.
func TestActivateReadsEachFactOnce(t *testing.T) {
	needStrace(t)
	for _, c := range []fakeroot.Case{fakeroot.Healthy, fakeroot.Capture} {
		t.Run(string(c), func(t *testing.T) { readsEachFactOnce(t, string(fakeroot.New(t, c))) })
	}
}

// readsEachFactOnce is TestActivateReadsEachFactOnce on one fake root.
func readsEachFactOnce(t *testing.T, root string) {
	// A first run settles what activate writes (the plan file, the
	// sysctl.d file): the second one finds everything in place.
	if res := run(t, fakeRoot{root}, nil, "activate"); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	for _, args := range [][]string{{"activate"}, {"gate"}, {"status", "--json"}, {"metrics"}} {
		t.Run(args[0], func(t *testing.T) {
			n := opens(t, root, args...)
			for _, p := range []string{names.ConfigFile, "/proc/cmdline", "/proc/swaps", "/proc/meminfo"} {
				if n[p] != 1 {
					t.Errorf("%s opened %d times, want once", p, n[p])
				}
			}
			siblings := 0
			for p, c := range n {
				topo := strings.HasPrefix(p, "/sys/devices/system/cpu/") || strings.HasPrefix(p, "/sys/devices/system/node/")
				if strings.HasSuffix(p, "/thread_siblings_list") {
					siblings++
				}
				if topo && c > 1 {
					t.Errorf("%s opened %d times, want at most once", p, c)
				}
			}
			if siblings != 8 {
				t.Errorf("%d sibling lists opened, want the 8 cores' once each", siblings)
			}
		})
	}
}

// verdict is what one command says of a machine: whether the core is kept
// down, whether it is compliant, and each measured guarantee.
type verdict struct {
	gated, compliant bool
	guarantees       string
}

// textfile reads the verdict of a metrics textfile.
func textfile(t *testing.T, path string) verdict {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var g []string
	for _, m := range regexp.MustCompile(`(?m)^ransomeye_tuner_guarantee_ok\{guarantee="([^"]+)"\} (\d)$`).FindAllStringSubmatch(text, -1) {
		g = append(g, m[1]+"="+m[2])
	}
	sort.Strings(g)
	return verdict{strings.Contains(text, "\nransomeye_tuner_core_gated 1\n"), strings.Contains(text, "\nransomeye_tuner_compliant 1\n"), strings.Join(g, " ")}
}

// agreementRoots are the fake machines the verdicts are compared on: the
// status goldens' machines (fakeroot), and the generator goldens' with
// their generator output in effect and a 1 MiB swap target.
func agreementRoots(t *testing.T) map[string]string {
	t.Helper()
	roots := map[string]string{}
	for _, c := range fakeroot.Cases {
		roots["status/"+string(c)] = string(fakeroot.New(t, c))
	}
	golden, err := filepath.Glob("../generator/testdata/*/root")
	if err != nil || len(golden) == 0 {
		t.Fatalf("no generator golden roots: %v", err)
	}
	for _, g := range golden {
		dir := t.TempDir()
		if out, err := exec.Command("cp", "-a", g+"/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", g, err, out)
		}
		r := fakeRoot{dir}
		r.write(t, "proc/meminfo", "MemTotal: 1024 kB\n")
		r.write(t, "etc/ransomeye/tuner.conf.d/99-small.conf", "[Swap]\nMinSize=1M\nReserve=0\n")
		runGenerator(t, r, r.path("run/systemd/generator"), r.path("run/systemd/generator.early"), r.path("run/systemd/generator.late"))
		roots["generator/"+filepath.Base(filepath.Dir(g))] = dir
	}
	return roots
}

// TestVerdictsAgree: on every fake machine the tests have, the gate,
// status (its exit code and its JSON), the metrics and activate's closing
// textfile say the same: whether the core is kept down, whether the
// machine is compliant, and each measured guarantee's verdict. They render
// one judgement; they once derived the swap's, the sysctls' and the core's
// verdicts each in its own way, and disagreed.
func TestVerdictsAgree(t *testing.T) {
	needRoot(t)
	for name, root := range agreementRoots(t) {
		t.Run(name, func(t *testing.T) {
			r := fakeRoot{root}
			textPath := r.path(names.DefaultMetricsPath)
			if err := os.MkdirAll(filepath.Dir(textPath), 0o755); err != nil {
				t.Fatal(err)
			}
			act := run(t, r, nil, "activate")
			activated := textfile(t, textPath)

			gate := run(t, r, nil, "gate")
			st := run(t, r, nil, "status", "--json")
			var doc struct {
				State      string `json:"state"`
				Compliant  bool   `json:"compliant"`
				CoreGated  bool   `json:"core_gated"`
				Guarantees []struct {
					Name        string `json:"name"`
					OK          bool   `json:"ok"`
					NotMeasured bool   `json:"not_measured"`
				} `json:"guarantees"`
			}
			if err := json.Unmarshal([]byte(st.stdout), &doc); err != nil {
				t.Fatalf("status --json: %v\n%s", err, st.stdout)
			}
			var g []string
			for _, x := range doc.Guarantees {
				if !x.NotMeasured {
					g = append(g, x.Name+"="+map[bool]string{true: "1", false: "0"}[x.OK])
				}
			}
			sort.Strings(g)
			status := verdict{doc.CoreGated, doc.Compliant, strings.Join(g, " ")}
			if m := run(t, r, nil, "metrics"); m.code != 0 {
				t.Fatalf("metrics: exit %d\n%s", m.code, m.stderr)
			}
			metrics := textfile(t, textPath)

			if (gate.code == 1) != status.gated {
				t.Errorf("gate exits %d, status says core_gated %v\n%s", gate.code, status.gated, gate.stdout)
			}
			if metrics != status {
				t.Errorf("metrics %+v, status %+v", metrics, status)
			}
			if activated != status {
				t.Errorf("activate's closing textfile %+v, status after it %+v (activate exit %d)\n%s", activated, status, act.code, act.stderr)
			}
			want := map[string]int{"compliant": 0, "not_compliant": 1, "disabled": 3, "unknown": 4}[doc.State]
			if st.code != want || (doc.State == "compliant") != status.compliant {
				t.Errorf("status: state %s, compliant %v, exit %d", doc.State, doc.Compliant, st.code)
			}
		})
	}
}

// drifts change a machine after a good activation so that a guarantee
// fails with no failure marker written: the gate keeps the core down by
// its own judgement of the checks, not the marker's.
var drifts = map[string]func(t *testing.T, r fakeRoot){
	"swappiness-changed": func(t *testing.T, r fakeRoot) { r.write(t, "proc/sys/vm/swappiness", "60\n") },
	"swap-off":           func(t *testing.T, r fakeRoot) { r.setSwaps(t) },
	"swaps-unreadable": func(t *testing.T, r fakeRoot) {
		if err := os.Remove(r.path("proc/swaps")); err != nil {
			t.Fatal(err)
		}
	},
	"core-swap-limited": func(t *testing.T, r fakeRoot) {
		r.write(t, "sys/fs/cgroup/system.slice/ransomeye-core.service/memory.swap.max", "0\n")
	},
}

// TestVerdictsAgreeAfterDrift: on machines where a guarantee stopped
// holding after the activation, and no marker says so, the gate, status
// and the metrics keep the core down alike and name the same failing
// guarantees: a gate that skipped a check would open where status says
// the core is kept down.
func TestVerdictsAgreeAfterDrift(t *testing.T) {
	needRoot(t)
	for name, drift := range drifts {
		t.Run(name, func(t *testing.T) {
			r := fakeRoot{string(fakeroot.New(t, fakeroot.Healthy))}
			textPath := r.path(names.DefaultMetricsPath)
			if err := os.MkdirAll(filepath.Dir(textPath), 0o755); err != nil {
				t.Fatal(err)
			}
			if act := run(t, r, nil, "activate"); act.code != 0 {
				t.Fatalf("activate: exit %d\n%s", act.code, act.stderr)
			}
			drift(t, r)
			gate := run(t, r, nil, "gate")
			code, failing := statusFailures(t, r)
			st := run(t, r, nil, "status", "--json", "--no-metrics")
			var doc struct {
				CoreGated bool `json:"core_gated"`
				Marker    struct {
					Present bool `json:"present"`
				} `json:"marker"`
			}
			if err := json.Unmarshal([]byte(st.stdout), &doc); err != nil {
				t.Fatalf("status --json: %v\n%s", err, st.stdout)
			}
			if doc.Marker.Present || !doc.CoreGated || len(failing) == 0 || code != 1 {
				t.Fatalf("want a failing guarantee and no marker: marker %v, core_gated %v, failing %v, status exit %d", doc.Marker.Present, doc.CoreGated, failing, code)
			}
			if gate.code != 1 || strings.Join(gateFailures(gate.stdout), " ") != strings.Join(failing, " ") {
				t.Errorf("gate exits %d naming %v; status fails %v\n%s", gate.code, gateFailures(gate.stdout), failing, gate.stdout)
			}
			if m := run(t, r, nil, "metrics"); m.code != 0 {
				t.Fatalf("metrics: exit %d\n%s", m.code, m.stderr)
			}
			metrics := textfile(t, textPath)
			var bad []string
			for _, g := range strings.Fields(metrics.guarantees) {
				if n, ok := strings.CutSuffix(g, "=0"); ok {
					bad = append(bad, n)
				}
			}
			if !metrics.gated || metrics.compliant || strings.Join(bad, " ") != strings.Join(failing, " ") {
				t.Errorf("metrics: gated %v, compliant %v, failing %v; status fails %v", metrics.gated, metrics.compliant, bad, failing)
			}
		})
	}
}
