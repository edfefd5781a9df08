package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/ransomeye/ransomeye-tuner/testkit/bench"
)

// interferenceCase is the boot suite case that measures line 7b.
const interferenceCase = "28_interference_reserved_core"

// interferenceBoot is one boot of that case: the job's wall times and
// involuntary context switches per run, by mode.
type interferenceBoot struct {
	dir              string
	wall             map[string][]time.Duration // "with", "without"
	nivcsw           map[string][]int64
	waitNS           map[string][]int64 // schedstat wait; absent in older reports
	iterations       string
	partitionInPlace bool // every "with" run saw system.slice on 0-3
	// controlInPlace: every "without" run saw system.slice widened (to
	// every online CPU, where the report names them). Why: a failed
	// set-property leaves the "without" runs partitioned too, and the ratio
	// near 1 was reported as the partition's effect.
	controlInPlace bool
}

// readInterferenceBoot reads one report.txt of the case; ok is false when
// the measurement did not complete.
func readInterferenceBoot(path string) (interferenceBoot, bool) {
	m, err := readReport(path)
	if err != nil || m["case.bench_rc"] != "0" {
		return interferenceBoot{}, false
	}
	b := interferenceBoot{dir: filepath.Dir(path), wall: map[string][]time.Duration{}, nivcsw: map[string][]int64{}, waitNS: map[string][]int64{},
		iterations: m["case.bench.iterations"], partitionInPlace: true, controlInPlace: true}
	online := m["case.bench.online"]
	n, _ := strconv.Atoi(m["case.bench.runs"])
	for i := 1; i <= n; i++ {
		k := "case.bench." + strconv.Itoa(i) + "."
		mode := m[k+"mode"]
		w, err1 := strconv.ParseInt(m[k+"wall_us"], 10, 64)
		c, err2 := strconv.ParseInt(m[k+"nvcsw"], 10, 64)
		if (mode != "with" && mode != "without") || err1 != nil || err2 != nil {
			return interferenceBoot{}, false
		}
		cpus := m[k+"system_slice_cpus"]
		if mode == "with" && cpus != "0-3" {
			b.partitionInPlace = false
		}
		if mode == "without" && (cpus == "0-3" || cpus == "" || online != "" && cpus != online) {
			b.controlInPlace = false
		}
		b.wall[mode] = append(b.wall[mode], time.Duration(w)*time.Microsecond)
		b.nivcsw[mode] = append(b.nivcsw[mode], c)
		if w, err := strconv.ParseInt(m[k+"wait_ns"], 10, 64); err == nil {
			b.waitNS[mode] = append(b.waitNS[mode], w)
		}
	}
	if len(b.wall["with"]) == 0 || len(b.wall["without"]) == 0 {
		return interferenceBoot{}, false
	}
	return b, true
}

// latestBoot is the newest boot of a case under vmwork/runs that read
// takes as complete (run directories sort by their UTC time stamp).
func latestBoot[T any](vmwork, name string, read func(path string) (T, bool)) (T, bool) {
	paths, _ := filepath.Glob(filepath.Join(vmwork, "runs", "*", name, "report.txt"))
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for _, p := range paths {
		if b, ok := read(p); ok {
			return b, true
		}
	}
	var zero T
	return zero, false
}

// medianCount is the median of counts (the mean of the middle two for an
// even number).
func medianCount(c []int64) float64 {
	s := append([]int64(nil), c...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

// benchInterferenceBoot is line 7b: interference on a reserved core with
// the real units, in a VM, from the boot suite's case 28 (make bench does
// not boot VMs). One boot: its runs alternate with and without the
// partition, so the ratio is within one run.
func benchInterferenceBoot(r *report, vmwork string) {
	what := "interference on a reserved core (in a VM: the DPI slice vs system.slice noise, CPU and IRQ)"
	b, ok := latestBoot(vmwork, interferenceCase, readInterferenceBoot)
	if !ok {
		r.add(row{item: "7b", what: what, verdict: "from the boot suite: not run by make bench",
			absolute: "no boot report",
			note:     fmt.Sprintf("no completed report of case %s under %s/runs; run `make integration CASES='%s'` (about 3 minutes under TCG), then `make bench`", interferenceCase, vmwork, interferenceCase[:3])})
		return
	}
	with, without := bench.Summarize(b.wall["with"]), bench.Summarize(b.wall["without"])
	cw, cwo := medianCount(b.nivcsw["with"]), medianCount(b.nivcsw["without"])
	switches := "n/a (no involuntary switch with the partition)"
	if cw > 0 {
		switches = fmt.Sprintf("%.1fx", cwo/cw)
	}
	wait := ""
	if len(b.waitNS["with"]) > 0 && len(b.waitNS["without"]) > 0 {
		ww, wwo := medianCount(b.waitNS["with"]), medianCount(b.waitNS["without"])
		wait = fmt.Sprintf("; time runnable but waiting for a CPU (/proc/PID/schedstat) median %.0f ms with, %.0f ms without", ww/1e6, wwo/1e6)
		if ww > 0 {
			wait += fmt.Sprintf(" (%.1fx)", wwo/ww)
		}
	}
	verdict := "reported"
	switch {
	case !b.partitionInPlace:
		verdict = "NOT valid: the partition was not in place in every \"with\" run"
	case !b.controlInPlace:
		verdict = "NOT valid: system.slice was not widened in every \"without\" run"
	}
	r.add(row{item: "7b", what: what,
		ours: with, oursCmd: fmt.Sprintf("bash loop of %s steps in a scope under ransomeye-dpi.slice (AllowedCPUs=4-5); noise in system.slice (AllowedCPUs=0-3): a busy shell per CPU and O_DIRECT reads of the NVMe root disk", b.iterations),
		ref: "without the partition", refStats: without, refCmd: "the same, system.slice set to AllowedCPUs=0-7 at runtime (systemctl set-property --runtime)",
		ratio:   fmt.Sprintf("without/with: time %.2fx, involuntary switches %s", bench.Ratio(without, with), switches),
		goal:    "(reported)",
		verdict: verdict,
		note: fmt.Sprintf("one boot (%s), %d runs each side alternated (with, without; without, with; ...); involuntary context switches of the job (/proc/PID/status nonvoluntary_ctxt_switches) median %.0f with the partition, %.0f without%s. "+
			"Under TCG on a shared 2-core host each busy vCPU is a host thread: without the partition the noise also keeps the other reserved vCPUs busy, so the host's own contention adds to the time ratio; the switch count and the wait measure the job's sharing of its own vCPU in the guest",
			b.dir, len(b.wall["with"]), cw, cwo, wait)})
}
