// Package cpuplan decides which CPUs the core, DPI and training services
// get. It is a pure function of plain data (no I/O), per docs/design.md,
// "CPU plan":
//
//   - usable CPUs: online ∩ root cpuset − isolated (isolcpus, nohz_full); a
//     physical core is usable when all of its online siblings are;
//   - with at least MinCores usable physical cores: training gets the last 2
//     cores of the highest NUMA node, DPI the last 2 free cores of the
//     capture NIC's node (else the next node down, else the same node), and
//     the core service every other usable core; the core holding CPU 0 is
//     never reserved;
//   - reserved sets hold whole cores (all SMT siblings);
//   - fewer cores: no reservation, with a reason.
package cpuplan

import (
	"fmt"
	"sort"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// MinCores is the fewest usable physical cores that get a reservation.
const MinCores = 8

// ReservedCores is how many physical cores DPI and training get each.
const ReservedCores = 2

// Plan is the result.
type Plan struct {
	// Reserved is true when DPI and training get their own cores.
	Reserved bool
	// Reason says why there is no reservation (empty when Reserved).
	Reason string
	// Core, DPI and Training are the CPU sets (all SMT siblings); when not
	// Reserved they are empty.
	Core, DPI, Training cpuset.Set
	// Usable are the usable CPUs.
	Usable cpuset.Set
	// PhysicalCores is the number of usable physical cores.
	PhysicalCores int
	// DPINode and TrainingNode are the NUMA nodes of the first core of each
	// reserved set (-1 when not Reserved).
	DPINode, TrainingNode int
	// Notes are facts worth logging (cores left out, and why).
	Notes []string
}

// Make computes the plan for the topology info.
func Make(info topology.Info) Plan {
	p := Plan{DPINode: -1, TrainingNode: -1}
	usable := info.Usable()
	p.Usable = usable
	var cores []topology.Core
	for _, c := range info.Cores {
		switch {
		case c.CPUs.IsSubsetOf(usable):
			cores = append(cores, c)
		case !c.CPUs.Intersect(usable).IsEmpty():
			p.Notes = append(p.Notes, fmt.Sprintf("core %q is left out: only CPUs %q of it are usable (isolated or outside the root cpuset)", c.CPUs, c.CPUs.Intersect(usable)))
		}
	}
	p.PhysicalCores = len(cores)
	if len(cores) < MinCores {
		p.Reason = fmt.Sprintf("%d usable physical cores (%d usable CPUs %q): a reservation needs at least %d", len(cores), usable.Len(), usable, MinCores)
		return p
	}
	sort.Slice(cores, func(i, j int) bool { return cores[i].ID < cores[j].ID })
	taken := map[int]bool{}
	for _, c := range cores {
		if c.CPUs.Contains(0) {
			taken[c.ID] = true // CPU 0 stays with the core service
		}
	}
	nodes := nodeIDs(cores)
	highest := nodes[len(nodes)-1]
	training := pick(cores, nodes, highest, taken)
	dpiNode := nextDown(nodes, highest)
	if info.NICNode >= 0 && contains(nodes, info.NICNode) {
		dpiNode = info.NICNode
	}
	dpi := pick(cores, nodes, dpiNode, taken)
	if len(training) < ReservedCores || len(dpi) < ReservedCores {
		// Cannot happen with MinCores >= 5; kept so a change of constants fails safe.
		return Plan{DPINode: -1, TrainingNode: -1, Usable: usable, PhysicalCores: len(cores),
			Reason: "not enough free cores for DPI and training", Notes: p.Notes}
	}
	var coreIDs []int
	for _, c := range cores {
		if !taken[c.ID] || c.CPUs.Contains(0) {
			coreIDs = append(coreIDs, c.CPUs.IDs()...)
		}
	}
	p.Core = cpuset.Of(coreIDs...)
	p.Training = union(training)
	p.DPI = union(dpi)
	p.Reserved = true
	p.TrainingNode = training[0].Node
	p.DPINode = dpi[0].Node
	return p
}

func union(cores []topology.Core) cpuset.Set {
	var ids []int
	for _, c := range cores {
		ids = append(ids, c.CPUs.IDs()...)
	}
	return cpuset.Of(ids...)
}

func nodeIDs(cores []topology.Core) []int {
	seen := map[int]bool{}
	var ids []int
	for _, c := range cores {
		if !seen[c.Node] {
			seen[c.Node] = true
			ids = append(ids, c.Node)
		}
	}
	sort.Ints(ids)
	return ids
}

func contains(ids []int, id int) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// nextDown returns the node below n among nodes, or n when it is the lowest.
func nextDown(nodes []int, n int) int {
	best := n
	for _, id := range nodes {
		if id < n && (best == n || id > best) {
			best = id
		}
	}
	return best
}

// pick takes ReservedCores free cores: from node `from` downwards, then the
// nodes above it upwards; in each node the cores with the highest ids first.
// It marks them taken.
func pick(cores []topology.Core, nodes []int, from int, taken map[int]bool) []topology.Core {
	var order []int
	for i := len(nodes) - 1; i >= 0; i-- {
		if nodes[i] <= from {
			order = append(order, nodes[i])
		}
	}
	for _, n := range nodes {
		if n > from {
			order = append(order, n)
		}
	}
	var out []topology.Core
	for _, n := range order {
		for i := len(cores) - 1; i >= 0 && len(out) < ReservedCores; i-- {
			c := cores[i]
			if c.Node == n && !taken[c.ID] {
				taken[c.ID] = true
				out = append(out, c)
			}
		}
	}
	// Lowest core first, so that sets and notes read naturally.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
