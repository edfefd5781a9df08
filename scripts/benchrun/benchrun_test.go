package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/testkit/bench"
)

func writeReport(t *testing.T, vmwork, run, name, body string) {
	t.Helper()
	d := filepath.Join(vmwork, "runs", run, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "report.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBootSamples(t *testing.T) {
	vm := t.TempDir()
	writeReport(t, vm, "r1", "02_reuse_same_inode", "@@begin x\nmanager.GeneratorsStartTimestampMonotonic=1000000\nunit.ransomeye-core.service.ExecMainStartTimestampMonotonic=9500000\nunit.ransomeye-tuner.service.InactiveExitTimestampMonotonic=5000000\nunit.ransomeye-tuner.service.ActiveEnterTimestampMonotonic=5042000\n")
	// The core never started: not a timing sample.
	writeReport(t, vm, "r2", "02_reuse_same_inode", "manager.GeneratorsStartTimestampMonotonic=1000000\nunit.ransomeye-core.service.ExecMainStartTimestampMonotonic=0\n")
	writeReport(t, vm, "r2", "12_baseline_without_tuner", "manager.GeneratorsStartTimestampMonotonic=2000000\nunit.ransomeye-core.service.ExecMainStartTimestampMonotonic=10000000\n")
	journal := "[   12.201591] host systemd[1]: Starting systemd-sysctl.service - Apply Kernel Variables...\n" +
		"[   12.229503] host systemd[1]: Finished systemd-remount-fs.service - Remount.\n" +
		"[   12.222591] host systemd[1]: Finished systemd-sysctl.service - Apply Kernel Variables.\n"
	if err := os.WriteFile(filepath.Join(vm, "runs", "r1", "02_reuse_same_inode", "journal.txt"), []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	with := bootSamples(vm, func(n string) bool { return strings.HasPrefix(n, "02_") })
	if len(with) != 1 || with[0].genToCore != 8500*time.Millisecond || with[0].tunerSpan != 42*time.Millisecond {
		t.Fatalf("with = %+v, want one boot: 8.5 s, activator 42 ms", with)
	}
	if d := with[0].sysctlSpan; d < 20*time.Millisecond || d > 22*time.Millisecond {
		t.Errorf("systemd-sysctl span %v, want 21 ms", d)
	}
	base := bootSamples(vm, func(n string) bool { return strings.Contains(n, "baseline") })
	if len(base) != 1 || base[0].genToCore != 8*time.Second || base[0].tunerSpan != 0 {
		t.Fatalf("base = %+v, want one boot of 8 s without an activator", base)
	}

	r := &report{}
	benchBoot(r, vm)
	if len(r.rows) != 1 || r.rows[0].ratio != "+500 ms" || !strings.Contains(r.rows[0].verdict, "42.0 ms < 100 ms") || !strings.Contains(r.rows[0].note, "2.0x that yardstick") {
		t.Errorf("line 6 = %+v", r.rows)
	}
	r = &report{}
	benchBoot(r, t.TempDir())
	if len(r.rows) != 1 || !strings.Contains(r.rows[0].verdict, "not run by make bench") {
		t.Errorf("line 6 without reports = %+v", r.rows)
	}
}

func TestCreatedRe(t *testing.T) {
	for line, want := range map[string]string{
		`<5>created "/ransomeye/swap" (16.0 GiB, mode 0600, label ransomeye-swap) in 31ms`: "31ms",
		`<5>created "/swapfile" (4.0 GiB, mode 0600, label x) in 1.204s`:                   "1.204s",
		`<6>creating "/ransomeye/swap": 16.0 GiB on ext4`:                                  "",
	} {
		m := createdRe.FindStringSubmatch(line)
		got := ""
		if m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("createdRe on %q = %q, want %q", line, got, want)
		}
	}
}

func TestVerdicts(t *testing.T) {
	if v := verdictAtMost(1.5, 1.5); v != "met" {
		t.Errorf("1.5 against 1.5: %q", v)
	}
	if v := verdictAtMost(1.8, 1.5); v != "NOT met (20.0% over)" {
		t.Errorf("1.8 against 1.5: %q", v)
	}
	if v := verdictUnder(10*time.Millisecond, 10*time.Millisecond); !strings.HasPrefix(v, "NOT met") {
		t.Errorf("10 ms against < 10 ms: %q", v)
	}
	if v := verdictAtMostDur(8*time.Millisecond, 8*time.Millisecond); v != "met" {
		t.Errorf("8 ms against <= 8 ms: %q", v)
	}
	if v := verdictAtMostDur(9*time.Millisecond, 8*time.Millisecond); v != "NOT met (1.00 ms over)" {
		t.Errorf("9 ms against <= 8 ms: %q", v)
	}
}

func TestHostEstimate(t *testing.T) {
	r := &report{}
	if est, _ := hostEstimate(r); est != 0 {
		t.Errorf("no lines: estimate %v, want 0", est)
	}
	r.add(row{item: "1", ours: bench.Summarize([]time.Duration{3 * time.Millisecond})})
	r.add(row{item: "4", ours: bench.Summarize([]time.Duration{5 * time.Millisecond})})
	est, note := hostEstimate(r)
	if est != 8*time.Millisecond || !strings.Contains(note, "= 8.00 ms") {
		t.Errorf("estimate %v (%s), want 8 ms", est, note)
	}
	benchBoot(r, t.TempDir())
	if v := r.rows[len(r.rows)-1].verdict; !strings.Contains(v, "host estimate 8.00 ms") {
		t.Errorf("line 6 verdict %q lacks the host estimate", v)
	}
}

// TestCountStats: the context-switch quartiles are those of the counts.
func TestCountStats(t *testing.T) {
	var s []interferenceSample
	for _, n := range []int64{50, 10, 40, 20, 30} {
		s = append(s, interferenceSample{nivcsw: n})
	}
	if got := countStats(s); got != [3]int64{20, 30, 40} {
		t.Errorf("countStats = %v, want [20 30 40]", got)
	}
}

// TestSpinFixed: the job's work does not depend on when it runs, so both
// sides of line 7 do the same.
func TestSpinFixed(t *testing.T) {
	if spin(1000) != spin(1000) || spin(1000) == spin(1001) {
		t.Error("spin is not a fixed function of its count")
	}
}

// interferenceReport is a report of case 28 with runs (mode, wall us,
// switches, system.slice CPUs).
func interferenceReport(runs [][4]string, rc string) string {
	var b strings.Builder
	b.WriteString("case.bench.iterations=100000\n")
	for i, r := range runs {
		k := "case.bench." + strconv.Itoa(i+1) + "."
		b.WriteString(k + "mode=" + r[0] + "\n" + k + "wall_us=" + r[1] + "\n" + k + "nvcsw=" + r[2] + "\n" + k + "system_slice_cpus=" + r[3] + "\n")
	}
	b.WriteString("case.bench.runs=" + strconv.Itoa(len(runs)) + "\ncase.bench_rc=" + rc + "\n")
	return b.String()
}

// TestInterferenceBoot: line 7b takes the newest completed boot of case 28,
// its ratios without/with for time and involuntary switches; an incomplete
// newer boot is passed over, and a boot whose "with" runs lacked the
// partition, or whose "without" runs kept it, is marked not valid.
func TestInterferenceBoot(t *testing.T) {
	vm := t.TempDir()
	good := [][4]string{{"with", "1000000", "2", "0-3"}, {"without", "3000000", "40", "0-7"}, {"without", "2000000", "20", "0-7"}, {"with", "1200000", "4", "0-3"}}
	writeReport(t, vm, "20261201T190000Z", interferenceCase, interferenceReport(good, "0"))
	writeReport(t, vm, "20261201T200000Z", interferenceCase, interferenceReport(good[:1], ""))
	r := &report{}
	benchInterferenceBoot(r, vm)
	if len(r.rows) != 1 {
		t.Fatalf("rows %+v", r.rows)
	}
	x := r.rows[0]
	if x.item != "7b" || x.verdict != "reported" || !strings.Contains(x.note, "20261201T190000Z") {
		t.Errorf("row %+v", x)
	}
	// Medians: with 1.1 s, without 2.5 s (2.27x); switches 3 and 30 (10x).
	if x.ours.Median != 1100*time.Millisecond || x.refStats.Median != 2500*time.Millisecond || x.ratio != "without/with: time 2.27x, involuntary switches 10.0x" {
		t.Errorf("with %s, without %s, ratio %q", x.ours.Median, x.refStats.Median, x.ratio)
	}
	bad := append([][4]string(nil), good...)
	bad[3][3] = "0-7"
	writeReport(t, vm, "20261201T210000Z", interferenceCase, interferenceReport(bad, "0"))
	r = &report{}
	benchInterferenceBoot(r, vm)
	if !strings.HasPrefix(r.rows[0].verdict, "NOT valid") {
		t.Errorf("partition not in place, verdict %q", r.rows[0].verdict)
	}
	// The control arm: a "without" run on 0-3 (set-property failed).
	noControl := append([][4]string(nil), good...)
	noControl[2][3] = "0-3"
	writeReport(t, vm, "20261201T220000Z", interferenceCase, interferenceReport(noControl, "0"))
	r = &report{}
	benchInterferenceBoot(r, vm)
	if !strings.HasPrefix(r.rows[0].verdict, "NOT valid: system.slice was not widened") {
		t.Errorf("control arm not widened, verdict %q", r.rows[0].verdict)
	}
	r = &report{}
	benchInterferenceBoot(r, t.TempDir())
	if r.rows[0].absolute != "no boot report" {
		t.Errorf("no boot: row %+v", r.rows[0])
	}
}

// memoryReport is a report of case 45 with the two arms' core swap, major
// faults and swap-ins.
func memoryReport(withLow, withoutLow string, with, without [3]int64) string {
	var b strings.Builder
	b.WriteString("case.ws_mib=384\ncase.hog_mib=1152\n")
	for _, a := range []struct {
		name, low string
		v         [3]int64
	}{{"with", withLow, with}, {"without", withoutLow, without}} {
		k := "case." + a.name + "."
		fmt.Fprintf(&b, "%score_low=%s\n%score_swap=%d\n%score_majflt=%d\n%spswpin=%d\n%score_retouch_ms=10\n%straining_swap=1\n%straining_events_high=5\n%sretouch_rc=0\n",
			k, a.low, k, a.v[0], k, a.v[1], k, a.v[2], k, k, k, k)
	}
	b.WriteString("case.actions_rc=0\n")
	return b.String()
}

// TestMemoryBoot: line 8b takes the newest completed boot of case 45 and
// gives the ratios without/with of the core's major faults, swap-ins and
// swap; with none with the protection it says so; an arm without the
// protection in place, or a control arm that kept it, makes the line not
// valid.
func TestMemoryBoot(t *testing.T) {
	vm := t.TempDir()
	writeReport(t, vm, "20261207T190000Z", memoryCase, memoryReport("772300800", "0", [3]int64{1 << 20, 10, 20}, [3]int64{300 << 20, 5000, 80000}))
	writeReport(t, vm, "20261207T200000Z", memoryCase, "case.with.core_swap=0\n") // cut short
	r := &report{}
	benchMemoryBoot(r, vm)
	x := r.rows[0]
	if x.item != "8b" || x.verdict != "reported" || !strings.Contains(x.note, "20261207T190000Z") ||
		x.ratio != "without/with: major faults 500.0x, swap-ins (pswpin) 4000.0x, core in swap 300.0x (MiB)" {
		t.Errorf("row %+v", x)
	}
	writeReport(t, vm, "20261207T210000Z", memoryCase, memoryReport("772300800", "0", [3]int64{0, 0, 0}, [3]int64{300 << 20, 5000, 80000}))
	r = &report{}
	benchMemoryBoot(r, vm)
	if x := r.rows[0]; !strings.Contains(x.ratio, "major faults 5000 vs 0 (none with the protection)") {
		t.Errorf("none with the protection: %q", x.ratio)
	}
	writeReport(t, vm, "20261207T220000Z", memoryCase, memoryReport("0", "0", [3]int64{0, 0, 0}, [3]int64{1, 1, 1}))
	r = &report{}
	benchMemoryBoot(r, vm)
	if v := r.rows[0].verdict; !strings.HasPrefix(v, "NOT valid: the core's memory.low was not in place") {
		t.Errorf("no protection in the first arm: %q", v)
	}
	writeReport(t, vm, "20261207T230000Z", memoryCase, memoryReport("772300800", "772300800", [3]int64{0, 0, 0}, [3]int64{1, 1, 1}))
	r = &report{}
	benchMemoryBoot(r, vm)
	if v := r.rows[0].verdict; !strings.HasPrefix(v, "NOT valid: the core's memory.low was not taken away") {
		t.Errorf("control arm kept the protection: %q", v)
	}
	r = &report{}
	benchMemoryBoot(r, t.TempDir())
	if r.rows[0].absolute != "no boot report" {
		t.Errorf("no boot: %+v", r.rows[0])
	}
}
