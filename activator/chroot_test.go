package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// buildStatic builds the two binaries without cgo into dir/usr/sbin and
// the generator's directory, so that they run in a tree with no C
// library.
func buildStatic(t *testing.T, dir string) {
	t.Helper()
	for bin, pkg := range map[string]string{"usr/sbin/ransomeye-tuner": "../activator", "usr/lib/systemd/system-generators/ransomeye-tuner-generator": "../generator"} {
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(dir, bin), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
}

// inChroot runs argv in the tree dir as its root, with no /proc, /sys or
// /dev mounted there, and returns stdout and stderr.
func inChroot(t *testing.T, dir string, env []string, argv ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	cmd.Dir = "/"
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return code, o.String(), e.String()
}

// TestChrootWithoutProcSaysWhatIsNotRead runs the real binaries in a chroot
// with no /proc, as an image build or a package's installation into one
// does: status and plan say /proc is not mounted and what could not be
// read, give no MemTotal of 0 B nor a target computed from one, follow the
// root-owned /var/lock link (whose directory's ACL they read without
// /proc), name the filesystem's mount point rather than the directory
// asked about, and the metrics have no swap target sample. Before: "MemTotal
// 0 B" with a 16 GiB target, "ext4 at /ransomeye" for the root filesystem,
// and a /var/lock link refused as "in /var, which users other than root can
// change (owner uid 0, mode 0755)", the real error (no /proc/self/fd)
// dropped.
func TestChrootWithoutProcSaysWhatIsNotRead(t *testing.T) {
	needUID0(t) // chroot(2)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	buildStatic(t, dir)
	for _, d := range []string{"etc/ransomeye", "run/lock", "var/lib/prometheus/node-exporter", "ransomeye", "proc", "sys", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "run/lock"), 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run/lock", filepath.Join(dir, "var/lock")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}

	_, status, _ := inChroot(t, dir, env, "/usr/sbin/ransomeye-tuner", "status")
	_, plan, _ := inChroot(t, dir, env, "/usr/sbin/ransomeye-tuner", "plan")
	for _, c := range []struct {
		out, name, want string
	}{
		{status, "status", "not read               /proc is not mounted here (a chroot or an image build?)"},
		{status, "status", "swap target            not known: MemTotal not read (read memory size: open /proc/meminfo: no such file or directory); at least MinSize 16.0 GiB"},
		{status, "status", "failure marker         absent  [ok]"},
		{plan, "plan", "not read: /proc is not mounted here"},
		{plan, "plan", "target: not known: MemTotal not read"},
		{plan, "plan", "(mounted at /) holding /ransomeye"},
	} {
		if !strings.Contains(c.out, c.want) {
			t.Errorf("%s does not say %q:\n%s", c.name, c.want, c.out)
		}
	}
	for _, bad := range []string{"MemTotal 0 B", "users other than root can change", "marker error"} {
		if strings.Contains(status+plan, bad) {
			t.Errorf("status or plan says %q:\n%s\n%s", bad, status, plan)
		}
	}
	if code, out, errs := inChroot(t, dir, env, "/usr/sbin/ransomeye-tuner", "metrics"); code != 0 {
		t.Errorf("metrics: exit %d\n%s%s", code, out, errs)
	}
	prom, err := os.ReadFile(filepath.Join(dir, "var/lib/prometheus/node-exporter/ransomeye_tuner.prom"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(prom), "\nransomeye_tuner_swap_target_bytes ") {
		t.Errorf("a swap target sample without MemTotal:\n%s", prom)
	}
}

// TestCheckConfigWithoutRoot: check-config, as an unprivileged user (a CI
// job, configuration management's check before it installs a file), reads a
// file that is not installed and answers by exit code: 0 for a valid one,
// 1 for an invalid one naming the line.
func TestCheckConfigWithoutRoot(t *testing.T) {
	needUID0(t) // to run the binary as nobody
	// Not t.TempDir: its parent is 0700, which nobody cannot enter.
	dir, err := os.MkdirTemp("", "ransomeye-check-config")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ransomeye-tuner")
	b, err := os.ReadFile(tunerBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		code int
		want string
	}{
		{"[Swap]\nMinSize=16.0 GiB\n", 0, "valid: "},
		{"[Swap]\nMinSize=16 GB\n", 1, "site.conf:2: error: MinSize=16 GB"},
	} {
		conf := filepath.Join(dir, "site.conf")
		if err := os.WriteFile(conf, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "check-config", conf)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("check-config %q as nobody: exit %d, want %d with %q:\n%s", c.text, code, c.code, c.want, out)
		}
	}
}
