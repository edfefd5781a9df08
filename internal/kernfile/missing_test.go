package kernfile

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// The child of TestMissingFileOpenedOnce reads this file under this root.
const (
	childRootEnv = "KERNFILE_TEST_CHILD_ROOT"
	childPathEnv = "KERNFILE_TEST_CHILD_PATH"
)

// TestMissingFileOpenedOnce: reading a kernel file that is not there (a
// sysctl this kernel lacks, an interrupt gone) is one failed open, traced
// with strace: openat2 has answered, and walking the path to fail again
// only doubles the cost of every absent file a run probes.
func TestMissingFileOpenedOnce(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("skipped: needs strace")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/sys/vm"), 0o755); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace, os.Args[0], "-test.run=^TestReadMissingChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childRootEnv+"="+root, childPathEnv+"=/proc/sys/vm/absent_knob")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("skipped: strace cannot trace here: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var tries []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "absent_knob") {
			tries = append(tries, l)
		}
	}
	if len(tries) == 1 && strings.Contains(tries[0], "ENOSYS") {
		t.Skip("skipped: openat2 is not available here")
	}
	if len(tries) != 1 || !strings.Contains(tries[0], "ENOENT") {
		t.Errorf("reading a missing kernel file opened it %d times, want one failed open:\n%s", len(tries), strings.Join(tries, "\n"))
	}
}

// TestReadMissingChild is TestMissingFileOpenedOnce's traced child.
func TestReadMissingChild(t *testing.T) {
	root := os.Getenv(childRootEnv)
	if root == "" {
		t.Skip("skipped: run by TestMissingFileOpenedOnce")
	}
	if _, err := Read(hostroot.Root(root), os.Getenv(childPathEnv)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read a missing file: %v, want one wrapping fs.ErrNotExist", err)
	}
}
