package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ransomeye/ransomeye-tuner/testkit/bench"
)

// row is one line of the table.
type row struct {
	item, what string
	ours       bench.Stats
	oursCmd    string
	ref        string
	refStats   bench.Stats
	refCmd     string
	ratio      string
	goal       string
	verdict    string
	note       string
	absolute   string // a figure that is not a timing (sizes, RSS, boot)
}

type report struct {
	started  time.Time
	took     time.Duration
	facts    []string // machine lines
	rows     []row
	analysis string // hand-written analysis, appended verbatim
	failed   bool
	rss      map[string][]string // binary path -> "case: N MiB" peak RSS notes
}

func (r *report) add(x row) { r.rows = append(r.rows, x) }

func (r *report) fail(item, what string, err error) {
	r.failed = true
	fmt.Fprintf(os.Stderr, "benchrun: line %s (%s): %v\n", item, what, err)
	r.add(row{item: item, what: what, verdict: "ERROR", note: err.Error()})
}

// timeBin is GNU time, which forks (a small process) before it execs the
// command: the child's ru_maxrss is then the command's own peak. (A child
// that Go starts with clone(CLONE_VM|CLONE_VFORK) inherits the driver's
// high-water mark at exec, so rusage from os/exec overstates small tools.)
const timeBin = "/usr/bin/time"

// measureRSS runs the command mk makes 3 times under GNU time and notes the
// largest peak RSS under path's name.
func (r *report) measureRSS(path, label string, env []string, mk func() ([]string, func())) {
	if r.rss == nil {
		r.rss = map[string][]string{}
	}
	if _, err := os.Stat(timeBin); err != nil {
		r.rss[path] = append(r.rss[path], "not measured ("+timeBin+" missing: apt-get install time)")
		return
	}
	f, err := os.CreateTemp("", "benchrun-rss-")
	if err != nil {
		return
	}
	f.Close()
	defer os.Remove(f.Name())
	var peak int64
	for i := 0; i < 3; i++ {
		args, done := mk()
		cmd := exec.Command(timeBin, append([]string{"-f", "%M", "-o", f.Name()}, args...)...)
		cmd.Env = env
		_, err := runCmd(cmd)
		done()
		if err != nil {
			r.rss[path] = append(r.rss[path], label+": not measured ("+err.Error()+")")
			return
		}
		b, _ := os.ReadFile(f.Name())
		lines := strings.Fields(string(b))
		if len(lines) == 0 {
			continue
		}
		if v, err := strconv.ParseInt(lines[len(lines)-1], 10, 64); err == nil && v > peak {
			peak = v
		}
	}
	note := fmt.Sprintf("%.1f MiB", float64(peak)/1024)
	if label != "" {
		note = label + " " + note
	}
	r.rss[path] = append(r.rss[path], note)
}

func output(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}

func (r *report) machine(rev string) {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"))
	}
	r.facts = append(r.facts,
		"date: "+r.started.Format("2006-01-02 15:04 MST"),
		"CPUs (nproc): "+output("nproc")+", model: "+model,
		"memory: "+mem,
		"kernel: "+output("uname", "-r"),
		"systemd: "+firstLine(output("systemctl", "--version")),
		"Go: "+runtime.Version()+" (driver); binaries built by `make build`",
		"commit: "+commit(rev),
		"load average at start: "+loadavg()+" (the machine is shared: other jobs run during the measurement; ratios are alternated, absolute times are not protected from them)",
	)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func commit(rev string) string {
	if rev != "" {
		return rev
	}
	return output("git", "describe", "--always", "--dirty")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// bins are the binaries under test.
type bins struct {
	generator, activator, fstab string
}

// fstabGenerator is systemd's C generator, the reference of lines 1, 2, 4.
const fstabGenerator = "/usr/lib/systemd/system-generators/systemd-fstab-generator"

func newBins(dir string) (bins, error) {
	b := bins{
		generator: filepath.Join(dir, "ransomeye-tuner-generator"),
		activator: filepath.Join(dir, "ransomeye-tuner"),
		fstab:     fstabGenerator,
	}
	for _, p := range []string{b.generator, b.activator} {
		if _, err := os.Stat(p); err != nil {
			return b, fmt.Errorf("%q missing: run `make build` first (%w)", p, err)
		}
	}
	if _, err := os.Stat(b.fstab); err != nil {
		return b, fmt.Errorf("%q missing: install systemd (apt-get install systemd) (%w)", b.fstab, err)
	}
	d, err := os.MkdirTemp("", "benchrun-bin-")
	if err != nil {
		return b, err
	}
	atExit(func() { os.RemoveAll(d) })
	for _, p := range []*string{&b.generator, &b.activator} {
		if *p, err = installCopy(*p, d); err != nil {
			return b, err
		}
	}
	return b, nil
}

// installCopy copies the executable src into dir with write(2), as a
// package manager installs it, and returns the copy's path. Why: the Go
// linker writes its output through a shared mapping, and running that file
// stayed slower than running a copy of the same bytes (about 0.45 ms per
// generator run on the bench machine, 3.9 against 2.4 ms of CPU time for
// as many page faults): the lines would time how the file was written, not
// the program as users run it.
func installCopy(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	dst := filepath.Join(dir, filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(struct{ io.Writer }{out}, in); err != nil {
		out.Close()
		return "", fmt.Errorf("copy %q: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("copy %q: %w", src, err)
	}
	return dst, nil
}

func (r *report) binaries(b bins) {
	r.facts = append(r.facts, fmt.Sprintf("our binaries: copied from the -bin directory into %s with write(2), as a package installs them (the linker's own output file, written through a mapping, ran the same bytes about 0.45 ms slower per generator run; scripts/benchrun/report.go, installCopy)", filepath.Dir(b.generator)))
	r.facts = append(r.facts, fmt.Sprintf("reference: %s (systemd's C fstab generator; this machine's /etc/fstab has %d non-comment lines)", b.fstab, fstabLines()))
}

func fstabLines() int {
	b, err := os.ReadFile("/etc/fstab")
	if err != nil {
		return 0
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// sizes adds line 5.
func (r *report) sizes(b bins) {
	for _, p := range []struct{ name, path string }{
		{"ransomeye-tuner-generator", b.generator},
		{"ransomeye-tuner", b.activator},
		{"systemd-fstab-generator (reference)", b.fstab},
	} {
		fi, err := os.Stat(p.path)
		if err != nil {
			continue
		}
		rss := "peak RSS not measured (its line did not run)"
		if v, ok := r.rss[p.path]; ok {
			rss = "peak RSS " + strings.Join(v, ", ")
		}
		r.add(row{item: "5", what: "size and peak RSS: " + p.name, absolute: fmt.Sprintf("%.2f MiB file; %s", float64(fi.Size())/(1<<20), rss), verdict: "reported"})
	}
	if v, ok := r.rss["/bin/true"]; ok {
		r.add(row{item: "5", what: "peak RSS floor: /bin/true under the same measurement", absolute: strings.Join(v, ", "), verdict: "reported",
			note: "peak RSS is ru_maxrss of the command run under " + timeBin + " -f %M (max of 3 runs)"})
	}
}

func fmtStats(s bench.Stats) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (IQR %s-%s, min %s, max %s, n=%d)", bench.Millis(s.Median), bench.Millis(s.Q1), bench.Millis(s.Q3), bench.Millis(s.Min), bench.Millis(s.Max), s.N)
}

func shortStats(s bench.Stats) string {
	if s.N == 0 {
		return "-"
	}
	return bench.Millis(s.Median)
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `make bench` (`scripts/bench.sh`, driver `scripts/benchrun`); do not edit by hand.\n")
	b.WriteString("Each timed line runs our command and its reference alternately (A B, B A, ...) in the same\n")
	b.WriteString("invocation, so that the noise of this shared machine falls on both; the figures are medians\n")
	b.WriteString("with the interquartile range, min and max. Ratios are ours / reference (line 3b: dd / ours).\n\n")
	b.WriteString("## Machine\n\n")
	for _, f := range r.facts {
		b.WriteString("- " + f + "\n")
	}
	fmt.Fprintf(&b, "- load average at end: %s\n", loadavg())
	fmt.Fprintf(&b, "- `make bench` took %s\n\n", r.took.Round(time.Second))
	b.WriteString("## Results\n\n")
	b.WriteString(r.results())
	b.WriteString("\n## Lines in full\n\n")
	for _, x := range r.rows {
		if x.absolute != "" && x.note == "" {
			continue
		}
		fmt.Fprintf(&b, "### %s. %s\n\n", x.item, x.what)
		if x.ours.N > 0 {
			fmt.Fprintf(&b, "- ours: %s\n  `%s`\n", fmtStats(x.ours), x.oursCmd)
		}
		if x.refStats.N > 0 {
			fmt.Fprintf(&b, "- %s: %s\n  `%s`\n", x.ref, fmtStats(x.refStats), x.refCmd)
		}
		if x.ratio != "" {
			fmt.Fprintf(&b, "- ratio %s, goal %s: **%s**\n", x.ratio, x.goal, x.verdict)
		}
		if x.note != "" {
			fmt.Fprintf(&b, "- %s\n", x.note)
		}
		b.WriteString("\n")
	}
	if r.analysis != "" {
		b.WriteString(strings.TrimSpace(r.analysis) + "\n")
	}
	return b.String()
}

// results is the table of the report, also printed on the terminal.
func (r *report) results() string {
	var b strings.Builder
	b.WriteString("| line | what | ours (median) | reference (median) | ratio | goal | verdict |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, x := range r.rows {
		ours, ref := shortStats(x.ours), shortStats(x.refStats)
		if x.absolute != "" {
			ours, ref = x.absolute, ""
		}
		if x.ref != "" && ref != "-" {
			ref = x.ref + ": " + ref
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", x.item, md(x.what), md(ours), md(ref), x.ratio, md(x.goal), md(x.verdict))
	}
	return b.String()
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
