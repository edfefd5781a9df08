package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

func caseRoot(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", name, "root"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Skipf("case %s not generated yet (go test ./generator -update): %v", name, err)
	}
	return root
}

var (
	verifyOnce sync.Once
	verifyRoot string
	verifyErr  string
)

// verifyBase makes a root for `systemd-analyze verify --root`: the host's
// /usr/lib/systemd/system (copied, read only from the host), and test-only
// stand-ins for /usr/sbin/ransomeye-tuner and /bin/sleep so that ExecStart=
// checks pass. Output dirs of each case are copied under it.
func verifyBase(t *testing.T) string {
	t.Helper()
	verifyOnce.Do(func() {
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			verifyErr = "systemd-analyze is not installed (apt-get install systemd)"
			return
		}
		if _, err := os.Stat("/usr/lib/systemd/system/swap.target"); err != nil {
			verifyErr = "no /usr/lib/systemd/system/swap.target to verify against"
			return
		}
		dir, err := os.MkdirTemp("", "ransomeye-verify")
		if err != nil {
			verifyErr = err.Error()
			return
		}
		verifyRoot = dir
		mk := func(p, content string, mode os.FileMode) {
			full := filepath.Join(dir, p)
			_ = os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(content), mode); err != nil {
				verifyErr = err.Error()
			}
		}
		mk("usr/sbin/ransomeye-tuner", "#!/bin/sh\n# test stand-in\nexit 0\n", 0o755)
		mk("bin/sleep", "#!/bin/sh\n# test stand-in\nexit 0\n", 0o755)
		_ = os.MkdirAll(filepath.Join(dir, "usr/lib/systemd"), 0o755)
		if out, err := exec.Command("cp", "-a", "/usr/lib/systemd/system", filepath.Join(dir, "usr/lib/systemd/")).CombinedOutput(); err != nil {
			verifyErr = string(out)
		}
		if out, err := exec.Command("cp", "-a", "../units", filepath.Join(dir, "units")).CombinedOutput(); err != nil {
			verifyErr = string(out)
		}
		if out, err := exec.Command("cp", "-a", "testdata/stub-units", filepath.Join(dir, "stub")).CombinedOutput(); err != nil {
			verifyErr = string(out)
		}
	})
	if verifyErr != "" {
		t.Skip(verifyErr)
	}
	return verifyRoot
}

// unitsIn lists the unit files (not drop-ins, not links) at the top of dir.
func unitsIn(dir string) []string {
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Type().IsRegular() && strings.Contains(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestGoldenVerify runs `systemd-analyze verify` on every golden output,
// with the repo's units/ and stub services on the unit path, and fails on
// any message (verify prints only problems) and on any ordering cycle
// (verify exits 0 on those).
func TestGoldenVerify(t *testing.T) {
	base := verifyBase(t)
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			exp := filepath.Join("testdata", c.name, "expected")
			if _, err := os.Stat(exp); err != nil {
				t.Skipf("no expected output yet: %v", err)
			}
			caseDir := filepath.Join(base, "cases", c.name)
			_ = os.RemoveAll(caseDir)
			for _, d := range []string{"normal", "late"} {
				if err := os.MkdirAll(filepath.Join(caseDir, d), 0o755); err != nil {
					t.Fatal(err)
				}
				copyTree(t, filepath.Join(exp, d), filepath.Join(caseDir, d))
			}
			rel := "/cases/" + c.name
			units := []string{"ransomeye-tuner.service", "ransomeye-tuner-fail-closed.service"}
			for _, s := range unitsIn(filepath.Join(base, "stub")) {
				units = append(units, s)
			}
			units = append(units, unitsIn(filepath.Join(caseDir, "normal"))...)
			units = append(units, unitsIn(filepath.Join(caseDir, "late"))...)
			cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no", "--root=" + base}, units...)...)
			cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+rel+"/normal:/units:/stub:"+rel+"/late:", "SYSTEMD_LOG_LEVEL=notice")
			out, err := cmd.CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(units, " "), err, out)
			}
			if bytes.Contains(out, []byte("ordering cycle")) {
				t.Errorf("ordering cycle:\n%s", out)
			}
		})
	}
}

// TestSwapUnitNameIsSystemdEscape checks every generated .swap unit's name
// against `systemd-escape --path --suffix=swap` of its What=.
func TestSwapUnitNameIsSystemdEscape(t *testing.T) {
	if _, err := exec.LookPath("systemd-escape"); err != nil {
		t.Skip("systemd-escape is not installed")
	}
	what := regexp.MustCompile(`(?m)^What=(.*)$`)
	n := 0
	for _, c := range goldenCases {
		late := filepath.Join("testdata", c.name, "expected", "late")
		for _, u := range unitsIn(late) {
			if !strings.HasSuffix(u, ".swap") {
				continue
			}
			b, _ := os.ReadFile(filepath.Join(late, u))
			m := what.FindSubmatch(b)
			if m == nil {
				t.Errorf("%s/%s: no What=", c.name, u)
				continue
			}
			p := strings.ReplaceAll(string(m[1]), "%%", "%")
			out, err := exec.Command("systemd-escape", "--path", "--suffix=swap", p).Output()
			if err != nil {
				t.Fatalf("systemd-escape %q: %v", p, err)
			}
			if got := strings.TrimSpace(string(out)); got != u {
				t.Errorf("%s: unit %q, systemd-escape says %q for %q", c.name, u, got, p)
			}
			n++
		}
	}
	if n < 5 {
		t.Errorf("only %d swap units checked", n)
	}
}

// TestFaultArgs is fault-matrix row 7 (arguments): 0, 2 and 4 arguments are
// a usage error (exit 2, message on stderr and in the log); 1 argument puts
// every output in that directory; 3 is the normal case (TestGolden).
func TestFaultArgs(t *testing.T) {
	root := caseRoot(t, "02-8cpu")
	for _, n := range []int{0, 2, 4} {
		var args []string
		for i := 0; i < n; i++ {
			args = append(args, t.TempDir())
		}
		code, log, stderr, logOK := runGen(t, root, args...)
		if code != 2 {
			t.Errorf("%d args: exit %d, want 2", n, code)
		}
		if !strings.Contains(stderr, "usage:") {
			t.Errorf("%d args: no usage on stderr: %q", n, stderr)
		}
		if logOK && !strings.Contains(log, "usage:") {
			t.Errorf("%d args: usage not logged: %q", n, log)
		}
		for _, a := range args {
			if l := tree(t, a); len(l) != 0 {
				t.Errorf("%d args: wrote %v", n, l)
			}
		}
	}
	one := t.TempDir()
	if code, _, _, _ := runGen(t, root, one); code != 0 {
		t.Fatalf("1 arg: exit %d", code)
	}
	want := tree(t, filepath.Join("testdata", "02-8cpu", "expected", "normal"))
	for k, v := range tree(t, filepath.Join("testdata", "02-8cpu", "expected", "late")) {
		want[k] = v
	}
	compareTrees(t, "single-dir", want, tree(t, one))
}

// TestFaultRerunByteIdentical is fault-matrix row 6: a rerun gives the same
// bytes, into fresh directories (daemon-reload empties them) and into the
// same ones (nothing replaced, nothing complained about).
func TestFaultRerunByteIdentical(t *testing.T) {
	for _, name := range []string{"02-8cpu", "03-2node-smt", "09-odd-path-escaping", "08-cgroup-v1"} {
		root := caseRoot(t, name)
		d1, log1, _ := runCase(t, root)
		d2, log2, _ := runCase(t, root)
		for _, p := range [][2]string{{d1.normal, d2.normal}, {d1.late, d2.late}} {
			compareTrees(t, name+" rerun", tree(t, p[0]), tree(t, p[1]))
		}
		if log1 != log2 {
			t.Errorf("%s: logs differ:\n%s\n%s", name, log1, log2)
		}
		before := tree(t, d1.normal)
		code, log, _, logOK := runGen(t, root, d1.normal, d1.early, d1.late)
		if code != 0 {
			t.Fatalf("rerun into the same dirs: exit %d", code)
		}
		compareTrees(t, name+" same-dir rerun", before, tree(t, d1.normal))
		if logOK && (strings.Contains(log, "<3>") || strings.Contains(log, "<4>") && !strings.Contains(log1, "<4>")) {
			t.Errorf("%s: rerun into the same dirs complained:\n%s", name, log)
		}
	}
}

// TestFaultKmsgUnavailable is fault-matrix row 7 (/dev/kmsg): in a private
// mount namespace /dev/kmsg is replaced by a read-only file, so opening it
// for writing fails; the generator logs to stderr instead, says so, writes
// its units and exits 0.
func TestFaultKmsgUnavailable(t *testing.T) {
	if !canCaptureKmsg() {
		t.Skip("needs root and unshare(1) to hide /dev/kmsg in a private mount namespace")
	}
	root := caseRoot(t, "02-8cpu")
	d := newOutDirs(t)
	ro := filepath.Join(t.TempDir(), "kmsg")
	if err := os.WriteFile(ro, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$0" /dev/kmsg && mount -o remount,ro,bind /dev/kmsg && shift && exec "$@"`,
		ro, "x", genBin, d.normal, d.early, d.late)
	cmd.Env = append(os.Environ(), "RANSOMEYE_TUNER_ROOT="+root, "SYSTEMD_SCOPE=system") // as systemd runs it: to the kernel log
	var se bytes.Buffer
	cmd.Stderr = &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("generator: %v\n%s", err, se.String())
	}
	if !strings.Contains(se.String(), "cannot open /dev/kmsg") || !strings.Contains(se.String(), "CPU plan:") {
		t.Errorf("stderr does not hold the fallback log:\n%s", se.String())
	}
	compareTrees(t, "normal", tree(t, filepath.Join("testdata", "02-8cpu", "expected", "normal")), tree(t, d.normal))
	if b, _ := os.ReadFile(ro); len(b) != 0 {
		t.Errorf("the read-only kmsg stand-in was written")
	}
}

// TestFaultOutputReadOnlyBinary is fault-matrix row 4 on the whole binary:
// a read-only normal directory; the generator exits 0, logs the errors, and
// writes no late swap unit without its wiring.
func TestFaultOutputReadOnlyBinary(t *testing.T) {
	if !canCaptureKmsg() {
		t.Skip("needs root and unshare(1) for a read-only bind mount in a private namespace")
	}
	root := caseRoot(t, "02-8cpu")
	d := newOutDirs(t)
	kmsg := filepath.Join(t.TempDir(), "kmsg")
	if err := os.WriteFile(kmsg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$0" /dev/kmsg && mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"`,
		kmsg, d.normal, genBin, d.normal, d.early, d.late)
	cmd.Env = append(os.Environ(), "RANSOMEYE_TUNER_ROOT="+root, "SYSTEMD_SCOPE=system") // as systemd runs it: to the kernel log
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(kmsg)
	if l := tree(t, d.normal); len(l) != 0 {
		t.Errorf("read-only normal dir got %v", l)
	}
	if l := tree(t, d.late); len(l) != 0 {
		t.Errorf("late swap unit written without its wiring: %v", l)
	}
	if !strings.Contains(string(log), "read-only file system") || !strings.Contains(string(log), "wiring drop-in could not be written") {
		t.Errorf("log does not explain:\n%s", log)
	}
}

// TestGeneratorSkipsMemoryBlocks runs the binary under strace on a fake
// 256-CPU machine with 8192 memory blocks (1 TiB at 128 MiB each) and
// checks that it opens nothing under /sys/devices/system/memory (a topology
// reader that walked the blocks, as ghw.Topology does, would read every one,
// and the generator runs at every daemon-reload).
func TestGeneratorSkipsMemoryBlocks(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace is not installed")
	}
	root := t.TempDir()
	m := fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2, MemoryBlocks: 8192, MemTotalKiB: 1 << 30}
	if err := m.Write(root); err != nil {
		t.Fatal(err)
	}
	d := newOutDirs(t)
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command("strace", "-f", "-qq", "-e", "trace=%file,getdents64", "-o", trace, genBin, d.normal, d.early, d.late)
	cmd.Env = append(os.Environ(), "RANSOMEYE_TUNER_ROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("/sys/devices/system/memory")) {
		t.Errorf("the generator touched the memory blocks:\n%s", grepLines(b, "/sys/devices/system/memory", 5))
	}
	if !bytes.Contains(b, []byte("/sys/devices/system/cpu/online")) {
		t.Errorf("trace does not show the generator's reads; is strace working?")
	}
	if _, err := os.Stat(filepath.Join(d.normal, "system.slice.d", "cpu-isolation.conf")); err != nil {
		t.Errorf("no CPU plan on the 256-CPU machine: %v", err)
	}
}

func grepLines(b []byte, s string, max int) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) && len(out) < max {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// dumpUnits runs `systemd-analyze verify` at debug level, which dumps each
// loaded unit as systemd parsed it, and returns unit -> its "Key: Value"
// lines. This shows what systemd understood (escaping, quoting, drop-ins),
// not just that the files load.
func dumpUnits(t *testing.T, caseName string, units ...string) map[string][]string {
	t.Helper()
	return dumpUnitsWith(t, caseName, "", nil, units...)
}

// dumpUnitsWith is dumpUnits with the administrator's files admin (path
// below the unit directory to content) in a unit directory of its own,
// standing for /etc/systemd/system; as tag names that variant of the case.
func dumpUnitsWith(t *testing.T, caseName, as string, admin map[string]string, units ...string) map[string][]string {
	t.Helper()
	base := verifyBase(t)
	caseDir := filepath.Join(base, "dump", caseName+as)
	_ = os.RemoveAll(caseDir)
	exp := filepath.Join("testdata", caseName, "expected")
	for _, d := range []string{"normal", "late", "admin"} {
		if err := os.MkdirAll(filepath.Join(caseDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if d != "admin" {
			copyTree(t, filepath.Join(exp, d), filepath.Join(caseDir, d))
		}
	}
	for p, c := range admin {
		full := filepath.Join(caseDir, "admin", p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rel := "/dump/" + caseName + as
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no", "--root=" + base}, units...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+rel+"/admin:"+rel+"/normal:/units:/stub:"+rel+"/late:", "SYSTEMD_LOG_LEVEL=debug")
	// The dump is on stdout, the debug log on stderr: read them apart, or
	// a flush of one can land inside a line of the other.
	out, _ := cmd.Output()
	dump := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "\t-> Unit ") && strings.HasSuffix(l, ":") {
			cur = strings.TrimSuffix(strings.TrimPrefix(l, "\t-> Unit "), ":")
			continue
		}
		// Debug lines of the loader come in between; only the dump's own
		// two-tab lines belong to the unit.
		if cur != "" && strings.HasPrefix(l, "\t\t") {
			dump[cur] = append(dump[cur], strings.TrimPrefix(l, "\t\t"))
		}
	}
	return dump
}

// TestVerifyDumpShowsIntent checks, in systemd's own parse of the golden
// output, the settings that carry the design: the swap unit's wiring, the
// activator's mount dependency and ordering, the CPU sets and slices.
// (init.scope.d/ cannot be shown offline: init.scope exists only inside a
// running manager; the boot suite shows PID 1's CPUs.)
func TestVerifyDumpShowsIntent(t *testing.T) {
	cases := []struct {
		name  string
		want  map[string][]string
		avoid map[string][]string
	}{
		{"02-8cpu", map[string][]string{
			"ransomeye-swap.swap": {"What: /ransomeye/swap", "Wants: ransomeye-tuner.service (origin-file)",
				"After: ransomeye-tuner.service (", "After: ransomeye-tuner-fail-closed.service (",
				"OnFailure: ransomeye-tuner-fail-closed.service (origin-file)",
				"ConditionPathExists: !/var/lock/ransomeye-resource-fail untested", "WantedBy: swap.target (destination-file)"},
			"ransomeye-tuner.service": {"RequiresMountsFor: /ransomeye (origin-file)", "Before: ransomeye-swap.swap ("},
			"ransomeye-core.service":  {"AllowedCPUs: 0-3"},
			"ransomeye-dpi.service": {"Slice: ransomeye-dpi.slice", "AllowedCPUs: 4-5",
				"Environment: RANSOMEYE_CPUS=4-5", "Environment: RANSOMEYE_CPU_COUNT=2", "Environment: RANSOMEYE_NUMA_NODE=0",
				"Environment: RANSOMEYE_CPUS_RESERVED=1"},
			"ransomeye-training.service": {"Slice: ransomeye-training.slice", "AllowedCPUs: 6-7"},
			"ransomeye-dpi.slice":        {"AllowedCPUs: 4-5", "Slice: ransomeye.slice"},
			"system.slice":               {"AllowedCPUs: 0-3"},
			"user.slice":                 {"AllowedCPUs: 0-3"},
			"machine.slice":              {"AllowedCPUs: 0-3"},
		}, map[string][]string{
			"ransomeye-swap.swap": {"Requires: ransomeye-tuner.service (", "Requisite: ransomeye-tuner.service (", "BindsTo: ransomeye-tuner.service ("},
		}},
		{"08-cgroup-v1", map[string][]string{
			"ransomeye-core.service":     {"CPUAffinity: 0-3", "AllowedCPUs: "},
			"ransomeye-dpi.service":      {"CPUAffinity: 4-5"},
			"ransomeye-training.service": {"CPUAffinity: 6-7"},
		}, nil},
		{"09-odd-path-escaping", map[string][]string{
			`srv-swap\x20dir-ransom\x2deye\x25h_\xc3\xbc.swap.swap`: {"What: /srv/swap dir/ransom-eye%h_ü.swap",
				"OnFailure: ransomeye-tuner-fail-closed.service (origin-file)"},
			"ransomeye-tuner.service": {"RequiresMountsFor: /srv/swap dir (origin-file)"},
		}, nil},
		{"21-percent-and-continuation", map[string][]string{
			`data-\x25i\x20swap.swap`: {"What: /data/%i swap"},
		}, nil},
		{"14-core-service-renamed", map[string][]string{
			"ransomeye-db.service": {"AllowedCPUs: 0-3", "Wants: ransomeye-tuner.service (origin-file)",
				"After: ransomeye-tuner-fail-closed.service (origin-file)"},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var units []string
			for u := range c.want {
				units = append(units, u)
			}
			dump := dumpUnits(t, c.name, units...)
			// A wanted line ending in "(" matches any origin list.
			has := func(u, line string) bool {
				for _, l := range dump[u] {
					if l == line || strings.HasSuffix(line, "(") && strings.HasPrefix(l, line) {
						return true
					}
				}
				return false
			}
			for u, lines := range c.want {
				if len(dump[u]) == 0 {
					t.Errorf("%s: not in systemd's dump", u)
					continue
				}
				for _, l := range lines {
					if !has(u, l) {
						t.Errorf("%s: systemd's dump lacks %q", u, l)
					}
				}
			}
			for u, lines := range c.avoid {
				for _, l := range lines {
					if has(u, l) {
						t.Errorf("%s: systemd's dump has %q", u, l)
					}
				}
			}
		})
	}
}

// TestIRQBalanceAdministratorSettingsWin reads, in systemd's own parse,
// irqbalance.service with the generated drop-in (golden case 25: a
// capture interface, so it sets IRQBALANCE_ARGS to the policy script) and
// an administrator's drop-in of the names they use: override.conf (what
// `systemctl edit irqbalance` writes) and 50-banned.conf. systemd applies
// the drop-ins of a unit from every directory in file-name order, and for
// Environment= the last assignment of a variable wins: the
// administrator's IRQBALANCE_ARGS and banned list must be the ones in
// effect, whole, as the man page says; the variables they leave alone
// stay ours.
func TestIRQBalanceAdministratorSettingsWin(t *testing.T) {
	for _, name := range []string{"override.conf", "50-banned.conf", "10-args.conf"} {
		t.Run(name, func(t *testing.T) {
			admin := map[string]string{"irqbalance.service.d/" + name: "[Service]\nEnvironment=IRQBALANCE_ARGS=--hintpolicy=ignore\nEnvironment=IRQBALANCE_BANNED_CPULIST=6-7\n"}
			dump := dumpUnitsWith(t, "25-capture-interface-node0", "-admin-"+name, admin, "irqbalance.service")
			env := map[string]string{}
			for _, l := range dump["irqbalance.service"] {
				if v, ok := strings.CutPrefix(l, "Environment: "); ok {
					k, val, _ := strings.Cut(v, "=")
					env[k] = val
				}
			}
			want := map[string]string{"IRQBALANCE_ARGS": "--hintpolicy=ignore", "IRQBALANCE_BANNED_CPULIST": "6-7",
				"IRQBALANCE_BANNED_CPUS": "c30", "RANSOMEYE_CAPTURE_INTERFACE": "eth1"}
			for k, w := range want {
				if env[k] != w {
					t.Errorf("systemd applies %s=%q, want %q (environment: %v)", k, env[k], w, env)
				}
			}
		})
	}
}

// TestFaultKilledMidWrite is fault-matrix row 4 (killed mid-write): strace
// kills the generator (SIGKILL) at its Nth rename, i.e. after the Nth file
// was written to its temporary name and before it got its real one, for
// every N. Each time, every visible file is complete and byte-identical to
// the golden output, the only other entries are hidden temporaries that
// systemd never loads, and the late swap unit exists only with its wiring.
//
// The Nth rename is found by its target, not by a count: a first run under
// strace -f records the renames' targets in order, and each killing run
// injects SIGKILL into the renameat2 whose path is the Nth target (-P).
// Why: strace counts "when=N" per thread, and the Go runtime moves a
// goroutine between threads; the generator used to lock its main thread
// only so that the count held.
func TestFaultKilledMidWrite(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace is not installed")
	}
	root := caseRoot(t, "02-8cpu")
	exp := filepath.Join("testdata", "02-8cpu", "expected")
	wantN, wantL := tree(t, filepath.Join(exp, "normal")), tree(t, filepath.Join(exp, "late"))
	total := len(wantN) + len(wantL)
	hidden := regexp.MustCompile(`(^|/)\.#[^/]+\.[0-9a-f]{12}\.tmp$`)

	// The recording run: the rename targets, as (output dir, relative path).
	type target struct {
		late bool
		rel  string
	}
	d0 := newOutDirs(t)
	trace := filepath.Join(t.TempDir(), "trace")
	rec := exec.Command("strace", "-f", "-qq", "-o", trace, "-e", "trace=renameat2", genBin, d0.normal, d0.early, d0.late)
	rec.Env = append(os.Environ(), "RANSOMEYE_TUNER_ROOT="+root)
	if out, err := rec.CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	renameTo := regexp.MustCompile(`renameat2\(AT_FDCWD, "[^"]*", AT_FDCWD, "([^"]*)", RENAME_NOREPLACE\) = 0`)
	var targets []target
	for _, m := range renameTo.FindAllStringSubmatch(string(b), -1) {
		switch {
		case strings.HasPrefix(m[1], d0.normal+"/"):
			targets = append(targets, target{false, strings.TrimPrefix(m[1], d0.normal+"/")})
		case strings.HasPrefix(m[1], d0.late+"/"):
			targets = append(targets, target{true, strings.TrimPrefix(m[1], d0.late+"/")})
		default:
			t.Fatalf("rename outside the output directories: %q", m[1])
		}
	}
	if len(targets) != total {
		t.Fatalf("the recording run renamed %d files, the golden output has %d:\n%s", len(targets), total, b)
	}

	for n := 1; n <= total; n++ {
		d := newOutDirs(t)
		at := filepath.Join(d.normal, targets[n-1].rel)
		if targets[n-1].late {
			at = filepath.Join(d.late, targets[n-1].rel)
		}
		cmd := exec.Command("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2",
			"-e", "inject=renameat2:signal=SIGKILL", "-P", at, genBin, d.normal, d.early, d.late)
		cmd.Env = append(os.Environ(), "RANSOMEYE_TUNER_ROOT="+root)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("kill at rename %d (%s): the generator was not killed\n%s", n, at, out)
		}
		visible := 0
		for dir, want := range map[string]map[string]string{d.normal: wantN, d.late: wantL} {
			for rel, v := range tree(t, dir) {
				if hidden.MatchString(rel) {
					continue
				}
				visible++
				if want[rel] != v {
					t.Errorf("kill at rename %d: %s is not the complete golden file:\n%s", n, rel, v)
				}
			}
		}
		if visible != n-1 {
			t.Errorf("kill at rename %d: %d visible files, want %d", n, visible, n-1)
		}
		if _, err := os.Lstat(at); err == nil {
			t.Errorf("kill at rename %d: %s exists: the kill did not land at its rename", n, at)
		}
		if _, err := os.Lstat(filepath.Join(d.late, "ransomeye-swap.swap")); err == nil {
			for rel := range wantN {
				if _, err := os.Lstat(filepath.Join(d.normal, rel)); err != nil {
					t.Errorf("kill at rename %d: swap unit present without %s", n, rel)
				}
			}
		}
	}
	if testing.Verbose() {
		t.Logf("killed at each of %d renames", total)
	}
}

// TestFaultFstabCollision is fault-matrix row 5: with the swapfile in
// /etc/fstab the generator writes no .swap of its own, and its drop-in
// attaches the gate to the administrator's unit. The administrator's unit
// here is a stand-in for what systemd-fstab-generator writes (it refuses
// swap entries inside a container, which this test host is detected as);
// systemd's parse then shows the wiring on it.
func TestFaultFstabCollision(t *testing.T) {
	base := verifyBase(t)
	exp := filepath.Join("testdata", "11-fstab-has-path", "expected")
	if l := tree(t, filepath.Join(exp, "late")); len(l) != 0 {
		t.Fatalf("our .swap written despite the fstab line: %v", l)
	}
	admin := filepath.Join(base, "dump", "fstab-admin")
	_ = os.RemoveAll(admin)
	if err := os.MkdirAll(admin, 0o755); err != nil {
		t.Fatal(err)
	}
	unitText := "# stand-in for systemd-fstab-generator output\n[Unit]\nSourcePath=/etc/fstab\nDocumentation=man:fstab(5) man:systemd-fstab-generator(8)\n\n[Swap]\nWhat=/ransomeye/swap\nOptions=sw\n"
	if err := os.WriteFile(filepath.Join(admin, "ransomeye-swap.swap"), []byte(unitText), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir := filepath.Join(base, "dump", "11-fstab")
	_ = os.RemoveAll(caseDir)
	copyTree(t, filepath.Join(exp, "normal"), filepath.Join(caseDir, "normal"))
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", "--root="+base, "ransomeye-swap.swap", "ransomeye-tuner.service")
	// fstab-generator writes to the normal directory; ours is there too.
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH=/dump/11-fstab/normal:/dump/fstab-admin:/units:/stub:", "SYSTEMD_LOG_LEVEL=debug")
	out, _ := cmd.Output() // the dump is on stdout
	s := string(out)
	for _, want := range []string{"Source Path: /etc/fstab", "What: /ransomeye/swap",
		"OnFailure: ransomeye-tuner-fail-closed.service (origin-file)",
		"ConditionPathExists: !/var/lock/ransomeye-resource-fail untested",
		"Wants: ransomeye-tuner.service (origin-file)"} {
		if !strings.Contains(s, "\t\t"+want+"\n") {
			t.Errorf("the administrator's unit lacks %q in systemd's parse", want)
		}
	}
}

// TestHiddenTemporariesNotLoaded backs the kill-mid-write row: the
// temporaries a killed generator leaves (".#NAME.XXXXXXXXXXXX.tmp") are not
// loaded by systemd, neither as units nor as drop-ins, even with contents
// that would break the unit.
func TestHiddenTemporariesNotLoaded(t *testing.T) {
	base := verifyBase(t)
	exp := filepath.Join("testdata", "02-8cpu", "expected")
	caseDir := filepath.Join(base, "dump", "hidden-tmp")
	_ = os.RemoveAll(caseDir)
	for _, d := range []string{"normal", "late"} {
		copyTree(t, filepath.Join(exp, d), filepath.Join(caseDir, d))
	}
	bad := map[string]string{
		"late/.#ransomeye-swap.swap.0123456789ab.tmp":                           "[Swap]\nWhat=/elsewhere\n",
		"late/swap.target.wants/.#ransomeye-swap.swap.0123456789ab.tmp":         "[Swap]\nWhat=/elsewhere\n",
		"normal/ransomeye-swap.swap.d/.#ransomeye-tuner.conf.0123456789ab.tmp":  "[Unit]\nConditionPathExists=/nonexistent\nRequires=nonexistent.service\n",
		"normal/ransomeye-core.service.d/.#cpu-isolation.conf.0123456789ab.tmp": "[Service]\nAllowedCPUs=1\n",
		"normal/.#ransomeye-dpi.slice.0123456789ab.tmp":                         "[Slice]\nAllowedCPUs=0\n",
	}
	for rel, content := range bad {
		if err := os.WriteFile(filepath.Join(caseDir, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", "--root="+base, "ransomeye-swap.swap", "ransomeye-core.service", "ransomeye-dpi.slice")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH=/dump/hidden-tmp/normal:/units:/stub:/dump/hidden-tmp/late:", "SYSTEMD_LOG_LEVEL=debug")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("verify failed: %v", err)
	}
	s := string(out)
	for _, want := range []string{"\t\tWhat: /ransomeye/swap\n", "\t\tAllowedCPUs: 0-3\n", "\t\tAllowedCPUs: 4-5\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("systemd's parse lacks %q", strings.TrimSpace(want))
		}
	}
	for _, avoid := range []string{"/elsewhere", "nonexistent", ".tmp"} {
		if strings.Contains(s, avoid) {
			t.Errorf("a temporary was loaded: %q in systemd's parse", avoid)
		}
	}
}
