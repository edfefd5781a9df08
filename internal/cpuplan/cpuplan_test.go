package cpuplan

import (
	"fmt"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// machine builds topology data as Linux reports it: nodes x cores x threads,
// siblings numbered split (0/8) or adjacent (0/1).
func machine(nodes, coresPerNode, threads int, adjacent bool) topology.Info {
	total := nodes * coresPerNode
	info := topology.Info{NICNode: -1}
	nodeSets := make([]cpuset.Set, nodes)
	for g := 0; g < total; g++ {
		var ids []int
		for t := 0; t < threads; t++ {
			if adjacent {
				ids = append(ids, g*threads+t)
			} else {
				ids = append(ids, g+t*total)
			}
		}
		s := cpuset.Of(ids...)
		n := g / coresPerNode
		info.Cores = append(info.Cores, topology.Core{ID: s.Min(), CPUs: s, Node: n})
		nodeSets[n] = nodeSets[n].Union(s)
		info.Online = info.Online.Union(s)
	}
	for n, s := range nodeSets {
		info.Nodes = append(info.Nodes, topology.Node{ID: n, CPUs: s})
	}
	info.RootCpuset = info.Online
	return info
}

// offline drops CPUs as the kernel does: from online, sibling sets, nodes.
func offline(info topology.Info, ids ...int) topology.Info {
	off := cpuset.Of(ids...)
	info.Online = info.Online.Difference(off)
	info.RootCpuset = info.RootCpuset.Difference(off)
	var cores []topology.Core
	for _, c := range info.Cores {
		c.CPUs = c.CPUs.Difference(off)
		if c.CPUs.IsEmpty() {
			continue
		}
		c.ID = c.CPUs.Min()
		cores = append(cores, c)
	}
	info.Cores = cores
	return info
}

func TestMake(t *testing.T) {
	type want struct {
		reserved            bool
		core, dpi, training string
		cores               int
		dpiNode, trainNode  int
	}
	no := func(cores int) want { return want{cores: cores, dpiNode: -1, trainNode: -1} }
	withNIC := func(info topology.Info, node int) topology.Info { info.NICNode = node; return info }
	withIsolated := func(info topology.Info, l string) topology.Info {
		s, err := cpuset.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		info.Isolated = s
		return info
	}
	withRoot := func(info topology.Info, l string) topology.Info {
		s, err := cpuset.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		info.RootCpuset = s
		return info
	}
	// Non-contiguous ids: 8 cores numbered 0,2,4,...,14 (as after hot-remove).
	sparse := topology.Info{NICNode: -1}
	for i := 0; i < 8; i++ {
		s := cpuset.Of(2 * i)
		sparse.Cores = append(sparse.Cores, topology.Core{ID: 2 * i, CPUs: s})
		sparse.Online = sparse.Online.Union(s)
	}
	sparse.Nodes = []topology.Node{{ID: 0, CPUs: sparse.Online}}
	sparse.RootCpuset = sparse.Online

	cases := []struct {
		name string
		info topology.Info
		want want
	}{
		{"1 cpu", machine(1, 1, 1, false), no(1)},
		{"4 cpus", machine(1, 4, 1, false), no(4)},
		{"7 cpus", machine(1, 7, 1, false), no(7)},
		{"8 cpus", machine(1, 8, 1, false), want{true, "0-3", "4-5", "6-7", 8, 0, 0}},
		{"9 cpus", machine(1, 9, 1, false), want{true, "0-4", "5-6", "7-8", 9, 0, 0}},
		{"4 cores x2 smt is 8 cpus but 4 cores", machine(1, 4, 2, false), no(4)},
		{"16 cpus 8x2 split 0/8", machine(1, 8, 2, false), want{true, "0-3,8-11", "4-5,12-13", "6-7,14-15", 8, 0, 0}},
		{"16 cpus 8x2 adjacent 0/1", machine(1, 8, 2, true), want{true, "0-7", "8-11", "12-15", 8, 0, 0}},
		{"2 nodes x 8 cores x 2", machine(2, 8, 2, false), want{true, "0-5,8-13,16-21,24-29", "6-7,22-23", "14-15,30-31", 16, 0, 1}},
		{"2 nodes x 8 x 2, NIC on node 0", withNIC(machine(2, 8, 2, false), 0), want{true, "0-5,8-13,16-21,24-29", "6-7,22-23", "14-15,30-31", 16, 0, 1}},
		{"2 nodes x 8 x 2, NIC on node 1", withNIC(machine(2, 8, 2, false), 1), want{true, "0-11,16-27", "12-13,28-29", "14-15,30-31", 16, 1, 1}},
		{"2 nodes x 8 x 2 adjacent", machine(2, 8, 2, true), want{true, "0-11,16-27", "12-15", "28-31", 16, 0, 1}},
		{"4 nodes x 2 cores", machine(4, 2, 1, false), want{true, "0-3", "4-5", "6-7", 8, 2, 3}},
		{"offline: 9 cpus, cpu 8 offline", offline(machine(1, 9, 1, false), 8), want{true, "0-3", "4-5", "6-7", 8, 0, 0}},
		{"offline: 8 cpus, cpu 7 offline", offline(machine(1, 8, 1, false), 7), no(7)},
		{"offline: smt sibling offline keeps the core", offline(machine(1, 8, 2, false), 15), want{true, "0-3,8-11", "4-5,12-13", "6-7,14", 8, 0, 0}},
		{"non-contiguous ids", sparse, want{true, "0,2,4,6", "8,10", "12,14", 8, 0, 0}},
		{"isolcpus 7", withIsolated(machine(1, 9, 1, false), "7"), want{true, "0-3", "4-5", "6,8", 8, 0, 0}},
		{"isolcpus 4-7 leaves 5 cores", withIsolated(machine(1, 9, 1, false), "4-7"), no(5)},
		{"isolcpus one smt thread drops the core", withIsolated(machine(1, 9, 2, false), "17"), want{true, "0-3,9-12", "4-5,13-14", "6-7,15-16", 8, 0, 0}},
		{"restricted root cpuset", withRoot(machine(1, 12, 1, false), "0-9"), want{true, "0-5", "6-7", "8-9", 10, 0, 0}},
		{"restricted root cpuset below 8", withRoot(machine(1, 12, 1, false), "0-6"), no(7)},
		{"256 cpus 2 nodes x 64 x 2", machine(2, 64, 2, false), want{true, "0-61,64-125,128-189,192-253", "62-63,190-191", "126-127,254-255", 128, 0, 1}},
		{"empty topology", topology.Info{NICNode: -1}, no(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Make(c.info, roles.Table)
			got := want{p.Reserved, p.Core().String(), p.CPUs("dpi").String(), p.CPUs("training").String(), p.PhysicalCores, node(p, "dpi"), node(p, "training")}
			if got != c.want {
				t.Errorf("Make:\n got %+v\nwant %+v\nreason %q notes %q", got, c.want, p.Reason, p.Notes)
			}
			if !p.Reserved {
				if p.Reason == "" {
					t.Errorf("no reservation without a reason")
				}
				return
			}
			checkInvariants(t, c.info, p)
		})
	}
}

// node is the NUMA node of the role's assignment, -1 without one.
func node(p Plan, role string) int {
	for _, a := range p.Assignments {
		if a.Role.Name == role {
			return a.Node
		}
	}
	return -1
}

// checkInvariants: sets are disjoint, whole cores, usable, CPU 0 with the core.
func checkInvariants(t *testing.T, info topology.Info, p Plan) {
	t.Helper()
	var all cpuset.Set
	for _, a := range p.Assignments {
		if !all.Intersect(a.CPUs).IsEmpty() {
			t.Errorf("sets overlap: %s reaches %s", a.Role.Name, all.Intersect(a.CPUs))
		}
		all = all.Union(a.CPUs)
		for _, c := range info.Cores {
			if n := c.CPUs.Intersect(a.CPUs).Len(); n != 0 && n != c.CPUs.Len() {
				t.Errorf("core %s is split: %s", c.CPUs, a.CPUs)
			}
		}
	}
	if !all.IsSubsetOf(info.Usable()) {
		t.Errorf("sets use unusable CPUs: %s not within %s", all, info.Usable())
	}
	if info.Usable().Contains(0) && !p.Core().Contains(0) {
		t.Errorf("CPU 0 not with the core service: %s", p.Core())
	}
}

func TestMakeNotes(t *testing.T) {
	info := machine(1, 9, 2, false)
	info.Isolated = cpuset.Of(17)
	p := Make(info, roles.Table)
	if len(p.Notes) != 1 {
		t.Fatalf("want one note about the half-isolated core, got %q", p.Notes)
	}
}

func BenchmarkMake(b *testing.B) {
	for _, m := range []struct {
		nodes, cores, threads int
	}{{1, 8, 1}, {2, 8, 2}, {2, 64, 2}, {8, 64, 2}} {
		info := machine(m.nodes, m.cores, m.threads, false)
		b.Run(fmt.Sprintf("%dcpus", info.Online.Len()), func(b *testing.B) {
			for b.Loop() {
				Make(info, roles.Table)
			}
		})
	}
}
