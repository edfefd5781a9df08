package plan

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// info8 is a plain 8-CPU machine with cgroup v2 and cpuset.
func info8() topology.Info {
	in := topology.Info{NICNode: -1, Cgroup: topology.Cgroup{V2: true, Cpuset: true}}
	for i := 0; i < 8; i++ {
		in.Cores = append(in.Cores, topology.Core{ID: i, CPUs: cpuset.Of(i)})
	}
	in.Online = cpuset.Of(0, 1, 2, 3, 4, 5, 6, 7)
	in.RootCpuset = in.Online
	in.Nodes = []topology.Node{{ID: 0, CPUs: in.Online}}
	return in
}

// input8 is the facts the generator reads on a plain 8-CPU machine, with
// the default configuration changed by change (nil: none); the swapfile's
// units are read from an empty root.
func input8(tb testing.TB, change ...func(*config.Config)) *facts.Facts {
	tb.Helper()
	f := &facts.Facts{Root: "/", Scope: facts.Generator, Enabled: true, Config: config.Default(), Topology: info8(), TopologyRead: true, Online: -1}
	for _, c := range change {
		c(&f.Config)
	}
	f.Swap = swapfile.Inspect(hostroot.Root(tb.TempDir()), f.Config, true, false, nil, nil, 4096)
	return f
}

func files(out Plan) map[string]units.File {
	m := map[string]units.File{}
	for _, f := range out.Files {
		m[f.Dir.String()+"/"+f.Path] = f
	}
	return m
}

func TestDecideDisabledWritesNothing(t *testing.T) {
	in := input8(t)
	in.Enabled = false
	out := Decide(in)
	if len(out.Files) != 0 || out.Enabled {
		t.Fatalf("disabled: %d files", len(out.Files))
	}
	if len(out.Notes) == 0 || !strings.Contains(out.Notes[0].Text, "ransomeye.tuner=0") {
		t.Errorf("notes %v", out.Notes)
	}
}

func TestDecideInvalidConfigWritesNothing(t *testing.T) {
	in := input8(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ransomeye/tuner.conf"), []byte("[Swap]\nPath=rel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := config.Load(hostroot.Root(root))
	if err == nil {
		t.Fatal("config accepted a relative path")
	}
	in.ConfigErr = err
	out := Decide(in)
	if len(out.Files) != 0 {
		t.Fatalf("invalid config: %d files", len(out.Files))
	}
	var errs int
	for _, n := range out.Notes {
		if n.Priority == priolog.Err {
			errs++
		}
	}
	if errs < 2 || !strings.Contains(out.Notes[0].Text, "tuner.conf:2") {
		t.Errorf("notes %v", out.Notes)
	}
}

func TestDecide8CPU(t *testing.T) {
	out := Decide(input8(t))
	if !out.PlanMade || !out.CPU.Reserved || out.CPUMode != CPUModeAllowedCPUs {
		t.Fatalf("plan %+v mode %s", out.CPU, out.CPUMode)
	}
	m := files(out)
	for _, want := range []string{
		"late/ransomeye-swap.swap", "late/swap.target.wants/ransomeye-swap.swap",
		"normal/ransomeye-swap.swap.d/ransomeye-tuner.conf", "normal/ransomeye-tuner.service.d/ransomeye-tuner.conf",
		"normal/ransomeye-dpi.slice", "normal/ransomeye-training.slice",
		"normal/ransomeye-core.service.d/cpu-isolation.conf", "normal/system.slice.d/cpu-isolation.conf",
		"normal/init.scope.d/cpu-isolation.conf",
	} {
		if _, ok := m[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	for k, f := range m {
		if !f.IsSymlink() && !bytes.HasPrefix(f.Content, []byte(units.Header)) {
			t.Errorf("%s does not start with the header", k)
		}
	}
	if l := m["late/swap.target.wants/ransomeye-swap.swap"]; l.Target != "../ransomeye-swap.swap" {
		t.Errorf("link target %q", l.Target)
	}
	if !bytes.Contains(m["normal/init.scope.d/cpu-isolation.conf"].Content, []byte("[Scope]\nAllowedCPUs=0-3\n")) {
		t.Errorf("init.scope drop-in:\n%s", m["normal/init.scope.d/cpu-isolation.conf"].Content)
	}
	// The late unit is written before its link, after every normal file.
	var order []string
	for _, f := range out.Files {
		order = append(order, f.Dir.String()+"/"+f.Path)
	}
	if order[len(order)-2] != "late/ransomeye-swap.swap" || order[len(order)-1] != "late/swap.target.wants/ransomeye-swap.swap" {
		t.Errorf("write order %q", order)
	}
	// Pure: same input, same bytes.
	again := Decide(input8(t))
	for i := range out.Files {
		if !bytes.Equal(out.Files[i].Content, again.Files[i].Content) || out.Files[i].Path != again.Files[i].Path {
			t.Fatalf("Render is not deterministic at %s", out.Files[i].Path)
		}
	}
	for _, f := range out.CPUFiles() {
		found := false
		for _, p := range units.CPUFilePaths(config.Default()) {
			found = found || p == f.Path
		}
		if !found {
			t.Errorf("CPU file %s not in CPUFilePaths", f.Path)
		}
	}
}

func TestDecideNoWrongPlan(t *testing.T) {
	in := input8(t)
	in.TopologyErr = os.ErrNotExist
	out := Decide(in)
	if out.PlanMade || len(out.CPUFiles()) != 0 || len(out.Files)-len(out.MemoryFiles()) != 4 {
		t.Fatalf("topology error still gave %d CPU files, %d files besides the memory drop-ins", len(out.CPUFiles()), len(out.Files)-len(out.MemoryFiles()))
	}
}

// TestGateDropInMatchesStatic: the gate written for a renamed core service
// says what the shipped static drop-in says.
func TestGateDropInMatchesStatic(t *testing.T) {
	f, err := os.Open("../../units/ransomeye-core.service.d/ransomeye-tuner-gate.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	static, err := unit.Deserialize(f)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := unit.Deserialize(bytes.NewReader(gateFile("x.service").Content))
	if err != nil {
		t.Fatal(err)
	}
	if !unit.AllMatch(static, ours) {
		t.Errorf("gate drop-in differs from units/:\nstatic %v\nours   %v", static, ours)
	}
}

// TestSwapUnitNameMatchesSystemdEscape compares the unit names Render uses
// with systemd-escape on awkward paths (go-systemd's escaper differs from
// systemd's on some bytes).
func TestSwapUnitNameMatchesSystemdEscape(t *testing.T) {
	if _, err := exec.LookPath("systemd-escape"); err != nil {
		t.Skip("systemd-escape is not installed")
	}
	paths := []string{"/ransomeye/swap", "/swapfile", "/a b", "/.hidden/x", "/a/.x", "/ü", `/a\b`, "/a%b", "/a:b",
		"/a_b", "/a@b", "/a~b", "/a+b", "/a,b", "/a=b", "/a'b", `/a"b`, "/a*b", "/a..b", "/-a", "/a-", "/a/b-c/d",
		"/a#b", "/a[b]", "/a$b", "/a&b", "/a.b/c", "/a/b.", "/x/.y.z", "/日本/スワップ", "/a\u00a0b"}
	for _, p := range paths {
		if err := names.CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
			continue
		}
		out := Decide(input8(t, func(c *config.Config) { c.SwapPath = p }))
		want, err := exec.Command("systemd-escape", "--path", "--suffix=swap", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := files(out)["late/"+strings.TrimSpace(string(want))]; !ok {
			t.Errorf("%q: no unit named as systemd-escape names it, %q", p, strings.TrimSpace(string(want)))
		}
	}
}

// TestGatherFakeMachine runs Gather and Decide on fake trees end to end.
func TestGatherFakeMachine(t *testing.T) {
	dir := t.TempDir()
	m := fakesys.Machine{Nodes: 2, CoresPerNode: 8, Threads: 2, NICs: map[string]int{"eth1": 1},
		Files: map[string]string{"/etc/ransomeye/tuner.conf": "[CPU]\nDPIInterface=eth1\n"}}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	in := facts.Gather(hostroot.Root(dir), facts.Plan)
	if in.ConfigErr != nil || in.TopologyErr != nil || !in.Enabled {
		t.Fatalf("gather: %v %v", in.ConfigErr, in.TopologyErr)
	}
	out := Decide(in)
	if !out.CPU.Reserved || out.CPU.Assignments[1].Node != 1 || out.CPU.CPUs("dpi").String() != "12-13,28-29" {
		t.Errorf("plan %+v", out.CPU)
	}
	if s := out.Text(in); !strings.Contains(s, "dpi 12-13,28-29 (node 1)") || !strings.Contains(s, "== late/ransomeye-swap.swap") {
		t.Errorf("Text:\n%s", s)
	}
	// ransomeye.tuner=0: Gather stops at the switch.
	_ = os.WriteFile(filepath.Join(dir, "proc/cmdline"), []byte("ro ransomeye.tuner=0\n"), 0o644)
	in = facts.Gather(hostroot.Root(dir), facts.Generator)
	if in.Enabled || len(Decide(in).Files) != 0 {
		t.Errorf("ransomeye.tuner=0 not honoured")
	}
	// Unreadable /proc/cmdline: stays on, but no CPU plan.
	_ = os.Remove(filepath.Join(dir, "proc/cmdline"))
	in = facts.Gather(hostroot.Root(dir), facts.Generator)
	if !in.Enabled || in.TopologyErr == nil || len(Decide(in).CPUFiles()) != 0 {
		t.Errorf("missing cmdline: enabled %v topology err %v", in.Enabled, in.TopologyErr)
	}
}

func BenchmarkDecide(b *testing.B) {
	in := input8(b)
	for b.Loop() {
		Decide(in)
	}
}

func BenchmarkGatherDecide256(b *testing.B) {
	dir := b.TempDir()
	if err := (fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2}).Write(dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Decide(facts.Gather(hostroot.Root(dir), facts.Generator))
	}
}
