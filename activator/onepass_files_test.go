package main_test

// One pass beyond the four files the issue named: a run reads every host
// file it needs once, and what activate changes it folds back into the
// facts itself (internal/facts says so) rather than reading the machine
// again.

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// fileOpens runs the tuner with args on root under strace and counts the
// successful opens of each host file for reading (open, openat, openat2;
// not O_PATH or O_DIRECTORY handles, not failed ones: a walk or a retry
// after ENOENT reads nothing). written are the files the run opened for
// writing: what it wrote it may read back.
func fileOpens(t *testing.T, root string, args ...string) (reads map[string]int, written map[string]bool) {
	t.Helper()
	// -ff: one file per thread, so that no open is split into
	// "<unfinished ...>" and "<... resumed>" lines by another thread's
	// system call (under load the Go runtime's threads interleave, and a
	// split write-open was then missed and its read-back counted twice).
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	res := runAct(t, fakeRoot{root}, nil, []string{"strace", "-ff", "-qq", "-y", "-e", "trace=open,openat,openat2", "-o", trace}, args...)
	if res.signal != "" {
		t.Fatalf("%v: killed by %s\n%s", args, res.signal, res.stderr)
	}
	files, err := filepath.Glob(trace + ".*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no trace files %s.*: %v", trace, err)
	}
	var b []byte
	for _, f := range files {
		tb, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, tb...)
	}
	reads, written = map[string]int{}, map[string]bool{}
	re := regexp.MustCompile(`open(?:at2?)?\((?:(?:[A-Z_]+|\d+)(?:<[^>]*>)?, )?"[^"]*", ([^)]*)\) = \d+<([^>]*)>`)
	for _, line := range strings.Split(string(b), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil || strings.Contains(m[1], "O_PATH") || strings.Contains(m[1], "O_DIRECTORY") {
			continue
		}
		rel, ok := strings.CutPrefix(m[2], root)
		if !ok {
			continue
		}
		if strings.Contains(m[1], "O_WRONLY") || strings.Contains(m[1], "O_RDWR") || strings.Contains(m[1], "O_CREAT") {
			written[rel] = true
			continue
		}
		reads[rel]++
	}
	if len(reads) == 0 {
		t.Fatalf("the trace shows no open under the root; is strace working?\n%s", b)
	}
	return reads, written
}

// readBack reports whether cmd may open host file p again after writing
// it in the same run: activate reads back each sysctl it writes, as the
// kernel may clamp or refuse a value and the closing report must say
// what holds. Nothing else is read again: what activate changes it folds
// into the facts (the swapfile it keeps untouched, the core's memory
// cgroup it only judges, are not opened twice).
func readBack(cmd, p string) bool {
	return cmd == "activate" && strings.HasPrefix(p, "/proc/sys/")
}

// TestEveryHostFileReadOnce: activate (with everything in place), the
// gate, status and metrics each open every host file they read at most
// once, on a machine without and with a capture interface; activate may
// read back only the sysctls it wrote (readBack). A second reader of the same file (the
// cgroup controllers read for the topology and again for the memory
// cgroup, the core's memory.swap.max for the guarantee and again for the
// memory report, the capture NIC's sysfs files for the topology, for the
// capture report and for the interrupts, the core's memory cgroup read
// again after activate changed nothing in it) is a fact gathered twice,
// which two parts of a run may then see differently.
func TestEveryHostFileReadOnce(t *testing.T) {
	needStrace(t)
	for _, c := range []fakeroot.Case{fakeroot.Healthy, fakeroot.Capture} {
		t.Run(string(c), func(t *testing.T) {
			root := string(fakeroot.New(t, c))
			r := fakeRoot{root}
			if err := os.MkdirAll(filepath.Dir(r.path(names.DefaultMetricsPath)), 0o755); err != nil {
				t.Fatal(err)
			}
			// A first run settles what activate writes: the second finds
			// everything in place.
			if res := run(t, r, nil, "activate"); res.code != 0 {
				t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
			}
			for _, args := range [][]string{{"activate"}, {"gate"}, {"status", "--json"}, {"metrics"}} {
				t.Run(args[0], func(t *testing.T) {
					reads, written := fileOpens(t, root, args...)
					var again []string
					for p, n := range reads {
						if n > 1 && !(written[p] && readBack(args[0], p)) {
							again = append(again, p)
						}
					}
					sort.Strings(again)
					for _, p := range again {
						t.Errorf("%s opened %d times", p, reads[p])
					}
				})
			}
		})
	}
}
