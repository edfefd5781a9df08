package main_test

// The interrupt and kernel-work placement (`place`, `place --undo`) run as
// the real binary on fake 8-CPU roots: plain files stand for /proc/irq and
// the workqueue masks (this host's must not be touched).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// placeRoot writes a fake 8-CPU machine (plan: core 0-3, DPI 4-5, training
// 6-7) with n movable interrupts on every CPU, default_smp_affinity and the
// workqueue masks at their boot values, and extra files over those; it
// returns the root and every file placement may write with its content.
func placeRoot(t *testing.T, n int, extra map[string]string) (string, map[string]string) {
	t.Helper()
	needUID0(t)
	var b strings.Builder
	b.WriteString("           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n")
	files := map[string]string{
		"/proc/irq/default_smp_affinity": "ff\n",
		placement.CPUMaskPath:            "ff\n",
		placement.WritebackPath:          "ff\n",
	}
	for i := 0; i < n; i++ {
		irq := 40 + i
		fmt.Fprintf(&b, "%4d:  1 0 0 0 0 0 0 0  PCI-MSI %d-edge  dev%d\n", irq, irq, i)
		files[fmt.Sprintf("/proc/irq/%d/smp_affinity_list", irq)] = "0-7\n"
	}
	for p, c := range extra {
		files[p] = c
	}
	dir := t.TempDir()
	all := map[string]string{"/proc/interrupts": b.String()}
	for p, c := range files {
		all[p] = c
	}
	if err := (fakesys.Machine{CoresPerNode: 8, Files: all}).Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

// placeRun starts ransomeye-tuner on root with args, without waiting.
func placeRun(t *testing.T, root string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(tunerBin, append([]string{"--root", root}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// changedFiles lists the files of want whose content differs under root.
func changedFiles(t *testing.T, root string, want map[string]string) []string {
	t.Helper()
	var bad []string
	for p, w := range want {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) != strings.TrimSpace(w) {
			bad = append(bad, fmt.Sprintf("%s = %q (was %q)", p, strings.TrimSpace(string(b)), strings.TrimSpace(w)))
		}
	}
	return bad
}

// TestConcurrentPlaceThenUndoRestoresAll: placements started at the same
// time (ransomeye-tuner-place.service at boot and a DPI engine's
// ExecStartPost=, or two by hand) on a machine with many interrupts, then
// `place --undo` (what package removal runs): every interrupt and mask is
// back where it was. Each placement must read the record the one before it
// wrote: one that read an empty record while another was moving the
// interrupts found them moved, recorded nothing, and wrote its empty record
// last, and undo then knew nothing to restore. Several tries, because
// whether the runs overlap is up to the scheduler.
func TestConcurrentPlaceThenUndoRestoresAll(t *testing.T) {
	const tries, runs = 10, 4
	failed := 0
	var first []string
	for try := 0; try < tries; try++ {
		root, orig := placeRoot(t, 200, nil)
		var cmds []*exec.Cmd
		var errs []*strings.Builder
		for i := 0; i < runs; i++ {
			c, e := placeRun(t, root, "place")
			cmds, errs = append(cmds, c), append(errs, e)
		}
		for i, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Fatalf("place: %v\n%s", err, errs[i])
			}
		}
		c, e := placeRun(t, root, "place", "--undo")
		if err := c.Wait(); err != nil {
			t.Fatalf("place --undo: %v\n%s", err, e)
		}
		if bad := changedFiles(t, root, orig); len(bad) > 0 {
			failed++
			if first == nil {
				first = bad
			}
		}
	}
	if failed > 0 {
		n := len(first)
		if n > 5 {
			first = append(first[:5], fmt.Sprintf("... %d more", n-5))
		}
		t.Errorf("after %d concurrent placements and undo, %d of %d tries left values not restored; the first:\n  %s",
			runs, failed, tries, strings.Join(first, "\n  "))
	}
}

// TestConcurrentPlaceUndoUninstallRestoresAll: place, place --undo and
// uninstall at once (a DPI engine's ExecStartPost= while the package is
// removed), then a last place --undo: every interrupt and mask is back
// where it was, whichever order the runs took the placement lock in.
func TestConcurrentPlaceUndoUninstallRestoresAll(t *testing.T) {
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

// readValues returns the trimmed content of each file of paths under root.
func readValues(t *testing.T, root string, paths ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		m[p] = strings.TrimSpace(string(b))
	}
	return m
}

// TestPlaceKeepsNarrowedMasksUndoRestoresThem: an administrator narrowed
// default_smp_affinity and the unbound workqueue mask to 0-1, inside the
// core's 0-3, and writeback's to 0-5. `place` leaves the first two as they
// are (widening them would put work on CPUs kept free) and narrows
// writeback's to 0-3; `place --undo` returns writeback's to 0-5, what was
// there, not to the kernel's boot default (every CPU), and leaves the
// other two at 0-1.
func TestPlaceKeepsNarrowedMasksUndoRestoresThem(t *testing.T) {
	const def = "/proc/irq/default_smp_affinity"
	root, _ := placeRoot(t, 2, map[string]string{def: "3\n", placement.CPUMaskPath: "3\n", placement.WritebackPath: "3f\n"})
	for _, step := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"place"}, map[string]string{def: "3", placement.CPUMaskPath: "3", placement.WritebackPath: "f"}},
		{[]string{"place"}, map[string]string{def: "3", placement.CPUMaskPath: "3", placement.WritebackPath: "f"}},
		{[]string{"place", "--undo"}, map[string]string{def: "3", placement.CPUMaskPath: "3", placement.WritebackPath: "3f"}},
	} {
		c, e := placeRun(t, root, step.args...)
		if err := c.Wait(); err != nil {
			t.Fatalf("%s: %v\n%s", step.args, err, e)
		}
		got := readValues(t, root, def, placement.CPUMaskPath, placement.WritebackPath)
		for p, w := range step.want {
			if got[p] != w {
				t.Errorf("after %s: %s = %q, want %q\n%s", strings.Join(step.args, " "), p, got[p], w, e)
			}
		}
	}
}
