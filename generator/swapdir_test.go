package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// linkedSwapDirRoot makes a fake root whose /ransomeye is root's link to
// /data/ransomeye, and /data an empty directory: /data/ransomeye does not
// exist yet, as when the data disk is not mounted when the generator runs.
// It needs root: the generator follows only links that root owns.
func linkedSwapDirRoot(t *testing.T) string {
	t.Helper()
	blackbox.NeedUID0(t)
	root := t.TempDir()
	if err := (fakesys.Machine{CoresPerNode: 2}).Write(root); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/data/ransomeye", filepath.Join(root, "ransomeye")); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestSwapDirLink: with /ransomeye -> /data/ransomeye (root's link on the
// root filesystem, /data the data disk's mount point) the activator and the
// swap unit also require the mounts for /data/ransomeye. Before, only
// RequiresMountsFor=/ransomeye was written, which systemd maps to the root
// filesystem: the activator ran before data.mount and made the swapfile on
// the root filesystem underneath. Needs root: only root's links are
// followed.
func TestSwapDirLink(t *testing.T) {
	root := linkedSwapDirRoot(t)
	d, log, _ := runCase(t, root)
	act, err := os.ReadFile(filepath.Join(d.normal, "ransomeye-tuner.service.d", "ransomeye-tuner.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(act), "RequiresMountsFor=/ransomeye /data/ransomeye\n") {
		t.Errorf("activator drop-in:\n%s", act)
	}
	sw, err := os.ReadFile(filepath.Join(d.normal, "ransomeye-swap.swap.d", "ransomeye-tuner.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sw), "RequiresMountsFor=/data/ransomeye\n") {
		t.Errorf("swap unit drop-in:\n%s", sw)
	}
	if log != "" && !strings.Contains(log, `"/ransomeye" is a link to "/data/ransomeye"`) {
		t.Errorf("log does not say where the link leads:\n%s", log)
	}
	// systemd reads them as meant: the units wait for /data's mount.
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return
	}
	base := verifyBase(t)
	caseDir := filepath.Join(base, "dump", "swapdir-link")
	_ = os.RemoveAll(caseDir)
	copyTree(t, d.normal, filepath.Join(caseDir, "normal"))
	copyTree(t, d.late, filepath.Join(caseDir, "late"))
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", "--root="+base, "ransomeye-swap.swap", "ransomeye-tuner.service")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH=/dump/swapdir-link/normal:/dump/swapdir-link/late:/units:/stub:", "SYSTEMD_LOG_LEVEL=debug")
	out, _ := cmd.Output()
	for _, want := range []string{"RequiresMountsFor: /data/ransomeye (origin-file)"} {
		if n := strings.Count(string(out), "\t"+want+"\n"); n != 2 {
			t.Errorf("systemd's parse shows %q %d times, want 2 (activator and swap unit):\n%s", want, n, grepLines(out, "RequiresMountsFor", 20))
		}
	}
}

// TestFstabNamesResolvedSwapfile: with /ransomeye -> /data/ransomeye, an
// /etc/fstab swap line for /data/ransomeye/swap names the swapfile through
// its resolved path. The generator compared fstab with the configured path
// only and wrote its own ransomeye-swap.swap beside the
// data-ransomeye-swap.swap that systemd-fstab-generator makes: two swap
// units for one file, the second swapon bound to fail with EBUSY and its
// OnFailure= to keep the core down. It must behave as for an fstab line
// naming the configured path: no .swap of its own, and the drop-in that
// keeps the gate on the administrator's unit (systemd's parse shows it
// there), the activator ordered before that unit.
func TestFstabNamesResolvedSwapfile(t *testing.T) {
	root := linkedSwapDirRoot(t)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/fstab"), []byte("LABEL=data /data ext4 defaults 0 2\n/data/ransomeye/swap none swap sw 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const admin = "data-ransomeye-swap.swap" // systemd-escape --path --suffix=swap /data/ransomeye/swap
	d, log, logOK := runCase(t, root)
	if l := tree(t, d.late); len(l) != 0 {
		t.Errorf("our own swap unit written beside the fstab line's: %v", l)
	}
	if _, err := os.Stat(filepath.Join(d.normal, "ransomeye-swap.swap.d")); err == nil {
		t.Error("a drop-in for ransomeye-swap.swap, a unit that does not exist when fstab names the file")
	}
	dropIn, err := os.ReadFile(filepath.Join(d.normal, admin+".d", "ransomeye-tuner.conf"))
	if err != nil {
		t.Fatalf("no drop-in on the administrator's unit: %v", err)
	}
	for _, want := range []string{"ConditionPathExists=!/var/lock/ransomeye-resource-fail\n", "OnFailure=ransomeye-tuner-fail-closed.service\n"} {
		if !strings.Contains(string(dropIn), want) {
			t.Errorf("the drop-in on %s lacks %q:\n%s", admin, want, dropIn)
		}
	}
	act, err := os.ReadFile(filepath.Join(d.normal, "ransomeye-tuner.service.d", "ransomeye-tuner.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(act), "Before="+admin+"\n") {
		t.Errorf("the activator is not ordered before %s:\n%s", admin, act)
	}
	if logOK && !strings.Contains(log, `already has "/data/ransomeye/swap" as swap, the same file as "/ransomeye/swap"`) {
		t.Errorf("the log does not say why no unit was written:\n%s", log)
	}
	if out, err := exec.Command("systemd-escape", "--path", "--suffix=swap", "/data/ransomeye/swap").Output(); err == nil && strings.TrimSpace(string(out)) != admin {
		t.Fatalf("systemd names the fstab line's unit %q, not %q", out, admin)
	}
	// systemd's parse: the wiring lands on the administrator's unit (a
	// stand-in for fstab-generator's, which refuses swap in a container).
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return
	}
	base := verifyBase(t)
	caseDir := filepath.Join(base, "dump", "fstab-resolved")
	_ = os.RemoveAll(caseDir)
	copyTree(t, d.normal, filepath.Join(caseDir, "normal"))
	unitText := "# stand-in for systemd-fstab-generator output\n[Unit]\nSourcePath=/etc/fstab\n\n[Swap]\nWhat=/data/ransomeye/swap\nOptions=sw\n"
	if err := os.MkdirAll(filepath.Join(caseDir, "admin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(caseDir, "admin", admin), []byte(unitText), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", "--root="+base, admin, "ransomeye-tuner.service")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH=/dump/fstab-resolved/normal:/dump/fstab-resolved/admin:/units:/stub:", "SYSTEMD_LOG_LEVEL=debug")
	out, _ := cmd.Output()
	for _, want := range []string{"What: /data/ransomeye/swap",
		"OnFailure: ransomeye-tuner-fail-closed.service (origin-file)",
		"Wants: ransomeye-tuner.service (origin-file)",
		"After: ransomeye-tuner.service (origin-file destination-file)"} { // destination: the activator's Before=
		if !strings.Contains(string(out), "\t\t"+want+"\n") {
			t.Errorf("%s lacks %q in systemd's parse:\n%s", admin, want, grepLines(out, "After", 20))
		}
	}
}
