package status

import (
	"encoding/json"
	"io"

	"github.com/ransomeye/ransomeye-tuner/internal/guarantee"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
)

// JSONVersion is the version of the document `status --json` prints. Fields
// are only added; a change of meaning or a removed field raises it.
// ransomeye-tuner(8), JSON OUTPUT, lists every field.
const JSONVersion = 1

// The JSON report is a view of Report, its own types, so that the document
// is a contract: one naming style (snake_case, units in the names), []
// and {} for empty lists and maps (never null), and what could not be
// measured absent, with the reason under not_measured. Why a view: the
// report once printed /proc/swaps entries with Go's field names (Filename,
// Size), null for empty lists, and zero-filled swap and cpu sections for an
// invalid configuration that looked like measurements.

type jsonReport struct {
	Version     int               `json:"version"`
	State       string            `json:"state"`
	Compliant   bool              `json:"compliant"`
	CoreGated   bool              `json:"core_gated"`
	Root        string            `json:"root"`
	Guarantees  []jsonGuarantee   `json:"guarantees"`
	Problems    []string          `json:"problems"`
	NotMeasured map[string]string `json:"not_measured"`
	Config      *jsonConfig       `json:"config,omitempty"`
	Activation  *jsonActivation   `json:"activation,omitempty"`
	Marker      jsonMarker        `json:"marker"`
	Swap        *jsonSwap         `json:"swap,omitempty"`
	CPU         *jsonCPU          `json:"cpu,omitempty"`
	// Placement is reported, never gated (placement.go); absent without
	// a reservation.
	Placement *Placement `json:"placement,omitempty"`
}

type jsonGuarantee struct {
	Name        string  `json:"name"`
	Expected    string  `json:"expected"`
	Actual      *string `json:"actual,omitempty"`
	Source      string  `json:"source"`
	OK          bool    `json:"ok"`
	NotMeasured bool    `json:"not_measured"`
	Reason      string  `json:"reason"`
	Remedy      string  `json:"remedy"`
}

type jsonConfig struct {
	Valid bool     `json:"valid"`
	Files []string `json:"files"`
	Error string   `json:"error,omitempty"`
}

type jsonActivation struct {
	SucceededThisBoot bool   `json:"succeeded_this_boot"`
	Detail            string `json:"detail"`
}

type jsonMarker struct {
	Present bool     `json:"present"`
	Path    string   `json:"path,omitempty"`
	Reasons []string `json:"reasons"`
	Planted []string `json:"planted"`
	Errors  []string `json:"errors"`
}

type jsonSwap struct {
	Path        string           `json:"path"`
	Unit        string           `json:"unit"`
	MemTotal    int64            `json:"mem_total_bytes"`
	MinSize     int64            `json:"min_size_bytes"`
	Target      int64            `json:"target_bytes"`
	File        File             `json:"file"`
	Active      bool             `json:"active"`
	ActiveBytes int64            `json:"active_bytes"`
	Devices     []jsonSwapDevice `json:"active_swap"`
	OthersBytes int64            `json:"other_swap_bytes"`
	Decision    string           `json:"decision"`
	Reason      string           `json:"reason"`
	Dir         string           `json:"dir"`
	ResolvedDir string           `json:"resolved_dir"`
	Links       []string         `json:"links"`
	InEffect    bool             `json:"in_effect"`
	NotInEffect string           `json:"not_in_effect"`
	Filesystem  *jsonFilesystem  `json:"filesystem,omitempty"`
	// SELinux: the mode, and the context the swapfile must carry (absent
	// when SELinux is off); added in version 1, as every later field.
	SELinux *jsonSELinux `json:"selinux,omitempty"`
}

type jsonSwapDevice struct {
	Filename string `json:"filename"`
	Type     string `json:"type"`
	Size     int64  `json:"size_bytes"`
	Used     int64  `json:"used_bytes"`
	Priority int    `json:"priority"`
}

type jsonFilesystem struct {
	Type      string `json:"type"`
	FreeBytes int64  `json:"free_bytes"`
}

type jsonCPU struct {
	Isolation    string             `json:"isolation"`
	Mode         string             `json:"mode"`
	Topology     *jsonTopology      `json:"topology,omitempty"`
	TopologyErr  string             `json:"topology_error,omitempty"`
	Reserved     bool               `json:"reserved"`
	Reason       string             `json:"no_reservation_reason"`
	Sets         map[string]jsonSet `json:"sets"`
	DropInsMatch bool               `json:"dropins_match"`
	Differences  []string           `json:"differences"`
}

type jsonTopology struct {
	Online        string `json:"online_cpus"`
	PhysicalCores int    `json:"physical_cores"`
	Nodes         int    `json:"numa_nodes"`
}

type jsonSet struct {
	Unit  string `json:"unit"`
	CPUs  string `json:"cpus"`
	Count int    `json:"cpu_count"`
}

// list returns l, or an empty list for nil: [] in JSON, never null.
func list[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// notMeasuredDisabled and notMeasuredConfig say why whole sections are
// absent.
const (
	notMeasuredDisabled = "ransomeye.tuner=0 on the kernel command line: nothing is guaranteed, nothing was measured"
	notMeasuredConfig   = "the configuration cannot be read (see config.error): what to measure is not known"
)

// JSON returns the report as the versioned document `status --json`
// prints.
func (r Report) JSON() any {
	j := jsonReport{Version: JSONVersion, State: r.State(), Compliant: r.Compliant, CoreGated: r.CoreGated(),
		Root: r.Root, Guarantees: []jsonGuarantee{}, Problems: list(r.Problems), NotMeasured: map[string]string{},
		Marker: jsonMarker{Present: r.Marker.Present, Path: r.Marker.Path, Reasons: list(r.Marker.Reasons),
			Planted: list(r.Marker.Planted), Errors: list(r.Marker.Errors)}}
	for _, g := range r.Guarantees {
		j.Guarantees = append(j.Guarantees, fromEntry(g))
	}
	if r.Disabled {
		for _, k := range []string{"config", "activation", "swap", "cpu"} {
			j.NotMeasured[k] = notMeasuredDisabled
		}
		return j
	}
	j.Config = &jsonConfig{Valid: r.ConfigErr == "", Files: list(r.ConfigFiles), Error: r.ConfigErr}
	if r.ConfigErr != "" {
		for _, k := range []string{"activation", "swap", "cpu"} {
			j.NotMeasured[k] = notMeasuredConfig
		}
		return j
	}
	j.Activation = &jsonActivation{SucceededThisBoot: r.Activated, Detail: r.ActivateWhy}
	j.Swap = fromSwap(r.Swap)
	j.CPU = fromCPU(r.CPU)
	j.Placement = r.Placement
	return j
}

func fromEntry(g guarantee.Entry) jsonGuarantee {
	j := jsonGuarantee{Name: g.Name, Expected: g.Expected, Source: g.Source, OK: g.OK,
		NotMeasured: g.NotMeasured, Reason: g.Reason, Remedy: g.Remedy}
	if g.Actual != "" {
		a := g.Actual
		j.Actual = &a
	}
	return j
}

func fromSwap(s Swap) *jsonSwap {
	j := &jsonSwap{Path: s.Path, Unit: s.Unit, MemTotal: s.MemTotal, MinSize: s.MinSize, Target: s.Target,
		File: s.File, Active: s.Active, ActiveBytes: s.ActiveBytes, Devices: []jsonSwapDevice{},
		OthersBytes: s.OthersBytes, Decision: s.Decision, Reason: s.Reason, Dir: s.Dir,
		ResolvedDir: s.ResolvedDir, Links: list(s.Links), InEffect: s.InEffect, NotInEffect: s.NotInEffect}
	for _, d := range s.Devices {
		j.Devices = append(j.Devices, fromDevice(d))
	}
	if s.Filesystem != "" {
		j.Filesystem = &jsonFilesystem{Type: s.Filesystem, FreeBytes: s.FreeBytes}
	}
	if s.SELinux != "" && s.SELinux != "disabled" {
		j.SELinux = &jsonSELinux{Mode: s.SELinux, WantContext: s.WantContext, Error: s.SELinuxErr}
	}
	return j
}

// jsonSELinux is the SELinux part of the swap section.
type jsonSELinux struct {
	Mode        string `json:"mode"`
	WantContext string `json:"want_context"`
	Error       string `json:"error,omitempty"`
}

func fromDevice(d procfs.Swap) jsonSwapDevice {
	return jsonSwapDevice{Filename: d.Filename, Type: d.Type, Size: d.Size, Used: d.Used, Priority: d.Priority}
}

func fromCPU(c CPU) *jsonCPU {
	j := &jsonCPU{Isolation: c.Isolation, Mode: c.Mode, TopologyErr: c.TopologyErr, Reserved: c.Reserved,
		Reason: c.Reason, Sets: map[string]jsonSet{}, DropInsMatch: c.DropInsMatch, Differences: list(c.Differences)}
	if c.Online != "" {
		j.Topology = &jsonTopology{Online: c.Online, PhysicalCores: c.PhysicalCores, Nodes: c.Nodes}
	}
	for _, rs := range c.Roles {
		j.Sets[rs.Role] = jsonSet{Unit: rs.Unit, CPUs: rs.CPUs, Count: rs.Count}
	}
	return j
}

// WriteJSON writes the report as the versioned JSON document (JSON),
// indented.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.JSON())
}
