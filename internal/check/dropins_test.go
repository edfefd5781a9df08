package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// machine is the facts of a plain n-CPU machine (cgroup v2 with cpuset)
// with the default configuration changed by change, the CPU drop-ins in
// effect read from root.
func machine(root hostroot.Root, n int, change ...func(*config.Config)) *facts.Facts {
	t := topology.Info{NICNode: -1, Cgroup: topology.Cgroup{V2: true, Cpuset: true}}
	for i := 0; i < n; i++ {
		t.Cores = append(t.Cores, topology.Core{ID: i, CPUs: cpuset.Of(i)})
		t.Online = t.Online.Union(cpuset.Of(i))
	}
	t.RootCpuset, t.Nodes = t.Online, []topology.Node{{ID: 0, CPUs: t.Online}}
	f := &facts.Facts{Root: root, Enabled: true, Config: config.Default(), Topology: t, TopologyRead: true, Online: -1}
	for _, c := range change {
		c(&f.Config)
	}
	f.DropIns = facts.DropInsOf(root, f.Config)
	return f
}

// diffs compares the CPU drop-ins in effect under root with a fresh plan
// for the facts of machine(root, n, change...).
func diffs(root hostroot.Root, n int, change ...func(*config.Config)) []string {
	f := machine(root, n, change...)
	return dropInDiffs(f, plan.Decide(f))
}

// TestDropInDiffs writes a plan's files, then checks them against fresh
// plans of the same and of changed facts, as the activator does at boot.
func TestDropInDiffs(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	for _, f := range plan.Decide(machine(root, 8)).Files {
		if f.Dir == units.Normal {
			if err := units.WriteFile(root.Path(units.NormalDir), f.Path, f.Content); err != nil {
				t.Fatal(err)
			}
		}
	}
	if d := diffs(root, 8); len(d) != 0 {
		t.Fatalf("fresh plan differs: %q", d)
	}
	// A CPU went offline since: different sets.
	f := machine(root, 8)
	f.Topology.Cores[7] = topology.Core{ID: 8, CPUs: cpuset.Of(8)}
	f.Topology.Online = cpuset.Of(0, 1, 2, 3, 4, 5, 6, 8)
	f.Topology.RootCpuset, f.Topology.Nodes = f.Topology.Online, []topology.Node{{ID: 0, CPUs: f.Topology.Online}}
	if d := dropInDiffs(f, plan.Decide(f)); len(d) == 0 {
		t.Errorf("changed topology not noticed")
	}
	// Now fewer than 8 cores: the written files are stale.
	if d := diffs(root, 7); len(d) < 5 || !strings.Contains(strings.Join(d, "\n"), "give no such file") {
		t.Errorf("stale files not reported: %q", d)
	}
	// Isolation switched to services: the strict drop-ins are stale.
	if d := diffs(root, 8, func(c *config.Config) { c.Isolation = config.IsolationServices }); len(d) != 4 {
		t.Errorf("want 4 stale strict drop-ins, got %q", d)
	}
	// A file removed: missing.
	_ = os.Remove(filepath.Join(root.Path(units.NormalDir), "ransomeye-dpi.slice"))
	if d := diffs(root, 8); len(d) != 1 || !strings.Contains(d[0], "missing") {
		t.Errorf("missing file: %q", d)
	}
}

// TestAdvisoryFilesNotCompared: the environment and irqbalance drop-ins
// tell, they do not confine; activate's comparison leaves them out, so a
// machine whose generator output lacks them (written by an older version)
// is not kept down. Found by the activator's black-box tests, which run
// activate without generator output on a 2-CPU tree.
func TestAdvisoryFilesNotCompared(t *testing.T) {
	f := machine(hostroot.Root(t.TempDir()), 2)
	p := plan.Decide(f)
	if len(p.Services) != 3 {
		t.Fatalf("services: %+v", p.Services)
	}
	if d := dropInDiffs(f, p); len(d) != 0 {
		t.Errorf("missing advisory files reported: %q", d)
	}
}
