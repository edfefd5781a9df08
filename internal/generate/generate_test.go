package generate

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
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

func input8() Input {
	return Input{Root: "/", Enabled: true, Config: config.Default(), Topology: info8()}
}

func files(out Output) map[string]File {
	m := map[string]File{}
	for _, f := range out.Files {
		m[f.Dir.String()+"/"+f.Path] = f
	}
	return m
}

func TestRenderDisabledWritesNothing(t *testing.T) {
	in := input8()
	in.Enabled = false
	out := Render(in)
	if len(out.Files) != 0 || out.Enabled {
		t.Fatalf("disabled: %d files", len(out.Files))
	}
	if len(out.Notes) == 0 || !strings.Contains(out.Notes[0].Text, "ransomeye.tuner=0") {
		t.Errorf("notes %v", out.Notes)
	}
}

func TestRenderInvalidConfigWritesNothing(t *testing.T) {
	in := input8()
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
	out := Render(in)
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

func TestRender8CPU(t *testing.T) {
	out := Render(input8())
	if !out.PlanMade || !out.Plan.Reserved || out.CPUMode != CPUModeAllowedCPUs {
		t.Fatalf("plan %+v mode %s", out.Plan, out.CPUMode)
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
		if !f.IsSymlink() && !bytes.HasPrefix(f.Content, []byte(Header)) {
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
	again := Render(input8())
	for i := range out.Files {
		if !bytes.Equal(out.Files[i].Content, again.Files[i].Content) || out.Files[i].Path != again.Files[i].Path {
			t.Fatalf("Render is not deterministic at %s", out.Files[i].Path)
		}
	}
	for _, f := range out.CPUFiles() {
		found := false
		for _, p := range CPUFilePaths(config.Default()) {
			found = found || p == f.Path
		}
		if !found {
			t.Errorf("CPU file %s not in CPUFilePaths", f.Path)
		}
	}
}

func TestRenderNoWrongPlan(t *testing.T) {
	in := input8()
	in.TopologyErr = os.ErrNotExist
	out := Render(in)
	if out.PlanMade || len(out.CPUFiles()) != 0 || len(out.Files) != 4 {
		t.Fatalf("topology error still gave %d CPU files, %d files", len(out.CPUFiles()), len(out.Files))
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
	ours, err := unit.Deserialize(bytes.NewReader(gateDropIn()))
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
		in := input8()
		in.Config.SwapPath = p
		out := Render(in)
		want, err := exec.Command("systemd-escape", "--path", "--suffix=swap", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := out.SwapUnit; got != strings.TrimSpace(string(want)) {
			t.Errorf("%q: unit %q, systemd-escape %q", p, got, strings.TrimSpace(string(want)))
		}
	}
}

func TestQuotePath(t *testing.T) {
	for in, want := range map[string]string{
		"/ransomeye": "/ransomeye",
		"/a b":       `"/a b"`,
		"/a%b":       "/a%%b",
		`/a"b c`:     `"/a\"b c"`,
		`/a\b`:       `"/a\\b"`,
		"/tab\there": "\"/tab\there\"",
	} {
		if got := quotePath(in); got != want {
			t.Errorf("quotePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFstabHasSwap(t *testing.T) {
	dir := t.TempDir()
	root := hostroot.Root(dir)
	if _, ok, err := FstabHasSwap(root, "/ransomeye/swap"); ok || err != nil {
		t.Fatalf("no fstab: %v %v", ok, err)
	}
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	fstab := "# /ransomeye/swap none swap sw 0 0\n/swap\\040file none swap sw 0 0\n/ransomeye//swap none swap defaults 0 0\n/other none ext4 defaults 0 0\n/nb\u00a0x none swap sw 0 0\n"
	_ = os.WriteFile(filepath.Join(dir, "etc/fstab"), []byte(fstab), 0o644)
	for p, want := range map[string]bool{"/ransomeye/swap": true, "/swap file": true, "/other": false, "/swapfile": false,
		"/nb": false, "/nb\u00a0x": true} { // a no-break space is part of a path, as libmount reads it
		if what, ok, err := FstabHasSwap(root, p); ok != want || err != nil || (ok && what != p) {
			t.Errorf("FstabHasSwap(%q) = %q, %v, %v", p, what, ok, err)
		}
	}
}

// TestCheckCPUFiles writes a Render, then checks it against fresh Renders
// of the same and of changed inputs, as the activator does at boot.
func TestCheckCPUFiles(t *testing.T) {
	root := t.TempDir()
	out := Render(input8())
	r := Apply(out, Dirs{Normal: filepath.Join(root, NormalDir), Late: filepath.Join(root, LateDir)}, priolog.New(&bytes.Buffer{}, ""))
	if r.Failed != 0 || r.Written != len(out.Files) {
		t.Fatalf("apply: %+v", r)
	}
	cfg := config.Default()
	if d := CheckCPUFiles(hostroot.Root(root), NormalDir, cfg, Render(input8())); len(d) != 0 {
		t.Fatalf("fresh render differs: %q", d)
	}
	// A CPU went offline since: different sets.
	in := input8()
	in.Topology.Cores = in.Topology.Cores[:7]
	in.Topology.Cores = append(in.Topology.Cores, topology.Core{ID: 8, CPUs: cpuset.Of(8)})
	in.Topology.Online = cpuset.Of(0, 1, 2, 3, 4, 5, 6, 8)
	in.Topology.RootCpuset = in.Topology.Online
	in.Topology.Nodes = []topology.Node{{ID: 0, CPUs: in.Topology.Online}}
	if d := CheckCPUFiles(hostroot.Root(root), NormalDir, cfg, Render(in)); len(d) == 0 {
		t.Errorf("changed topology not noticed")
	}
	// Now fewer than 8 cores: the written files are stale.
	in = input8()
	in.Topology.Cores = in.Topology.Cores[:7]
	in.Topology.Online = cpuset.Of(0, 1, 2, 3, 4, 5, 6)
	in.Topology.RootCpuset = in.Topology.Online
	d := CheckCPUFiles(hostroot.Root(root), NormalDir, cfg, Render(in))
	if len(d) < 5 || !strings.Contains(strings.Join(d, "\n"), "give no such file") {
		t.Errorf("stale files not reported: %q", d)
	}
	// Isolation switched to services: the strict drop-ins are stale.
	in = input8()
	in.Config.Isolation = config.IsolationServices
	d = CheckCPUFiles(hostroot.Root(root), NormalDir, in.Config, Render(in))
	if len(d) != 4 {
		t.Errorf("want 4 stale strict drop-ins, got %q", d)
	}
	// A file removed: missing.
	_ = os.Remove(filepath.Join(root, NormalDir, "ransomeye-dpi.slice"))
	d = CheckCPUFiles(hostroot.Root(root), NormalDir, cfg, Render(input8()))
	if len(d) != 1 || !strings.Contains(d[0], "missing") {
		t.Errorf("missing file: %q", d)
	}
}

// TestGatherFakeMachine runs Gather on fake trees end to end.
func TestGatherFakeMachine(t *testing.T) {
	dir := t.TempDir()
	m := fakesys.Machine{Nodes: 2, CoresPerNode: 8, Threads: 2, NICs: map[string]int{"eth1": 1},
		Files: map[string]string{"/etc/ransomeye/tuner.conf": "[CPU]\nDPIInterface=eth1\n"}}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	in := Gather(hostroot.Root(dir), priolog.New(&bytes.Buffer{}, ""))
	if in.ConfigErr != nil || in.TopologyErr != nil || !in.Enabled {
		t.Fatalf("gather: %v %v", in.ConfigErr, in.TopologyErr)
	}
	out := Render(in)
	if !out.Plan.Reserved || out.Plan.DPINode != 1 || out.Plan.DPI.String() != "12-13,28-29" {
		t.Errorf("plan %+v", out.Plan)
	}
	if s := Describe(in, out); !strings.Contains(s, "dpi 12-13,28-29 (node 1)") || !strings.Contains(s, "== late/ransomeye-swap.swap") {
		t.Errorf("Describe:\n%s", s)
	}
	// ransomeye.tuner=0: Gather stops at the switch.
	_ = os.WriteFile(filepath.Join(dir, "proc/cmdline"), []byte("ro ransomeye.tuner=0\n"), 0o644)
	in = Gather(hostroot.Root(dir), priolog.New(&bytes.Buffer{}, ""))
	if in.Enabled || len(Render(in).Files) != 0 {
		t.Errorf("ransomeye.tuner=0 not honoured")
	}
	// Unreadable /proc/cmdline: stays on, but no CPU plan.
	_ = os.Remove(filepath.Join(dir, "proc/cmdline"))
	in = Gather(hostroot.Root(dir), priolog.New(&bytes.Buffer{}, ""))
	if !in.Enabled || in.TopologyErr == nil || len(Render(in).CPUFiles()) != 0 {
		t.Errorf("missing cmdline: enabled %v topology err %v", in.Enabled, in.TopologyErr)
	}
}

func BenchmarkRender(b *testing.B) {
	in := input8()
	for b.Loop() {
		Render(in)
	}
}

func BenchmarkGatherRender256(b *testing.B) {
	dir := b.TempDir()
	if err := (fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2}).Write(dir); err != nil {
		b.Fatal(err)
	}
	log := priolog.New(&bytes.Buffer{}, "")
	for b.Loop() {
		Render(Gather(hostroot.Root(dir), log))
	}
}

func TestLimit(t *testing.T) {
	var notes []Note
	for i := 0; i < 6; i++ {
		notes = append(notes, Note{priolog.Warning, fmt.Sprintf("warning %d", i)})
	}
	notes = append(notes, Note{priolog.Err, "error a"}, Note{priolog.Info, "info"}, Note{priolog.Err, "error b"})
	if got := Limit(notes, 9); len(got) != 9 {
		t.Fatalf("fits: %d notes", len(got))
	}
	got := Limit(notes, 4)
	var texts []string
	for _, n := range got {
		texts = append(texts, n.Text)
	}
	want := "warning 0|error a|error b|6 more messages not logged (the kernel log takes 4 per run); `ransomeye-tuner plan` shows them all"
	if strings.Join(texts, "|") != want {
		t.Errorf("Limit:\n got %s\nwant %s", strings.Join(texts, "|"), want)
	}
	if got[3].Priority != priolog.Warning {
		t.Errorf("overflow line at priority %d, want the worst dropped (warning)", got[3].Priority)
	}
}

// TestFstabNotRegular: a FIFO or a device at /etc/fstab neither blocks nor
// floods the generator: it is an error (logged), and the fstab is taken as
// not holding the path.
func TestFstabNotRegular(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	fifo := filepath.Join(dir, "etc/fstab")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, ok, err := FstabHasSwap(hostroot.Root(dir), "/ransomeye/swap"); ok || err == nil {
		t.Errorf("FIFO fstab: %v, %v", ok, err)
	}
	_ = os.Remove(fifo)
	if err := os.Symlink("/dev/zero", fifo); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := FstabHasSwap(hostroot.Root(dir), "/ransomeye/swap"); ok || err == nil {
		t.Errorf("/dev/zero fstab: %v, %v", ok, err)
	}
	_ = os.Remove(fifo)
	if err := os.WriteFile(fifo, bytes.Repeat([]byte("#\n"), maxFstab), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FstabHasSwap(hostroot.Root(dir), "/ransomeye/swap"); err == nil {
		t.Errorf("2 MiB fstab read")
	}
}

// TestSourcePath: SourcePath= names the first configuration file read, and
// is left out when none was (systemctl status would call a unit whose
// source is missing "changed on disk") or when the name holds a control
// character.
func TestSourcePath(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{nil, ""},
		{[]string{"/etc/ransomeye/tuner.conf", "/etc/ransomeye/tuner.conf.d/a.conf"}, "/etc/ransomeye/tuner.conf"},
		{[]string{"/etc/ransomeye/tuner.conf.d/50%x.conf"}, "/etc/ransomeye/tuner.conf.d/50%%x.conf"},
		{[]string{"/etc/ransomeye/tuner.conf.d/a\nExecStart=/bin/sh.conf"}, ""},
	} {
		cfg := config.Default()
		cfg.Files = tc.files
		o := sourcePath(cfg)
		got := ""
		if o != nil {
			got = o.Value
		}
		if got != tc.want {
			t.Errorf("sourcePath(%q) = %q, want %q", tc.files, got, tc.want)
		}
		content := string(serialize([]*unit.UnitOption{sourcePath(cfg), unit.NewUnitOption("Swap", "What", "/x")}))
		if strings.Contains(content, "ExecStart") {
			t.Errorf("a file name injected a line:\n%s", content)
		}
	}
}
