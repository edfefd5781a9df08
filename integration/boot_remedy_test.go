//go:build vmtest

package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// remedyCases follow the remedies the tool prints, word for word, taken
// from its own output (guest remedy.sh), on the stock core.
func remedyCases() []bootCase {
	return []bootCase{
		{name: "34_stock_core_remedies", shows: "the stock core kept down by an invalid configuration, then by a full data disk, and each time the printed remedy, word for word, after the fix: the core runs",
			mem: 4096, cpus: 8, disk: 20 * gib, timeout: 10 * time.Minute,
			args: []string{"systemd.wants=ransomeye-test-early.service"},
			// A MinSize= that is not a size: invalid before the
			// generators run, so that they write no CPU drop-in. The
			// swappiness is not the package's default, which
			// systemd-sysctl sets at boot: activate's, once it gets
			// there.
			rootFiles: map[string]string{"/etc/ransomeye/tuner.conf": "# boot suite case 34\n[Swap]\nMinSize=sixteen\n[Sysctl]\nSwappiness=20\n"},
			check:     checkStockCoreRemedies},
	}
}

// wantRecoverPrinted checks that status and the marker printed the one
// remedy command at step p.
func wantRecoverPrinted(t *testing.T, r Report, p string) {
	t.Helper()
	wantEq(t, r, p+".remedy", names.RecoverCommand)
	wantEq(t, r, p+".marker_remedy", names.RecoverCommand)
}

// checkStockCoreRemedies checks case 34.
func checkStockCoreRemedies(t *testing.T, s *suite, r Report) {
	wantEq(t, r, "unit.ransomeye-test-early.service.Result", "success")
	// At boot: the configuration invalid, no CPU drop-in, the core
	// skipped by its gate; status cannot determine (4).
	wantEq(t, r, "case.boot.core_condition", "no")
	wantEq(t, r, "case.boot.core_result", "exec-condition")
	wantEq(t, r, "case.boot.cpu_dropin", "no")
	wantMatch(t, "the marker at boot", reasons(r.Text("case-boot-marker")), `MinSize=sixteen`)
	if b := r.Blocks["case-boot-status"]; b.RC != 4 {
		t.Errorf("status with an invalid configuration: exit %d, want 4\n%s", b.RC, b.Text)
	}
	wantRecoverPrinted(t, r, "case.boot")

	// 1. The file fixed, the printed remedy run: the generator ran (the
	// CPU drop-ins are there), activate got past the configuration and
	// met the full disk; it fails, saying so, and the core stays down.
	wantRecoverPrinted(t, r, "case.fix1")
	b1 := r.Blocks["case-fix1-output"]
	t.Logf("after the configuration was fixed, %q (exit %d):\n%s", r.Get("case.fix1.remedy"), b1.RC, b1.Text)
	if b1.RC != 1 {
		t.Errorf("the remedy with the disk still full exited %d, want 1", b1.RC)
	}
	wantMatch(t, "the remedy's output with the disk full", b1.Text, `systemd reloaded`)
	wantMatch(t, "the remedy's output with the disk full", b1.Text, `(?i)space`)
	if strings.Contains(b1.Text+r.Text("case-fix1-marker"), "CPU drop-ins in effect do not match") {
		t.Errorf("the remedy did not run the generator before activate:\n%s\n%s", b1.Text, r.Text("case-fix1-marker"))
	}
	wantEq(t, r, "case.fix1.cpu_dropin", "yes")
	wantEq(t, r, "case.fix1.core_state", "inactive")
	wantEq(t, r, "case.fix1.marker", "present")
	wantMatch(t, "the marker after the first remedy", reasons(r.Text("case-fix1-marker")), `(?i)space`)
	// The swappiness activate did not get to set is said to be not
	// applied, and why; not blamed on a program or on sysctl --system.
	wantMatch(t, "status after the first remedy", r.Text("case-fix1-status"), `vm\.swappiness is "10", want "20": not applied: activation stopped at swap`)
	if strings.Contains(r.Text("case-fix1-status"), "something set it after") {
		t.Errorf("status blames something for a sysctl activate never set:\n%s", r.Text("case-fix1-status"))
	}

	// 2. The space freed, the printed remedy run again: swap on, marker
	// gone, the core the gate refused started, status compliant.
	wantRecoverPrinted(t, r, "case.fix2")
	b2 := r.Blocks["case-fix2-output"]
	t.Logf("after the space was freed, %q (exit %d):\n%s", r.Get("case.fix2.remedy"), b2.RC, b2.Text)
	if b2.RC != 0 {
		t.Errorf("the remedy exited %d, want 0", b2.RC)
	}
	wantEq(t, r, "case.fix2.swap", "active")
	wantEq(t, r, "case.fix2.marker", "absent")
	wantEq(t, r, "case.fix2.core_state", "active")
	wantEq(t, r, "case.fix2.core_condition", "yes")
	if pid := r.Get("case.fix2.core_main_pid"); pid == "" || pid == "0" {
		t.Errorf("the core has no main process after the remedy (MainPID %q)", pid)
	}
	if b := r.Blocks["case-fix2-status"]; b.RC != 0 {
		t.Errorf("status after the remedy: exit %d, want 0\n%s", b.RC, b.Text)
	}
	wantEq(t, r, "unit.ransomeye-swap.swap.ActiveState", "active")
	wantEq(t, r, "unit.ransomeye-tuner.service.Result", "success")
	wantEq(t, r, "file./ransomeye/swap.mode", "600")
	wantEq(t, r, "file./ransomeye/swap.label", "ransomeye-swap")
	wantEq(t, r, "sysctl.vm.swappiness", "20")
	wantEq(t, r, "unit.ransomeye-core.service.SubState", "running")

	// 3. status as nobody on the healthy machine: what needs root not
	// read, said, no verdict, exit 4.
	nb := r.Blocks["case-nobody-status"]
	t.Logf("status as nobody (exit %d):\n%s", nb.RC, nb.Text)
	if nb.RC != 4 {
		t.Errorf("status as nobody: exit %d, want 4", nb.RC)
	}
	wantMatch(t, "status as nobody", nb.Text, `UNKNOWN .*run it as root: ransomeye-tuner status`)
	wantMatch(t, "status as nobody", nb.Text, `needs root`)
	for _, verdict := range []string{"NOT COMPLIANT", "[FAIL]", "\nproblem "} {
		if strings.Contains(nb.Text, verdict) {
			t.Errorf("status as nobody says %q from what it could not read", verdict)
		}
	}
	var doc struct {
		State     string `json:"state"`
		CoreGated *bool  `json:"core_gated"`
	}
	if err := json.Unmarshal([]byte(r.Text("case-nobody-status-json")), &doc); err != nil || doc.State != "unknown" || doc.CoreGated != nil {
		t.Errorf("status --json as nobody: %v, state %q, core_gated %v\n%s", err, doc.State, doc.CoreGated, r.Text("case-nobody-status-json"))
	}
}
