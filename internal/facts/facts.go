// Package facts reads, once per run, everything the run needs to know about
// the machine; by scope, the expensive parts too. Gather never fails: what
// could not be read is a fact with its reason, never a zero value that
// looks measured. Nothing here decides, judges or writes; what activate
// changes, it folds back in itself.
package facts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// Scope says which parts a run reads besides the command line, the
// configuration and the topology.
type Scope uint

const (
	// ReadSwapUnits: what the swap provider's units need.
	ReadSwapUnits Scope = 1 << iota
	// ReadSwapState: meminfo, /proc/swaps, the provider's inspection.
	ReadSwapState
	// ReadSysctls: the kernel parameters now, and who sets a drifted one.
	ReadSysctls
	// ReadDropIns: the generated CPU drop-ins in effect.
	ReadDropIns
	// ReadRecords: the failure marker, the success record, the boot id.
	ReadRecords
	// ReadCoreCPUs: the core's CPUs as systemd applies them.
	ReadCoreCPUs
	// ReadPlacement: the placement record, interrupts, workqueue masks.
	ReadPlacement
	// ReadEffect: the pinned services' cgroups, every thread, init.scope.
	ReadEffect
	// ReadMemInfo: /proc/meminfo alone (the memory plan's shares of RAM).
	ReadMemInfo
	// ReadMemoryEffect: what the kernel applies of the memory plan, and
	// pressure stall information (memeffect.go).
	ReadMemoryEffect
	// ReadCapture: the capture interface: sysfs, its driver's channels and
	// offloads.
	ReadCapture
	// ReadMetrics: the metrics textfile and its directory.
	ReadMetrics
	// ReadIfDisabled: the rest also with ransomeye.tuner=0 (what a failure
	// or the removal must see of the swap).
	ReadIfDisabled
)

// The scopes of the runs. The generator and the gate run at every boot: no
// D-Bus (at boot the gate runs in the core's cgroup), no /proc walk, no
// interrupt read.
const (
	Generator = ReadSwapUnits | ReadMemInfo
	Gate      = ReadSwapState | ReadSysctls | ReadDropIns | ReadRecords | ReadCoreCPUs
	Activate  = ReadSwapState | ReadSysctls | ReadDropIns | ReadRecords | ReadPlacement | ReadEffect | ReadCapture | ReadMemoryEffect
	Status    = Gate | ReadPlacement | ReadEffect | ReadCapture | ReadMemoryEffect | ReadMetrics
	// Textfile is what the metrics verb measures: status's scope but the
	// textfile itself. The writer judges the file there as it replaces it
	// and reports what it did; the textfile says nothing of itself, so a
	// read of it beforehand would be the same fact gathered twice.
	Textfile   = Status &^ ReadMetrics
	Plan       = ReadSwapUnits | ReadSwapState | ReadSysctls | ReadCapture
	Place      = ReadPlacement | ReadCapture
	FailClosed = ReadSwapState | ReadIfDisabled
	// CheckConfig reads the configuration, the topology and MemTotal (the
	// [Memory] shares) only, with ransomeye.tuner=0 too.
	CheckConfig = ReadIfDisabled | ReadMemInfo
)

// Facts is what one run read; an Err beside a value says why it was not.
type Facts struct {
	Root  hostroot.Root
	Scope Scope

	// ProcMissing: /proc is not mounted under the root (a chroot, an image
	// build); each fact from it says it was not read, this says why.
	ProcMissing bool

	// Cmdline are the kernel command-line words; Enabled is false with
	// ransomeye.tuner=0. Either error keeps the tuner on.
	Cmdline    []string
	CmdlineErr error
	Enabled    bool
	EnabledErr error

	// Config is the configuration (not read when disabled); ConfigErr (a
	// *config.Error) means it must not be acted on.
	Config         config.Config
	ConfigWarnings []config.Problem
	ConfigErr      error

	// Topology is the CPU topology (not read with Isolation=off);
	// TopologyErr: untrustworthy, no plan. Online is then sysfs's online
	// count (-1: not known either).
	Topology     topology.Info
	TopologyErr  error
	TopologyRead bool
	Online       int

	// Mem, Swaps and the page size; Swap the inspected provider (nil when
	// not read).
	Mem      procfs.Meminfo
	MemErr   error
	Swaps    []procfs.Swap
	SwapsErr error
	PageSize int
	Swap     swap.Provider

	// Sysctls are the wanted kernel parameters' values now, by key.
	Sysctls map[string]Sysctl

	// DropIns are the CPU and memory files in the normal directory by
	// relative path, missing ones with an fs.ErrNotExist error.
	DropIns map[string]DropIn

	// Markers is what the marker locations hold; Activated whether the
	// success record holds this boot's id (else ActivatedWhy).
	Markers      []marker.State
	Activated    bool
	ActivatedWhy string
	// ActivatedErr kept the success record from being examined.
	ActivatedErr error
	BootID       string
	// Stopped is the step at which this boot's last activation failed, as
	// the marker records it ("" when none did, or the marker does not
	// say): what activate did not get to, it did not set.
	Stopped string
	// SysctlsSetThisBoot: an activation of this boot set every sysctl (it
	// then writes the tuner's file in /run/sysctl.d, which no boot keeps).
	// Without it, and without this boot's success record, the values were
	// never set by the tuner in this boot: a killed activation writes no
	// step in the marker.
	SysctlsSetThisBoot bool

	// SelfUnit is the service whose cgroup this run is in ("" when none):
	// for the gate, the unit whose ExecCondition= it is.
	SelfUnit string

	// Core is the core's CPUs as systemd applies them (Unit "": not
	// judged in this run); Memory its memory cgroup.
	Core   Core
	Memory Memory
	// Cgroups are the cgroup files this run read, each once; what
	// activate writes there it records in them.
	Cgroups *CgroupFiles
	// self is this process's /proc/self/cgroup.
	self []procCgroup
	// MemoryEffect is what the kernel applies of the memory settings and
	// the pressure stall information (memeffect.go).
	MemoryEffect MemoryEffect

	// Placement is the placement record, interrupts, workqueue masks and,
	// in the effect scope, the pinned services' cgroups and threads.
	Placement Placement

	// Capture is the capture interface (Name "": none configured).
	Capture Capture

	// Metrics is the metrics textfile (read in the status scope).
	Metrics Metrics
}

// Sysctl is one kernel parameter now.
type Sysctl struct {
	Value string
	Err   error
	// Setter is the file `sysctl --system` applies last for the key, read
	// when Value is not the wanted one.
	Setter      sysctl.Setter
	SetterFound bool
	// Tuned is what tuned sets the key to, read when Value is not the
	// wanted one and tuned runs with a profile that sets it (TunedFound).
	Tuned      sysctl.Tuned
	TunedFound bool
}

// DropIn is one CPU file in effect.
type DropIn struct {
	Content []byte
	Err     error
}

// Gather reads what scope needs under root.
func Gather(root hostroot.Root, scope Scope) *Facts {
	f := &Facts{Root: root, Scope: scope, Enabled: true, PageSize: os.Getpagesize(), Online: -1, Cgroups: NewCgroupFiles(root)}
	f.ProcMissing = procMissing(root)
	f.Cmdline, f.CmdlineErr = procfs.ReadCmdline(root)
	if f.CmdlineErr == nil {
		f.Enabled, f.EnabledErr = procfs.Enabled(f.Cmdline)
	}
	if f.Reads(ReadRecords) {
		f.Markers = marker.Inspect(root)
		f.BootID = marker.BootID(root)
		f.Activated, f.ActivatedWhy, f.ActivatedErr = marker.ReadOK(root, f.BootID)
		f.Stopped = StoppedAt(f.Markers, f.BootID)
	}
	if !f.Enabled && !f.Reads(ReadIfDisabled) {
		return f
	}
	f.Config, f.ConfigWarnings, f.ConfigErr = config.Load(root)
	if f.ConfigErr != nil {
		return f
	}
	cfg := f.Config
	f.readTopology()
	if f.Reads(ReadSwapState) || f.Reads(ReadMemInfo) {
		f.Mem, f.MemErr = procfs.ReadMeminfo(root)
	}
	if f.Reads(ReadSwapState) {
		f.Swaps, f.SwapsErr = procfs.ReadSwaps(root)
	}
	if f.Reads(ReadSwapUnits) || f.Reads(ReadSwapState) {
		f.Swap = swapfile.Inspect(root, cfg, f.Reads(ReadSwapUnits), f.Reads(ReadSwapState), f.Swaps, f.SwapsErr, f.PageSize)
	}
	if f.Reads(ReadSysctls) {
		f.Sysctls = map[string]Sysctl{}
		// And the denominator vm.vfs_cache_pressure counts against.
		denom := sysctl.Setting{Key: sysctl.VFSCachePressureDenom, Value: "100"}
		for _, s := range append(sysctl.Wanted(cfg), denom) {
			var v Sysctl
			if v.Value, v.Err = sysctl.Read(root, s.Key); v.Err == nil && v.Value != s.Value {
				v.Setter, v.SetterFound = sysctl.LastSetter(root, s.Key)
				v.Tuned, v.TunedFound = sysctl.TunedSetter(root, s.Key)
			}
			f.Sysctls[s.Key] = v
		}
		_, err := os.Lstat(root.Path(path.Join(sysctl.RunDir, sysctl.FileName)))
		f.SysctlsSetThisBoot = err == nil
	}
	if f.Reads(ReadDropIns) {
		f.DropIns = DropInsOf(root, cfg)
	}
	if f.Reads(ReadCoreCPUs) || f.Reads(ReadRecords) {
		f.self = selfCgroups(root)
		f.SelfUnit = unitOfSelf(f.self)
		if f.Reads(ReadCoreCPUs) {
			f.Core = measureCore(root, cfg.CoreService(), f.Topology.Cgroup.AllowedCPUs(), f.self)
		} else {
			// Activate runs before the core, at boot maybe before D-Bus,
			// which it must not wait on.
			f.Core = Core{Unit: cfg.CoreService(), NotMeasured: "activate runs before " + cfg.CoreService() + " starts"}
		}
		f.Memory = f.readMemory()
		if f.Reads(ReadMemoryEffect) {
			f.readMemoryEffect()
		}
	}
	if f.Reads(ReadPlacement) {
		f.readPlacement()
	}
	if f.Reads(ReadCapture) {
		f.readCapture()
	}
	if f.Reads(ReadMetrics) {
		f.readMetrics()
	}
	return f
}

// DropInsOf reads every CPU and memory file the generator may write for
// cfg.
func DropInsOf(root hostroot.Root, cfg config.Config) map[string]DropIn {
	m := map[string]DropIn{}
	for _, p := range append(units.CPUFilePaths(cfg), units.MemoryFilePaths(cfg)...) {
		var d DropIn
		d.Content, d.Err = readfile.Regular(root.Path(path.Join(units.NormalDir, p)), 1<<20)
		m[p] = d
	}
	return m
}

// readTopology reads the topology when CPU isolation is on.
func (f *Facts) readTopology() {
	if f.Config.Isolation == config.IsolationOff {
		return
	}
	f.TopologyRead = true
	if f.CmdlineErr != nil {
		f.TopologyErr = fmt.Errorf("isolated CPUs unknown: %w", f.CmdlineErr)
	} else {
		f.Topology, f.TopologyErr = topology.Read(f.Root, f.Cmdline, f.Config.DPIInterface)
	}
	// The memory controller is looked up in the same file.
	if cg := f.Topology.Cgroup; cg.ControllersRead {
		f.Cgroups.Known(topology.CgroupDir+"/cgroup.controllers", []byte(strings.Join(cg.Controllers, " ")), cg.ControllersErr)
	}
	if f.TopologyErr != nil {
		if b, err := readfile.Regular(f.Root.Path(topology.CPUDir+"/online"), 4096); err == nil {
			if s, err := cpuset.Parse(strings.TrimSpace(string(b))); err == nil {
				f.Online = s.Len()
			}
		}
	}
}

// CoreName is the core's unit as far as this run knows it: the
// configuration's; under an invalid configuration the one it still
// settles; else (not read, or not settled) the default.
func (f *Facts) CoreName() string {
	var ce *config.Error
	switch {
	case f.ConfigErr != nil && errors.As(f.ConfigErr, &ce) && ce.CoreService != "":
		return ce.CoreService
	case f.ConfigErr == nil && f.Config.CoreService() != "":
		return f.Config.CoreService()
	}
	return names.CoreService
}

// StoppedAt is the step at which the last activation of boot bootID
// failed: the newest entry activate wrote in this boot in the genuine
// markers states hold ("" when there is none). The entries the units add
// after it (ExecStopPost=, OnFailure=) record the same failure.
func StoppedAt(states []marker.State, bootID string) string {
	if bootID == "" {
		return ""
	}
	for _, st := range states {
		if !st.Genuine {
			continue
		}
		for i := len(st.Entries) - 1; i >= 0; i-- {
			if e := st.Entries[i]; e.Source == "activate" && e.BootID == bootID {
				return e.Step
			}
		}
	}
	return ""
}

// procMissing reports whether /proc is not mounted under root: neither
// /proc/self nor /proc/meminfo is there (a fake root has the files it
// needs, and no /proc/self).
func procMissing(root hostroot.Root) bool {
	_, errSelf := os.Lstat(root.Path("/proc/self"))
	_, errMem := os.Lstat(root.Path("/proc/meminfo"))
	return Missing(errSelf) && Missing(errMem)
}

// ProcMissingNote says what a run without /proc cannot know, and why.
const ProcMissingNote = "/proc is not mounted here (a chroot or an image build?): the memory, the active swap, the sysctls and the kernel command line cannot be read, so nothing below that needs them is a measurement; run this on the booted machine"

// Reads reports whether the run's scope holds part.
func (f *Facts) Reads(part Scope) bool { return f.Scope&part == part }

// reserves reports whether the topology gives a reservation: only then are
// the expensive placement facts read.
func (f *Facts) reserves() bool {
	return f.TopologyRead && f.TopologyErr == nil && cpuplan.Make(f.Topology, f.Config.Roles()).Reserved
}

// Close releases what the swap provider holds open.
func (f *Facts) Close() error {
	if f.Swap == nil {
		return nil
	}
	return f.Swap.Close()
}

// Missing reports whether err says a file does not exist.
func Missing(err error) bool { return errors.Is(err, fs.ErrNotExist) }
