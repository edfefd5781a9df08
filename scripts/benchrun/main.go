// Command benchrun is the driver of `make bench`: it measures the
// generator and the activator side by side with the references users would
// otherwise use, in one invocation, alternating the two commands of each
// line, and writes the table to BENCHMARKS.md.
//
// usage: benchrun [-bin DIR] [-out FILE] [-runs N] [-prov-runs N] [-interference-runs N] [-skip LIST]
//
// Read-only for the host except for what it creates and removes itself: temp
// directories, a tmpfs mount for the generators' output, and (as root) a
// loop device with an ext4 filesystem whose swapfiles it turns on and off.
// It never touches the host's own swap, sysctls, units or /etc.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ransomeye/ransomeye-tuner/testkit/bench"
)

func main() {
	if childMode() {
		return
	}
	opt := options{}
	flag.StringVar(&opt.bin, "bin", "bin", "directory holding ransomeye-tuner-generator and ransomeye-tuner (make build)")
	flag.StringVar(&opt.out, "out", "BENCHMARKS.md", "report file to write")
	flag.IntVar(&opt.runs, "runs", 200, "runs of each command for the process-start lines (1, 2, 4)")
	flag.IntVar(&opt.provRuns, "prov-runs", 25, "runs of each side for the 16 GiB provisioning line (3)")
	flag.IntVar(&opt.ddRuns, "dd-runs", 3, "runs of the 1 GiB dd (3)")
	flag.StringVar(&opt.vmwork, "vmwork", "vmwork", "the boot suite's work directory (line 6)")
	flag.StringVar(&opt.rev, "rev", "", "the commit the binaries were built from, for the report (default: git describe --always --dirty)")
	flag.StringVar(&opt.analysis, "analysis", "scripts/benchrun/analysis.md", "hand-written analysis appended to the report (\"\" for none)")
	flag.IntVar(&opt.interfRuns, "interference-runs", 15, "runs of each side of the interference line (7)")
	skip := flag.String("skip", "", "comma-separated sections to skip: gen,fake,provision,boot,interference")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "benchrun: unexpected argument %q (see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	opt.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			opt.skip[s] = true
		}
	}
	os.Exit(run(opt))
}

type options struct {
	bin, out, vmwork string
	rev, analysis    string
	runs, provRuns   int
	ddRuns           int
	interfRuns       int
	skip             map[string]bool
}

// cleanups run in reverse order at exit and on SIGINT/SIGTERM, so that no
// swap stays on and no mount or loop device stays behind.
var (
	cleanMu  sync.Mutex
	cleanups []func()
)

func atExit(f func()) {
	cleanMu.Lock()
	cleanups = append(cleanups, f)
	cleanMu.Unlock()
}

// cleanup runs the cleanups once, whoever calls it first (the signal
// handler or the end of run); a second caller waits for the first.
func cleanup() {
	cleanMu.Lock()
	defer cleanMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

// stop state: once a signal came, no new command starts, and cleanup waits
// for the one in flight (a swapon that finishes after the swapoff would
// leave swap on and the filesystem busy).
var (
	stopMu   sync.Mutex
	stopping bool
	inflight int
)

// errStopping is returned by runCmd once cleanup has begun.
var errStopping = errors.New("stopping: cleanup has begun")

// runCmd is bench.Run for the driver: it starts nothing once cleanup has
// begun, and counts the commands in flight.
func runCmd(cmd *exec.Cmd) (bench.Result, error) {
	stopMu.Lock()
	if stopping {
		stopMu.Unlock()
		return bench.Result{}, errStopping
	}
	inflight++
	stopMu.Unlock()
	defer func() {
		stopMu.Lock()
		inflight--
		stopMu.Unlock()
	}()
	return bench.Run(cmd)
}

// stopAndWait stops new commands and waits up to limit for those in flight.
func stopAndWait(limit time.Duration) {
	stopMu.Lock()
	stopping = true
	stopMu.Unlock()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		stopMu.Lock()
		n := inflight
		stopMu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(opt options) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "benchrun: %v: waiting for the command in flight, then cleaning up\n", s)
		stopAndWait(2 * time.Minute)
		cleanup()
		os.Exit(130)
	}()
	defer cleanup()

	start := time.Now()
	r := &report{started: start.UTC()}
	r.machine(opt.rev)
	b, err := newBins(opt.bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
		return 1
	}
	r.binaries(b)

	if !opt.skip["gen"] {
		if err := benchGenerator(r, b, opt); err != nil {
			r.fail("1", "generator on this machine", err)
		}
	}
	if !opt.skip["fake"] {
		if err := benchFakeRoots(r, b, opt); err != nil {
			r.fail("2", "generator on fake roots", err)
		}
	}
	if !opt.skip["provision"] {
		if err := benchProvision(r, b, opt); err != nil {
			r.fail("3", "provisioning", err)
		}
	}
	if !opt.skip["boot"] {
		benchBoot(r, opt.vmwork)
		benchInterferenceBoot(r, opt.vmwork)
		benchMemoryBoot(r, opt.vmwork)
	}
	if !opt.skip["interference"] {
		if err := benchInterference(r, opt); err != nil {
			r.fail("7", "interference on a reserved core", err)
		}
	}
	r.sizes(b)
	if opt.analysis != "" {
		if a, err := os.ReadFile(opt.analysis); err == nil {
			r.analysis = string(a)
		} else {
			fmt.Fprintf(os.Stderr, "benchrun: analysis %q not appended: %v\n", opt.analysis, err)
		}
	}
	r.took = time.Since(start)
	stopMu.Lock()
	stopped := stopping
	stopMu.Unlock()
	if stopped {
		// Interrupted: the signal handler cleans up and exits; a partial
		// report must not replace the last full one.
		select {}
	}
	text := r.markdown()
	fmt.Print(r.results())
	if err := os.WriteFile(opt.out, []byte(text), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: write %q: %v\n", opt.out, err)
		return 1
	}
	fmt.Printf("\nwrote %s (%s)\n", opt.out, time.Since(start).Round(time.Second))
	if r.failed {
		return 1
	}
	return 0
}
