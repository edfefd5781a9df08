package blackbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hangGuard bounds a run that must not block: it is not a speed assertion
// (a healthy run takes milliseconds) but the point at which a blocked
// process is declared blocked and killed, so that a hang fails the test
// instead of stalling it.
const hangGuard = 60 * time.Second

// Result is one run of a binary.
type Result struct {
	Stdout, Stderr string
	Code           int    // exit code, -1 when killed by a signal
	Signal         string // the signal that killed it, if any
}

// RunCmd runs cmd under the hang guard and collects its result; a panic in
// the binary fails the test.
func RunCmd(t *testing.T, cmd *exec.Cmd) Result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %q: %v", cmd.Args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(hangGuard):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%q blocked: still running after %s, killed (stderr so far:\n%s)", cmd.Args, hangGuard, errb.String())
	}
	res := Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
		}
	} else if err != nil {
		t.Fatalf("run %q: %v", cmd.Args, err)
	}
	if strings.Contains(res.Stderr, "panic:") || strings.Contains(res.Stderr, "goroutine ") {
		t.Fatalf("%q panicked:\n%s", cmd.Args, res.Stderr)
	}
	return res
}

// Run runs ransomeye-tuner with RANSOMEYE_TUNER_ROOT=r, $PATH, env (which
// may override $PATH) and args; wrap is a command prefix (strace ...) or nil.
func Run(t *testing.T, r Root, env, wrap []string, args ...string) Result {
	t.Helper()
	argv := append(append(append([]string{}, wrap...), tunerBin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"RANSOMEYE_TUNER_ROOT=" + string(r), "PATH=" + os.Getenv("PATH")}, env...)
	return RunCmd(t, cmd)
}

// RunGenerator runs the real generator on the root r with the output
// directories dirs (1 or 3, as systemd passes them); it must succeed.
func RunGenerator(t *testing.T, r Root, dirs ...string) {
	t.Helper()
	cmd := exec.Command(generatorBin, dirs...)
	cmd.Env = []string{"RANSOMEYE_TUNER_ROOT=" + string(r), "PATH=" + os.Getenv("PATH")}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
}

// FailedClosed asserts what every refusal shows: exit 1, a CRIT line, a
// root-owned regular marker holding each of want, the time and the boot
// id, and the core's gate saying no. It returns the marker's text.
func FailedClosed(t *testing.T, r Root, res Result, want ...string) string {
	t.Helper()
	if res.Code != 1 {
		t.Errorf("exit code %d (signal %q), want 1\nstderr:\n%s", res.Code, res.Signal, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "critical: ") {
		t.Errorf("no CRIT (critical:) line in stderr:\n%s", res.Stderr)
	}
	b, err := os.ReadFile(r.Marker())
	if err != nil {
		t.Fatalf("no marker: %v\nstderr:\n%s", err, res.Stderr)
	}
	var st unix.Stat_t
	if err := unix.Lstat(r.Marker(), &st); err != nil || st.Uid != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("marker is not a root-owned regular file (%v)", err)
	}
	for _, w := range append(want, "time: ", "boot_id: "+BootID) {
		if !strings.Contains(string(b), w) {
			t.Errorf("marker lacks %q:\n%s", w, b)
		}
	}
	if g := Run(t, r, nil, nil, "gate"); g.Code != 1 {
		t.Errorf("gate with the marker: exit %d, want 1 (the core would start)\n%s%s", g.Code, g.Stdout, g.Stderr)
	}
	if testing.Verbose() {
		t.Logf("marker:\n%s", b)
	}
	return string(b)
}

// Succeeded asserts a successful activation: exit 0, no CRIT, no marker,
// the default sysctls applied, and the gate open once the swapfile is
// active (FakeSwapon, undone before returning).
func Succeeded(t *testing.T, r Root, res Result) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("activate: exit %d (signal %q)\nstderr:\n%s", res.Code, res.Signal, res.Stderr)
	}
	if strings.Contains(res.Stderr, "critical: ") {
		t.Errorf("CRIT in the log of a success:\n%s", res.Stderr)
	}
	if _, err := os.Lstat(r.Marker()); !os.IsNotExist(err) {
		t.Errorf("marker present after success: %v", err)
	}
	if r.Sysctl(t, "swappiness") != "10" || r.Sysctl(t, "vfs_cache_pressure") != "50" {
		t.Errorf("sysctls: swappiness %s, vfs_cache_pressure %s", r.Sysctl(t, "swappiness"), r.Sysctl(t, "vfs_cache_pressure"))
	}
	defer r.FakeSwapon(t)()
	if g := Run(t, r, nil, nil, "gate"); g.Code != 0 {
		t.Errorf("gate after success: exit %d\n%s", g.Code, g.Stdout)
	}
}

// OutDirs makes the three empty output directories systemd passes a
// generator (normal, early, late) in a new temporary directory.
func OutDirs(t *testing.T) (normal, early, late string) {
	t.Helper()
	base := t.TempDir()
	normal, early, late = filepath.Join(base, "normal"), filepath.Join(base, "early"), filepath.Join(base, "late")
	for _, p := range []string{normal, early, late} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return normal, early, late
}

// Generate runs the real generator on the root r as systemd does at boot
// and at daemon-reload: into the root's own output directories
// (<root>/run/systemd/generator, .early, .late), emptied first.
func Generate(t *testing.T, r Root) {
	t.Helper()
	var dirs []string
	for _, d := range []string{"run/systemd/generator", "run/systemd/generator.early", "run/systemd/generator.late"} {
		p := r.Path(d)
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, p)
	}
	RunGenerator(t, r, dirs...)
}
