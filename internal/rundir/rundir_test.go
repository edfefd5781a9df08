package rundir_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/rundir"
)

// writers are the code paths that make the tuner's directory under /run
// when it is missing; each must leave the same mode.
var writers = map[string]func(hostroot.Root) error{
	"success record": func(r hostroot.Root) error { return marker.WriteOK(r, "b1", time.Now()) },
	"activation lock": func(r hostroot.Root) error {
		unlock, err := marker.Lock(r)
		if err == nil {
			unlock()
		}
		return err
	},
	"placement lock": func(r hostroot.Root) error {
		unlock, err := placement.Lock(r)
		if err == nil {
			unlock()
		}
		return err
	},
	"plan file": func(r hostroot.Root) error { return placement.WriteFile(r, map[string]int{"version": 1}) },
	"capture device": func(r hostroot.Root) error {
		return placement.WriteCaptureDevice(r, "/sys/devices/pci0000:00/0000:00:03.0")
	},
	"placement hold": func(r hostroot.Root) error { _, err := placement.Hold(r, false, true); return err },
}

// TestOneModeWhoeverMakesIt: whichever code makes /run/ransomeye-tuner
// first, it is root's with rundir.Mode, and one an earlier version made
// root-only gets that mode from the next writer. Before, the success
// record and the fallback marker made it 0700 and the placement 0755,
// whichever ran first, and the plan file the manual offers to services was
// unreadable behind a 0700 one.
func TestOneModeWhoeverMakesIt(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the directory must be root's")
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			for _, before := range []os.FileMode{0, 0o700} {
				root := hostroot.Root(t.TempDir())
				if err := os.MkdirAll(root.Path("/run"), 0o755); err != nil {
					t.Fatal(err)
				}
				if before != 0 {
					if err := os.Mkdir(root.Path(rundir.Path), before); err != nil {
						t.Fatal(err)
					}
				}
				if err := write(root); err != nil {
					t.Fatalf("%s (directory before: %v): %v", name, before, err)
				}
				fi, err := os.Stat(root.Path(rundir.Path))
				if err != nil || fi.Mode().Perm() != rundir.Mode {
					t.Errorf("%s (directory before: %v): %v, mode %v; want %v", name, before, err, fi.Mode().Perm(), rundir.Mode)
				}
			}
		})
	}
}

// TestPlanFileReadableByServices: a service running as its own user
// reads /run/ransomeye-tuner/plan.json (and status run by any user the
// success record), while the locks stay closed to it: a user who could
// open a lock could flock it and hold every activation up.
func TestPlanFileReadableByServices(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: reads as another user")
	}
	root := hostroot.Root(t.TempDir())
	// The test's own temporary directories are root-only: open the way.
	for d := root.String(); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(root.Path("/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The order of a boot: activate takes its lock and writes the success
	// record before the placement writes the plan file.
	for _, w := range []string{"activation lock", "success record", "placement lock", "plan file"} {
		if err := writers[w](root); err != nil {
			t.Fatalf("%s: %v", w, err)
		}
	}
	asNobody := func(p string) error {
		cmd := exec.Command("cat", root.Path(p))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("cat %s as uid 65534: %v: %s", p, err, out)
		}
		return err
	}
	for _, p := range []string{placement.Path, marker.OKPath} {
		if err := asNobody(p); err != nil {
			t.Errorf("uid 65534 cannot read %s: %v", p, err)
		}
	}
	for _, p := range []string{rundir.Path + "/" + marker.LockName, rundir.Path + "/place.lock"} {
		if err := asNobody(p); err == nil {
			t.Errorf("uid 65534 can open the lock %s", p)
		}
	}
}
