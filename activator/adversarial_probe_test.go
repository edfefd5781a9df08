package main_test

// Outside review probes: each test pins what a careful user expects and
// FAILS on this tree where the review found a defect. Evidence for the lead;
// none of them turns swap on (the kernel's acceptance is cited, not run).

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestProbeConcurrentPlaceUndoUninstall: place, place --undo and uninstall
// at once (a DPI engine's ExecStartPost= while the package is removed), then
// a last place --undo: every interrupt and mask is back where it was.
func TestProbeConcurrentPlaceUndoUninstall(t *testing.T) {
	const tries = 8
	for try := 0; try < tries; try++ {
		root, orig := placeRoot(t, 120, nil)
		var cmds []*exec.Cmd
		var errs []*strings.Builder
		for _, args := range [][]string{{"place"}, {"place", "--undo"}, {"place"}, {"uninstall"}, {"place"}, {"place", "--undo"}, {"place"}} {
			c, e := placeRun(t, root, args...)
			cmds, errs = append(cmds, c), append(errs, e)
		}
		for i, c := range cmds {
			if err := c.Wait(); err != nil {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 { // uninstall may exit 1 (no sysctls)
					t.Fatalf("run %d: %v\n%s", i, err, errs[i])
				}
			}
		}
		c, e := placeRun(t, root, "place", "--undo")
		if err := c.Wait(); err != nil {
			t.Fatalf("place --undo: %v\n%s", err, e)
		}
		if bad := changedFiles(t, root, orig); len(bad) > 0 {
			n := min(len(bad), 5)
			t.Fatalf("try %d: not restored: %s", try, strings.Join(bad[:n], "; "))
		}
	}
}

// TestProbeUninstallDuringActivationLeavesNothing: the package's prerm runs
// `ransomeye-tuner uninstall` and only then stops the activator; uninstall
// takes no activation lock. An activation in progress (creating the
// swapfile, slowed here with strace's fault injection) finishes after the
// give-back: /run/sysctl.d/60-ransomeye-tuner.conf and the tuner's sysctl
// values are back, and the package's removal leaves them.
func TestProbeUninstallDuringActivationLeavesNothing(t *testing.T) {
	needRoot(t)
	needStrace(t)
	r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	if err := os.MkdirAll(r.path("var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
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
		t.Errorf("after uninstall (exit %d), /run/sysctl.d/60-ransomeye-tuner.conf is there again and vm.swappiness = %s:\n%s", un.code, r.sysctl(t, "swappiness"), un.stderr)
	}
}
