// Package status gathers what the tuner guarantees and whether it holds on
// this machine now: the swap target and the swapfile, the sysctls, the CPU
// plan and the drop-ins in effect, and the failure marker. It changes
// nothing. `ransomeye-tuner status` prints the Report, the metrics come from
// it, and `plan` reuses its parts.
package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/guarantee"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/selinux"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// Swap is the swap part of the report.
type Swap struct {
	Path        string
	Unit        string
	MemTotal    int64
	MinSize     int64
	Target      int64
	File        File
	Active      bool
	ActiveBytes int64         // as /proc/swaps counts it (the header page excluded)
	Devices     []procfs.Swap // everything in /proc/swaps
	OthersBytes int64
	Decision    string // what activate would do now
	Reason      string
	Dir         string
	ResolvedDir string // Dir with the links followed
	Links       []string
	InEffect    bool // ours active with at least the target
	NotInEffect string
	Filesystem  string
	FreeBytes   int64
	// SELinux is the mode ("enforcing", "permissive", "disabled"),
	// WantContext the context the swapfile must carry ("" when SELinux is
	// off or its policy rejects it, SELinuxErr then says why).
	SELinux     string
	WantContext string
	SELinuxErr  string
}

// File describes the swapfile on disk.
type File struct {
	Kind      string `json:"kind"`
	Size      int64  `json:"size_bytes,omitempty"`
	Allocated int64  `json:"allocated_bytes,omitempty"`
	Mode      string `json:"mode,omitempty"`
	Owner     string `json:"owner,omitempty"`
	SwapArea  bool   `json:"swap_area"`
	// HibernationImage is the signature of a hibernation image found in
	// place of the swap signature ("S1SUSPEND", ...), absent when none.
	HibernationImage string `json:"hibernation_image,omitempty"`
	Label            string `json:"label,omitempty"`
	Inode            uint64 `json:"inode,omitempty"`
	// Usable is what the kernel would take from the swap area, as its
	// extents fall on the device (the header page included).
	Usable int64 `json:"usable_bytes,omitempty"`
	// SELinuxContext is the file's SELinux context (security.selinux),
	// absent when it has none.
	SELinuxContext string `json:"selinux_context,omitempty"`
}

// Sysctl is one kernel parameter, wanted and current.
type Sysctl struct {
	Key     string
	Want    string
	Current string
	OK      bool
	Err     string
}

// CPU is the CPU plan part.
type CPU struct {
	Isolation     string
	Mode          string
	Online        string
	PhysicalCores int
	Nodes         int
	Reserved      bool
	Reason        string
	Sets          map[string]string // service -> CPU list
	Counts        map[string]int
	// Roles are the reserved sets by role, core first (empty without a
	// reservation): what the JSON report keys its sets by.
	Roles        []RoleSet
	DropInsMatch bool
	Differences  []string
	TopologyErr  string
}

// RoleSet is the CPU set the plan gives one role's service.
type RoleSet struct {
	Role  string // "core", "dpi" or "training"
	Unit  string // the service's unit name, as configured
	CPUs  string // kernel list syntax
	Count int    // logical CPUs
}

// Marker is the failure marker part.
type Marker struct {
	Present bool
	Path    string
	Reasons []string
	Planted []string
	Errors  []string
}

// Report is everything status shows. WriteText prints it for people;
// WriteJSON prints its versioned JSON view (json.go), the contract for
// programs.
type Report struct {
	Root        string
	Disabled    bool
	ConfigFiles []string
	ConfigErr   string
	Swap        Swap
	Sysctls     []Sysctl
	CPU         CPU
	Marker      Marker
	// Guarantees are the guarantees the core depends on, as the gate
	// checks them (internal/guarantee): Problems are built from them.
	Guarantees  []guarantee.Entry
	Activated   bool
	ActivateWhy string
	Compliant   bool
	Problems    []string
	// Placement is what is in effect beyond the core's set (reported,
	// never gated; placement.go); nil without a reservation.
	Placement *Placement
}

// Sysctls returns the kernel parameters cfg asks for (guarantee.Sysctls).
func Sysctls(cfg config.Config) []sysctl.Setting { return guarantee.Sysctls(cfg) }

// Gather builds the report under root, changing nothing. log receives
// debug lines from the generator library. The CPUs the core gets are asked
// of systemd (guarantee.Systemd).
func Gather(root hostroot.Root, log *priolog.Logger) Report {
	return GatherWith(root, log, guarantee.Systemd(root))
}

// GatherWith is Gather with measure asked for the CPUs the core gets.
func GatherWith(root hostroot.Root, log *priolog.Logger, measure guarantee.Measure) Report {
	r := Report{Root: root.String()}
	in := generate.Gather(root, log)
	if in.CmdlineErr == nil && !in.Enabled {
		r.Disabled = true
		r.Problems = append(r.Problems, fmt.Sprintf("disabled by the kernel command line (%s=0): resources are not guaranteed", names.CmdlineSwitch))
		r.Marker = gatherMarker(root)
		return r
	}
	cfg := in.Config
	r.ConfigFiles = cfg.Files
	if in.ConfigErr != nil {
		r.ConfigErr = in.ConfigErr.Error()
		r.Guarantees = []guarantee.Entry{guarantee.Config(in.ConfigErr)}
		r.Problems = append(r.Problems, r.ConfigErr)
		r.Marker = gatherMarker(root)
		r.markerProblems()
		return r
	}
	swap := swapplan.Make(swapplan.Inputs{Root: root, Config: cfg})
	defer swap.Close()
	r.Swap = fromPlan(swap)
	out := generate.Render(in)
	r.CPU = GatherCPU(root, in, out)
	r.Placement = GatherPlacement(root, in, out)
	// The guarantees, from the code the gate runs: status is their view.
	r.Guarantees = guarantee.Evaluate(root, in, out, swap, measure)
	for _, g := range r.Guarantees {
		if name, ok := strings.CutPrefix(g.Name, guarantee.NameSysctl); ok {
			sc := Sysctl{Key: name, Want: g.Expected, Current: g.Actual, OK: g.OK}
			if !g.OK && g.Actual == "" {
				sc.Err = g.Reason
			}
			r.Sysctls = append(r.Sysctls, sc)
		}
		if g.Failed() {
			r.Problems = append(r.Problems, g.Problem())
		}
	}
	r.Marker = gatherMarker(root)
	r.markerProblems()
	r.Activated, r.ActivateWhy = marker.CheckOK(root, marker.BootID(root))
	if !r.Activated {
		r.Problems = append(r.Problems, fmt.Sprintf("%s has not succeeded in this boot (%s): the core will not start", names.ActivatorUnit, r.ActivateWhy))
	}
	r.Compliant = len(r.Problems) == 0
	return r
}

// markerProblems adds the marker's problems: a genuine marker, and a
// marker location that cannot be examined (the gate keeps the core down
// for both, so status may not say COMPLIANT).
func (r *Report) markerProblems() {
	if r.Marker.Present {
		r.Problems = append(r.Problems, "failure marker present: the core will not start")
	}
	for _, e := range r.Marker.Errors {
		r.Problems = append(r.Problems, "cannot examine the failure marker ("+e+"): the core will not start")
	}
}

// The states of a report (Report.State), as the JSON report and the exit
// code of status give them.
const (
	StateCompliant    = "compliant"     // every guarantee holds
	StateNotCompliant = "not_compliant" // a guarantee fails, or the marker keeps the core down
	StateDisabled     = "disabled"      // ransomeye.tuner=0: nothing is guaranteed
	StateUnknown      = "unknown"       // the configuration cannot be read: nothing could be measured
)

// State sums the report up in one word (the State constants).
func (r Report) State() string {
	switch {
	case r.Disabled:
		return StateDisabled
	case r.ConfigErr != "":
		return StateUnknown
	case r.Compliant:
		return StateCompliant
	}
	return StateNotCompliant
}

// CoreGated reports whether the gate would keep the core down now, by the
// gate's rules: a genuine marker or one that cannot be examined always;
// with ransomeye.tuner=0 nothing else; otherwise any problem (no
// activation in this boot, a failing guarantee, an invalid configuration).
func (r Report) CoreGated() bool {
	if r.Marker.Present || len(r.Marker.Errors) > 0 {
		return true
	}
	return !r.Disabled && !r.Compliant
}

// GatherCPU summarises the plan of a fresh Render and compares the CPU
// drop-ins in effect with it.
func GatherCPU(root hostroot.Root, in generate.Input, out generate.Output) CPU {
	c := CPU{Isolation: string(in.Config.Isolation), Mode: string(out.CPUMode)}
	if in.TopologyErr != nil {
		c.TopologyErr = in.TopologyErr.Error()
	} else if out.PlanMade {
		t := in.Topology
		c.Online = t.Online.String()
		c.PhysicalCores = len(t.Cores)
		c.Nodes = len(t.Nodes)
	}
	p := out.Plan
	c.Reserved = p.Reserved
	c.Reason = p.Reason
	if in.Config.Isolation == config.IsolationOff {
		c.Reason = "CPU isolation is off ([CPU] Isolation=off)"
	}
	if p.Reserved {
		cfg := in.Config
		c.Sets = map[string]string{cfg.CoreService: p.Core.String(), cfg.DPIService: p.DPI.String(), cfg.TrainingService: p.Training.String()}
		c.Counts = map[string]int{cfg.CoreService: p.Core.Len(), cfg.DPIService: p.DPI.Len(), cfg.TrainingService: p.Training.Len()}
		c.Roles = []RoleSet{
			{string(generate.RoleCore), cfg.CoreService, p.Core.String(), p.Core.Len()},
			{string(generate.RoleDPI), cfg.DPIService, p.DPI.String(), p.DPI.Len()},
			{string(generate.RoleTraining), cfg.TrainingService, p.Training.String(), p.Training.Len()},
		}
	}
	c.Differences = generate.CheckCPUFiles(root, generate.NormalDir, in.Config, out)
	c.DropInsMatch = len(c.Differences) == 0
	return c
}

// fromPlan is the swap part of the report for a swapfile plan.
func fromPlan(p *swapplan.Plan) Swap {
	s := Swap{Path: p.Path, Unit: p.Unit, MinSize: p.MinSize, MemTotal: p.MemTotal, Target: p.Target,
		Devices: p.Swaps, Decision: string(p.Action), Reason: p.Reason,
		Dir: p.Dir, ResolvedDir: p.Resolved, Links: p.Links,
		InEffect: p.InEffect, NotInEffect: p.NotInEffect}
	if p.Ours != nil {
		s.Active, s.ActiveBytes = true, p.Ours.Size
	}
	for _, d := range p.Others {
		s.OthersBytes += d.Size
	}
	if p.FileKnown {
		s.File = describeFile(p.File)
	} else {
		s.File.Kind = "unknown"
	}
	if p.FSKnown {
		s.Filesystem, s.FreeBytes = p.FS.Name, p.FS.Free
	}
	s.SELinux, s.WantContext = p.SELinux.Mode(), p.SELinux.SwapContext
	if p.SELinux.Err != nil {
		s.SELinuxErr = p.SELinux.Err.Error()
	}
	return s
}

func describeFile(e swapfile.Existing) File {
	f := File{Kind: string(e.Kind)}
	if e.Kind == swapfile.Missing {
		return f
	}
	f.Size, f.Allocated, f.Inode = e.Size, e.Allocated, e.Inode
	f.Mode = fmt.Sprintf("%04o", uint32(e.Perm))
	f.Owner = fmt.Sprintf("%d:%d", e.UID, e.GID)
	f.SwapArea, f.Label = e.Header.Swap, e.Header.Label
	f.HibernationImage = e.Header.Hibernation
	f.SELinuxContext = e.Context
	if e.Header.HasArea() {
		f.Usable = e.Avail()
	}
	return f
}

func gatherMarker(root hostroot.Root) Marker {
	var m Marker
	for _, st := range marker.Inspect(root) {
		switch {
		case st.Err != nil:
			m.Errors = append(m.Errors, st.Err.Error())
		case st.Genuine:
			if !m.Present {
				m.Path = st.Path
			}
			m.Present = true
			m.Reasons = append(m.Reasons, st.Reasons()...)
		case st.Present:
			m.Planted = append(m.Planted, fmt.Sprintf("%s (%s)", st.Path, st.Planted))
		}
	}
	return m
}

// WriteText writes the report as a readable table.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string, a ...any) { fmt.Fprintf(tw, "%s\t"+v+"\n", append([]any{k}, a...)...) }
	verdict := "COMPLIANT"
	switch {
	case r.Disabled:
		verdict = "DISABLED (ransomeye.tuner=0 on the kernel command line)"
	case !r.Compliant:
		verdict = "NOT COMPLIANT"
	}
	row("state", "%s", verdict)
	if r.Root != "/" {
		row("root", "%s", r.Root)
	}
	if r.Disabled {
		r.writeMarker(row)
		return tw.Flush()
	}
	if r.ConfigErr != "" {
		row("config", "INVALID: %s", r.ConfigErr)
		r.writeMarker(row)
		return tw.Flush()
	}
	cfgFiles := "built-in defaults"
	if len(r.ConfigFiles) > 0 {
		cfgFiles = strings.Join(r.ConfigFiles, ", ")
	}
	row("config", "%s", cfgFiles)
	s := r.Swap
	row("swap target", "%s = max(MinSize %s, MemTotal %s)", fsinfo.Human(s.Target), fsinfo.Human(s.MinSize), fsinfo.Human(s.MemTotal))
	file := s.File.Kind
	if s.File.Kind == string(swapfile.Regular) {
		area := yesNo(s.File.SwapArea)
		if s.File.HibernationImage != "" {
			area = "holding a hibernation image (" + s.File.HibernationImage + ")"
		}
		file = fmt.Sprintf("%s, mode %s, owner %s, swap area %s, label %q", fsinfo.Human(s.File.Size), s.File.Mode, s.File.Owner, area, s.File.Label)
	}
	row("swapfile", "%s (%s): %s", s.Path, s.Unit, file)
	if s.SELinux != "" && s.SELinux != "disabled" {
		row("swapfile SELinux", "%s", selinuxRow(s))
	}
	if s.ResolvedDir != s.Dir {
		row("swapfile directory", "%s is %s (%s)", s.Dir, s.ResolvedDir, strings.Join(s.Links, ", "))
	}
	if s.Filesystem != "" {
		row("filesystem", "%s, %s free", s.Filesystem, fsinfo.Human(s.FreeBytes))
	}
	if s.Active {
		row("swapfile active", "yes, %s%s", fsinfo.Human(s.ActiveBytes), okMark(s.InEffect))
	} else {
		row("swapfile active", "no  [FAIL]")
	}
	if len(s.Devices) == 0 {
		row("active swap", "none")
	}
	for _, d := range s.Devices {
		row("active swap", "%s (%s, %s, %s used, priority %d)", d.Filename, d.Type, fsinfo.Human(d.Size), fsinfo.Human(d.Used), d.Priority)
	}
	if s.OthersBytes > 0 {
		row("other swap", "%s (reported, not counted toward the target)", fsinfo.Human(s.OthersBytes))
	}
	if s.Decision != "" {
		row("activate would", "%s: %s", s.Decision, s.Reason)
	}
	for _, sc := range r.Sysctls {
		cur := sc.Current
		if sc.Err != "" {
			cur = "unreadable: " + sc.Err
		}
		row(sc.Key, "%s (want %s)%s", cur, sc.Want, okMark(sc.OK))
	}
	c := r.CPU
	switch {
	case c.TopologyErr != "":
		row("cpu topology", "not trustworthy: %s  [FAIL]", c.TopologyErr)
	case c.Online != "":
		row("cpu topology", "online %s, %d physical cores, %d NUMA node(s)", c.Online, c.PhysicalCores, c.Nodes)
	}
	if c.Reserved {
		row("cpu plan", "%s (isolation %s)", c.Mode, c.Isolation)
		for _, svc := range sortedKeys(c.Sets) {
			row("  "+svc, "%s", c.Sets[svc])
		}
	} else if c.TopologyErr == "" {
		row("cpu plan", "no reservation: %s", c.Reason)
	}
	if c.DropInsMatch {
		row("cpu drop-ins", "match the current topology and configuration  [ok]")
	} else {
		for _, d := range c.Differences {
			row("cpu drop-ins", "%s  [FAIL]", d)
		}
	}
	for _, g := range r.Guarantees {
		label := map[string]string{guarantee.NameCoreCPUs: "core cpus applied", guarantee.NameCoreGate: "core runs the gate",
			guarantee.NameCoreMemory: "core memory cgroup"}[g.Name]
		if label == "" {
			continue
		}
		switch {
		case g.NotMeasured:
			row(label, "%s", g.Reason)
		case g.OK && g.Source == "":
			row(label, "%s  [ok]", g.Actual)
		case g.OK:
			row(label, "%s (%s)  [ok]", g.Actual, g.Source)
		default:
			row(label, "%s  [FAIL]", g.Reason)
		}
	}
	writePlacementText(r.Placement, row)
	if r.Activated {
		row("activation", "%s succeeded in this boot  [ok]", names.ActivatorUnit)
	} else {
		row("activation", "%s  [FAIL]", r.ActivateWhy)
	}
	r.writeMarker(row)
	for _, p := range r.Problems {
		row("problem", "%s", p)
	}
	return tw.Flush()
}

func (r Report) writeMarker(row func(k, v string, a ...any)) {
	m := r.Marker
	if !m.Present {
		row("failure marker", "absent  [ok]")
	}
	for i, reason := range m.Reasons {
		if i == 0 {
			row("failure marker", "%s  [FAIL]", m.Path)
		}
		row("  reason", "%s", reason)
	}
	for _, p := range m.Planted {
		row("planted marker", "%s (not genuine: the gate removes it)", p)
	}
	for _, e := range m.Errors {
		row("marker error", "%s", e)
	}
}

func okMark(ok bool) string {
	if ok {
		return "  [ok]"
	}
	return "  [FAIL]"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// selinuxRow says, with SELinux on, the swapfile's context and the one
// swapon needs.
func selinuxRow(s Swap) string {
	have := s.File.SELinuxContext
	if have == "" {
		have = "no context"
	}
	switch {
	case s.SELinuxErr != "":
		return fmt.Sprintf("%s (SELinux %s; %s)", have, s.SELinux, s.SELinuxErr)
	case s.File.Kind != string(swapfile.Regular):
		return fmt.Sprintf("SELinux %s: activate labels it %s", s.SELinux, s.WantContext)
	case selinux.Type(s.File.SELinuxContext) == selinux.Type(s.WantContext):
		return fmt.Sprintf("%s (SELinux %s)%s", have, s.SELinux, okMark(true))
	}
	return fmt.Sprintf("%s, want type %s (SELinux %s)  [FAIL]", have, selinux.Type(s.WantContext), s.SELinux)
}
