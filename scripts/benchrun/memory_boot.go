package main

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// memoryCase is the boot suite case that measures line 8b.
const memoryCase = "45_memory_protection"

// memoryArm is one arm of that case: what the core had in swap after the
// training hog, and what reading its working set again cost it.
type memoryArm struct {
	coreSwap, majflt, pswpin, retouchMS, trainingSwap, highEvents int64
}

// memoryBoot is one boot of the case, both arms.
type memoryBoot struct {
	dir       string
	ws, hog   string
	secs      string
	with, wo  memoryArm
	protected bool // the "with" arm had the core's memory.low in place
	control   bool // the "without" arm had it taken away
}

// readMemoryBoot reads one report.txt of the case; ok is false when it did
// not run to the end.
func readMemoryBoot(path string) (memoryBoot, bool) {
	m, err := readReport(path)
	if err != nil || m["case.actions_rc"] != "0" {
		return memoryBoot{}, false
	}
	arm := func(a string) (memoryArm, bool) {
		var x memoryArm
		for k, dst := range map[string]*int64{"core_swap": &x.coreSwap, "core_majflt": &x.majflt, "pswpin": &x.pswpin,
			"core_retouch_ms": &x.retouchMS, "training_swap": &x.trainingSwap, "training_events_high": &x.highEvents} {
			v, err := strconv.ParseInt(m["case."+a+"."+k], 10, 64)
			if err != nil {
				return x, false
			}
			*dst = v
		}
		return x, m["case."+a+".retouch_rc"] == "0"
	}
	b := memoryBoot{dir: filepath.Dir(path), ws: m["case.ws_mib"], hog: m["case.hog_mib"], secs: m["case.hog_secs"]}
	var ok1, ok2 bool
	b.with, ok1 = arm("with")
	b.wo, ok2 = arm("without")
	if !ok1 || !ok2 {
		return memoryBoot{}, false
	}
	low, _ := strconv.ParseInt(m["case.with.core_low"], 10, 64)
	ws, _ := strconv.ParseInt(b.ws, 10, 64)
	b.protected = ws > 0 && low >= ws<<20
	b.control = m["case.without.core_low"] == "0"
	return b, true
}

// ratio is without/with, or what can be said when "with" is 0.
func ratio(without, with int64) string {
	switch {
	case with > 0:
		return fmt.Sprintf("%.1fx", float64(without)/float64(with))
	case without > 0:
		return fmt.Sprintf("%d vs 0 (none with the protection)", without)
	}
	return "0 vs 0"
}

// benchMemoryBoot is line 8b: the core's swap-ins under a training hog,
// with and without the memory protection, in a VM, from the boot suite's
// case 45 (make bench does not boot VMs). One boot, both arms.
func benchMemoryBoot(r *report, vmwork string) {
	what := "the core's swap-ins under a training hog (in a VM: with vs without the [Memory] protection and ceiling)"
	b, ok := latestBoot(vmwork, memoryCase, readMemoryBoot)
	if !ok {
		r.add(row{item: "8b", what: what, verdict: "from the boot suite: not run by make bench", absolute: "no boot report",
			note: fmt.Sprintf("no completed report of case %s under %s/runs; run `make integration CASES='%s'` (about 8 minutes under TCG), then `make bench`", memoryCase, vmwork, memoryCase[:3])})
		return
	}
	verdict := "reported"
	switch {
	case !b.protected:
		verdict = "NOT valid: the core's memory.low was not in place in the arm with the protection"
	case !b.control:
		verdict = "NOT valid: the core's memory.low was not taken away in the control arm"
	}
	mib := func(v int64) string { return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20)) }
	swapRatio := ratio(b.wo.coreSwap>>20, b.with.coreSwap>>20) + " (MiB)"
	r.add(row{item: "8b", what: what,
		absolute: fmt.Sprintf("major faults re-reading the core's working set: with %d, without %d; the core in swap: with %s, without %s", b.with.majflt, b.wo.majflt, mib(b.with.coreSwap), mib(b.wo.coreSwap)),
		ratio:    "without/with: major faults " + ratio(b.wo.majflt, b.with.majflt) + ", swap-ins (pswpin) " + ratio(b.wo.pswpin, b.with.pswpin) + ", core in swap " + swapRatio,
		goal:     "(reported)", verdict: verdict,
		note: fmt.Sprintf("one boot (%s), 1.5 GiB of RAM: the core (testkit/memload hold) touches %s MiB once, training (memload churn) keeps %s MiB hot until it has touched as much as the RAM, and %s s more, then stops and the core reads its working set again; with the generator's drop-ins (the core's MemoryLow= half the RAM, training's MemoryHigh= a quarter and MemorySwapMax=), then without them in the same boot (systemctl set-property --runtime). Re-reading took %d ms with, %d ms without; training had %s in swap and %d memory.high events with the ceiling, %s without. A TCG guest swaps at about 20 MB/s: count the faults, not the milliseconds",
			b.dir, b.ws, b.hog, b.secs, b.with.retouchMS, b.wo.retouchMS, mib(b.with.trainingSwap), b.with.highEvents, mib(b.wo.trainingSwap))})
}
