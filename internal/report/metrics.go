package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

// Prefix starts every metric name.
const Prefix = "ransomeye_tuner_"

// Run is what the metrics say of the run that writes them.
type Run struct {
	Start    time.Time
	Duration time.Duration
	// Planted counts the planted markers the run removed, beyond those
	// still present.
	Planted int
}

// family is one metric family: its HELP and TYPE lines and its samples.
type family struct {
	name    string
	help    string
	samples []sample
	// counter: TYPE counter (the name ends in _total), else gauge.
	counter bool
}

type sample struct {
	labels [][2]string // name, value; in this order
	value  float64
}

func gauge(name, help string, v float64) family {
	return family{name: Prefix + name, help: help, samples: []sample{{value: v}}}
}

// swapGauge is a swap family, with no sample where the swap was not
// measured rather than a zero that looks measured.
func swapGauge(rep Report, name, help string, v float64) family {
	f := gauge(name, help, v)
	if rep.Doc.Swap == nil {
		f.samples = nil
	}
	return f
}

// verdictGauge is a verdict's family: without a sample when the verdict
// could not be made (a run that is not root's: core_gated absent from the
// document), rather than a 0 that looks like one.
func verdictGauge(d Doc, name, help string, v float64) family {
	f := gauge(name, help, v)
	if d.CoreGated == nil {
		f.samples = nil
	}
	return f
}

// targetGauge is the swap target: without a sample when it is not known
// either (MemTotal not read: in a chroot, an image build).
func targetGauge(rep Report) family {
	f := swapGauge(rep, "swap_target_bytes", "Swap the tuner must provide: max(MinSize, MemTotal), in bytes (no sample when MemTotal cannot be read).", float64(rep.Swap.Target))
	if !rep.Swap.TargetKnown {
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

// configWarnings is the count of configuration warnings: without a sample
// when the configuration was not read (disabled).
func configWarnings(c *Config) family {
	f := gauge("config_warnings", "Warnings about the configuration files: unknown sections and keys, drop-ins not read, values that look like they hold a comment (status lists them); the settings they name are not used.", 0)
	if c == nil {
		f.samples = nil
	} else {
		f.samples[0].value = float64(len(c.Warnings))
	}
	return f
}

// families lists the metrics of rep in a fixed order.
func families(rep Report, run Run) []family {
	d := rep.Doc
	out := []family{
		{
			name:    Prefix + "build_info",
			help:    "Version of ransomeye-tuner that wrote this file; the value is always 1.",
			samples: []sample{{labels: [][2]string{{"version", version.Version}}, value: 1}},
		},
		targetGauge(rep),
		swapGauge(rep, "swap_active_bytes", "All active swap on the machine (/proc/swaps), in bytes.", float64(rep.Swap.Active)),
		swapGauge(rep, "swapfile_active_bytes", "Active swap provided by the tuner's swapfile, in bytes (0 when it is not active).", float64(rep.Swap.Provided)),
		verdictGauge(d, "compliant", "1 when every resource guarantee holds and no failure marker is present, else 0.", bool01(d.Compliant)),
		gauge("marker_present", "1 when the failure marker /var/lock/ransomeye-resource-fail exists (the core will not start), else 0.", bool01(d.Marker.Present)),
		gauge("disabled", "1 when ransomeye.tuner=0 is on the kernel command line (resources not guaranteed), else 0.", bool01(d.State == "disabled")),
		verdictGauge(d, "core_gated", "1 when the gate would keep ransomeye-core.service down now (the gate's own rules), else 0.", bool01(d.CoreGated != nil && *d.CoreGated)),
		gauge("planted_markers", "Failure markers not written by root that the run writing this file found (present now, or just removed by activate): a security event.", float64(len(d.Marker.Planted)+run.Planted)),
		configWarnings(d.Config),
	}
	g := family{
		name: Prefix + "guarantee_ok",
		help: "1 when the guarantee holds, 0 when it fails; one series per guarantee measured (the names of status --json).",
	}
	for _, e := range d.Guarantees {
		if !e.NotMeasured {
			g.samples = append(g.samples, sample{labels: [][2]string{{"guarantee", e.Name}}, value: bool01(e.OK)})
		}
	}
	out = append(out, g)
	// role_cpus replaces reserved_cpus, whose name said "reserved" of the
	// core's CPUs too (the ones that are not). The old family stays,
	// unchanged, for one release, so that dashboards and alerts on it keep
	// working while they move; its HELP says so.
	roleCPUs := family{
		name: Prefix + "role_cpus",
		help: "Logical CPUs the CPU plan gives each role's service: the core's (every usable CPU the others do not take), DPI's and training's (their reserved CPUs); no series when there is no reservation.",
	}
	cpus := family{
		name: Prefix + "reserved_cpus",
		help: "DEPRECATED, removed in the next release: use ransomeye_tuner_role_cpus (the same values, with a role label). Logical CPUs the CPU plan gives each service, the core's included (no series when there is no reservation).",
	}
	if c := d.CPU; c != nil {
		out = append(out, family{
			name:    Prefix + "cpu_plan_info",
			help:    "The CPU plan: isolation setting, enforcement mode, whether CPUs are reserved; the value is always 1.",
			samples: []sample{{labels: [][2]string{{"isolation", c.Isolation}, {"mode", c.Mode}, {"reserved", strconv.FormatBool(c.Reserved)}}, value: 1}},
		})
		for _, role := range c.rolesByUnit() {
			s := c.Sets[role]
			cpus.samples = append(cpus.samples, sample{labels: [][2]string{{"service", s.Unit}}, value: float64(s.Count)})
			roleCPUs.samples = append(roleCPUs.samples, sample{labels: [][2]string{{"role", role}, {"service", s.Unit}}, value: float64(s.Count)})
		}
	}
	out = append(out, roleCPUs, cpus)
	out = append(out, placementFamilies(d.Placement)...)
	out = append(out, captureFamilies(d.CaptureInterface)...)
	out = append(out, memoryFamilies(d.Memory)...)
	var last float64
	if !run.Start.IsZero() {
		last = float64(run.Start.Unix()) + float64(run.Start.Nanosecond())/1e9
	}
	out = append(out,
		gauge("last_run_timestamp_seconds", "Unix time when the run that wrote this file (activate, metrics or status) started.", last),
		gauge("last_run_duration_seconds", "How long the run that wrote this file took, in seconds.", run.Duration.Seconds()),
	)
	return out
}

// placementFamilies are the placement gauges: no series without p.
func placementFamilies(p *check.Placement) []family {
	irqs := family{name: Prefix + "irqs_on_reserved_cpus", help: "Movable interrupts that may arrive on reserved CPUs, the capture queues on DPI CPUs, unmovable interrupts and pending moves excepted (reported, never gated; no series without a reservation)."}
	left := family{name: Prefix + "irqs_left_on_reserved_cpus", help: "Interrupts on reserved CPUs that are not escapes, by reason: unmovable (managed or per-CPU, the kernel places them) or move_pending (asked off them, moved when they next fire); no series without a reservation."}
	threads := family{name: Prefix + "threads_on_reserved_cpus", help: "Threads of units other than the pinned services allowed on reserved CPUs (reported, never gated; no series without a reservation)."}
	outside := family{name: Prefix + "service_cpus_outside_plan", help: "CPUs in a pinned service's cpuset.cpus.effective outside its plan (no series for a service whose cgroup could not be read)."}
	degraded := family{name: Prefix + "isolation_degraded", help: "1 when the CPU isolation [CPU] Isolation= asks does not hold (cgroup v1, no cpuset controller, init.scope not fenced, a unit escaping; status names them), else 0 (reported, never gated; no series without a reservation)."}
	if p != nil {
		nIRQs, nThreads, byService := p.Escapes()
		degraded.samples = []sample{{value: bool01(p.Isolation.Degraded())}}
		irqs.samples = []sample{{value: float64(nIRQs)}}
		left.samples = []sample{{labels: [][2]string{{"reason", "move_pending"}}, value: float64(len(p.IRQsMovePending))},
			{labels: [][2]string{{"reason", "unmovable"}}, value: float64(len(p.IRQsUnmovable))}}
		threads.samples = []sample{{value: float64(nThreads)}}
		for _, u := range slices.Sorted(maps.Keys(byService)) {
			outside.samples = append(outside.samples, sample{labels: [][2]string{{"service", u}}, value: float64(byService[u])})
		}
	}
	return []family{irqs, left, threads, outside, degraded}
}

// Metrics returns rep in the Prometheus text format 0.0.4 for
// node_exporter's textfile collector; every family is a gauge but the
// kernel's own counters (*_total).
func (rep Report) Metrics(run Run) []byte {
	var b strings.Builder
	for _, f := range families(rep, run) {
		fmt.Fprintf(&b, "# HELP %s %s\n", f.name, escapeHelp(f.help))
		typ := "gauge"
		if f.counter {
			typ = "counter"
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", f.name, typ)
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
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabel escapes a label value: backslash, double quote and line feed.
// Most texts and values need nothing; building a replacer for each (both
// functions run for every series) was 3 % of an activate run.
func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// formatValue writes a float as Prometheus parses it, integers without an
// exponent.
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
