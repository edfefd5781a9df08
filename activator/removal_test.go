package main_test

// Black-box tests of what the package's removal relies on: the record of
// every swapfile activate made (read by the purge, after the binary is
// gone) and `ransomeye-tuner uninstall` (run by the prerm): the real binary
// on fake roots, the swapfiles on real loop filesystems.

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
)

// linkedRoot makes a fake root with 32 MiB of RAM, an ext4 loop
// filesystem on /data, /ransomeye -> data/ransomeye (root's link) and a
// swap target of 32 MiB; no /var/lib.
func linkedRoot(t *testing.T) fakeRoot {
	t.Helper()
	needRoot(t)
	r := newRoot(t, 32<<20)
	loopFS(t, "ext4", "256M", r.path("data"))
	if err := os.Mkdir(r.path("data/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data/ransomeye", r.path("ransomeye")); err != nil {
		t.Fatal(err)
	}
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n[CPU]\nIsolation=off\n")
	return r
}

// recorded returns the swapfile record a purge reads.
func recorded(t *testing.T, r fakeRoot) []string {
	t.Helper()
	b, err := os.ReadFile(r.path("var/lib/ransomeye-tuner/swapfiles"))
	if err != nil {
		t.Fatalf("the swapfile record: %v", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestActivateRecordsEverySwapfile: activate records each swapfile it
// provides by its resolved path, so that a purge, which runs after the
// binary is gone and must follow no link, finds and removes it: through
// /ransomeye -> data/ransomeye it records /data/ransomeye/swap (the purge
// compared /proc/swaps with /ransomeye/swap, skipped swapoff, and rm
// failed on the active file); after a [Swap] Path= change it records the
// new file and keeps the earlier one (the purge knew only the configured
// path and left the earlier files). Without /var/lib (a /var not mounted
// yet at boot) nothing is recorded and nothing is created.
func TestActivateRecordsEverySwapfile(t *testing.T) {
	r := linkedRoot(t)
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate without /var/lib: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Lstat(r.path("var/lib")); !os.IsNotExist(err) {
		t.Errorf("activate created /var/lib: %v", err)
	}
	if err := os.MkdirAll(r.path("var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	if got := recorded(t, r); strings.Join(got, " ") != "/data/ransomeye/swap" {
		t.Errorf("record after activate through the link: %q, want the resolved /data/ransomeye/swap", got)
	}
	r.write(t, "etc/ransomeye/tuner.conf.d/60-path.conf", "[Swap]\nPath=/data/moved/swap\n")
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate after the Path= change: exit %d\n%s", res.code, res.stderr)
	}
	if got := recorded(t, r); strings.Join(got, " ") != "/data/ransomeye/swap /data/moved/swap" {
		t.Errorf("record after the Path= change: %q, want both files", got)
	}
}

// TestUninstallGivesBack: `ransomeye-tuner uninstall`, as the prerm runs
// it: vm.swappiness gets what a remaining sysctl.d file sets (30),
// vm.vfs_cache_pressure its value from before the tuner (100),
// /run/sysctl.d/60-ransomeye-tuner.conf is gone (a later sysctl --system
// applied the removed package's values over an administrator's file that
// sorts before it), and the configured swapfile is in the purge's record
// even when activate could not record it.
func TestUninstallGivesBack(t *testing.T) {
	r := linkedRoot(t)
	if err := os.MkdirAll(r.path("var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile("../units/sysctl.d/60-ransomeye-tuner.conf")
	if err != nil {
		t.Fatal(err)
	}
	r.write(t, "usr/lib/sysctl.d/60-ransomeye-tuner.conf", string(shipped))
	r.write(t, "etc/sysctl.d/50-admin.conf", "vm.swappiness = 30\n")
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	if got := r.sysctl(t, "swappiness") + " " + r.sysctl(t, "vfs_cache_pressure"); got != "10 50" {
		t.Fatalf("after activate: %s, want 10 50", got)
	}
	if err := os.Remove(r.path("var/lib/ransomeye-tuner/swapfiles")); err != nil {
		t.Fatal(err)
	}
	res := run(t, r, nil, "uninstall")
	if res.code != 0 {
		t.Fatalf("uninstall: exit %d\n%s", res.code, res.stderr)
	}
	t.Logf("uninstall:\n%s", res.stderr)
	if got := r.sysctl(t, "swappiness"); got != "30" {
		t.Errorf("vm.swappiness %s, want 30 (/etc/sysctl.d/50-admin.conf)", got)
	}
	if got := r.sysctl(t, "vfs_cache_pressure"); got != "100" {
		t.Errorf("vm.vfs_cache_pressure %s, want 100 (before the tuner)", got)
	}
	for _, want := range []string{"vm.swappiness = 30 (ransomeye-tuner had set 10): what sysctl --system sets without the package (/etc/sysctl.d/50-admin.conf)",
		"vm.vfs_cache_pressure = 100 (ransomeye-tuner had set 50): the value before ransomeye-tuner first set it"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("uninstall does not say %q", want)
		}
	}
	if _, err := os.Lstat(r.path("run/sysctl.d/60-ransomeye-tuner.conf")); !os.IsNotExist(err) {
		t.Errorf("/run/sysctl.d/60-ransomeye-tuner.conf is still there: %v", err)
	}
	if got := recorded(t, r); strings.Join(got, " ") != "/data/ransomeye/swap" {
		t.Errorf("record after uninstall: %q, want the configured swapfile, resolved", got)
	}
	if _, err := os.Stat(r.path("data/ransomeye/swap")); err != nil {
		t.Errorf("uninstall touched the swapfile: %v", err)
	}
}

// TestUninstallWaitsForActivation: the package's prerm ran `ransomeye-tuner
// uninstall` while an activation was creating the swapfile (slowed here
// with strace's fault injection); uninstall took no activation lock, so the
// activation finished after the give-back: /run/sysctl.d/60-ransomeye-tuner.conf
// and the tuner's sysctl values were back, and the removal left them.
// uninstall now waits for the activation, then gives everything back.
func TestUninstallWaitsForActivation(t *testing.T) {
	needRoot(t)
	needStrace(t)
	r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	if err := os.MkdirAll(r.path("var/lib"), 0o755); err != nil { // the record of the values before
		t.Fatal(err)
	}
	blackbox.Generate(t, r.h()) // as at boot: the drop-ins activate compares
	cmd := exec.Command("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fallocate", "-e", "inject=fallocate:delay_enter=1500000",
		tunerBin, "--root", r.path(""), "activate")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // activate is in fallocate now
	un := run(t, r, nil, "uninstall")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("activate: %v", err)
	}
	if _, err := os.Lstat(r.path("run/sysctl.d/60-ransomeye-tuner.conf")); err == nil {
		t.Errorf("after uninstall (exit %d), /run/sysctl.d/60-ransomeye-tuner.conf is there again:\n%s", un.code, un.stderr)
	}
	if v := r.sysctl(t, "swappiness"); v != "60" {
		t.Errorf("after uninstall (exit %d), vm.swappiness = %s, want the 60 it had before:\n%s", un.code, v, un.stderr)
	}
}
