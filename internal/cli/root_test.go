package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
)

const bootID = "5c0f7a0e-6c3b-4a8e-9f3e-0123456789ab"

// tree writes a small fake root: kernel command line, boot id, /run/lock
// (sticky, world-writable) and /var/lock -> ../run/lock, as on Debian.
func tree(t *testing.T, cmdline string) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	for p, s := range map[string]string{
		"proc/cmdline":                   cmdline + "\n",
		"proc/sys/kernel/random/boot_id": bootID + "\n",
		"proc/swaps":                     "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "run/lock"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "run/lock"), 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/lock", filepath.Join(dir, "var/lock")); err != nil {
		t.Fatal(err)
	}
	return hostroot.Root(dir)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the gate trusts only root-owned records")
	}
}

// TestRootOption: --root DIR before the command overrides
// $RANSOMEYE_TUNER_ROOT, and is listed in --help; a relative or missing
// directory is a usage error.
func TestRootOption(t *testing.T) {
	code, out, _ := runMain("--help")
	if code != ExitOK || !strings.Contains(out, "--root DIR") || !strings.Contains(out, "[--root DIR] COMMAND") {
		t.Errorf("--help: exit %d, does not list --root:\n%s", code, out)
	}
	for _, args := range [][]string{{"--root"}, {"--root", "relative", "gate"}, {"--root=", "gate"}, {"--root=x/y", "gate"}} {
		if code, _, errs := runMain(args...); code != ExitUsage || !strings.Contains(errs, "--root") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error naming --root", args, code, errs)
		}
	}
	// A root that is missing or not a directory is named as such (the gate
	// said the activator had not succeeded in this boot), and the gate
	// stays closed.
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for root, want := range map[string]string{"/nonexistent-ransomeye-root": "no such file or directory", file: "not a directory"} {
		if code, out, errs := runMain("--root", root, "gate"); code != ExitUsage || !strings.Contains(errs, want) || !strings.Contains(errs, "give an existing directory") {
			t.Errorf("--root %s gate: exit %d, stdout %q, stderr %q; want a usage error with %q", root, code, out, errs, want)
		}
	}
}

// TestGateRootOverridesEnvironment: the gate runs in the core's
// environment, where RANSOMEYE_TUNER_ROOT could point it at a tree made to
// open it (here ransomeye.tuner=0 and no marker). With --root the gate
// reads the tree it was given (here a temporary stand-in for "/", where
// activate never succeeded), whatever the environment says.
func TestGateRootOverridesEnvironment(t *testing.T) {
	needRoot(t)
	fake := tree(t, "ransomeye.tuner=0")
	real := tree(t, "BOOT_IMAGE=/vmlinuz root=/dev/vda ro")
	t.Setenv(hostroot.EnvVar, fake.String())
	if code, out, errs := runMain("gate"); code != ExitOK {
		t.Fatalf("the fake tree does not open the gate (exit %d): the test shows nothing\n%s%s", code, out, errs)
	}
	code, out, errs := runMain("--root="+real.String(), "gate")
	if code != ExitFail || !strings.Contains(out, "has not succeeded in this boot") {
		t.Errorf("gate --root with $%s set elsewhere: exit %d\n%s%s", hostroot.EnvVar, code, out, errs)
	}
	if code, out, _ := runMain("--root", real.String(), "gate"); code != ExitFail {
		t.Errorf("gate --root DIR (two words): exit %d\n%s", code, out)
	}
}

// TestStopRemovesOKRecord: /run and the boot id survive "systemctl
// soft-reboot", which stops ransomeye-tuner.service (it conflicts with
// shutdown.target). The success record of the boot before must not open
// the gate after it when the activator does not run again: stopping the
// unit (its ExecStopPost=, SERVICE_RESULT=success) removes it.
func TestStopRemovesOKRecord(t *testing.T) {
	needRoot(t)
	root := tree(t, "BOOT_IMAGE=/vmlinuz root=/dev/vda ro")
	if err := marker.WriteOK(root, bootID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, why := marker.CheckOK(root, bootID); !ok {
		t.Fatalf("record not written: %s", why)
	}
	t.Setenv("SERVICE_RESULT", "success")
	if code, out, errs := runMain("--root="+root.String(), "fail-closed", "--if-failed"); code != ExitOK {
		t.Fatalf("fail-closed --if-failed on a clean stop: exit %d\n%s%s", code, out, errs)
	}
	if ok, _ := marker.CheckOK(root, bootID); ok {
		t.Errorf("the success record survived the stop of %s: a soft-reboot would keep it", "ransomeye-tuner.service")
	}
	if _, err := os.Lstat(root.Path("/var/lock/ransomeye-resource-fail")); !os.IsNotExist(err) {
		t.Errorf("a clean stop wrote the failure marker: %v", err)
	}
	code, out, _ := runMain("--root="+root.String(), "gate")
	if code != ExitFail || !strings.Contains(out, "has not succeeded in this boot") {
		t.Errorf("gate after the stop: exit %d\n%s", code, out)
	}
}

// TestUnitsRunGateWithRoot: the shipped gate passes --root=/ (the
// generated copy for another core name is compared with it in
// internal/plan).
func TestUnitsRunGateWithRoot(t *testing.T) {
	b, err := os.ReadFile("../../units/ransomeye-core.service.d/ransomeye-tuner-gate.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nExecCondition=+/usr/sbin/ransomeye-tuner --root=/ gate\n") {
		t.Errorf("the shipped gate does not run with --root=/:\n%s", b)
	}
}
