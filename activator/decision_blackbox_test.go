package main_test

// plan, status and activate on the same roots must say the same thing about
// the swapfile (FAULTS.md row 23): they decided it in three places and
// disagreed (plan said "create" where status said "activate would refuse").

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSwapDecisionAgrees runs plan, status and then activate (the real
// binary) on each root and compares the action and the reason each gives.
func TestSwapDecisionAgrees(t *testing.T) {
	needRoot(t)
	conf := "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n"
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, r fakeRoot)
		action string
		reason string // a part of the reason all three must give
	}{
		{"healthy", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
		}, "create", "does not exist: create"},
		{"data disk not mounted", func(t *testing.T, r fakeRoot) {
			r.write(t, "etc/fstab", "LABEL=ransomeye /ransomeye ext4 nofail 0 2\n")
			r.write(t, "proc/self/mountinfo", "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
			os.MkdirAll(r.path("ransomeye"), 0o755)
		}, "refuse", `"/ransomeye" in /etc/fstab) is not mounted`},
		{"symlinked directory", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("data"))
			os.Mkdir(r.path("data/ransomeye"), 0o755)
			if err := os.Symlink("data/ransomeye", r.path("ransomeye")); err != nil {
				t.Fatal(err)
			}
		}, "create", "does not exist: create"},
		{"unsafe directory", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
			os.Chmod(r.path("ransomeye"), 0o777)
		}, "refuse", `"/ransomeye" is writable by other users`},
		{"filesystem too small", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "48M", r.path("ransomeye"))
		}, "refuse", "not enough space on the ext4 filesystem"},
		{"existing swapfile too small", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
			sw := r.path("ransomeye/swap")
			sh(t, "fallocate", "-l", "32M", sw)
			os.Chmod(sw, 0o600)
			sh(t, "mkswap", "-L", "ransomeye-swap", sw)
		}, "replace", "smaller than the target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRoot(t, 32<<20)
			r.write(t, "etc/ransomeye/tuner.conf", conf)
			tc.setup(t, r)

			plan := run(t, r, nil, "plan")
			m := regexp.MustCompile(`(?m)^swapfile: (\w+): (.*)$`).FindStringSubmatch(plan.stdout)
			if m == nil {
				t.Fatalf("plan has no swapfile line:\n%s%s", plan.stdout, plan.stderr)
			}
			planAction, planReason := m[1], m[2]
			sw := statusSwap(t, r)
			stAction, _ := sw["decision"].(string)
			stReason, _ := sw["reason"].(string)
			if planAction != stAction || planReason != stReason {
				t.Errorf("plan and status disagree:\nplan:   %s: %s\nstatus: %s: %s", planAction, planReason, stAction, stReason)
			}
			if planAction != tc.action || !strings.Contains(planReason, tc.reason) {
				t.Errorf("plan: %s: %s; want %s: ...%s...", planAction, planReason, tc.action, tc.reason)
			}

			res := activate(t, r)
			if tc.action == "refuse" {
				failedClosed(t, r, res, "reason: "+planReason+"\n")
				return
			}
			if res.code != 0 {
				t.Fatalf("plan said %s, activate failed: exit %d\n%s", planAction, res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, planReason) {
				t.Errorf("activate did not act on plan's reason %q:\n%s", planReason, res.stderr)
			}
		})
	}
}
