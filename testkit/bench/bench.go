// Package bench measures commands side by side for `make bench`: it runs
// two commands alternately (A B B A ...), so that the noise of a shared,
// busy machine falls on both, and summarizes each side by its median,
// quartiles and extremes.
//
// It measures; it asserts nothing about speed (the caller compares the
// figures with the goals and says which are met).
//
// Test-only, like everything under testkit/: the benchmark driver
// (scripts/benchrun) imports it; the shipped binaries never link it.
package bench

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Stats summarizes one side's samples.
type Stats struct {
	// N is the number of samples.
	N int
	// Median, Q1 and Q3 are the 50th, 25th and 75th percentiles (linear
	// interpolation between the closest ranks).
	Median, Q1, Q3 time.Duration
	// Min and Max are the extremes.
	Min, Max time.Duration
}

// Summarize returns the statistics of samples; an empty slice gives the
// zero Stats.
func Summarize(samples []time.Duration) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return Stats{
		N:      len(s),
		Median: quantile(s, 0.5),
		Q1:     quantile(s, 0.25),
		Q3:     quantile(s, 0.75),
		Min:    s[0],
		Max:    s[len(s)-1],
	}
}

// quantile interpolates the q-quantile of sorted s.
func quantile(s []time.Duration, q float64) time.Duration {
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return s[lo] + time.Duration(math.Round(frac*float64(s[hi]-s[lo])))
}

// Ratio returns a's median over b's median (0 when b has none).
func Ratio(a, b Stats) float64 {
	if b.Median <= 0 {
		return 0
	}
	return float64(a.Median) / float64(b.Median)
}

// Func is one measured action: it returns the time to count (which may
// leave out its own setup and cleanup).
type Func func() (time.Duration, error)

// Alternate runs a and b runs times each, in the order A B, B A, A B, ...
// (so that neither always follows the other), after warmup untimed rounds
// of each. It stops at the first error, naming the side and the run.
func Alternate(runs, warmup int, a, b Func) (sa, sb []time.Duration, err error) {
	for i := 0; i < warmup; i++ {
		if _, err := a(); err != nil {
			return nil, nil, fmt.Errorf("warm-up run %d of A: %w", i+1, err)
		}
		if _, err := b(); err != nil {
			return nil, nil, fmt.Errorf("warm-up run %d of B: %w", i+1, err)
		}
	}
	for i := 0; i < runs; i++ {
		first, second := a, b
		firstName, secondName := "A", "B"
		if i%2 == 1 {
			first, second = b, a
			firstName, secondName = "B", "A"
		}
		d1, err := first()
		if err != nil {
			return sa, sb, fmt.Errorf("run %d of %s: %w", i+1, firstName, err)
		}
		d2, err := second()
		if err != nil {
			return sa, sb, fmt.Errorf("run %d of %s: %w", i+1, secondName, err)
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		sa = append(sa, d1)
		sb = append(sb, d2)
	}
	return sa, sb, nil
}

// Result is one finished child process.
type Result struct {
	// Wall is the time from just before the fork to the end of the wait.
	Wall time.Duration
	// Output is the combined stdout and stderr.
	Output []byte
}

// Run runs cmd to completion and measures it. cmd must not have been
// started; its Stdout and Stderr are set to one buffer. A non-zero exit is
// an error that quotes the command and its output.
func Run(cmd *exec.Cmd) (Result, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	t0 := time.Now()
	err := cmd.Run()
	r := Result{Wall: time.Since(t0), Output: out.Bytes()}
	if err != nil {
		return r, fmt.Errorf("%s: %w; output: %q", Quote(cmd.Args), err, strings.TrimSpace(out.String()))
	}
	return r, nil
}

// Quote renders a command line for messages and reports, quoting words
// that hold spaces or shell metacharacters.
func Quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`;&|<>()*?[]#~=%") && !isAssignment(a) {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// isAssignment reports whether a is a plain NAME=value word (as env takes)
// whose value needs no quoting.
func isAssignment(a string) bool {
	name, value, ok := strings.Cut(a, "=")
	if !ok || name == "" || strings.ContainsAny(value, " \t\n\"'\\$`;&|<>()*?[]#~%") {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Millis formats d in milliseconds with a precision that suits its size.
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.2f ms", ms)
	}
}
