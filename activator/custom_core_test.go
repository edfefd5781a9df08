package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
)

// TestInvalidConfigKeepsCustomCoreGated: [CPU] CoreService=mydb.service with
// a typo elsewhere. The generator, run as systemd would, writes the gate
// drop-in for mydb.service (and nothing else); activate fails closed, and
// the gate keeps the core down. Before: no file at all, so mydb.service
// started with no guarantee. Needs root (a marker written by root), but no
// loop device.
func TestInvalidConfigKeepsCustomCoreGated(t *testing.T) {
	needUID0(t)
	r := newRoot(t, 64<<20)
	r.write(t, "etc/ransomeye/tuner.conf", "[CPU]\nCoreService=mydb.service\n[Sysctl]\nSwappiness=1O\n")
	normal, early, late := blackbox.OutDirs(t)
	out := filepath.Dir(normal)
	runGenerator(t, r, normal, early, late)
	var written []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(out, p)
			written = append(written, rel)
		}
		return nil
	})
	want := "normal/mydb.service.d/ransomeye-tuner-gate.conf"
	if len(written) != 1 || written[0] != want {
		t.Fatalf("generator wrote %q, want only %q", written, want)
	}
	b, _ := os.ReadFile(filepath.Join(out, want))
	if !strings.Contains(string(b), "ExecCondition=") || !strings.Contains(string(b), " gate") {
		t.Errorf("gate drop-in has no gate:\n%s", b)
	}
	failedClosed(t, r, activate(t, r), "Swappiness=1O")
}

// TestSwallowedCPUHeaderKeepsCustomCoreGated: a trailing backslash after an
// invalid value joins the "[CPU]" header into that value, so the
// CoreService=mydb.service below it is read under [Sysctl]. The real
// generator must still write the gate drop-in for mydb.service. Trusting
// the section parser, the configuration counted as settling the core as
// ransomeye-core.service and nothing was written for mydb.service, which
// started with no gate.
func TestSwallowedCPUHeaderKeepsCustomCoreGated(t *testing.T) {
	r := newRoot(t, 64<<20)
	r.write(t, "etc/ransomeye/tuner.conf", "[Sysctl]\nSwappiness=1O \\\n[CPU]\nCoreService=mydb.service\n")
	out := t.TempDir()
	dirs := []string{filepath.Join(out, "normal"), filepath.Join(out, "early"), filepath.Join(out, "late")}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runGenerator(t, r, dirs...)
	if _, err := os.Stat(filepath.Join(dirs[0], "mydb.service.d", "ransomeye-tuner-gate.conf")); err != nil {
		t.Errorf("no gate drop-in for mydb.service, named by the only CoreService= line of an invalid configuration: %v", err)
	}
}
