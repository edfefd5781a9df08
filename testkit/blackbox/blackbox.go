// Package blackbox is the harness of the black-box tests: it builds the real
// ransomeye-tuner and ransomeye-tuner-generator binaries once per test
// process, makes loop filesystems it always takes down again, fake roots
// (RANSOMEYE_TUNER_ROOT) with plain-file fakes of /proc, runs the binaries
// against them, and checks what they leave behind (swapfiles, markers, the
// gate's answer).
//
// Test-only, like everything under testkit/: only _test.go files import
// it, and nothing the shipped binaries are built from depends on it
// (`make vet` checks that they link nothing under testkit/).
//
// What is faked, and why: /proc (meminfo, swaps, sys/vm, cmdline, boot_id)
// is a plain-file fake under the temporary root, because this host's
// memory, swap and sysctls must not be touched; /sys is the host's,
// read-only, unless a test writes a fake topology (testkit/fakesys).
// Swapfiles are made on real filesystems on loop devices.
package blackbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binaries under test, set by Main.
var tunerBin, generatorBin string

// Main builds the two binaries into a temporary directory (with
// buildFlags added to go build's), stores their paths in *tuner and
// *generator (and for Run), runs the tests and removes the directory. It
// returns the code for os.Exit.
func Main(m *testing.M, tuner, generator *string, buildFlags ...string) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "blackbox:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "ransomeye-tuner-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "blackbox:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	tunerBin = filepath.Join(dir, "ransomeye-tuner")
	generatorBin = filepath.Join(dir, "ransomeye-tuner-generator")
	for bin, pkg := range map[string]string{tunerBin: "./activator", generatorBin: "./generator"} {
		args := append(append([]string{"build", "-buildvcs=false"}, buildFlags...), "-o", bin, pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "blackbox: build %s: %v\n", pkg, err)
			return 1
		}
	}
	*tuner, *generator = tunerBin, generatorBin
	return m.Run()
}

// moduleRoot finds the directory of go.mod above the working directory (a
// test runs in its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// NeedRoot skips a test that needs root, loop devices and the swap tools,
// and any of tools besides.
func NeedRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root (loop devices, mounts, swapon)")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("skipped: no /dev/loop-control, so no loop devices")
	}
	for _, tool := range append([]string{"losetup", "mount", "mkswap", "swapon", "swapoff"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s is not installed", tool)
		}
	}
}

// NeedStrace skips without strace or when it cannot trace here (faults are
// injected into the real process with strace -e inject=).
func NeedStrace(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("skipped: strace is not installed (the fault is injected with strace -e inject=)")
	}
	if out, err := exec.Command("strace", "-qq", "-o", "/dev/null", "true").CombinedOutput(); err != nil {
		t.Skipf("skipped: strace cannot trace here: %v %s", err, out)
	}
}

// Sh runs a command, fails the test if it fails, and returns its combined
// output, trimmed.
func Sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// LoopFS makes a sparse image of size (truncate(1)'s syntax: "1G", "96M"),
// a filesystem of type fstype on a loop device, and mounts it at mnt.
// Cleanup turns off any swap on it, unmounts it, detaches the device and
// removes the image, whatever the test did.
func LoopFS(t *testing.T, fstype, size, mnt string, mkfsArgs ...string) {
	t.Helper()
	LoopFSDevices(t, fstype, size, mnt, 1, mkfsArgs...)
}

// LoopFSDevices is LoopFS on n loop devices of size each, all given to
// mkfs (a multi-device btrfs: "-d", "raid1").
func LoopFSDevices(t *testing.T, fstype, size, mnt string, n int, mkfsArgs ...string) {
	t.Helper()
	mkfs := "mkfs." + fstype
	if _, err := exec.LookPath(mkfs); err != nil {
		t.Skipf("skipped: %s is not installed", mkfs)
	}
	tmp := t.TempDir()
	var devs []string
	t.Cleanup(func() {
		SwapoffUnder(mnt)
		exec.Command("umount", mnt).Run()
		for _, dev := range devs {
			if fstype == "btrfs" {
				// The kernel keeps a btrfs device registered after its
				// filesystem is unmounted.
				exec.Command("btrfs", "device", "scan", "--forget", dev).Run()
			}
			exec.Command("losetup", "-d", dev).Run()
		}
	})
	for i := range n {
		img := filepath.Join(tmp, fmt.Sprintf("%s%d.img", fstype, i))
		Sh(t, "truncate", "-s", size, img)
		devs = append(devs, Sh(t, "losetup", "-f", "--show", img))
	}
	quiet := map[string][]string{"ext4": {"-q", "-F"}, "ext3": {"-q", "-F"}, "xfs": {"-q", "-f"}, "btrfs": {"-q", "-f"}}[fstype]
	Sh(t, mkfs, append(append(quiet, mkfsArgs...), devs...)...)
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	Sh(t, "mount", devs[0], mnt)
}

// SwapoffUnder turns off every active swap area under dir (the host's real
// /proc/swaps: only areas a test itself turned on can be under dir).
func SwapoffUnder(dir string) {
	b, _ := os.ReadFile("/proc/swaps")
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], dir+"/") {
			exec.Command("swapoff", f[0]).Run()
		}
	}
}

// NeedUID0 skips a test that needs root but no loop device: the binaries
// refuse marker and lock directories that root does not own, so as another
// user they cannot fail closed as the test expects.
func NeedUID0(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root (the marker's directories must be root's)")
	}
}
