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

// TestSwapDirLink: with /ransomeye -> /data/ransomeye (root's link on the
// root filesystem, /data the data disk's mount point) the activator and the
// swap unit also require the mounts for /data/ransomeye. Before, only
// RequiresMountsFor=/ransomeye was written, which systemd maps to the root
// filesystem: the activator ran before data.mount and made the swapfile on
// the root filesystem underneath. Needs root: only root's links are
// followed.
func TestSwapDirLink(t *testing.T) {
	blackbox.NeedUID0(t) // the generator follows only links that root owns
	root := t.TempDir()
	if err := (fakesys.Machine{CoresPerNode: 2}).Write(root); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /data/ransomeye does not exist yet: the data disk is not mounted when
	// the generator runs.
	if err := os.Symlink("/data/ransomeye", filepath.Join(root, "ransomeye")); err != nil {
		t.Fatal(err)
	}
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
