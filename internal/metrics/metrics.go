// Package metrics writes the tuner's state for Prometheus, in the text format
// that node_exporter's textfile collector reads.
//
// The file is replaced atomically (safefs.WriteFile: a temporary file in the
// same directory, then a rename), so the collector never reads half a file;
// the temporary name does not end in ".prom", so the collector never reads it
// either. When
// the directory does not exist (no node_exporter on this machine), nothing is
// written and that is not an error.
package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// Prefix starts every metric name.
const Prefix = "ransomeye_tuner_"

// Snapshot is what one run of `activate`, `metrics` or `status
// --write-metrics` found. It is plain data: the caller fills it (all of
// them from a status report, with the same code), Render turns it into text.
type Snapshot struct {
	// Version is the tuner's version, exported as a label of
	// ransomeye_tuner_build_info.
	Version string
	// TargetSwapBytes is the swap the tuner must provide: max(MinSize, MemTotal).
	TargetSwapBytes int64
	// ActiveSwapBytes is all active swap on the machine (from /proc/swaps).
	ActiveSwapBytes int64
	// SwapfileActiveBytes is the active swap provided by the tuner's swapfile
	// (0 when it is not active).
	SwapfileActiveBytes int64
	// SwapNotMeasured is true when the swap was not measured (disabled, or
	// the configuration cannot be read): the three swap families then have
	// no sample, rather than zeros that look like measurements.
	SwapNotMeasured bool
	// Compliant is true when every guarantee holds (swap, sysctls, CPU plan)
	// and no failure marker is present.
	Compliant bool
	// MarkerPresent is true when the failure marker exists.
	MarkerPresent bool
	// Disabled is true when ransomeye.tuner=0 is on the kernel command line.
	Disabled bool
	// ReservedCPUs maps a service unit name to the number of CPUs (logical,
	// SMT siblings included) the CPU plan gives it. Empty when there is no
	// reservation (fewer than 8 physical cores, or isolation off).
	ReservedCPUs map[string]int
	// CoreGated is true when the gate would keep the core down now.
	CoreGated bool
	// Guarantees are the guarantees measured, by their stable names
	// (internal/guarantee); one not measured is left out: it is neither
	// held nor failed.
	Guarantees []Guarantee
	// PlantedMarkers counts the failure markers not written by root that
	// the run found: still present (metrics, status) or just removed
	// (activate).
	PlantedMarkers int
	// Plan is the CPU plan's metadata; nil when no plan was evaluated
	// (disabled, or the configuration cannot be read).
	Plan *Plan
	// Placement is what escapes the CPU partition, reported and never
	// gated; nil without a reservation (then its families have no series).
	Placement *Placement
	// LastRun is when the run started.
	LastRun time.Time
	// Duration is how long the run took.
	Duration time.Duration
}

// Guarantee is one guarantee's verdict.
type Guarantee struct {
	Name string // stable name: "swap", "sysctl:vm.swappiness", ...
	OK   bool
}

// Plan is the CPU plan's metadata, exported as the labels of
// ransomeye_tuner_cpu_plan_info.
type Plan struct {
	Isolation string // [CPU] Isolation=
	Mode      string // how the plan is enforced: allowed-cpus, cpu-affinity, none
	Reserved  bool   // whether CPUs are reserved
}

// Placement counts what escapes the CPU partition.
type Placement struct {
	// IRQsOnReserved are the movable interrupts that may arrive on
	// reserved CPUs (the capture queues on DPI CPUs excepted).
	IRQsOnReserved int
	// IRQsUnmovable are the interrupts on reserved CPUs whose affinity
	// the kernel does not let user space set (managed, per-CPU);
	// IRQsMovePending those asked off them that have not fired since.
	// Neither is an escape.
	IRQsUnmovable, IRQsMovePending int
	// ThreadsOnReserved are the threads of other units allowed on them.
	ThreadsOnReserved int
	// ServiceCPUsOutsidePlan maps each pinned service whose cpuset could be
	// read to the number of CPUs in effect outside its plan.
	ServiceCPUsOutsidePlan map[string]int
	// IsolationDegraded is true when what [CPU] Isolation= asks does not
	// hold (status's placement.isolation.state is "degraded").
	IsolationDegraded bool
}

// family is one metric family: its HELP and TYPE lines and its samples.
type family struct {
	name    string
	help    string
	samples []sample
}

type sample struct {
	labels [][2]string // name, value; in this order
	value  float64
}

func gauge(name, help string, v float64) family {
	return family{name: Prefix + name, help: help, samples: []sample{{value: v}}}
}

// swapGauge is a swap family: without a sample when the swap was not
// measured.
func swapGauge(s Snapshot, name, help string, v float64) family {
	f := gauge(name, help, v)
	if s.SwapNotMeasured {
		f.samples = nil
	}
	return f
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// families lists the metrics of s in a fixed order.
func families(s Snapshot) []family {
	out := []family{
		{
			name:    Prefix + "build_info",
			help:    "Version of ransomeye-tuner that wrote this file; the value is always 1.",
			samples: []sample{{labels: [][2]string{{"version", s.Version}}, value: 1}},
		},
		swapGauge(s, "swap_target_bytes", "Swap the tuner must provide: max(MinSize, MemTotal), in bytes.", float64(s.TargetSwapBytes)),
		swapGauge(s, "swap_active_bytes", "All active swap on the machine (/proc/swaps), in bytes.", float64(s.ActiveSwapBytes)),
		swapGauge(s, "swapfile_active_bytes", "Active swap provided by the tuner's swapfile, in bytes (0 when it is not active).", float64(s.SwapfileActiveBytes)),
		gauge("compliant", "1 when every resource guarantee holds and no failure marker is present, else 0.", bool01(s.Compliant)),
		gauge("marker_present", "1 when the failure marker /var/lock/ransomeye-resource-fail exists (the core will not start), else 0.", bool01(s.MarkerPresent)),
		gauge("disabled", "1 when ransomeye.tuner=0 is on the kernel command line (resources not guaranteed), else 0.", bool01(s.Disabled)),
		gauge("core_gated", "1 when the gate would keep ransomeye-core.service down now (the gate's own rules), else 0.", bool01(s.CoreGated)),
		gauge("planted_markers", "Failure markers not written by root that the run writing this file found (present now, or just removed by activate): a security event.", float64(s.PlantedMarkers)),
	}
	g := family{
		name: Prefix + "guarantee_ok",
		help: "1 when the guarantee holds, 0 when it fails; one series per guarantee measured (the names of status --json).",
	}
	for _, e := range s.Guarantees {
		g.samples = append(g.samples, sample{labels: [][2]string{{"guarantee", e.Name}}, value: bool01(e.OK)})
	}
	out = append(out, g)
	if s.Plan != nil {
		out = append(out, family{
			name:    Prefix + "cpu_plan_info",
			help:    "The CPU plan: isolation setting, enforcement mode, whether CPUs are reserved; the value is always 1.",
			samples: []sample{{labels: [][2]string{{"isolation", s.Plan.Isolation}, {"mode", s.Plan.Mode}, {"reserved", strconv.FormatBool(s.Plan.Reserved)}}, value: 1}},
		})
	}
	cpus := family{
		name: Prefix + "reserved_cpus",
		help: "Logical CPUs the CPU plan reserves for each service (no series when there is no reservation).",
	}
	services := make([]string, 0, len(s.ReservedCPUs))
	for svc := range s.ReservedCPUs {
		services = append(services, svc)
	}
	sort.Strings(services)
	for _, svc := range services {
		cpus.samples = append(cpus.samples, sample{labels: [][2]string{{"service", svc}}, value: float64(s.ReservedCPUs[svc])})
	}
	out = append(out, cpus)
	out = append(out, placementFamilies(s.Placement)...)
	var last float64
	if !s.LastRun.IsZero() {
		last = float64(s.LastRun.Unix()) + float64(s.LastRun.Nanosecond())/1e9
	}
	out = append(out,
		gauge("last_run_timestamp_seconds", "Unix time when the run that wrote this file (activate, metrics or status) started.", last),
		gauge("last_run_duration_seconds", "How long the run that wrote this file took, in seconds.", s.Duration.Seconds()),
	)
	return out
}

// placementFamilies are the placement gauges: no series without p.
func placementFamilies(p *Placement) []family {
	irqs := family{name: Prefix + "irqs_on_reserved_cpus", help: "Movable interrupts that may arrive on reserved CPUs, the capture queues on DPI CPUs, unmovable interrupts and pending moves excepted (reported, never gated; no series without a reservation)."}
	left := family{name: Prefix + "irqs_left_on_reserved_cpus", help: "Interrupts on reserved CPUs that are not escapes, by reason: unmovable (managed or per-CPU, the kernel places them) or move_pending (asked off them, moved when they next fire); no series without a reservation."}
	threads := family{name: Prefix + "threads_on_reserved_cpus", help: "Threads of units other than the pinned services allowed on reserved CPUs (reported, never gated; no series without a reservation)."}
	outside := family{name: Prefix + "service_cpus_outside_plan", help: "CPUs in a pinned service's cpuset.cpus.effective outside its plan (no series for a service whose cgroup could not be read)."}
	degraded := family{name: Prefix + "isolation_degraded", help: "1 when the CPU isolation [CPU] Isolation= asks does not hold (cgroup v1, no cpuset controller, init.scope not fenced, a unit escaping; status names them), else 0 (reported, never gated; no series without a reservation)."}
	if p != nil {
		degraded.samples = []sample{{value: bool01(p.IsolationDegraded)}}
		irqs.samples = []sample{{value: float64(p.IRQsOnReserved)}}
		left.samples = []sample{{labels: [][2]string{{"reason", "move_pending"}}, value: float64(p.IRQsMovePending)},
			{labels: [][2]string{{"reason", "unmovable"}}, value: float64(p.IRQsUnmovable)}}
		threads.samples = []sample{{value: float64(p.ThreadsOnReserved)}}
		units := make([]string, 0, len(p.ServiceCPUsOutsidePlan))
		for u := range p.ServiceCPUsOutsidePlan {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			outside.samples = append(outside.samples, sample{labels: [][2]string{{"service", u}}, value: float64(p.ServiceCPUsOutsidePlan[u])})
		}
	}
	return []family{irqs, left, threads, outside, degraded}
}

// Render returns s in the Prometheus text exposition format (version 0.0.4):
// a HELP and a TYPE line for every family, then its samples. Every family is
// a gauge.
func Render(s Snapshot) []byte {
	var b strings.Builder
	for _, f := range families(s) {
		fmt.Fprintf(&b, "# HELP %s %s\n", f.name, escapeHelp(f.help))
		fmt.Fprintf(&b, "# TYPE %s gauge\n", f.name)
		for _, smp := range f.samples {
			b.WriteString(f.name)
			if len(smp.labels) > 0 {
				b.WriteByte('{')
				for i, l := range smp.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%s=\"%s\"", l[0], escapeLabel(l[1]))
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(formatValue(smp.value))
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabel escapes a label value: backslash, double quote and line feed.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// formatValue writes a float the way Prometheus parses it, without an
// exponent for the integers this package deals in.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// header is the start of every file Render writes (the first HELP line);
// Write replaces only a file that starts with it.
const header = "# HELP " + Prefix + "build_info "

// checkOurs refuses a file at path (its name in d) that Write did not
// write: it must be a regular file whose content starts with header. Why:
// root never overwrites a file the tool did not create; without this,
// another exporter's .prom (or any file TextfilePath= names) would be
// replaced as root by every run, every minute.
func checkOurs(d *safefs.Dir, path string) error {
	fd, err := unix.Openat(d.Fd(), filepath.Base(path), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics file %q is there and cannot be read (%v): not ransomeye-tuner's, left as it is; remove it, or set [Metrics] TextfilePath= to another file", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	buf := make([]byte, len(header))
	n, _ := unix.Read(fd, buf)
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || string(buf[:max(n, 0)]) != header {
		return fmt.Errorf("metrics file %q is there and was not written by ransomeye-tuner: left as it is; remove it, or set [Metrics] TextfilePath= to another file", path)
	}
	return nil
}

// Write renders s and replaces the file at the host path path (under root)
// with it, atomically, mode 0644, when the file there is one Write wrote
// (or there is none); a file it did not write is an error. When path is empty (metrics turned off) or
// its directory does not exist, it writes nothing and returns false, nil.
//
// The directory is reached through safefs: no symbolic link is followed
// unless root made it in a directory only root can change. Why: the textfile
// directory's parent belongs to the prometheus user, who could make
// node-exporter/ a link and have root create or replace the file in any
// directory.
func Write(root hostroot.Root, path string, s Snapshot) (written bool, err error) {
	if path == "" {
		return false, nil
	}
	if !filepath.IsAbs(path) || strings.HasSuffix(path, "/") || !strings.HasSuffix(path, ".prom") {
		return false, fmt.Errorf("metrics file %q is not an absolute path of a *.prom file: set [Metrics] TextfilePath= to one, or to \"off\"", path)
	}
	d, err := safefs.OpenDir(root, filepath.Dir(path), safefs.Options{})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("metrics directory of %q: %w; nothing written (fix the directory, or set [Metrics] TextfilePath= elsewhere or to \"off\")", path, err)
	}
	defer d.Close()
	if err := checkOurs(d, path); err != nil {
		return false, err
	}
	// The temporary's name does not end in ".prom": node_exporter never
	// collects a file left by a crash.
	if err := d.WriteFile(filepath.Base(path), Render(s), 0o644, safefs.WriteOptions{}); err != nil {
		return false, fmt.Errorf("metrics file %q: %w", path, err)
	}
	return true, nil
}
