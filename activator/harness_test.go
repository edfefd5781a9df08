package main_test

// The names the black-box tests of this directory use for the harness
// (testkit/blackbox): one harness for the activator's, the generator's and
// the fault matrix's black-box tests, which all run here against the real
// binaries, built once in TestMain.

import (
	"os"
	"os/exec"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
)

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// tunerBin and generatorBin are the real binaries under test.
var tunerBin, generatorBin string

func TestMain(m *testing.M) { os.Exit(blackbox.Main(m, &tunerBin, &generatorBin)) }

var (
	needRoot      = blackbox.NeedRoot
	needStrace    = blackbox.NeedStrace
	needUID0      = blackbox.NeedUID0
	sh            = blackbox.Sh
	loopFS        = blackbox.LoopFS
	checkSwapfile = blackbox.CheckSwapfile
	swaponOff     = blackbox.SwaponOff
	tempEntries   = blackbox.TempEntries
	statOf        = blackbox.StatOf
	inode         = blackbox.Inode
	makeSwapArea  = blackbox.MakeSwapArea
)

// fakeRoot is a temporary root prefix with fake /proc files (blackbox.Root).
type fakeRoot struct{ dir string }

func (r fakeRoot) h() blackbox.Root                      { return blackbox.Root(r.dir) }
func (r fakeRoot) path(p string) string                  { return r.h().Path(p) }
func (r fakeRoot) write(t *testing.T, p, content string) { t.Helper(); r.h().Write(t, p, content) }
func (r fakeRoot) setMem(t *testing.T, memTotal int64)   { t.Helper(); r.h().SetMem(t, memTotal) }
func (r fakeRoot) setSwaps(t *testing.T, entries ...string) {
	t.Helper()
	r.h().SetSwaps(t, entries...)
}
func (r fakeRoot) sysctl(t *testing.T, key string) string { t.Helper(); return r.h().Sysctl(t, key) }
func (r fakeRoot) marker() string                         { return r.h().Marker() }
func (r fakeRoot) fill(t *testing.T, memTotal int64)      { t.Helper(); r.h().Fill(t, memTotal) }
func (r fakeRoot) fakeSwapon(t *testing.T) func()         { t.Helper(); return r.h().FakeSwapon(t) }

// newRoot makes a fake root with memTotal bytes of RAM, no active swap,
// default sysctls, a plain kernel command line, the host's /sys and
// /proc/cpuinfo, and /var/lock -> ../run/lock as on Debian.
func newRoot(t *testing.T, memTotal int64) fakeRoot {
	t.Helper()
	return fakeRoot{string(blackbox.NewRoot(t, memTotal))}
}

// loopRoot makes a fake root with memTotal bytes of RAM (newRoot), a 1 GiB
// ext4 loop filesystem on /ransomeye and conf as tuner.conf; it skips
// without root and loop devices (needRoot).
func loopRoot(t *testing.T, memTotal int64, conf string) fakeRoot {
	t.Helper()
	needRoot(t)
	r := newRoot(t, memTotal)
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", conf)
	return r
}

// unmountedDisk puts a data disk in /etc/fstab (fstabLine) that is not
// mounted: mountinfo holds only /, and its mount point dir is an empty
// directory on the root filesystem, where a swapfile must not go.
func (r fakeRoot) unmountedDisk(t *testing.T, fstabLine, dir string) {
	t.Helper()
	r.write(t, "etc/fstab", fstabLine)
	r.write(t, "proc/self/mountinfo", "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
	if err := os.MkdirAll(r.path(dir), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fillRoot makes dir, which may already be a mount point, such a root.
func fillRoot(t *testing.T, dir string, memTotal int64) fakeRoot {
	t.Helper()
	return fakeRoot{string(blackbox.Populate(t, dir, memTotal))}
}

// result is one run of a binary.
type result struct {
	stdout, stderr string
	code           int    // exit code, -1 when killed by a signal
	signal         string // the signal that killed it, if any
}

func fromHarness(res blackbox.Result) result {
	return result{res.Stdout, res.Stderr, res.Code, res.Signal}
}

func (res result) h() blackbox.Result {
	return blackbox.Result{Stdout: res.stdout, Stderr: res.stderr, Code: res.code, Signal: res.signal}
}

// run runs ransomeye-tuner on the root r with the extra environment env;
// activate as a boot runs it (bootRun).
func run(t *testing.T, r fakeRoot, env []string, args ...string) result {
	t.Helper()
	return runAct(t, r, env, nil, args...)
}

// runAct is run behind a command prefix wrap (strace ...), or nil.
func runAct(t *testing.T, r fakeRoot, env []string, wrap []string, args ...string) result {
	t.Helper()
	if len(args) > 0 && args[0] == "activate" {
		blackbox.Generate(t, r.h())
	}
	return rawRun(t, r, env, wrap, args...)
}

// rawRun runs ransomeye-tuner as it is, without the generator before an
// activate: for what activate does when the generator's output is not
// what it should be.
func rawRun(t *testing.T, r fakeRoot, env []string, wrap []string, args ...string) result {
	t.Helper()
	return fromHarness(blackbox.Run(t, r.h(), env, wrap, args...))
}

// activate runs ransomeye-tuner activate as a boot does: after the real
// generator has written its units into the root's output directories
// (blackbox.Generate), whose CPU and memory drop-ins activate compares
// (run and runAct do the same for any activate; rawRun does not).
func activate(t *testing.T, r fakeRoot) result { t.Helper(); return run(t, r, nil, "activate") }

// runCmd runs cmd under the harness's hang guard.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	return fromHarness(blackbox.RunCmd(t, cmd))
}

// failedClosed asserts a refusal (blackbox.FailedClosed).
func failedClosed(t *testing.T, r fakeRoot, res result, want ...string) string {
	t.Helper()
	return blackbox.FailedClosed(t, r.h(), res.h(), want...)
}

// succeeded asserts a successful activation (blackbox.Succeeded).
func succeeded(t *testing.T, r fakeRoot, res result) {
	t.Helper()
	blackbox.Succeeded(t, r.h(), res.h())
}

// runGenerator runs the real generator on the root r with the output
// directories dirs (1 or 3, as systemd passes them).
func runGenerator(t *testing.T, r fakeRoot, dirs ...string) {
	t.Helper()
	blackbox.RunGenerator(t, r.h(), dirs...)
}

// noTemp asserts that dir holds no temporary swapfile.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	for _, name := range tempEntries(dir) {
		t.Errorf("temporary file %s left in %s", name, dir)
	}
}
