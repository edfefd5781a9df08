package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// genDirs are the three output directories systemd passes a generator.
type genDirs struct{ normal, early, late string }

func newGenDirs(t *testing.T) genDirs {
	t.Helper()
	normal, early, late := blackbox.OutDirs(t)
	return genDirs{normal, early, late}
}

// needKmsgCapture skips unless the generator can run in a private mount
// namespace with a plain file bound over /dev/kmsg, so that its log is
// captured and this host's kernel log is not written.
func needKmsgCapture(t *testing.T) {
	t.Helper()
	needUID0(t) // to bind a file over /dev/kmsg in a private mount namespace
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
}

// runGeneratorKmsg runs the real generator with root as RANSOMEYE_TUNER_ROOT
// into d, under the hang guard, with its address space limited to 4 GiB (a
// generator reading an endless file must fail, not eat this shared host's
// memory), and returns the run and its kernel-log lines. Not 1 GiB: there
// the Go runtime itself failed to reserve address space about once in 50
// runs ("out of memory: cannot allocate 4194304-byte block (3866624 in
// use)", TestFaultConfigGarbage/512_KiB_value), with 8 MiB resident.
func runGeneratorKmsg(t *testing.T, root string, d genDirs, pre ...string) (result, string) {
	t.Helper()
	kmsg := filepath.Join(t.TempDir(), "kmsg")
	if err := os.WriteFile(kmsg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$0" /dev/kmsg && ` + strings.Join(append(pre, ""), " && ") + `shift && exec prlimit --as=4294967296 -- "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
		kmsg, "x", generatorBin, d.normal, d.early, d.late)
	cmd.Env = []string{"RANSOMEYE_TUNER_ROOT=" + root, "PATH=" + os.Getenv("PATH"), "SYSTEMD_SCOPE=system"} // as systemd runs it: to the kernel log
	res := runCmd(t, cmd)
	log, _ := os.ReadFile(kmsg)
	return res, kmsgTag.ReplaceAllString(string(log), "")
}

// kmsgTag is the "ransomeye-tuner-generator[pid]: " tag after a kernel-log
// line's priority prefix.
var kmsgTag = regexp.MustCompile(`ransomeye-tuner-generator\[\d+\]: `)

// listOut lists every entry under the output directories, relative.
func listOut(t *testing.T, d genDirs) []string {
	t.Helper()
	var out []string
	for name, dir := range map[string]string{"normal": d.normal, "early": d.early, "late": d.late} {
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && p != dir {
				rel, _ := filepath.Rel(dir, p)
				if !fi.IsDir() {
					out = append(out, name+"/"+rel)
				}
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

// eightCPU writes a plain 8-core machine (a CPU plan is expected) into a
// temporary root, with the given extra /etc files.
func eightCPU(t *testing.T, files map[string]string, override map[string]string) string {
	t.Helper()
	root := t.TempDir()
	m := fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: files, Override: override}
	if err := m.Write(root); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestFaultConfigNotRegular is fault-matrix row 1 (unreadable config) for
// entries a read blocks on or never finishes: the main file a FIFO, a
// drop-in that is a symlink to /dev/zero. The
// generator must neither block the boot nor be killed (systemd reports a
// generator that times out or crashes as failed): it exits 0, writes no
// unit, and logs the file. The activator fails closed naming the file.
func TestFaultConfigNotRegular(t *testing.T) {
	needKmsgCapture(t)
	for _, tc := range []struct {
		name, file string
		make       func(p string) error
	}{
		{"main file is a FIFO", "/etc/ransomeye/tuner.conf", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"drop-in is a symlink to /dev/zero", "/etc/ransomeye/tuner.conf.d/50-zero.conf", func(p string) error { return os.Symlink("/dev/zero", p) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := eightCPU(t, nil, nil)
			p := filepath.Join(root, tc.file)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			d := newGenDirs(t)
			res, log := runGeneratorKmsg(t, root, d)
			if res.code != 0 {
				t.Errorf("generator: exit %d (signal %q): the boot would report a failed generator\n%s%s", res.code, res.signal, log, res.stderr)
			}
			if l := listOut(t, d); len(l) != 0 {
				t.Errorf("units written despite an unreadable config: %q", l)
			}
			if !strings.Contains(log, "<3>"+tc.file) {
				t.Errorf("the log does not name %s at error priority:\n%s", tc.file, log)
			}
			// The activator: fail closed, naming the file.
			r := fillRoot(t, t.TempDir(), 32*mib)
			rp := r.path(tc.file)
			os.MkdirAll(filepath.Dir(rp), 0o755)
			if err := tc.make(rp); err != nil {
				t.Fatal(err)
			}
			failedClosed(t, r, runAct(t, r, nil, nil, "activate"), tc.file)
		})
	}
}

// TestFaultConfigGarbage is fault-matrix row 1 for inputs the golden cases
// do not hold: binary garbage with NUL bytes, CRLF line ends, a 512 KiB value (a bigger file is refused whole:
// config's TestLoadNeverBlocks),
// invalid UTF-8 in the path, a line continuation that would put a newline
// or space into a service name, a key given twice in one file. The
// generator exits 0 every time; an invalid file gives no unit and a log line
// naming file and line; an accepted one gives units whose swap unit name is
// systemd-escape's for a What= that holds no control character.
func TestFaultConfigGarbage(t *testing.T) {
	needKmsgCapture(t)
	for _, tc := range []struct {
		name, text string
		// wantWhat is the swap path the units must carry, or "" when the
		// file must be refused with an error at wantLine.
		wantWhat, wantLine string
	}{
		{"binary garbage", "\x00\xff\xfe[Swap]\x00Path=/x\n\x01\x02\x03\n", "", "tuner.conf:1"},
		{"NUL inside a value", "[Swap]\nPath=/ransomeye/sw\x00ap\n", "", "tuner.conf:2"},
		{"CRLF line ends", "[Swap]\r\nPath=/crlf/swap\r\n", "/crlf/swap", ""},
		{"512 KiB value", "[Swap]\nPath=/" + strings.Repeat("a", 512<<10) + "\n", "", "tuner.conf:2"},
		{"invalid UTF-8 in the path", "[Swap]\nPath=/data/\xff\xfe/swap\n", "?", ""},
		{"continuation into a service name", "[CPU]\nCoreService=ransomeye-\\\ncore.service\n", "", "tuner.conf:2"},
		{"key twice in one file", "[Swap]\nPath=/first/swap\nPath=/second/swap\n", "/second/swap", ""},
		{"section header garbage", "[Swap\nPath=/x/swap\n", "", "tuner.conf:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := eightCPU(t, map[string]string{"/etc/ransomeye/tuner.conf": tc.text}, nil)
			d := newGenDirs(t)
			res, log := runGeneratorKmsg(t, root, d)
			if res.code != 0 {
				t.Fatalf("generator: exit %d (signal %q)\n%s%s", res.code, res.signal, log, res.stderr)
			}
			out := listOut(t, d)
			if tc.wantWhat == "" {
				if len(out) != 0 {
					t.Errorf("units written from an invalid config: %q", out)
				}
				if !strings.Contains(log, "<3>/etc/ransomeye/"+tc.wantLine+":") {
					t.Errorf("no error line naming %s:\n%s", tc.wantLine, log)
				}
				return
			}
			var swapUnit, what string
			for _, f := range out {
				if strings.HasPrefix(f, "late/") && strings.HasSuffix(f, ".swap") && !strings.Contains(f, "/swap.target.wants/") {
					swapUnit = strings.TrimPrefix(f, "late/")
					b, _ := os.ReadFile(filepath.Join(d.late, swapUnit))
					for _, l := range strings.Split(string(b), "\n") {
						if strings.HasPrefix(l, "What=") {
							what = strings.TrimPrefix(l, "What=")
						}
					}
				}
			}
			if tc.wantWhat == "?" {
				// Either refused with a line number, or accepted with a
				// name systemd agrees with (checked below).
				if swapUnit == "" {
					if !strings.Contains(log, "<3>/etc/ransomeye/tuner.conf:2:") {
						t.Errorf("neither units nor an error line:\n%s", log)
					}
					return
				}
			} else if what != tc.wantWhat {
				t.Errorf("What=%q, want %q (units %q)", what, tc.wantWhat, out)
			}
			if strings.ContainsAny(what, "\r\n\x00") {
				t.Errorf("What=%q holds a control character", what)
			}
			if esc, err := exec.Command("systemd-escape", "--path", "--suffix=swap", unescapeWhat(what)).Output(); err == nil {
				if got := strings.TrimSpace(string(esc)); got != swapUnit {
					t.Errorf("swap unit %q, systemd-escape says %q", swapUnit, got)
				}
			}
		})
	}
}

// unescapeWhat undoes the unit-file escaping of a What= value: "%%" is "%"
// and C-style escapes (\xNN) stand for bytes.
func unescapeWhat(s string) string {
	s = strings.ReplaceAll(s, "%%", "%")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			var v byte
			ok := true
			for _, c := range []byte(s[i+2 : i+4]) {
				v <<= 4
				switch {
				case c >= '0' && c <= '9':
					v |= c - '0'
				case c >= 'a' && c <= 'f':
					v |= c - 'a' + 10
				default:
					ok = false
				}
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestFaultMalformedCPUListsBinary is fault-matrix row 2 on the whole
// generator (topology's TestFaultMalformedCPULists is the unit level; the
// golden case 15 holds one list): for each malformed list in sysfs the
// generator exits 0, writes the swap units but no CPU drop-in or slice, and
// logs the file at error priority.
func TestFaultMalformedCPUListsBinary(t *testing.T) {
	needKmsgCapture(t)
	for _, tc := range []struct{ file, content string }{
		{"/sys/devices/system/cpu/online", "10-6\n"},
		{"/sys/devices/system/cpu/online", "1--3\n"},
		{"/sys/devices/system/cpu/online", "0,,1\n"},
		{"/sys/devices/system/cpu/online", "\n"},
		{"/sys/devices/system/cpu/online", "0-4294967295\n"},
		{"/sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "1--3\n"},
		{"/sys/devices/system/node/node0/cpulist", "0-999999\n"},
		{"/sys/fs/cgroup/cpuset.cpus.effective", "0,,7\n"},
	} {
		t.Run(tc.file+"="+strings.TrimSpace(tc.content), func(t *testing.T) {
			root := eightCPU(t, nil, map[string]string{tc.file: tc.content})
			d := newGenDirs(t)
			res, log := runGeneratorKmsg(t, root, d)
			if res.code != 0 {
				t.Fatalf("generator: exit %d (signal %q)\n%s", res.code, res.signal, log)
			}
			out := listOut(t, d)
			for _, f := range out {
				if strings.Contains(f, "cpu-isolation.conf") || strings.HasSuffix(f, ".slice") {
					t.Errorf("CPU plan written from a malformed %s: %s", tc.file, f)
				}
			}
			if !strings.Contains(strings.Join(out, " "), "late/ransomeye-swap.swap") {
				t.Errorf("no swap unit (the swap does not depend on the CPU plan): %q", out)
			}
			found := false
			for _, l := range strings.Split(log, "\n") {
				if strings.HasPrefix(l, "<3>") && strings.Contains(l, filepath.Base(tc.file)) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error line naming %s:\n%s", tc.file, log)
			}
		})
	}
}

// TestFaultGeneratorOutputFull is fault-matrix row 4 (output directory full)
// on the whole binary: the normal directory is on a full ext4 loop
// filesystem. The generator exits 0, logs the error, and leaves no partial
// file visible: every visible file is byte-identical to a healthy run's, and
// the late swap unit does not exist without its wiring drop-in.
func TestFaultGeneratorOutputFull(t *testing.T) {
	needKmsgCapture(t)
	needRoot(t)
	root := eightCPU(t, nil, nil)
	ref := newGenDirs(t)
	if res, log := runGeneratorKmsg(t, root, ref); res.code != 0 {
		t.Fatalf("reference run: exit %d\n%s", res.code, log)
	}
	d := newGenDirs(t)
	loopFS(t, "ext4", "2M", d.normal, "-O", "^has_journal", "-N", "64")
	filler, err := os.Create(filepath.Join(d.normal, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Sync()
	filler.Close()
	res, log := runGeneratorKmsg(t, root, d)
	if res.code != 0 {
		t.Fatalf("generator: exit %d (signal %q)\n%s", res.code, res.signal, log)
	}
	if !strings.Contains(log, "no space left on device") {
		t.Errorf("the log does not say the directory is full:\n%s", log)
	}
	for _, f := range listOut(t, d) {
		if f == "normal/filler" || f == "normal/lost+found" {
			continue
		}
		dir, rel, _ := strings.Cut(f, "/")
		base := map[string][2]string{"normal": {d.normal, ref.normal}, "early": {d.early, ref.early}, "late": {d.late, ref.late}}[dir]
		got, gerr := readEntry(filepath.Join(base[0], rel))
		want, werr := readEntry(filepath.Join(base[1], rel))
		if gerr != nil || werr != nil || got != want {
			t.Errorf("%s is not the complete file of a healthy run (%v, %v):\n%s", f, gerr, werr, got)
		}
	}
	if _, err := os.Lstat(filepath.Join(d.late, "ransomeye-swap.swap")); err == nil {
		if _, err := os.Stat(filepath.Join(d.normal, "ransomeye-swap.swap.d", "ransomeye-tuner.conf")); err != nil {
			t.Errorf("late swap unit written without its wiring drop-in: %v", err)
		}
	}
}

// readEntry returns a file's content or a symlink's target.
func readEntry(p string) (string, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		tgt, err := os.Readlink(p)
		return "link:" + tgt, err
	}
	b, err := os.ReadFile(p)
	return string(b), err
}
