package apply_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestRecoverStartsOwnUnitsAsThePackageEnablesThem: the package enables
// the metrics timer and the netdev unit by static links in
// /usr/lib/systemd/system/*.wants/ (scripts/nfpm.yaml), not by systemctl
// enable. systemd reports such a unit's UnitFileState as "static" (no
// [Install] section) or "disabled" (an [Install] section, no link under
// /etc), never "enabled". After a refused package removal stopped them,
// recover, which the refusal prints as the way to keep the tuner, must
// start them again: the state systemd really reports for the shipped
// units (asked of systemctl --root on the package's layout) must not make
// recover skip them.
func TestRecoverStartsOwnUnitsAsThePackageEnablesThem(t *testing.T) {
	systemctl, err := exec.LookPath("systemctl")
	if err != nil {
		t.Skip("no systemctl to ask the unit file state of the shipped units")
	}
	tree := t.TempDir()
	dir := filepath.Join(tree, "usr/lib/systemd/system")
	wants := map[string]string{
		names.MetricsTimer: "timers.target.wants",
		names.NetdevUnit:   "multi-user.target.wants",
	}
	for _, d := range []string{"etc/systemd/system", "usr/lib/systemd/system/timers.target.wants", "usr/lib/systemd/system/multi-user.target.wants"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{names.MetricsTimer, "ransomeye-tuner-metrics.service", names.NetdevUnit, names.ActivatorUnit} {
		b, err := os.ReadFile(filepath.Join("..", "..", "units", u))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, u), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for u, w := range wants {
		if err := os.Symlink("../"+u, filepath.Join(dir, w, u)); err != nil {
			t.Fatal(err)
		}
	}

	root := fakeroot.New(t, fakeroot.Failed)
	sd := newFakeSystemd(t, root)
	for _, u := range apply.OwnUnits {
		out, _ := exec.Command(systemctl, "--root="+tree, "is-enabled", u).Output()
		file := strings.TrimSpace(string(out))
		if file == "" {
			t.Fatalf("systemctl --root is-enabled %s said nothing", u)
		}
		sd.units[u] = apply.UnitState{Load: "loaded", Active: "inactive", Result: "success", File: file}
	}
	sd.units[names.CoreService] = apply.UnitState{Load: "loaded", Active: "inactive", Result: "success", File: "enabled"}
	var out bytes.Buffer
	if !apply.Recover(root, sd, &out) {
		t.Fatalf("recover failed:\n%s", out.String())
	}
	for _, u := range apply.OwnUnits {
		if !slices.Contains(sd.calls, "start "+u) {
			t.Errorf("%s as packaged (UnitFileState %q) stopped by a refused removal: recover did not start it (calls %q)\n%s", u, sd.units[u].File, sd.calls, out.String())
		}
	}
}
