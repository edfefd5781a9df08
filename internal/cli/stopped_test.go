package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestSysctlNotAppliedWhenActivationStoppedAtSwap: activate stopped at the
// swap step, before it sets the sysctls; status says the sysctl was not
// applied and why, and sends the operator to the marker's cause, never to
// "something set it after ransomeye-tuner.service" or to a sysctl.d file
// that sysctl --system never applied over it.
func TestSysctlNotAppliedWhenActivationStoppedAtSwap(t *testing.T) {
	for name, extra := range map[string]map[string]string{
		"nothing sets it":      nil,
		"a sysctl.d file sets": {"/etc/sysctl.d/99-admin.conf": "vm.swappiness = 60\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := fakeroot.New(t, fakeroot.Healthy)
			files := map[string]string{
				// The boot's value, before activate.
				"/proc/sys/vm/swappiness": "60\n",
				// A directory where the swapfile goes: activate refuses it.
				"/etc/ransomeye/tuner.conf": "[Swap]\nMinSize=1M\nReserve=0\nPath=/ransomeye/dir/swap\n",
			}
			for p, c := range extra {
				files[p] = c
			}
			for p, c := range files {
				if err := os.MkdirAll(root.Path(p[:strings.LastIndexByte(p, '/')]), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(root.Path(p), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(root.Path("/ransomeye/dir/swap"), 0o755); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runMain("--root", root.String(), "activate"); code != ExitFail {
				t.Fatalf("activate: exit %d, want a failure at the swap step\n%s", code, errOut)
			}
			// What the unit's ExecStopPost= adds after it, as in a boot.
			t.Setenv("SERVICE_RESULT", "exit-code")
			if code, _, errOut := runMain("--root", root.String(), "fail-closed", "--if-failed"); code != ExitOK {
				t.Fatalf("fail-closed --if-failed: exit %d\n%s", code, errOut)
			}
			if b, _ := os.ReadFile(root.Path("/proc/sys/vm/swappiness")); string(b) != "60\n" {
				t.Fatalf("activate set vm.swappiness to %q after failing at the swap step", b)
			}
			_, out, _ := runMain("--root", root.String(), "status", "--json")
			var doc struct {
				Guarantees []struct{ Name, Reason, Remedy string } `json:"guarantees"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("status --json: %v\n%s", err, out)
			}
			found := false
			for _, g := range doc.Guarantees {
				if g.Name != "sysctl:vm.swappiness" {
					continue
				}
				found = true
				if !strings.Contains(g.Reason, "not applied: activation stopped at swap") {
					t.Errorf("reason %q does not say the activation stopped at the swap step", g.Reason)
				}
				for _, wrong := range []string{"something set it after", "sysctl --system", "99-admin.conf"} {
					if strings.Contains(g.Reason+g.Remedy, wrong) {
						t.Errorf("reason %q, remedy %q blame %q", g.Reason, g.Remedy, wrong)
					}
				}
				if !strings.HasSuffix(g.Remedy, "then: "+names.RecoverCommand) {
					t.Errorf("remedy %q", g.Remedy)
				}
			}
			if !found {
				t.Fatalf("status --json has no vm.swappiness guarantee:\n%s", out)
			}
		})
	}
}
