package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/testkit/bench"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// outBase returns a directory on tmpfs for generator output, as systemd's
// /run/systemd/generator*: a private tmpfs mount when root, else /dev/shm
// when it is tmpfs, else the temp dir (said in the returned note).
func outBase() (dir, note string, err error) {
	d, err := os.MkdirTemp("", "benchrun-out-")
	if err != nil {
		return "", "", err
	}
	atExit(func() { os.RemoveAll(d) })
	if os.Geteuid() == 0 {
		if err := unix.Mount("benchrun", d, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64m,mode=0755"); err == nil {
			atExit(func() { unix.Unmount(d, unix.MNT_DETACH) })
			return d, "output dirs on a private tmpfs (as /run/systemd/generator*)", nil
		}
	}
	var st unix.Statfs_t
	if unix.Statfs("/dev/shm", &st) == nil && st.Type == unix.TMPFS_MAGIC {
		d2, err := os.MkdirTemp("/dev/shm", "benchrun-out-")
		if err == nil {
			atExit(func() { os.RemoveAll(d2) })
			return d2, "output dirs on /dev/shm (tmpfs, as /run/systemd/generator*)", nil
		}
	}
	return d, "output dirs on " + d + " (not tmpfs: fsync costs disk time here, unlike /run)", nil
}

// genRunner runs a generator into fresh normal/early/late directories under
// base, timing only the process.
type genRunner struct {
	base string
	n    int
}

func (g *genRunner) dirs() (string, [3]string, error) {
	g.n++
	d := filepath.Join(g.base, fmt.Sprintf("run%d", g.n))
	var out [3]string
	for i, s := range []string{"normal", "early", "late"} {
		out[i] = filepath.Join(d, s)
		if err := os.MkdirAll(out[i], 0o755); err != nil {
			return d, out, err
		}
	}
	return d, out, nil
}

// fn returns a bench.Func running path with env (nil: inherit minus the
// tuner's root) and the three directories as arguments.
func (g *genRunner) fn(r *report, path string, env []string, check func([3]string) error) bench.Func {
	return func() (time.Duration, error) {
		d, dirs, err := g.dirs()
		defer os.RemoveAll(d)
		if err != nil {
			return 0, err
		}
		cmd := exec.Command(path, dirs[0], dirs[1], dirs[2])
		cmd.Env = env
		res, err := runCmd(cmd)
		if err != nil {
			return 0, err
		}
		if check != nil {
			if err := check(dirs); err != nil {
				return 0, err
			}
		}
		return res.Wall, nil
	}
}

// hostEnv is the environment without RANSOMEYE_TUNER_ROOT.
func hostEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "RANSOMEYE_TUNER_ROOT=") && !strings.HasPrefix(e, "GODEBUG=") {
			env = append(env, e)
		}
	}
	return env
}

func rootEnv(root string) []string { return append(hostEnv(), "RANSOMEYE_TUNER_ROOT="+root) }

// wroteSwapUnit checks that our generator produced its swap unit.
func wroteSwapUnit(dirs [3]string) error {
	if _, err := os.Stat(filepath.Join(dirs[2], "ransomeye-swap.swap")); err != nil {
		return fmt.Errorf("the generator wrote no swap unit into %q: %w", dirs[2], err)
	}
	return nil
}

func verdictAtMost(ratio, goal float64) string {
	if ratio <= goal {
		return "met"
	}
	return fmt.Sprintf("NOT met (%.1f%% over)", (ratio/goal-1)*100)
}

// verdictAtMostDur is the verdict for a goal of at most goal.
func verdictAtMostDur(d, goal time.Duration) string {
	if d <= goal {
		return "met"
	}
	return fmt.Sprintf("NOT met (%s over)", bench.Millis(d-goal))
}

func verdictUnder(d, goal time.Duration) string {
	if d < goal {
		return "met"
	}
	return fmt.Sprintf("NOT met (%s over)", bench.Millis(d-goal))
}

// benchGenerator is line 1: our generator on this machine's real topology
// against systemd-fstab-generator, plus the floor of a Go process (1f) and
// the peak RSS of line 5.
func benchGenerator(r *report, b bins, opt options) error {
	base, note, err := outBase()
	if err != nil {
		return err
	}
	g := &genRunner{base: base}
	ours := g.fn(r, b.generator, hostEnv(), wroteSwapUnit)
	ref := g.fn(r, b.fstab, hostEnv(), nil)
	sa, sb, err := bench.Alternate(opt.runs, 5, ours, ref)
	if err != nil {
		return err
	}
	a, s := bench.Summarize(sa), bench.Summarize(sb)
	ratio := bench.Ratio(a, s)
	r.add(row{item: "1", what: "generator, whole process, this machine's topology",
		ours: a, oursCmd: bench.Quote([]string{b.generator, "NORMAL", "EARLY", "LATE"}) + " (RANSOMEYE_TUNER_ROOT unset)",
		ref: "systemd-fstab-generator", refStats: s, refCmd: bench.Quote([]string{b.fstab, "NORMAL", "EARLY", "LATE"}),
		ratio: fmt.Sprintf("%.2fx", ratio), goal: "<= 0.6x", verdict: verdictAtMost(ratio, 0.6),
		note: note + "; each run gets three fresh empty directories (made and removed outside the timing)"})

	// The floor: an empty static Go program, alternated with the same reference.
	if floor, err := buildEmptyGo(); err == nil {
		fa, fb, err := bench.Alternate(opt.runs/2, 3, g.fn(r, floor, hostEnv(), nil), ref)
		if err == nil {
			x, y := bench.Summarize(fa), bench.Summarize(fb)
			fr := bench.Ratio(x, y)
			r.add(row{item: "1f", what: "floor: an empty Go program (func main(){}), static",
				ours: x, oursCmd: "CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' of `package main; func main() {}`",
				ref: "systemd-fstab-generator", refStats: y, refCmd: bench.Quote([]string{b.fstab, "NORMAL", "EARLY", "LATE"}),
				ratio: fmt.Sprintf("%.2fx", fr), goal: "(context)", verdict: "reported",
				note: fmt.Sprintf("what any Go binary pays before main: %.0f%% of our generator's median", 100*float64(x.Median)/float64(a.Median))})
		}
	} else {
		r.fail("1f", "floor: an empty Go program", err)
	}

	r.measureRSS(b.generator, "this machine", hostEnv(), g.withDirs(b.generator))
	r.measureRSS(b.fstab, "this machine", hostEnv(), g.withDirs(b.fstab))
	r.measureRSS("/bin/true", "", hostEnv(), func() ([]string, func()) { return []string{"/bin/true"}, func() {} })
	return nil
}

// withDirs returns a command maker for measureRSS: path with three fresh
// output directories, and their cleanup.
func (g *genRunner) withDirs(path string) func() ([]string, func()) {
	return func() ([]string, func()) {
		d, dirs, _ := g.dirs()
		return []string{path, dirs[0], dirs[1], dirs[2]}, func() { os.RemoveAll(d) }
	}
}

// buildEmptyGo builds `func main(){}` the way `make build` builds ours.
func buildEmptyGo() (string, error) {
	d, err := os.MkdirTemp("", "benchrun-empty-")
	if err != nil {
		return "", err
	}
	atExit(func() { os.RemoveAll(d) })
	src := filepath.Join(d, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(d, "go.mod"), []byte("module empty\n\ngo 1.22\n"), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(d, "build", "empty")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = d
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the empty Go program: %v: %s", err, b)
	}
	// Run as ours are: a copy (installCopy).
	return installCopy(out, d)
}

// fakeCases are the machines of line 2.
var fakeCases = []struct {
	item, what string
	m          fakesys.Machine
	// goal is the most the generator's median may take there.
	goal time.Duration
}{
	{"2a", "generator on a fake 256-CPU, 2-node, 2-thread SMT root", fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2}, 8 * time.Millisecond},
	{"2b", "generator on a fake 1 TiB RAM root (8192 memory blocks, 64 CPUs)", fakesys.Machine{Nodes: 2, CoresPerNode: 16, Threads: 2, MemTotalKiB: 1 << 30, MemoryBlocks: 8192}, 10 * time.Millisecond},
}

// benchFakeRoots is line 2: the generator on a fake 256-CPU 2-node SMT
// machine and on a fake 1 TiB machine with 8192 memory blocks.
func benchFakeRoots(r *report, b bins, opt options) error {
	base, note, err := outBase()
	if err != nil {
		return err
	}
	for _, c := range fakeCases {
		root, err := os.MkdirTemp("", "benchrun-root-")
		if err != nil {
			return err
		}
		atExit(func() { os.RemoveAll(root) })
		c.m.Files = map[string]string{"/etc/fstab": "# empty\n"}
		if err := c.m.Write(root); err != nil {
			return fmt.Errorf("write the fake root: %w", err)
		}
		g := &genRunner{base: base}
		ours := g.fn(r, b.generator, rootEnv(root), wroteSwapUnit)
		ref := g.fn(r, b.fstab, hostEnv(), nil)
		runs := max(opt.runs/2, 10)
		sa, sb, err := bench.Alternate(runs, 3, ours, ref)
		if err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
		a, s := bench.Summarize(sa), bench.Summarize(sb)
		r.measureRSS(b.generator, "fake root "+c.item, rootEnv(root), g.withDirs(b.generator))
		// What did it decide there? One more run, read the CPU drop-in.
		planNote := ""
		if d, dirs, err := g.dirs(); err == nil {
			cmd := exec.Command(b.generator, dirs[0], dirs[1], dirs[2])
			cmd.Env = rootEnv(root)
			if _, err := runCmd(cmd); err == nil {
				n := 0
				filepath.Walk(dirs[0], func(p string, fi os.FileInfo, err error) error {
					if err == nil && fi.Name() == "cpu-isolation.conf" {
						n++
					}
					return nil
				})
				planNote = fmt.Sprintf("; it wrote %d cpu-isolation.conf drop-ins (a CPU plan was made)", n)
				if n == 0 {
					planNote = "; it wrote no cpu-isolation.conf: NO CPU plan on this root (check the fake)"
				}
			}
			os.RemoveAll(d)
		}
		r.add(row{item: c.item, what: c.what,
			ours: a, oursCmd: bench.Quote([]string{"env", "RANSOMEYE_TUNER_ROOT=<fake root>", b.generator, "NORMAL", "EARLY", "LATE"}),
			ref: "systemd-fstab-generator (host)", refStats: s, refCmd: bench.Quote([]string{b.fstab, "NORMAL", "EARLY", "LATE"}),
			ratio: fmt.Sprintf("%.2fx", bench.Ratio(a, s)), goal: "<= " + bench.Millis(c.goal), verdict: verdictAtMostDur(a.Median, c.goal),
			note: note + "; fake root written by testkit/fakesys (a fake: this host has 2 CPUs)" + planNote})
	}
	return nil
}
