package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// memoryRoot is a fake 8-core cgroup v2 machine (fakesys: CPUs this host
// does not have) with 64 MiB of RAM and a swapfile on a loop device; after
// the real generator ran, the fake of systemd makes the services' cgroups
// from its memory drop-ins (fakesys.Systemd), with sd's options.
func memoryRoot(t *testing.T, cmdline string, sd fakesys.Systemd) fakeRoot {
	t.Helper()
	needRoot(t)
	r := fakeRoot{dir: t.TempDir()}
	if err := (fakesys.Machine{Nodes: 1, CoresPerNode: 8, Cmdline: cmdline}).Write(r.dir); err != nil {
		t.Fatal(err)
	}
	r.fill(t, 64<<20)
	if cmdline != "" {
		r.write(t, "proc/cmdline", cmdline+"\n")
	}
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	blackbox.Generate(t, r.h())
	sd.Running = []string{names.CoreService, names.DPIService, names.TrainingService}
	if err := sd.Write(r.dir, r.path(units.NormalDir)); err != nil {
		t.Fatal(err)
	}
	return r
}

// memoryDoc is the "memory" section of status --json.
type memoryDoc struct {
	State  string `json:"state"`
	Cause  string `json:"cause"`
	Remedy string `json:"remedy"`
	Gated  bool   `json:"gated"`
	PSI    bool   `json:"psi"`
}

func statusMemory(t *testing.T, r fakeRoot) (int, memoryDoc) {
	t.Helper()
	res := run(t, r, nil, "status", "--json")
	var doc struct {
		Memory *memoryDoc `json:"memory"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || doc.Memory == nil {
		t.Fatalf("status --json: %v, memory %v\n%s", err, doc.Memory, res.stdout)
	}
	return res.code, *doc.Memory
}

// TestMemoryProtectionReportedNotGated: with what systemd makes of the
// generator's memory drop-ins, status says the protection is held; when
// something takes the core's memory.low away (systemctl set-property, a
// drop-in of the administrator's), status, its JSON and the metrics say
// degraded with the cause and the remedy, activate logs it once as a
// warning and succeeds, and the gate still opens: reported, not gated.
func TestMemoryProtectionReportedNotGated(t *testing.T) {
	r := memoryRoot(t, "", fakesys.Systemd{})
	succeeded(t, r, rawRun(t, r, nil, nil, "activate"))
	defer r.fakeSwapon(t)()
	if code, m := statusMemory(t, r); code != 0 || m.State != "held" || m.Gated {
		t.Errorf("as generated: status exit %d, memory %+v; want 0 and held", code, m)
	}
	low := r.path("sys/fs/cgroup/system.slice/ransomeye-core.service/memory.low")
	if err := os.WriteFile(low, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, m := statusMemory(t, r)
	if code != 0 || m.State != "degraded" || m.Cause != "a setting not applied" || !strings.Contains(m.Remedy, "systemctl cat ransomeye-core.service") || m.Gated {
		t.Errorf("memory.low taken away: status exit %d, memory %+v; want 0, degraded, not applied, its remedy", code, m)
	}
	st := run(t, r, nil, "status")
	if !strings.Contains(st.stdout, "DEGRADED: a setting not applied: ransomeye-core.service has memory.low 0 B, want 32.0 MiB (CoreLow=50% of RAM)") ||
		!strings.Contains(st.stdout, "[NOT HELD]") {
		t.Errorf("status text:\n%s", st.stdout)
	}
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate with the protection degraded: exit %d, want 0 (reported, not gated)\n%s", g.code, g.stdout)
	}
	prom := r.path(names.DefaultMetricsPath)
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	act := rawRun(t, r, nil, nil, "activate")
	if act.code != 0 || !strings.Contains(act.stderr, "warning: memory protection degraded: a setting not applied") {
		t.Errorf("activate: exit %d, want 0 with one warning:\n%s", act.code, act.stderr)
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"\nransomeye_tuner_memory_protection_degraded 1\n",
		`ransomeye_tuner_memory_setting_bytes{service="ransomeye-core.service",role="core",cgroup="/system.slice/ransomeye-core.service",file="memory.low"} 0`,
		`ransomeye_tuner_memory_setting_wanted_bytes{service="ransomeye-core.service",role="core",cgroup="/system.slice/ransomeye-core.service",file="memory.low"} 33554432`,
		"\nransomeye_tuner_compliant 1\n", "\nransomeye_tuner_core_gated 0\n"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("activate's textfile lacks %q:\n%s", w, b)
		}
	}
}

// TestMemoryDropInsStaleReportedNotGated: a [Memory] change without
// daemon-reload (or MemTotal moved by a balloon) leaves memory drop-ins
// that are not the configuration's in effect: activate succeeds and logs
// the protection degraded, naming the file and recover; status and its JSON
// say the same, and the gate opens: the protection is reported, never
// gated. Once the generator ran again the protection is held.
func TestMemoryDropInsStaleReportedNotGated(t *testing.T) {
	r := memoryRoot(t, "", fakesys.Systemd{})
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n[Memory]\nCoreLow=25%\n")
	act := rawRun(t, r, nil, nil, "activate")
	if act.code != 0 || !strings.Contains(act.stderr, "warning: memory protection degraded: drop-ins not those of the configuration") ||
		!strings.Contains(act.stderr, `ransomeye-core.service.d/memory.conf" differs`) || !strings.Contains(act.stderr, names.RecoverCommand) {
		t.Errorf("activate: exit %d, want 0 with the stale drop-ins as a warning:\n%s", act.code, act.stderr)
	}
	defer r.fakeSwapon(t)()
	if code, m := statusMemory(t, r); code != 0 || m.State != "degraded" || m.Cause != "drop-ins not those of the configuration" || !strings.Contains(m.Remedy, names.RecoverCommand) || m.Gated {
		t.Errorf("status --json: exit %d, memory %+v; want 0, degraded by stale drop-ins, recover", code, m)
	}
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate with stale memory drop-ins: exit %d, want 0 (reported, not gated)\n%s", g.code, g.stdout)
	}
	blackbox.Generate(t, r.h())
	if code, m := statusMemory(t, r); code != 0 || m.Cause == "drop-ins not those of the configuration" {
		t.Errorf("after the generator ran: exit %d, memory %+v", code, m)
	}
}

// TestMemoryPressureWithoutPSI: a kernel booted with psi=0 has no
// /proc/pressure and no *.pressure files: status says the pressure is not
// available and why, and stays compliant; the metrics say 0 and carry no
// pressure series.
func TestMemoryPressureWithoutPSI(t *testing.T) {
	r := memoryRoot(t, "BOOT_IMAGE=/vmlinuz root=/dev/vda ro psi=0", fakesys.Systemd{NoPSI: true})
	succeeded(t, r, rawRun(t, r, nil, nil, "activate"))
	defer r.fakeSwapon(t)()
	st := run(t, r, nil, "status")
	if st.code != 0 || !strings.Contains(st.stdout, "not available: the kernel runs without pressure stall information: psi=0 on the kernel command line") {
		t.Errorf("status: exit %d\n%s", st.code, st.stdout)
	}
	if code, m := statusMemory(t, r); code != 0 || m.PSI || m.State != "held" {
		t.Errorf("status --json: exit %d, memory %+v", code, m)
	}
	prom := r.path(names.DefaultMetricsPath)
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	if res := run(t, r, nil, "metrics"); res.code != 0 {
		t.Fatalf("metrics: exit %d\n%s", res.code, res.stderr)
	}
	b, _ := os.ReadFile(prom)
	if !strings.Contains(string(b), "\nransomeye_tuner_pressure_available 0\n") || strings.Contains(string(b), "ransomeye_tuner_pressure_stall_ratio{") {
		t.Errorf("textfile without PSI:\n%s", b)
	}
}
