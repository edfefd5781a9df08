package integration

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// bootProblems are the patterns that fail any boot, whatever the case: what
// a healthy boot never shows on its console or in its journal.
var bootProblems = []struct {
	what string
	re   *regexp.Regexp
}{
	{"ordering cycle", regexp.MustCompile(`(?i)ordering cycle`)},
	// systemd: "<path> failed with exit status N." / "terminated by signal".
	{"failed generator", regexp.MustCompile(`system-generators/\S+ (failed|terminated by signal|killed by signal)`)},
	{"emergency shell", regexp.MustCompile(`(?i)(entering emergency mode|you are in emergency mode|reached target (emergency|rescue) mode)`)},
	{"kernel panic", regexp.MustCompile(`Kernel panic`)},
	{"Go panic", regexp.MustCompile(`(^|[\s:\]])panic: |goroutine \d+ \[running\]`)},
}

// CheckBootLogs returns one line per problem found in the console log and
// the journal of a boot (an ordering cycle, a failed generator, an emergency
// shell, a kernel panic, a Go panic), each naming the log and quoting the line.
func CheckBootLogs(console, journal string) []string {
	var found []string
	for _, log := range []struct{ name, text string }{{"console", console}, {"journal", journal}} {
		for _, line := range strings.Split(log.text, "\n") {
			line = strings.TrimRight(line, "\r")
			for _, p := range bootProblems {
				if p.re.MatchString(line) {
					found = append(found, fmt.Sprintf("%s in %s: %s", p.what, log.name, strings.TrimSpace(line)))
				}
			}
		}
	}
	return found
}

// ParseCPUList parses a kernel CPU list ("0-3,8,10-11") into sorted CPU
// numbers. An empty list is an empty set.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	set := map[int]bool{}
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("cpu list %q: bad number %q", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<16 {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			set[c] = true
		}
	}
	out := make([]int, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Ints(out)
	return out, nil
}

// FormatCPUList writes sorted CPU numbers as a kernel CPU list ("0-3,8").
func FormatCPUList(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j == i {
			fmt.Fprintf(&b, "%d", cpus[i])
		} else {
			fmt.Fprintf(&b, "%d-%d", cpus[i], cpus[j])
		}
		i = j + 1
	}
	return b.String()
}

// CPUSets is the CPU reservation of the design for machines without SMT
// siblings: each listed CPU is its own physical core.
type CPUSets struct {
	// Core, DPI and Training are CPU lists in kernel syntax.
	Core, DPI, Training string
}

// ExpectedSets computes the design's reservation (docs/design.md, "CPU plan") for
// a machine without SMT whose NUMA nodes hold the given CPUs, with no capture
// interface configured: training takes the last 2 CPUs of the highest node,
// DPI the last 2 free CPUs of the next node down (else the same node), the
// core the rest. ok is false below 8 CPUs (no reservation). It is written
// from the design, independently of the generator's code, as the oracle.
func ExpectedSets(nodes [][]int) (sets CPUSets, ok bool) {
	var all []int
	for _, n := range nodes {
		all = append(all, n...)
	}
	sort.Ints(all)
	if len(all) < 8 || len(nodes) == 0 {
		return CPUSets{}, false
	}
	// Nodes in the order given are numbered 0..n-1; "highest" is the last.
	taken := map[int]bool{}
	lastFree := func(cpus []int, k int) []int {
		var got []int
		for i := len(cpus) - 1; i >= 0 && len(got) < k; i-- {
			if !taken[cpus[i]] && cpus[i] != 0 {
				got = append([]int{cpus[i]}, got...)
			}
		}
		return got
	}
	hi := len(nodes) - 1
	training := lastFree(nodes[hi], 2)
	for _, c := range training {
		taken[c] = true
	}
	dpiNode := hi
	if hi > 0 {
		dpiNode = hi - 1
	}
	dpi := lastFree(nodes[dpiNode], 2)
	if len(dpi) < 2 {
		dpi = lastFree(nodes[hi], 2)
	}
	for _, c := range dpi {
		taken[c] = true
	}
	var core []int
	for _, c := range all {
		if !taken[c] {
			core = append(core, c)
		}
	}
	sort.Ints(training)
	sort.Ints(dpi)
	return CPUSets{Core: FormatCPUList(core), DPI: FormatCPUList(dpi), Training: FormatCPUList(training)}, true
}
