// Package cpuplan decides, purely, which CPUs each role of the roles table
// gets (docs/design.md, "CPU plan"): usable CPUs are online ∩ root cpuset −
// isolated, a core usable when all its online siblings are; with MinCores
// usable cores each reserving role takes whole cores where its row says,
// the core role the rest (CPU 0's core always); fewer: no reservation. A
// role whose CPUs the configuration names gets those once found usable
// (named.go); the others choose among the cores left.
package cpuplan

import (
	"fmt"
	"slices"
	"sort"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// MinCores is the fewest usable physical cores that get a reservation.
const MinCores = 8

// Assignment is the CPUs the plan gives one role.
type Assignment struct {
	Role roles.Role
	// CPUs are whole cores, all SMT siblings.
	CPUs cpuset.Set
	// Node is the NUMA node of its first core (-1 for the core role).
	Node int
}

// Plan is the result.
type Plan struct {
	Reserved bool
	// Reason says why there is no reservation.
	Reason string
	// Refused says why the CPUs the configuration names cannot be used
	// here: no reservation then, and the guarantee fails.
	Refused string
	// Assignments are one per role in the table's order; none unless
	// Reserved.
	Assignments   []Assignment
	Usable        cpuset.Set
	PhysicalCores int
	// Notes are facts worth logging (cores left out, and why).
	Notes []string
}

// CPUs returns the set of the role named role.
func (p Plan) CPUs(role string) cpuset.Set {
	for _, a := range p.Assignments {
		if a.Role.Name == role {
			return a.CPUs
		}
	}
	return cpuset.Set{}
}

// Core returns the core's set.
func (p Plan) Core() cpuset.Set { return p.CPUs(roles.Core().Name) }

// ReservedCPUs returns the CPUs kept for the roles other than the core.
func (p Plan) ReservedCPUs() cpuset.Set {
	var s cpuset.Set
	for _, a := range p.Assignments[min(1, len(p.Assignments)):] {
		s = s.Union(a.CPUs)
	}
	return s
}

// Make computes the plan for the topology info and the roles of table.
func Make(info topology.Info, table []roles.Role) Plan {
	p := Plan{}
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
	named, refused := namedCores(info, table)
	if refused != "" {
		p.Refused, p.Reason = refused, "the CPUs named in the configuration cannot be used here: "+refused
		return p
	}
	if len(cores) < MinCores && len(named) == 0 {
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
	for _, got := range named {
		for _, c := range got {
			taken[c.ID] = true
		}
	}
	nodes := nodeIDs(cores)
	highest := nodes[len(nodes)-1]
	capture := nextDown(nodes, highest)
	if info.NICNode >= 0 && slices.Contains(nodes, info.NICNode) {
		capture = info.NICNode
	}
	p.Assignments = make([]Assignment, len(table))
	order := make([]int, 0, len(table))
	for i := range table {
		order = append(order, i)
	}
	// Roles on the highest node choose first, then those on the capture
	// node, each in the table's order.
	sort.SliceStable(order, func(a, b int) bool {
		return table[order[a]].Node == roles.Highest && table[order[b]].Node != roles.Highest
	})
	for _, i := range order {
		r := table[i]
		if r.Node == roles.Rest {
			continue
		}
		if got, ok := named[r.Name]; ok {
			p.Assignments[i] = Assignment{Role: r, CPUs: r.CPUs, Node: got[0].Node}
			continue
		}
		from := highest
		if r.Node == roles.Capture {
			from = capture
		}
		got := pick(cores, nodes, from, r.Cores, taken)
		if len(got) < r.Cores {
			if len(named) > 0 {
				why := fmt.Sprintf("after the CPUs named in the configuration, %d usable physical cores are left for the %s role's %d (CPU 0's core stays with the core service): name its CPUs too (%s=), or fewer elsewhere", len(got), r.Name, r.Cores, r.CPUsKey)
				return Plan{Usable: usable, PhysicalCores: len(cores), Refused: why, Reason: "the CPUs named in the configuration cannot be used here: " + why, Notes: p.Notes}
			}
			// Not while MinCores exceeds the reserved cores: a change of
			// the table fails safe.
			return Plan{Usable: usable, PhysicalCores: len(cores), Reason: "not enough free cores for the role " + r.Name, Notes: p.Notes}
		}
		p.Assignments[i] = Assignment{Role: r, CPUs: union(got), Node: got[0].Node}
	}
	var coreIDs []int
	for _, c := range cores {
		if !taken[c.ID] || c.CPUs.Contains(0) {
			coreIDs = append(coreIDs, c.CPUs.IDs()...)
		}
	}
	if len(coreIDs) == 0 {
		why := "no usable core is left for the core service: name fewer CPUs for the other roles"
		return Plan{Usable: usable, PhysicalCores: len(cores), Refused: why, Reason: "the CPUs named in the configuration cannot be used here: " + why, Notes: p.Notes}
	}
	for i, r := range table {
		if r.Node == roles.Rest {
			p.Assignments[i] = Assignment{Role: r, CPUs: cpuset.Of(coreIDs...), Node: -1}
		}
	}
	p.Reserved = true
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
	var ids []int
	for _, c := range cores {
		ids = append(ids, c.Node)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
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

// pick takes n free cores, from node `from` down then the nodes above, in
// each node the highest ids first, and marks them taken.
func pick(cores []topology.Core, nodes []int, from, n int, taken map[int]bool) []topology.Core {
	var order []int
	for i := len(nodes) - 1; i >= 0; i-- {
		if nodes[i] <= from {
			order = append(order, nodes[i])
		}
	}
	for _, node := range nodes {
		if node > from {
			order = append(order, node)
		}
	}
	var out []topology.Core
	for _, node := range order {
		for i := len(cores) - 1; i >= 0 && len(out) < n; i-- {
			c := cores[i]
			if c.Node == node && !taken[c.ID] {
				taken[c.ID] = true
				out = append(out, c)
			}
		}
	}
	// Lowest core first, so that sets and notes read naturally.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
