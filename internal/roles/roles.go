// Package roles is the table of the services the CPU plan gives CPUs to.
// Everything role-shaped (keys, assignments, drop-ins, slices, environment,
// JSON sets, metric series, placement) derives from it: a new role is a row.
package roles

import (
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// NodePref says which NUMA node a role's cores come from.
type NodePref int

const (
	// Rest is the core's: every usable core the other roles do not take.
	Rest NodePref = iota
	// Highest takes the last cores of the highest NUMA node; such roles
	// choose before Capture ones.
	Highest
	// Capture takes the last free cores of the capture interface's node,
	// else of the node below the highest, else of the highest.
	Capture
)

// Role is one row of the table.
type Role struct {
	// Name identifies the role ("core"): JSON and plan-file key.
	Name string
	// Key is the [CPU] setting that names its unit ("CoreService").
	Key string
	// CPUsKey is the [CPU] setting that names its CPUs ("DPICPUs"; empty
	// for the core); unset, the CPU plan chooses them (Cores, Node).
	CPUsKey string
	// CPUs are the CPUs the configuration names for it (empty in Table).
	CPUs cpuset.Set
	// Unit is its default unit.
	Unit string
	// Slice is its own slice when AllowedCPUs= is enforced, with the
	// slice's Description= ("" for a role that stays in system.slice).
	Slice, Description string
	// Cores is how many physical cores it reserves (the core: the rest).
	Cores int
	Node  NodePref
	// Capture: the capture interface's queue interrupts go to its CPUs.
	Capture bool
	// Memory are the role's [Memory] defaults by setting (Min, Low, High,
	// SwapMax): a share of RAM ("50%"; of the swap target for SwapMax) or
	// a size; a setting not listed is off. docs/design.md, "Memory",
	// says why these.
	Memory map[string]string
}

// MemoryKey is the [Memory] key of one of the role's memory settings:
// its [CPU] key without "Service", then the setting ("CoreLow").
func (r Role) MemoryKey(setting string) string {
	return strings.TrimSuffix(r.Key, "Service") + setting
}

// Table lists the roles. The first row is the core, the service the gate
// keeps down and whose CPUs are measured; the order is the order of the
// services in every output.
var Table = []Role{
	{Name: "core", Key: "CoreService", Unit: names.CoreService, Node: Rest,
		Memory: map[string]string{"Low": "50%"}},
	{Name: "dpi", Key: "DPIService", CPUsKey: "DPICPUs", Unit: names.DPIService, Slice: names.DPISlice, Description: "RansomEye DPI capture CPUs",
		Cores: 2, Node: Capture, Capture: true, Memory: map[string]string{"SwapMax": "0"}},
	{Name: "training", Key: "TrainingService", CPUsKey: "TrainingCPUs", Unit: names.TrainingService, Slice: names.TrainingSlice, Description: "RansomEye AI training CPUs",
		Cores: 2, Node: Highest, Memory: map[string]string{"High": "25%", "SwapMax": "25%"}},
}

// Core is the first row: the gated core service.
func Core() Role { return Table[0] }
