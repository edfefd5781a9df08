package cpuplan

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// named is the roles table with the CPU lists given by role name.
func named(t *testing.T, lists map[string]string) []roles.Role {
	t.Helper()
	table := append([]roles.Role(nil), roles.Table...)
	for i := range table {
		if l, ok := lists[table[i].Name]; ok {
			s, err := cpuset.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			table[i].CPUs = s
		}
	}
	return table
}

// TestNamedCPUs: a role whose CPUs the configuration names gets exactly
// those, on any number of cores (the 8-core minimum is for the plan's own
// choice); the roles without names choose among the cores left, and the
// core service gets the rest and CPU 0. CPUs that are offline, beyond the
// machine, outside the root cpuset, part of a core, in CPU 0's core, named
// twice, or that leave a role or the core service no core, refuse the plan
// with the reason (Refused: the guarantee fails), never fall back to the
// plan's own choice.
func TestNamedCPUs(t *testing.T) {
	twoNodes := machine(2, 8, 2, false) // node 0: cores 0-7 (+16-23), node 1: 8-15 (+24-31)
	withRoot := func(info topology.Info, l string) topology.Info {
		info.RootCpuset, _ = cpuset.Parse(l)
		return info
	}
	withIsolated := func(info topology.Info, l string) topology.Info {
		info.Isolated, _ = cpuset.Parse(l)
		return info
	}
	for _, c := range []struct {
		name                string
		info                topology.Info
		lists               map[string]string
		core, dpi, training string // "" with refused
		refused             string
	}{
		{"DPI on the capture NIC's node, training chosen", twoNodes, map[string]string{"dpi": "2-3,18-19"},
			"0-1,4-13,16-17,20-29", "2-3,18-19", "14-15,30-31", ""},
		{"both named", twoNodes, map[string]string{"dpi": "6-7,22-23", "training": "8-9,24-25"},
			"0-5,10-21,26-31", "6-7,22-23", "8-9,24-25", ""},
		{"4 cores: named CPUs need no 8 cores", machine(1, 4, 1, false), map[string]string{"dpi": "3", "training": "2"},
			"0-1", "3", "2", ""},
		{"isolated CPUs may be named", withIsolated(machine(1, 8, 1, false), "6-7"), map[string]string{"dpi": "6-7"},
			"0-3", "6-7", "4-5", ""},
		{"offline", offline(machine(1, 8, 1, false), 7), map[string]string{"dpi": "6-7"},
			"", "", "", "DPICPUs=6-7: CPU 7 is not online here (online: 0-6)"},
		{"beyond the machine", machine(1, 8, 1, false), map[string]string{"training": "6-9"},
			"", "", "", "TrainingCPUs=6-9: CPUs 8-9 are not online here (online: 0-7)"},
		{"outside the root cpuset", withRoot(machine(1, 8, 1, false), "0-5"), map[string]string{"dpi": "6-7"},
			"", "", "", "DPICPUs=6-7: CPUs 6-7 are outside the root cgroup's cpuset (0-5)"},
		{"half a core", machine(1, 8, 2, false), map[string]string{"dpi": "4-5"},
			"", "", "", "DPICPUs=4-5: CPU 4 is part of the core 4,12 (SMT siblings), not all of it: name every CPU of a core, or none"},
		{"CPU 0's core", machine(1, 8, 2, false), map[string]string{"dpi": "8"},
			"", "", "", "DPICPUs=8: CPU 8 is in CPU 0's core (0,8), which stays with the core service"},
		{"named twice", machine(1, 8, 1, false), map[string]string{"dpi": "4-5", "training": "5-6"},
			"", "", "", "CPU 5 is named for DPICPUs= as well"},
		{"no room left for a role", machine(1, 4, 1, false), map[string]string{"dpi": "1-3"},
			"", "", "", "0 usable physical cores are left for the training role's 2"},
		{"no core left for the core service", withRoot(machine(1, 4, 1, false), "1-3"), map[string]string{"dpi": "1-2", "training": "3"},
			"", "", "", "no usable core is left for the core service"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := Make(c.info, named(t, c.lists))
			if c.refused != "" {
				if p.Reserved || !strings.Contains(p.Refused, c.refused) || !strings.Contains(p.Reason, c.refused) {
					t.Errorf("reserved %t, refused %q, reason %q; want refused containing %q", p.Reserved, p.Refused, p.Reason, c.refused)
				}
				return
			}
			if !p.Reserved || p.Refused != "" {
				t.Fatalf("not reserved: %q %q", p.Reason, p.Refused)
			}
			if got := [3]string{p.Core().String(), p.CPUs("dpi").String(), p.CPUs("training").String()}; got != [3]string{c.core, c.dpi, c.training} {
				t.Errorf("core, dpi, training = %v, want %v", got, [3]string{c.core, c.dpi, c.training})
			}
			if c.info.Isolated.IsEmpty() {
				checkInvariants(t, c.info, p)
			}
		})
	}
}
