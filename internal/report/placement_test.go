package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// placementRoot is a fake 8-core machine (plan: core 0-3, DPI 4-5,
// training 6-7) with, in effect: IRQ 30 on every CPU and IRQ 31 on the
// core's; rtc0 asked onto the core's but still effective on 5 (a pending
// move); an NVMe per-CPU queue on 6 with a read-only affinity (managed); the workqueue masks unchanged; the DPI service's cpuset reaching
// CPU 6; and in /proc, systemd on the core's CPUs, cron with one thread
// left on every CPU, the DPI service with one thread allowed on 6, and a
// kernel thread bound to CPU 5 (the kernel's, not an escape).
func placementRoot(t *testing.T) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	dpi := "/sys/fs/cgroup/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service/"
	files := map[string]string{
		"/proc/interrupts": "           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n" +
			" 30:  1 0 0 0 0 0 0 0  PCI-MSI 1-edge  ahci\n" +
			" 31:  1 0 0 0 0 0 0 0  PCI-MSI 2-edge  xhci_hcd\n" +
			"  8:  0 0 0 0 0 1 0 0  IO-APIC 8-edge  rtc0\n" +
			" 39:  0 0 0 0 0 0 7 0  PCI-MSIX-0000:00:04.0 6-edge  nvme0q6\n",
		"/proc/irq/8/smp_affinity_list":                                            "0-3\n",
		"/proc/irq/8/effective_affinity_list":                                      "5\n",
		"/proc/irq/39/smp_affinity_list":                                           "6\n",
		"/proc/irq/39/effective_affinity_list":                                     "6\n",
		"/proc/irq/default_smp_affinity":                                           "f\n",
		"/proc/irq/30/smp_affinity_list":                                           "0-7\n",
		"/proc/irq/31/smp_affinity_list":                                           "0-3\n",
		placement.CPUMaskPath:                                                      "ff\n",
		placement.WritebackPath:                                                    "f\n",
		dpi + "cpuset.cpus.effective":                                              "4-6\n",
		"/sys/fs/cgroup/system.slice/ransomeye-core.service/cpuset.cpus.effective": "0-3\n",
		"/proc/1/cgroup":                                                           "0::/init.scope\n",
		"/proc/1/task/1/status":                                                    "Name:\tsystemd\nCpus_allowed_list:\t0-3\n",
		"/proc/2/cgroup":                                                           "0::/\n",
		"/proc/2/task/2/status":                                                    "Name:\tksoftirqd/5\nCpus_allowed_list:\t5\n",
		"/proc/100/cgroup":                                                         "0::/system.slice/cron.service\n",
		"/proc/100/task/100/status":                                                "Name:\tcron\nCpus_allowed_list:\t0-3\n",
		"/proc/100/task/101/status":                                                "Name:\tcron\nCpus_allowed_list:\t0-7\n",
		"/proc/200/cgroup":                                                         "0::/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service\n",
		"/proc/200/task/200/status":                                                "Name:\tsuricata\nCpus_allowed_list:\t4-5\n",
		"/proc/200/task/201/status":                                                "Name:\tW#01\nCpus_allowed_list:\t4-6\n",
	}
	m := fakesys.Machine{CoresPerNode: 8, Files: files}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	// The kernel makes a managed interrupt's affinity file read-only.
	if err := os.Chmod(filepath.Join(dir, "proc/irq/39/smp_affinity_list"), 0o444); err != nil {
		t.Fatal(err)
	}
	return hostroot.Root(dir)
}

// TestPlacementReported: what escapes the partition is named (IRQ 30, the
// DPI service's CPU 6, cron's and the DPI worker's threads by unit), what
// does not is not (IRQ 31, systemd, the kernel thread, the DPI service on
// its own CPUs), and none of it is a problem of the report.
func TestPlacementReported(t *testing.T) {
	root := placementRoot(t)
	full := gather(root)
	if !full.CPU.Reserved || full.CPU.Sets["dpi"].CPUs != "4-5" {
		t.Fatalf("fake machine's plan: %+v", full.CPU)
	}
	p := full.Placement
	if p == nil || p.Reserved != "4-7" || p.Gated {
		t.Fatalf("placement: %+v", p)
	}
	if len(p.IRQsOnReserved) != 1 || p.IRQsOnReserved[0].IRQ != 30 {
		t.Errorf("irqs on reserved: %+v", p.IRQsOnReserved)
	}
	if p.Workqueue[placement.CPUMaskPath] != "0-7" || p.Workqueue[placement.WritebackPath] != "0-3" {
		t.Errorf("workqueue: %v", p.Workqueue)
	}
	if len(p.Services) != 3 || p.Services[1].Unit != "ransomeye-dpi.service" || p.Services[1].Escapes != "6" {
		t.Errorf("services: %+v", p.Services)
	}
	want := []check.UnitThreads{{Unit: "cron.service", Threads: 1, CPUs: "4-7", Example: "cron[101]"},
		{Unit: "ransomeye-dpi.service", Threads: 1, CPUs: "6", Example: "W#01[201]"}}
	if len(p.ThreadsOnReserved) != 2 || p.ThreadsOnReserved[0] != want[0] || p.ThreadsOnReserved[1] != want[1] || p.ThreadsErr != "" {
		t.Errorf("threads on reserved: %+v (%s), want %+v", p.ThreadsOnReserved, p.ThreadsErr, want)
	}
	if len(p.IRQsMovePending) != 1 || p.IRQsMovePending[0].IRQ != 8 || len(p.IRQsUnmovable) != 1 || p.IRQsUnmovable[0].IRQ != 39 {
		t.Errorf("left on reserved: pending %+v, unmovable %+v", p.IRQsMovePending, p.IRQsUnmovable)
	}
	irqs, threads, svc := p.Escapes()
	if irqs != 1 || threads != 2 || svc["ransomeye-dpi.service"] != 1 || svc["ransomeye-core.service"] != 0 {
		t.Errorf("escapes: %d irqs, %d threads, services %v", irqs, threads, svc)
	}

	// status itself carries the section, and it decides nothing.
	for _, prob := range full.Problems {
		if strings.Contains(prob, "cron") || strings.Contains(prob, "IRQ") || strings.Contains(prob, "escapes") {
			t.Errorf("placement made a problem of the report: %q", prob)
		}
	}

	text := textHas(t, full, "reserved CPUs 4-7 (reported, not gated)", "30 (ahci) on 0-7", "escapes to 6",
		"8 (rtc0) on 5, asked onto 0-3: the kernel moves it when it next fires", "39 (nvme0q6) on 6: managed or per-CPU", "cron.service: 1 (may run on 4-7; e.g. cron[101])")
	t.Logf("status text:\n%s", text)
	js := writeJSON(t, full)
	var back struct {
		Placement map[string]json.RawMessage `json:"placement"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"reserved_cpus", "irqs_on_reserved", "irqs_unmovable", "irqs_move_pending", "workqueue_cpumask", "services", "threads_on_reserved", "gated"} {
		if _, ok := back.Placement[k]; !ok {
			t.Errorf("JSON placement lacks %q:\n%s", k, js)
		}
	}
}

// TestPlacementNoReservation: without a reservation nothing is an escape
// and the section is left out.
func TestPlacementNoReservation(t *testing.T) {
	root := placementRoot(t)
	if err := os.MkdirAll(filepath.Join(string(root), "etc/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(string(root), "etc/ransomeye/tuner.conf"), []byte("[CPU]\nIsolation=off\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p := gather(root).Placement; p != nil {
		t.Errorf("placement without a reservation: %+v", p)
	}
}

// TestGatherIsolationInitScope: on the fake machine, PID 1 allowed on
// every CPU in an init.scope whose cgroup has no cpuset.cpus (what
// systemd 247 leaves) makes the isolation degraded, names init.scope and
// the cause, and the text report says so, reported and not a problem.
func TestIsolationInitScope(t *testing.T) {
	root := placementRoot(t)
	for p, v := range map[string]string{
		"/proc/1/task/1/status":     "Name:\tsystemd\nCpus_allowed_list:\t0-7\n",
		"/proc/100/task/101/status": "Name:\tcron\nCpus_allowed_list:\t0-3\n",
		"/sys/fs/cgroup/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service/cpuset.cpus.effective": "4-5\n",
		"/proc/200/task/201/status": "Name:\tW#01\nCpus_allowed_list:\t4-5\n",
	} {
		if err := os.WriteFile(filepath.Join(string(root), p), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	full := gather(root)
	i := full.Placement.Isolation
	if !i.Degraded() || i.Cause != check.CauseInitScope || len(i.Escapes) != 1 || i.Escapes[0].Unit != "init.scope" {
		t.Fatalf("isolation %+v", i)
	}
	if !strings.Contains(i.Escapes[0].Reason, "absent") {
		t.Errorf("reason %q does not say init.scope has no cpuset", i.Escapes[0].Reason)
	}
	var b strings.Builder
	if err := full.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"isolation           DEGRADED: systemd did not apply AllowedCPUs= to init.scope", "isolation escape    init.scope:", "isolation remedy    run systemd 252 or later"} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}
