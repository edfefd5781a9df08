// Package report renders one run's judgement three ways (status's text,
// status's versioned JSON, the Prometheus textfile), all from the one
// Report Build makes, so they cannot disagree.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
)

// JSONVersion is the version of status --json (ransomeye-tuner(8)): fields
// are only added; a change of meaning or a removed field raises it.
const JSONVersion = 1

// Report is status's document (Doc) with what the text and the metrics
// need besides.
type Report struct {
	Doc
	SwapRows []swap.Row
	// ProcMissing: /proc is not mounted (facts.ProcMissing).
	ProcMissing bool
	// Swap counts bytes for the metrics: the target, all active swap, the
	// provider's; TargetKnown is false when MemTotal was not read.
	Swap struct {
		Target, Active, Provided int64
		TargetKnown              bool
	}
}

// Doc is the JSON document: snake_case names with units, [] and {} never
// null, and what was not measured absent with its reason in not_measured.
type Doc struct {
	Version   int    `json:"version"`
	State     string `json:"state"`
	Compliant bool   `json:"compliant"`
	// CoreGated is absent when it cannot be said (not_measured says why).
	CoreGated   *bool             `json:"core_gated,omitempty"`
	Root        string            `json:"root"`
	Guarantees  []check.Check     `json:"guarantees"`
	Problems    []string          `json:"problems"`
	NotMeasured map[string]string `json:"not_measured"`
	Config      *Config           `json:"config,omitempty"`
	Activation  *Activation       `json:"activation,omitempty"`
	Marker      check.Marker      `json:"marker"`
	Swap        any               `json:"swap,omitempty"`
	CPU         *CPU              `json:"cpu,omitempty"`
	// Placement is reported, never gated; absent without a reservation.
	Placement *check.Placement `json:"placement,omitempty"`
	// CaptureInterface is reported, never gated; absent without [CPU]
	// DPIInterface=.
	CaptureInterface *check.CaptureInterface `json:"capture_interface,omitempty"`
	// Memory is what the kernel applies of [Memory] and the pressure;
	// reported, never gated.
	Memory *check.Memory `json:"memory,omitempty"`
	// Metrics is where the metrics go, reported, never gated; absent
	// where the run does not read it (activate's closing report).
	Metrics *Metrics `json:"metrics,omitempty"`
}

// Metrics is the metrics textfile: where, when it was last written, or
// why it is not.
type Metrics struct {
	// Path is the textfile ("" when [Metrics] TextfilePath=off).
	Path string `json:"path"`
	// Configured: TextfilePath= names another path than the default.
	Configured bool `json:"configured"`
	// Written: the file is there; WrittenAt its modification time.
	Written   bool   `json:"written"`
	WrittenAt string `json:"written_at,omitempty"`
	// Error says why it cannot be written (monitoring is blind);
	// Note why nothing is written where that is no fault.
	Error string `json:"error,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Config is the configuration section. Valid says whether it may be acted
// on; Warnings are what its files hold that is not used (an unknown
// section or key, a drop-in that is not read), valid or not.
type Config struct {
	Valid    bool      `json:"valid"`
	Files    []string  `json:"files"`
	Error    string    `json:"error,omitempty"`
	Warnings []Warning `json:"warnings"`
}

// Warning is one configuration warning: the file, the line (0: the whole
// file) and what is wrong, with what was probably meant.
type Warning struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// String is the warning as the text and the logs give it: FILE:LINE: message.
func (w Warning) String() string {
	return config.Problem{File: w.File, Line: w.Line, Message: w.Message}.String()
}

// Activation is whether activate succeeded in this boot.
type Activation struct {
	SucceededThisBoot bool   `json:"succeeded_this_boot"`
	Detail            string `json:"detail"`
}

// CPU is the CPU plan section.
type CPU struct {
	Isolation    string         `json:"isolation"`
	Mode         string         `json:"mode"`
	Topology     *Topology      `json:"topology,omitempty"`
	TopologyErr  string         `json:"topology_error,omitempty"`
	Reserved     bool           `json:"reserved"`
	Reason       string         `json:"no_reservation_reason"`
	Sets         map[string]Set `json:"sets"`
	DropInsMatch bool           `json:"dropins_match"`
	Differences  []string       `json:"differences"`
}

// Topology is the topology the plan was made for.
type Topology struct {
	Online        string `json:"online_cpus"`
	PhysicalCores int    `json:"physical_cores"`
	Nodes         int    `json:"numa_nodes"`
}

// Set is the CPU set the plan gives one role's service.
type Set struct {
	Unit  string `json:"unit"`
	CPUs  string `json:"cpus"`
	Count int    `json:"cpu_count"`
}

// rolesByUnit returns the roles of Sets by unit, as text and metrics list
// them.
func (c *CPU) rolesByUnit() []string {
	roles := slices.Collect(maps.Keys(c.Sets))
	sort.Slice(roles, func(i, j int) bool { return c.Sets[roles[i]].Unit < c.Sets[roles[j]].Unit })
	return roles
}

// list returns l, or an empty list for nil: [] in JSON, never null.
func list[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// Why whole sections are absent.
const (
	notMeasuredDisabled = names.CmdlineSwitch + "=0 on the kernel command line: nothing is guaranteed, nothing was measured"
	notMeasuredConfig   = "the configuration cannot be read (see config.error): what to measure is not known"
	notMeasuredGated    = "what the gate decides on was not all read (needs root): run status as root"
)

// Build makes the report of r (checked on f and p).
func Build(f *facts.Facts, p plan.Plan, r check.Result) Report {
	rep := Report{Doc: Doc{Version: JSONVersion, State: r.State(), Compliant: r.Compliant(),
		Root: f.Root.String(), Guarantees: r.Checks, Problems: list(r.Problems()), NotMeasured: map[string]string{}, Marker: r.Marker},
		ProcMissing: f.ProcMissing}
	d := &rep.Doc
	for k, v := range r.NotRead {
		d.NotMeasured[k] = v
	}
	if gated := r.Gated(); r.GatedKnown() {
		d.CoreGated = &gated
	} else {
		d.NotMeasured["core_gated"] = notMeasuredGated
	}
	if r.Disabled {
		for _, k := range []string{"config", "activation", "swap", "cpu"} {
			d.NotMeasured[k] = notMeasuredDisabled
		}
		return rep
	}
	d.Config = &Config{Valid: r.ConfigErr == "", Files: list(f.Config.Files), Error: r.ConfigErr, Warnings: []Warning{}}
	for _, w := range r.ConfigWarnings {
		d.Config.Warnings = append(d.Config.Warnings, Warning{File: w.File, Line: w.Line, Message: w.Message})
	}
	if r.ConfigErr != "" {
		for _, k := range []string{"activation", "swap", "cpu"} {
			d.NotMeasured[k] = notMeasuredConfig
		}
		return rep
	}
	if f.Reads(facts.ReadMetrics) {
		d.Metrics = metricsDoc(f.Metrics)
	}
	d.Activation = &Activation{SucceededThisBoot: r.Activated, Detail: r.ActivatedWhy}
	if p.SwapDecided {
		desc := f.Swap.Describe(p.Swap)
		d.Swap, rep.SwapRows = desc.Status, desc.Rows
		rep.Swap.TargetKnown = p.Swap.Target.Known()
		rep.Swap.Target, rep.Swap.Provided = p.Swap.Target.Bytes, p.Swap.Active
		for _, s := range f.Swaps {
			rep.Swap.Active += s.Size
		}
	}
	c := &CPU{Isolation: string(f.Config.Isolation), Mode: string(p.CPUMode), Reserved: p.CPU.Reserved, Reason: p.NoReservation(),
		Sets: map[string]Set{}}
	switch {
	case f.TopologyErr != nil:
		c.TopologyErr = f.TopologyErr.Error()
	case p.PlanMade:
		t := f.Topology
		c.Topology = &Topology{Online: t.Online.String(), PhysicalCores: len(t.Cores), Nodes: len(t.Nodes)}
	}
	for _, a := range p.CPU.Assignments {
		c.Sets[a.Role.Name] = Set{Unit: f.Config.Units[a.Role.Name], CPUs: a.CPUs.String(), Count: a.CPUs.Len()}
	}
	c.Differences = list(r.DropInDiffs)
	c.DropInsMatch = len(c.Differences) == 0
	d.CPU, d.Placement, d.CaptureInterface, d.Memory = c, r.Placement, r.Capture, r.Memory
	return rep
}

// WriteJSON writes the document, indented.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep.Doc)
}

// metricsDoc reports the metrics textfile m.
func metricsDoc(m facts.Metrics) *Metrics {
	d := &Metrics{Path: m.Path, Configured: m.Path != names.DefaultMetricsPath}
	switch {
	case m.Path == "":
		d.Note = "off ([Metrics] TextfilePath=off)"
	case m.NotOurs:
		d.Error = check.MetricsNotOurs(m.Path, m.NotOursErr)
	case m.Err != nil:
		d.Error = fmt.Sprintf("cannot be examined: %v", m.Err)
	case m.DirMissing && m.Default:
		d.Note = check.NoNodeExporter
	case m.DirMissing:
		d.Error = check.MetricsDirMissing(m.Path)
	case m.Written.IsZero():
		d.Note = "not written yet (ransomeye-tuner-metrics.timer writes it every minute)"
	default:
		d.Written, d.WrittenAt = true, m.Written.UTC().Format(time.RFC3339)
	}
	return d
}
