package main_test

import (
	"os"
	"strings"
	"testing"
)

// TestSysctlSystemKeepsConfiguredValues: with [Sysctl] Swappiness=1 and the
// package's /usr/lib/sysctl.d/60-ransomeye-tuner.conf (swappiness 10),
// activate writes /run/sysctl.d/60-ransomeye-tuner.conf with the
// configured values, so a later sysctl --system keeps 1 and the gate stays
// open. When something else sets the key last, the gate names that file:
// the package's own file when the /run override is gone, an
// administrator's /etc/sysctl.d file otherwise (FAULTS.md, finding 30).
func TestSysctlSystemKeepsConfiguredValues(t *testing.T) {
	r := newRoot(t, 64<<20)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n[Sysctl]\nSwappiness=1\n")
	shipped, err := os.ReadFile("../units/sysctl.d/60-ransomeye-tuner.conf")
	if err != nil {
		t.Fatal(err)
	}
	r.write(t, "usr/lib/sysctl.d/60-ransomeye-tuner.conf", string(shipped))
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	b, err := os.ReadFile(r.path("run/sysctl.d/60-ransomeye-tuner.conf"))
	if err != nil || !strings.Contains(string(b), "\nvm.swappiness = 1\n") || !strings.Contains(string(b), "\nvm.vfs_cache_pressure = 50\n") {
		t.Fatalf("activate wrote no /run/sysctl.d/60-ransomeye-tuner.conf with the configured values: %q, %v", b, err)
	}
	defer r.fakeSwapon(t)()
	sysctlSystem(t, r)
	if got := r.sysctl(t, "swappiness"); got != "1" {
		t.Errorf("after sysctl --system: vm.swappiness %s, want the configured 1", got)
	}
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate after sysctl --system: exit %d\n%s", g.code, g.stdout+g.stderr)
	}

	// The override gone (removed by hand): the package's file wins, and the
	// gate names it.
	if err := os.Remove(r.path("run/sysctl.d/60-ransomeye-tuner.conf")); err != nil {
		t.Fatal(err)
	}
	sysctlSystem(t, r)
	g := run(t, r, nil, "gate")
	if out := g.stdout + g.stderr; g.code == 0 || !strings.Contains(out, "/usr/lib/sysctl.d/60-ransomeye-tuner.conf") {
		t.Errorf("the package's own file put 10 back: gate exit %d, want a refusal naming it:\n%s", g.code, out)
	}

	// An administrator's file sets it last: the gate names that file.
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	r.write(t, "etc/sysctl.d/80-local.conf", "vm.swappiness = 60\n")
	sysctlSystem(t, r)
	g = run(t, r, nil, "gate")
	if out := g.stdout + g.stderr; g.code == 0 || !strings.Contains(out, "/etc/sysctl.d/80-local.conf sets vm.swappiness = 60") {
		t.Errorf("an /etc/sysctl.d file set vm.swappiness last: gate exit %d, want a refusal naming it:\n%s", g.code, out)
	}
}
