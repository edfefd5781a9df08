package main_test

// plan, status and activate on the same roots must say the same thing about
// the swapfile: they decided it in three places and disagreed (plan said
// "create" where status said "activate would refuse").

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
		// untouched, for a refusal, is a directory activate must leave
		// empty, and status (text) must then fail giving the reason.
		untouched string
	}{
		{"healthy", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
		}, "create", "does not exist: create", ""},
		// The boot suite's case 10, run by hand: activate must not create
		// the swapfile in the directory underneath, on the root filesystem.
		{"data disk not mounted", func(t *testing.T, r fakeRoot) {
			r.unmountedDisk(t, "LABEL=ransomeye /ransomeye ext4 nofail,x-systemd.device-timeout=15s 0 2\n", "ransomeye")
		}, "refuse", `"/ransomeye" in /etc/fstab) is not mounted`, "ransomeye"},
		// Row 21: the data-disk check ran on /ransomeye, not on where the
		// link leads, and the swapfile was created on the root filesystem.
		{"symlinked directory on an unmounted data disk", func(t *testing.T, r fakeRoot) {
			r.unmountedDisk(t, "LABEL=data /data ext4 nofail 0 2\n", "data")
			if err := os.Symlink("data/ransomeye", r.path("ransomeye")); err != nil {
				t.Fatal(err)
			}
		}, "refuse", `"/data" in /etc/fstab) is not mounted`, "data"},
		{"symlinked directory", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("data"))
			os.Mkdir(r.path("data/ransomeye"), 0o755)
			if err := os.Symlink("data/ransomeye", r.path("ransomeye")); err != nil {
				t.Fatal(err)
			}
		}, "create", "does not exist: create", ""},
		{"unsafe directory", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
			os.Chmod(r.path("ransomeye"), 0o777)
		}, "refuse", `"/ransomeye" is writable by other users`, ""},
		{"filesystem too small", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "48M", r.path("ransomeye"))
		}, "refuse", "not enough space on the ext4 filesystem", ""},
		{"existing swapfile too small", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
			sw := r.path("ransomeye/swap")
			sh(t, "fallocate", "-l", "32M", sw)
			os.Chmod(sw, 0o600)
			sh(t, "mkswap", "-L", "ransomeye-swap", sw)
		}, "replace", "smaller than the target", ""},
		{"our swapfile too small, room only without it", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "128M", r.path("ransomeye"), "-b", "4096")
			makeSwapArea(t, r.path("ransomeye/swap"), "48M", []string{"-L", "ransomeye-swap"})
		}, "replace", "the old file is removed first", ""},
		{"our swapfile holding a stale hibernation image", func(t *testing.T, r fakeRoot) {
			loopFS(t, "ext4", "512M", r.path("ransomeye"))
			makeSwapArea(t, r.path("ransomeye/swap"), "64M", []string{"-L", "ransomeye-swap"})
			hibernate(t, r.path("ransomeye/swap"), "S1SUSPEND")
		}, "keep", "stale hibernation image (signature S1SUSPEND)", ""},
		{"btrfs with the dup data profile", func(t *testing.T, r fakeRoot) {
			loopFS(t, "btrfs", "512M", r.path("ransomeye"), "-d", "dup")
		}, "refuse", "has the data profile dup", ""},
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
				if tc.untouched == "" {
					return
				}
				if !strings.Contains(res.stderr, tc.reason) {
					t.Errorf("activate does not give the reason %q:\n%s", tc.reason, res.stderr)
				}
				if ents, _ := os.ReadDir(r.path(tc.untouched)); len(ents) != 0 {
					t.Errorf("activate wrote into %q: %v", "/"+tc.untouched, ents)
				}
				if st := run(t, r, nil, "status"); st.code != 1 || !strings.Contains(st.stdout, tc.reason) {
					t.Errorf("status: exit %d; want 1 giving the reason %q\n%s", st.code, tc.reason, st.stdout)
				}
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

// TestPlanSeesDataMountUnitNotMounted: the data disk is described by a
// native mount unit (/etc/systemd/system/data.mount, Where=/data), not by
// /etc/fstab, and is not mounted: plan must say so, naming data.mount. A
// data-disk check reading fstab only had plan say "create" on the root
// filesystem underneath.
func TestPlanSeesDataMountUnitNotMounted(t *testing.T) {
	r := newRoot(t, 64<<20)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nPath=/data/ransomeye/swap\nMinSize=32M\nReserve=0\n")
	r.write(t, "proc/self/mountinfo", "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
	r.write(t, "etc/fstab", "/dev/vda / ext4 defaults 0 1\n")
	r.write(t, "etc/systemd/system/data.mount", "[Mount]\nWhat=LABEL=data\nWhere=/data\nType=xfs\n")
	if err := os.MkdirAll(r.path("data/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := run(t, r, nil, "plan")
	if !strings.Contains(res.stdout, "not mounted") || !strings.Contains(res.stdout, "data.mount") {
		t.Errorf("plan does not see that /data (data.mount) is not mounted:\n%s", res.stdout)
	}
}
