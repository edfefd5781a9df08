package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/testkit/bench"
)

// Line 7, host side: interference on a reserved core. A fixed CPU-bound
// job pinned to one CPU (the reserved CPU a DPI worker would own) runs
// while a noisy CPU load (one busy process per online CPU) is either kept
// off that CPU, as the partition keeps system.slice off the reserved CPUs,
// or allowed on every CPU, as without the partition. The two are
// alternated; the job's wall time and its involuntary context switches
// (rusage ru_nivcsw, the count /proc/PID/status shows as
// nonvoluntary_ctxt_switches) are compared as medians.
//
// What it shows: what CPU contention on the job's CPU costs, and that
// confining the noise to other CPUs removes it. What it does not: the
// interrupt and softirq half of the noise (it moves no IRQ: this host's
// interrupts are not ours to move), the cgroup mechanism itself (it pins
// with taskset, the same sched_setaffinity a cpuset applies), and cache or
// memory-bandwidth interference, which a partition does not remove. The
// boot case in a VM measures the real units.

// Environment variables that turn benchrun into the job or the noise.
const (
	envSpin = "BENCHRUN_SPIN" // run that many iterations, print the result, exit
	envBurn = "BENCHRUN_BURN" // spin until killed
)

// spinIterations is the job's fixed work: 0.2-0.35 s of one CPU on this
// host (3 runs of `taskset -c 1`, load average 16-20).
const spinIterations = 50_000_000

// childMode runs benchrun as the job or the noise when asked; it reports
// whether it did (then main exits).
func childMode() bool {
	if v := os.Getenv(envSpin); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchrun: %s=%q: %v\n", envSpin, v, err)
			os.Exit(2)
		}
		fmt.Println(spin(n))
		return true
	}
	if os.Getenv(envBurn) != "" {
		for {
			spin(1 << 30)
		}
	}
	return false
}

// spin is a fixed amount of integer work the compiler cannot drop.
func spin(n int64) uint64 {
	x := uint64(88172645463325252)
	for i := int64(0); i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// interferenceSample is one run of the job.
type interferenceSample struct {
	wall   time.Duration
	nivcsw int64
}

// runJob starts the noise on noiseCPUs, runs the job pinned to jobCPU and
// stops the noise; only the job is timed.
func runJob(self string, jobCPU int, noiseCPUs cpuset.Set, noisy int) (interferenceSample, error) {
	var burners []*exec.Cmd
	stop := func() {
		for _, b := range burners {
			_ = b.Process.Kill()
			_ = b.Wait()
		}
		burners = nil
	}
	defer stop()
	for i := 0; i < noisy; i++ {
		b := exec.Command("taskset", "-c", noiseCPUs.String(), self)
		b.Env = append(os.Environ(), envBurn+"=1")
		if err := b.Start(); err != nil {
			return interferenceSample{}, fmt.Errorf("start the noise: %w", err)
		}
		burners = append(burners, b)
	}
	time.Sleep(50 * time.Millisecond) // the noise is running (outside the timing)
	job := exec.Command("taskset", "-c", strconv.Itoa(jobCPU), self)
	job.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envSpin, spinIterations))
	res, err := runCmd(job)
	if err != nil {
		return interferenceSample{}, err
	}
	ru, ok := job.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return interferenceSample{}, fmt.Errorf("no rusage for the job")
	}
	return interferenceSample{wall: res.Wall, nivcsw: int64(ru.Nivcsw)}, nil
}

// benchInterference is line 7 (host side).
func benchInterference(r *report, opt options) error {
	online := runtime.NumCPU()
	if online < 2 {
		return fmt.Errorf("needs 2 CPUs or more, this host has %d", online)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("taskset is not installed (apt-get install util-linux): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var ids []int
	for i := 0; i < online; i++ {
		ids = append(ids, i)
	}
	all := cpuset.Of(ids...)
	jobCPU := online - 1
	others := all.Difference(cpuset.Of(jobCPU))
	var with, without []interferenceSample
	side := func(noise cpuset.Set, into *[]interferenceSample) bench.Func {
		return func() (time.Duration, error) {
			s, err := runJob(self, jobCPU, noise, online)
			if err != nil {
				return 0, err
			}
			*into = append(*into, s)
			return s.wall, nil
		}
	}
	sa, sb, err := bench.Alternate(opt.interfRuns, 1, side(others, &with), side(all, &without))
	if err != nil {
		return err
	}
	// The warm-up round's samples are not counted.
	with, without = with[1:], without[1:]
	a, b := bench.Summarize(sa), bench.Summarize(sb)
	ca, cb := countStats(with), countStats(without)
	r.add(row{item: "7", what: "interference on a reserved core (host side: CPU noise only)",
		ours: a, oursCmd: fmt.Sprintf("taskset -c %d benchrun (%s=%d), %d busy processes on CPUs %s (the partition)", jobCPU, envSpin, spinIterations, online, others),
		ref: "without the partition", refStats: b, refCmd: fmt.Sprintf("the same job, %d busy processes on CPUs %s", online, all),
		ratio: fmt.Sprintf("%.2fx", bench.Ratio(a, b)), goal: "(reported)", verdict: "reported",
		note: fmt.Sprintf("involuntary context switches of the job (rusage ru_nivcsw): with the partition median %d (IQR %d-%d), without %d (IQR %d-%d). "+
			"CPU noise only: interrupts are not moved on this host, pinning is taskset's sched_setaffinity rather than a cgroup, and cache and memory-bandwidth interference are not removed by a partition. "+
			"The boot case measures the same with the real units and interrupt load", ca[1], ca[0], ca[2], cb[1], cb[0], cb[2])})
	return nil
}

// countStats returns Q1, median and Q3 of the involuntary context switches
// (bench.Summarize on the counts, as durations of that many nanoseconds).
func countStats(s []interferenceSample) [3]int64 {
	d := make([]time.Duration, len(s))
	for i, x := range s {
		d[i] = time.Duration(x.nivcsw)
	}
	st := bench.Summarize(d)
	return [3]int64{int64(st.Q1), int64(st.Median), int64(st.Q3)}
}
