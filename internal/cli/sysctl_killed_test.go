package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestSysctlNotAppliedWhenActivationWasKilled: activate killed while it
// creates the swapfile (TimeoutStartSec= on a slow disk, an OOM kill)
// writes no marker entry of its own: the unit's ExecStopPost=
// (fail-closed --if-failed) writes the only one, without a step. The
// sysctls were never set by this boot's activation, so status must say
// so, with the marker's remedy, and not that "something set it after
// ransomeye-tuner.service", which sends the on-call engineer hunting for
// a program that does not exist.
func TestSysctlNotAppliedWhenActivationWasKilled(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	r := root.String()
	// What the kill leaves: activate removed the success record first
	// and never reached the sysctls (the boot's value is still there).
	if err := os.Remove(root.Path("/run/ransomeye-tuner/ok")); err != nil {
		t.Fatal(err)
	}
	writeRootFile(t, r, "/proc/sys/vm/swappiness", "60\n")
	t.Setenv("SERVICE_RESULT", "timeout")
	t.Setenv("EXIT_CODE", "killed")
	t.Setenv("EXIT_STATUS", "TERM")
	if code, _, errOut := runMain("--root", r, "fail-closed", "--if-failed"); code != ExitOK {
		t.Fatalf("fail-closed --if-failed: exit %d\n%s", code, errOut)
	}
	_, out, _ := runMain("--root", r, "status")
	said := false
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "vm.swappiness") {
			continue
		}
		if strings.Contains(line, "something set it after") {
			t.Errorf("status blames another program for a sysctl this boot's activation never set:\n%s", line)
		}
		said = said || strings.Contains(line, `vm.swappiness is "60", want "10": not applied: this boot's activation did not finish`)
	}
	if !said {
		t.Errorf("status does not say that this boot's activation did not set vm.swappiness:\n%s", out)
	}
	if !strings.Contains(out, "fix the cause the failure marker names, then: "+names.RecoverCommand) {
		t.Errorf("status names no remedy for the killed activation:\n%s", out)
	}

	// Once an activation of this boot set them (its /run/sysctl.d file),
	// a value that differs was set by something else after it.
	writeRootFile(t, r, "/run/sysctl.d/60-ransomeye-tuner.conf", "vm.swappiness = 10\n")
	_, out, _ = runMain("--root", r, "status")
	if strings.Contains(out, "this boot's activation did not finish") {
		t.Errorf("status says the activation never set the sysctls, while its /run/sysctl.d file says it did:\n%s", out)
	}
}
