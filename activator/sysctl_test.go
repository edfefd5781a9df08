package main_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestSysctlSystemKeepsConfiguredValues: with [Sysctl] Swappiness=1 and the
// package's /usr/lib/sysctl.d/60-ransomeye-tuner.conf (swappiness 10),
// activate writes /run/sysctl.d/60-ransomeye-tuner.conf with the
// configured values, so a later sysctl --system keeps 1 and the gate stays
// open. When something else sets the key last, the gate names that file:
// the package's own file when the /run override is gone, an
// administrator's /etc/sysctl.d file otherwise.
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

// TestActivateSysctlNeverWritesThroughDirLink: under a root prefix,
// proc/sys/vm is a link to a directory of ordinary files; the files behind
// it stay as they were. Opening the last component with O_NOFOLLOW only,
// activate followed the link and overwrote the start of files it did not
// create.
func TestActivateSysctlNeverWritesThroughDirLink(t *testing.T) {
	r := newRoot(t, 64<<20)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	victim := t.TempDir()
	const precious = "precious line one\nprecious line two\n"
	for _, f := range []string{"swappiness", "vfs_cache_pressure"} {
		if err := os.WriteFile(filepath.Join(victim, f), []byte(precious), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(r.path("proc/sys/vm")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, r.path("proc/sys/vm")); err != nil {
		t.Fatal(err)
	}
	activate(t, r)
	for _, f := range []string{"swappiness", "vfs_cache_pressure"} {
		if b, _ := os.ReadFile(filepath.Join(victim, f)); string(b) != precious {
			t.Errorf("activate wrote through the link proc/sys/vm into %s: now %q", f, b)
		}
	}
}

// sysctlSystem applies the sysctl.d files under r as `sysctl --system`
// (systemd-sysctl) would: *.conf of /etc/sysctl.d, /run/sysctl.d and
// /usr/lib/sysctl.d, the first directory winning for a name, in name
// order; only the vm.* keys this product sets.
func sysctlSystem(t *testing.T, r fakeRoot) {
	t.Helper()
	files := map[string]string{}
	for _, d := range []string{"usr/lib/sysctl.d", "run/sysctl.d", "etc/sysctl.d"} { // later wins here
		ents, _ := os.ReadDir(r.path(d))
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") {
				files[e.Name()] = filepath.Join(r.path(d), e.Name())
			}
		}
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, _ := os.ReadFile(files[n])
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if ok && strings.HasPrefix(k, "vm.") && !strings.HasPrefix(k, "#") {
				r.write(t, "proc/sys/vm/"+strings.TrimPrefix(k, "vm."), v+"\n")
			}
		}
	}
}
