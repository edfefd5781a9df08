// Package faults_test holds the fault-matrix tests (FAULTS.md)
// that no single package owns: black-box runs of the real generator and
// activator binaries, built once by TestMain, against fake roots
// (RANSOMEYE_TUNER_ROOT) whose swapfile directory is a real filesystem on a
// loop device the test creates and removes.
//
// What is faked, and why: /proc (meminfo, swaps, sys/vm, cmdline) is a
// plain-file fake under the temporary root, because this host's memory,
// swap and sysctls must not be touched; the CPU topology comes from
// internal/fakesys (this host has 2 CPUs). Faults that cannot be produced
// for real on demand are injected into the real process: SIGKILL or an
// errno at one system call with strace(1) (-e inject=), or a kill from a
// mkswap wrapper that runs the real mkswap first. Each test says which.
//
// Tests needing root, loop devices, strace or unshare skip with the reason.
package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
	// hangGuard bounds a run that must not block: it is not a speed
	// assertion (a healthy run takes milliseconds) but the point at which
	// a blocked process is declared blocked and killed, so that a hang
	// fails the test instead of stalling it.
	hangGuard = 60 * time.Second
)

// actBin and genBin are the real binaries under test.
var actBin, genBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ransomeye-faults-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	actBin = filepath.Join(dir, "ransomeye-tuner")
	genBin = filepath.Join(dir, "ransomeye-tuner-generator")
	for bin, pkg := range map[string]string{actBin: "../../activator", genBin: "../../generator"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needRoot skips a test that needs root and loop devices.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (loop devices, mounts, swapon)")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("no /dev/loop-control, so no loop devices")
	}
	for _, tool := range append([]string{"losetup", "mount", "mkswap", "swapon", "swapoff", "mkfs.ext4"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// loopFS makes a sparse image of size bytes holding a filesystem of type
// fstype on a loop device, and mounts it at mnt. Cleanup turns off any swap
// on it, unmounts it, detaches the device and removes the image.
func loopFS(t *testing.T, fstype string, size int64, mnt string, mkfsArgs ...string) {
	t.Helper()
	mkfs := "mkfs." + fstype
	if _, err := exec.LookPath(mkfs); err != nil {
		t.Skipf("%s is not installed", mkfs)
	}
	img := filepath.Join(t.TempDir(), fstype+".img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dev := sh(t, "losetup", "-f", "--show", img)
	t.Cleanup(func() {
		swapoffUnder(mnt)
		exec.Command("umount", mnt).Run()
		exec.Command("losetup", "-d", dev).Run()
		os.Remove(img)
	})
	quiet := map[string][]string{"ext4": {"-q", "-F"}, "xfs": {"-q", "-f"}, "btrfs": {"-q", "-f"}}[fstype]
	sh(t, mkfs, append(append(quiet, mkfsArgs...), dev)...)
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", dev, mnt)
}

// swapoffUnder turns off every active swap area under dir (the host's real
// /proc/swaps: only areas a test itself turned on can be under dir).
func swapoffUnder(dir string) {
	b, _ := os.ReadFile("/proc/swaps")
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], dir+"/") {
			exec.Command("swapoff", f[0]).Run()
		}
	}
}

// fakeRoot is a temporary root prefix with fake /proc files.
type fakeRoot string

func (r fakeRoot) path(p string) string { return filepath.Join(string(r), p) }

func (r fakeRoot) write(t *testing.T, p, content string) {
	t.Helper()
	full := r.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r fakeRoot) setMem(t *testing.T, memTotal int64) {
	t.Helper()
	r.write(t, "proc/meminfo", fmt.Sprintf("MemTotal:       %d kB\nMemFree:        1024 kB\nSwapTotal:      0 kB\nSwapFree:       0 kB\n", memTotal/1024))
}

// setSwaps writes a fake /proc/swaps: path -> size in bytes.
func (r fakeRoot) setSwaps(t *testing.T, active map[string]int64) {
	t.Helper()
	s := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	for p, n := range active {
		s += fmt.Sprintf("%s\tfile\t\t%d\t\t0\t\t-2\n", p, n/1024)
	}
	r.write(t, "proc/swaps", s)
}

func (r fakeRoot) marker() string { return r.path("run/lock/ransomeye-resource-fail") }

// fillRoot writes the fake /proc files, the host's /sys (read-only use: the
// activator reads the CPU topology) and /var/lock -> ../run/lock (1777) as
// on Debian, into dir, which may already be a mount point.
func fillRoot(t *testing.T, dir string, memTotal int64) fakeRoot {
	t.Helper()
	r := fakeRoot(dir)
	r.setMem(t, memTotal)
	r.setSwaps(t, nil)
	r.write(t, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet\n")
	r.write(t, "proc/sys/vm/swappiness", "60\n")
	r.write(t, "proc/sys/vm/vfs_cache_pressure", "100\n")
	r.write(t, "proc/sys/kernel/random/boot_id", "0f4e1b8a-5b1e-4c1a-9d7e-fa0175fa0175\n")
	if err := os.Symlink("/sys", r.path("sys")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.path("run/lock"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(r.path("run/lock"), 0o1777); err != nil { // os.Chmod drops the sticky bit
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.path("var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/lock", r.path("var/lock")); err != nil {
		t.Fatal(err)
	}
	return r
}

// result is one run of a binary.
type result struct {
	stdout, stderr string
	code           int    // exit code, -1 when killed by a signal
	signal         string // the signal that killed it, if any
}

// runCmd runs cmd under the hang guard and collects its result.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
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
	res := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.signal = ws.Signal().String()
		}
	} else if err != nil {
		t.Fatalf("run %q: %v", cmd.Args, err)
	}
	if strings.Contains(res.stderr, "panic:") || strings.Contains(res.stderr, "goroutine ") {
		t.Fatalf("%q panicked:\n%s", cmd.Args, res.stderr)
	}
	return res
}

// runAct runs the activator with root r, a plain environment plus env, and
// args; wrap is a command prefix (strace ...) or nil.
func runAct(t *testing.T, r fakeRoot, env []string, wrap []string, args ...string) result {
	t.Helper()
	argv := append(append(append([]string{}, wrap...), actBin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"RANSOMEYE_TUNER_ROOT=" + string(r), "PATH=" + os.Getenv("PATH")}, env...)
	return runCmd(t, cmd)
}

// checkSwapfile asserts a complete swapfile of our making: regular, size
// bytes, 0600 root:root, fully allocated, signature and label.
func checkSwapfile(t *testing.T, p string, size int64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("swapfile: %v", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("%s is not a regular file (mode %o)", p, st.Mode)
	}
	if st.Size != size {
		t.Errorf("%s has %d bytes, want %d", p, st.Size, size)
	}
	if st.Mode&0o7777 != 0o600 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("%s has mode %04o owner %d:%d, want 0600 0:0", p, st.Mode&0o7777, st.Uid, st.Gid)
	}
	if st.Blocks*512 < size {
		t.Errorf("%s is not fully allocated: %d of %d bytes", p, st.Blocks*512, size)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// No SEEK_HOLE check: ext4 reports preallocated (unwritten) extents as
	// holes to lseek(SEEK_HOLE), though swapon accepts them. Allocation is
	// st_blocks above; holes are the real swapon's check (swaponOff).
	page := make([]byte, os.Getpagesize())
	if _, err := f.ReadAt(page, 0); err != nil {
		t.Fatal(err)
	}
	if string(page[len(page)-10:]) != "SWAPSPACE2" {
		t.Errorf("%s has no SWAPSPACE2 signature", p)
	}
	if got := string(bytes.TrimRight(page[1052:1068], "\x00")); got != "ransomeye-swap" {
		t.Errorf("%s label %q, want ransomeye-swap", p, got)
	}
}

// swaponOff proves a file usable with the real swapon, then turns it off.
func swaponOff(t *testing.T, p string) {
	t.Helper()
	t.Cleanup(func() { exec.Command("swapoff", p).Run() })
	sh(t, "swapon", p)
	b, _ := os.ReadFile("/proc/swaps")
	if !strings.Contains(string(b), p) {
		t.Errorf("swapon %s: not in /proc/swaps:\n%s", p, b)
	}
	sh(t, "swapoff", p)
}

// tempEntries lists the activator's temporary files in dir.
func tempEntries(dir string) []string {
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".ransomeye-swap.tmp.") {
			out = append(out, e.Name())
		}
	}
	return out
}

// failedClosed asserts what every refusal shows: exit 1, a CRIT line, a
// root-owned regular marker holding each of want, and the core's gate
// saying no.
func failedClosed(t *testing.T, r fakeRoot, res result, want ...string) string {
	t.Helper()
	if res.code != 1 {
		t.Errorf("exit code %d (signal %q), want 1\nstderr:\n%s", res.code, res.signal, res.stderr)
	}
	if !strings.Contains(res.stderr, "critical: ") {
		t.Errorf("no CRIT (critical:) line in stderr:\n%s", res.stderr)
	}
	b, err := os.ReadFile(r.marker())
	if err != nil {
		t.Fatalf("no marker: %v\nstderr:\n%s", err, res.stderr)
	}
	var st unix.Stat_t
	if err := unix.Lstat(r.marker(), &st); err != nil || st.Uid != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("marker is not a root-owned regular file (%v)", err)
	}
	for _, w := range want {
		if !strings.Contains(string(b), w) {
			t.Errorf("marker lacks %q:\n%s", w, b)
		}
	}
	if g := runAct(t, r, nil, nil, "gate"); g.code != 1 {
		t.Errorf("gate with the marker: exit %d, want 1 (the core would start)\n%s%s", g.code, g.stdout, g.stderr)
	}
	if testing.Verbose() {
		t.Logf("marker:\n%s", b)
	}
	return string(b)
}

// succeeded asserts a successful activation: exit 0, no CRIT, no marker,
// the gate open.
func succeeded(t *testing.T, r fakeRoot, res result) {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("activate: exit %d (signal %q)\nstderr:\n%s", res.code, res.signal, res.stderr)
	}
	if strings.Contains(res.stderr, "critical: ") {
		t.Errorf("CRIT in the log of a success:\n%s", res.stderr)
	}
	if _, err := os.Lstat(r.marker()); !os.IsNotExist(err) {
		t.Errorf("marker present after success: %v", err)
	}
	defer r.fakeSwapon(t)()
	if g := runAct(t, r, nil, nil, "gate"); g.code != 0 {
		t.Errorf("gate after success: exit %d\n%s", g.code, g.stdout)
	}
}

func statOf(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// needStrace skips without strace or when it cannot trace here.
func needStrace(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace is not installed (the fault is injected with strace -e inject=)")
	}
	if out, err := exec.CommandContext(context.Background(), "strace", "-qq", "-o", "/dev/null", "true").CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here: %v %s", err, out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// fakeSwapon stands in for the swap unit, which does not run in these tests
// (a fake: no systemd here): it adds the configured swapfile to the fake
// /proc/swaps with the size the kernel shows for it (the file less its
// header page), as systemd's swapon would after a successful activate. The
// gate needs it: it opens only while the swapfile is active. The returned
// function puts the earlier /proc/swaps back (the next simulated boot starts
// without it).
func (r fakeRoot) fakeSwapon(t *testing.T) (restore func()) {
	t.Helper()
	cfg, _, err := config.Load(hostroot.Root(r.path("")))
	if err != nil {
		t.Fatalf("fakeSwapon: %v", err)
	}
	p := r.path(cfg.SwapPath)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatalf("fakeSwapon: %v", err)
	}
	b, _ := os.ReadFile(r.path("proc/swaps"))
	restore = func() { r.write(t, "proc/swaps", string(b)) }
	s := string(b)
	if s == "" {
		s = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	}
	s += fmt.Sprintf("%s\tfile\t\t%d\t\t0\t\t-2\n", p, (st.Size()-int64(os.Getpagesize()))/1024)
	r.write(t, "proc/swaps", s)
	return restore
}
