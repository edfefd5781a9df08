package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// gateFailures returns the names of the guarantees the gate's output says
// fail ("<core> may not start: <name>: <problem>").
func gateFailures(stdout string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		_, rest, ok := strings.Cut(l, " may not start: ")
		if !ok {
			continue
		}
		if name, _, ok := strings.Cut(rest, ": "); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// statusFailures runs status --json and returns its exit code and the names
// of the guarantees that fail.
func statusFailures(t *testing.T, r fakeRoot) (int, []string) {
	t.Helper()
	res := run(t, r, nil, "status", "--json", "--no-metrics")
	var rep struct {
		Guarantees []struct {
			Name        string `json:"name"`
			OK          bool   `json:"ok"`
			NotMeasured bool   `json:"not_measured"`
		} `json:"guarantees"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, res.stdout)
	}
	var out []string
	for _, g := range rep.Guarantees {
		if !g.OK && !g.NotMeasured {
			out = append(out, g.Name)
		}
	}
	sort.Strings(out)
	return res.code, out
}

// TestGateAndStatusAgree: after a good activation, the gate and status
// judge every guarantee alike, from the same code: healthy, swappiness
// changed after the activation (what a later sysctl --system applying
// /etc/sysctl.conf does), a wrong vfs_cache_pressure, a
// vfs_cache_pressure_denom that changes what it means, a stale CPU drop-in,
// the swapfile not active. Before: the gate checked only the marker, the
// success record and the swap, and opened with swappiness 60 while status
// said NOT COMPLIANT.
func TestGateAndStatusAgree(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	succeeded(t, r, activate(t, r))
	swapoff := r.fakeSwapon(t)
	stale := "run/systemd/generator/ransomeye-core.service.d/cpu-isolation.conf"
	for _, tc := range []struct {
		name    string
		change  func()
		restore func()
		want    []string // failing guarantees; nil: healthy
		gateOut []string // in the gate's output
	}{
		{"healthy", func() {}, func() {}, nil, nil},
		{"swappiness drifted", func() { r.write(t, "proc/sys/vm/swappiness", "60\n") }, func() { r.write(t, "proc/sys/vm/swappiness", "10\n") },
			[]string{"sysctl:vm.swappiness"}, []string{`vm.swappiness is "60", want "10"`, "sysctl --system"}},
		{"vfs_cache_pressure wrong", func() { r.write(t, "proc/sys/vm/vfs_cache_pressure", "100\n") }, func() { r.write(t, "proc/sys/vm/vfs_cache_pressure", "50\n") },
			[]string{"sysctl:vm.vfs_cache_pressure"}, []string{`vm.vfs_cache_pressure is "100", want "50"`}},
		{"vfs_cache_pressure_denom set after", func() { r.write(t, "proc/sys/vm/vfs_cache_pressure_denom", "1000\n") }, func() { os.Remove(r.path("proc/sys/vm/vfs_cache_pressure_denom")) },
			[]string{"sysctl:vm.vfs_cache_pressure"}, []string{"vm.vfs_cache_pressure_denom is 1000", "5 per 100", "sysctl -w vm.vfs_cache_pressure_denom=100"}},
		{"stale CPU drop-in", func() { r.write(t, stale, "[Service]\nAllowedCPUs=0\n") }, func() { os.Remove(r.path(stale)) },
			[]string{"cpu-dropins"}, []string{"cpu-isolation.conf", "daemon-reload"}},
		{"swapfile not active", swapoff, func() { r.fakeSwapon(t) },
			[]string{"swap"}, []string{`"/ransomeye/swap" is not active`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			defer tc.restore()
			g := run(t, r, nil, "gate")
			if testing.Verbose() {
				t.Logf("gate: exit %d\n%s", g.code, g.stdout)
			}
			code, failing := statusFailures(t, r)
			if strings.Join(failing, " ") != strings.Join(tc.want, " ") {
				t.Errorf("status: failing %q, want %q", failing, tc.want)
			}
			if got := gateFailures(g.stdout); strings.Join(got, " ") != strings.Join(failing, " ") {
				t.Errorf("gate fails %q, status %q: they disagree\ngate:\n%s", got, failing, g.stdout)
			}
			if g.code != code {
				t.Errorf("gate exit %d, status exit %d: they disagree\ngate:\n%s", g.code, code, g.stdout)
			}
			if wantCode := map[bool]int{true: 0, false: 1}[tc.want == nil]; g.code != wantCode {
				t.Errorf("gate exit %d, want %d\n%s", g.code, wantCode, g.stdout)
			}
			for _, w := range tc.gateOut {
				if !strings.Contains(g.stdout, w) {
					t.Errorf("gate output lacks %q:\n%s", w, g.stdout)
				}
			}
		})
	}
}

// TestGateCoreCPUs: with a CPU reservation (a fake 8-core topology: the
// core's set is 0-3) the gate, run in the core's cgroup (a fake
// /proc/self/cgroup under the root prefix), compares its real affinity
// (this machine's CPUs, as an administrator's AllowedCPUs= override would
// give) with the plan's core set and keeps the core down, naming the
// difference. Outside the core's cgroup, under a root prefix, systemd
// cannot be asked: status says "not measured", and that alone blocks
// nothing.
func TestGateCoreCPUs(t *testing.T) {
	needRoot(t)
	r := fakeRoot{dir: t.TempDir()}
	if err := (fakesys.Machine{Nodes: 1, CoresPerNode: 8}).Write(r.dir); err != nil {
		t.Fatal(err)
	}
	r.fill(t, 64<<20)
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	gen := r.path("run/systemd/generator")
	if err := os.MkdirAll(gen, 0o755); err != nil {
		t.Fatal(err)
	}
	runGenerator(t, r, gen)
	if _, err := os.Stat(filepath.Join(gen, "ransomeye-core.service.d/cpu-isolation.conf")); err != nil {
		t.Fatalf("the fake 8-core machine gives no CPU reservation: %v", err)
	}
	succeeded(t, r, activate(t, r))
	defer r.fakeSwapon(t)()
	s := run(t, r, nil, "status")
	if s.code != 0 || !strings.Contains(s.stdout, "core cpus applied") || !strings.Contains(s.stdout, "not measured") {
		t.Errorf("status outside the core's cgroup: exit %d, want 0 with the core's CPUs not measured\n%s", s.code, s.stdout)
	}
	r.write(t, "proc/self/cgroup", "0::/system.slice/ransomeye-core.service\n")
	g := run(t, r, nil, "gate")
	if testing.Verbose() {
		t.Logf("status:\n%s\ngate: exit %d\n%s", s.stdout, g.code, g.stdout)
	}
	if g.code != 1 || !strings.Contains(g.stdout, "core-cpus") || !strings.Contains(g.stdout, `the plan gives it "0-3"`) || !strings.Contains(g.stdout, "AllowedCPUs=") {
		t.Errorf("gate in the core's cgroup with the wrong affinity: exit %d, want 1 naming the core's CPU set\n%s", g.code, g.stdout)
	}
}

// activeOnLoop makes an ext4 loop filesystem at /ransomeye of r, activates,
// swaps the swapfile on with the real swapon and writes the kernel's line
// into the fake /proc/swaps; the gate must then be open (checked).
func activeOnLoop(t *testing.T, r fakeRoot) string {
	t.Helper()
	needRoot(t)
	loopFS(t, "ext4", "200M", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	p := r.path("ransomeye/swap")
	t.Cleanup(func() { exec.Command("swapoff", p).Run() })
	sh(t, "swapon", p)
	r.setKernelSwaps(t, kernelLine(t, p))
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Fatalf("gate after a good activation: exit %d\n%s", g.code, g.stdout)
	}
	return p
}

// kernelLine is the real /proc/swaps line for the active file p.
func kernelLine(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) == 5 && f[0] == p {
			return line
		}
	}
	t.Fatalf("%s is not in /proc/swaps:\n%s", p, b)
	return ""
}

// TestGateRefusesActiveSwapInUnsafeDir: after a good activation the
// swapfile's directory becomes uid 1000's (or writable by all). activate
// would refuse it, so the swap guarantee is not in effect: the gate exits
// non-zero naming the remedy and status says NOT COMPLIANT. With the
// guarantee computed whatever the directory check found, status said
// "activate would refuse" and COMPLIANT together, and the gate exited 0.
func TestGateRefusesActiveSwapInUnsafeDir(t *testing.T) {
	r := newRoot(t, 64<<20)
	activeOnLoop(t, r)
	dir := r.path("ransomeye")
	for _, c := range []struct {
		name  string
		apply func() error
	}{
		{"owned by uid 1000", func() error { return os.Chown(dir, 1000, 1000) }},
		{"mode 0777", func() error { return os.Chmod(dir, 0o777) }},
	} {
		if err := c.apply(); err != nil {
			t.Fatal(err)
		}
		st := run(t, r, nil, "status", "--no-metrics")
		g := run(t, r, nil, "gate")
		if strings.Contains(st.stdout, "activate would         refuse") && g.code == 0 {
			t.Errorf("directory %s: status says activate would refuse, the gate exits 0\nstatus:\n%s", c.name, st.stdout)
		}
		// Whatever status's columns look like: activate refuses this
		// directory, so the guarantee is not in effect, for both.
		if g.code == 0 || !strings.Contains(st.stdout, "NOT COMPLIANT") || !strings.Contains(g.stdout+g.stderr, "chown root:root") && !strings.Contains(g.stdout+g.stderr, "chmod go-w") {
			t.Errorf("directory %s: gate exit %d, status not NOT COMPLIANT, or no remedy named\nstatus:\n%s\ngate:\n%s%s", c.name, g.code, st.stdout, g.stdout, g.stderr)
		}
		os.Chown(dir, 0, 0)
		os.Chmod(dir, 0o755)
	}
}

// TestGateRefusesActiveSwapfileOwnedByUser: the file active at the
// configured path is a swap area owned by uid 1000 (she can read the core's
// swapped memory). activate refuses such a file ("swap must be root:root
// 0600"), and so must the gate and status. A gate checking device, inode
// and size only opened on it.
func TestGateRefusesActiveSwapfileOwnedByUser(t *testing.T) {
	r := newRoot(t, 64<<20)
	p := activeOnLoop(t, r)
	sh(t, "swapoff", p)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	sh(t, "fallocate", "-l", "65M", p)
	sh(t, "mkswap", "-q", p)
	if err := os.Chown(p, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	exec.Command("swapon", p).Run() // warns "insecure file owner 1000"
	r.setKernelSwaps(t, kernelLine(t, p))
	st := run(t, r, nil, "status", "--no-metrics")
	if g := run(t, r, nil, "gate"); g.code == 0 {
		t.Errorf("gate exits 0 with a swapfile owned by uid 1000 active\nstatus:\n%s", st.stdout)
	} else if out := g.stdout + g.stderr; !strings.Contains(out, "root:root 0600") {
		t.Errorf("the gate refuses without saying the swapfile must be root:root 0600:\n%s", out)
	}
	if !strings.Contains(st.stdout, "NOT COMPLIANT") {
		t.Errorf("status does not say NOT COMPLIANT with a swapfile owned by uid 1000 active:\n%s", st.stdout)
	}
}

// TestActivateVFSCachePressureDenom: with an administrator's
// vm.vfs_cache_pressure_denom (Linux 6.16 and later) of 1000, the
// configured 50 reads back as 50 but the kernel applies 5 per 100:
// activate fails closed naming the file and the remedy, and the gate and
// status fail the same guarantee. Before, activate said "resources
// guaranteed" and the gate opened.
func TestActivateVFSCachePressureDenom(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	r.write(t, "proc/sys/vm/vfs_cache_pressure_denom", "1000\n")
	r.write(t, "etc/sysctl.d/90-dentries.conf", "vm.vfs_cache_pressure_denom = 1000\n")
	failedClosed(t, r, activate(t, r), "vm.vfs_cache_pressure_denom is 1000", "5 per 100",
		"/etc/sysctl.d/90-dentries.conf sets vm.vfs_cache_pressure_denom = 1000: remove that line, then: sysctl -w vm.vfs_cache_pressure_denom=100")
	code, failing := statusFailures(t, r)
	if code != 1 || !strings.Contains(strings.Join(failing, " "), "sysctl:vm.vfs_cache_pressure") {
		t.Errorf("status: exit %d, failing %q", code, failing)
	}

	// Put back to 100: activate succeeds.
	r.write(t, "proc/sys/vm/vfs_cache_pressure_denom", "100\n")
	succeeded(t, r, activate(t, r))
}
