package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// placeMachine is a fake 8-core machine (plan: core 0-3, DPI 4-5, training
// 6-7) with two movable interrupts on every CPU and the kernel's masks at
// their boot values.
func placeMachine(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the plan file goes to a directory only root may own: run as root")
	}
	dir := t.TempDir()
	m := fakesys.Machine{CoresPerNode: 8, Files: map[string]string{
		"/proc/interrupts": "           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n" +
			" 30:  1 0 0 0 0 0 0 0  PCI-MSI 1-edge  ahci\n" +
			" 31:  1 0 0 0 0 0 0 0  PCI-MSI 2-edge  xhci_hcd\n",
		"/proc/irq/default_smp_affinity":   "ff\n",
		"/proc/irq/30/smp_affinity_list":   "0-7\n",
		"/proc/irq/31/smp_affinity_list":   "0-7\n",
		"/sys/devices/system/cpu/possible": "0-7\n",
		placement.CPUMaskPath:              "ff\n",
		placement.WritebackPath:            "ff\n",
	}}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readTrim(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestPlaceAndUndo: `place` puts interrupts and unbound work on the core
// CPUs and records it (what ransomeye-tuner-place.service runs after the
// network is up); `place --undo` (what the package runs before removal)
// restores every value and drops the record.
func TestPlaceAndUndo(t *testing.T) {
	dir := placeMachine(t)
	if code, _, errs := runMain("--root", dir, "place"); code != ExitOK {
		t.Fatalf("place: exit %d\n%s", code, errs)
	}
	want := map[string]string{"/proc/irq/default_smp_affinity": "f", "/proc/irq/30/smp_affinity_list": "0-3",
		"/proc/irq/31/smp_affinity_list": "0-3", placement.CPUMaskPath: "f", placement.WritebackPath: "f"}
	for p, w := range want {
		if got := readTrim(t, dir+p); got != w {
			t.Errorf("after place: %s = %q, want %q", p, got, w)
		}
	}
	code, _, errs := runMain("--root", dir, "place", "--undo")
	if code != ExitOK {
		t.Fatalf("place --undo: exit %d\n%s", code, errs)
	}
	want = map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "0-7", placement.CPUMaskPath: "ff", placement.WritebackPath: "ff"}
	for p, w := range want {
		if got := readTrim(t, dir+p); got != w {
			t.Errorf("after place --undo: %s = %q, want %q\n%s", p, got, w, errs)
		}
	}
	if !strings.Contains(errs, "2 of 2 interrupts moved earlier restored") {
		t.Errorf("place --undo does not say what it restored:\n%s", errs)
	}
	b, err := os.ReadFile(dir + placement.Path)
	if err != nil || strings.Contains(string(b), `"applied"`) {
		t.Errorf("plan file after undo still holds the record (%v):\n%s", err, b)
	}
}

// TestPlaceInvalidConfig: with a configuration that does not parse, place
// changes nothing and says why (activate would fail closed).
func TestPlaceInvalidConfig(t *testing.T) {
	dir := placeMachine(t)
	if err := os.MkdirAll(dir+"/etc/ransomeye", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/etc/ransomeye/tuner.conf", []byte("[CPU]\nIsolation=maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runMain("--root", dir, "place")
	if code != ExitFail || !strings.Contains(errs, "nothing placed") {
		t.Errorf("place with an invalid configuration: exit %d\n%s", code, errs)
	}
	if got := readTrim(t, dir+placement.CPUMaskPath); got != "ff" {
		t.Errorf("workqueue mask changed: %q", got)
	}
}
