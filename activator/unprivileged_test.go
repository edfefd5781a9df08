package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// asUser runs bin with args as uid (gid the same; 0: as this process), in
// a clean environment, and returns its exit code and output.
func asUser(t *testing.T, uid uint32, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	res := blackbox.RunCmd(t, cmd)
	return res.Code, res.Stdout + res.Stderr
}

// TestStatusWithoutRootSaysWhatItCouldNotRead: on a machine where root's
// status exits 0, status run as uid 65534 cannot open the swapfile (root's,
// 0600): it says what it could not read and that root is needed, makes no
// verdict from it (no NOT COMPLIANT, no [FAIL], no problem, its own
// swapfile not listed as other swap, core_gated absent) and exits 4 (cannot
// determine); the command it prints for a verdict, run as root word for
// word, exits 0. Before, it said NOT COMPLIANT, "swapfile is not active",
// listed the swapfile as other swap, and exited 1.
func TestStatusWithoutRootSaysWhatItCouldNotRead(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	// The test's temporary directories are root-only: open the way to the
	// fake root, and put the binary under test where uid 65534 can run it.
	for d := root.String(); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(filepath.Dir(root.String()), "ransomeye-tuner")
	b, err := os.ReadFile(tunerBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := asUser(t, 0, bin, "--root", root.String(), "status"); code != 0 {
		t.Fatalf("status as root: exit %d, want 0\n%s", code, out)
	}

	code, out := asUser(t, 65534, bin, "--root", root.String(), "status")
	if code != 4 {
		t.Errorf("status as uid 65534: exit %d, want 4 (cannot determine)\n%s", code, out)
	}
	for _, want := range []string{"state", "UNKNOWN", "needs root", "permission denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("status as uid 65534 does not say %q:\n%s", want, out)
		}
	}
	for _, verdict := range []string{"NOT COMPLIANT", "[FAIL]", "problem ", "other swap"} {
		if strings.Contains(out, verdict) {
			t.Errorf("status as uid 65534 says %q from what it could not read:\n%s", verdict, out)
		}
	}

	code, js := asUser(t, 65534, bin, "--root", root.String(), "status", "--json")
	var doc struct {
		State       string            `json:"state"`
		CoreGated   *bool             `json:"core_gated"`
		NotMeasured map[string]string `json:"not_measured"`
		Guarantees  []struct {
			Name        string `json:"name"`
			NotMeasured bool   `json:"not_measured"`
			OK          bool   `json:"ok"`
		} `json:"guarantees"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("status --json as uid 65534 (exit %d): %v\n%s", code, err, js)
	}
	if code != 4 || doc.State != "unknown" || doc.CoreGated != nil || !strings.HasPrefix(doc.NotMeasured["swap"], "needs root: ") {
		t.Errorf("status --json as uid 65534: exit %d, state %q, core_gated %v, not_measured %q\n%s", code, doc.State, doc.CoreGated, doc.NotMeasured, js)
	}
	for _, g := range doc.Guarantees {
		if g.Name == "swap" && (!g.NotMeasured || g.OK) {
			t.Errorf("the swap guarantee as uid 65534: not_measured %v, ok %v; want not measured", g.NotMeasured, g.OK)
		}
	}

	// The gate, were it run without its "+" as another user, reads as
	// little: it keeps the core down (fail closed), naming what it could
	// not read.
	if code, out := asUser(t, 65534, bin, "--root", root.String(), "gate"); code != 1 || !strings.Contains(out, "needs root") {
		t.Errorf("gate as uid 65534: exit %d, want 1 (fail closed) naming what needs root\n%s", code, out)
	}

	// The printed remedy, word for word, as root.
	_, cmd, ok := strings.Cut(strings.SplitN(out, "\n", 2)[0], "for a verdict run it as root: ")
	if !ok {
		t.Fatalf("status as uid 65534 prints no command for a verdict:\n%s", out)
	}
	words := strings.Fields(strings.TrimSuffix(strings.TrimSpace(cmd), ")"))
	if len(words) == 0 || words[0] != "ransomeye-tuner" {
		t.Fatalf("the printed command %q is not ransomeye-tuner's", cmd)
	}
	if code, out := asUser(t, 0, bin, words[1:]...); code != 0 {
		t.Errorf("the printed command %q as root: exit %d, want 0\n%s", cmd, code, out)
	}
}
