package cpuplan

import (
	"fmt"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// namedCores returns, for each role of table whose CPUs the configuration
// names, the physical cores they make up, or why they cannot be used here
// (refused): online, in the root cpuset, whole cores (a sibling shares the
// core's caches), not CPU 0's core, none named twice. Isolated CPUs may be
// named: a capture engine is the usual reason for isolating them.
func namedCores(info topology.Info, table []roles.Role) (named map[string][]topology.Core, refused string) {
	named = map[string][]topology.Core{}
	owner := map[int]string{}
	for _, r := range table {
		set := r.CPUs
		if set.IsEmpty() {
			continue
		}
		key := r.CPUsKey + "=" + set.String()
		if off := set.Difference(info.Online); !off.IsEmpty() {
			return nil, fmt.Sprintf("%s: %s not online here (online: %s)", key, isAre(off), info.Online)
		}
		if out := set.Difference(info.RootCpuset); !out.IsEmpty() {
			return nil, fmt.Sprintf("%s: %s outside the root cgroup's cpuset (%s), so systemd cannot give them to a service", key, isAre(out), info.RootCpuset)
		}
		var cores []topology.Core
		for _, c := range info.Cores {
			in := c.CPUs.Intersect(set)
			switch {
			case in.IsEmpty():
				continue
			case c.CPUs.Contains(0):
				return nil, fmt.Sprintf("%s: %s in CPU 0's core (%s), which stays with the core service", key, isAre(in), c.CPUs)
			case !c.CPUs.IsSubsetOf(set):
				return nil, fmt.Sprintf("%s: %s part of the core %s (SMT siblings), not all of it: name every CPU of a core, or none", key, isAre(in), c.CPUs)
			}
			for _, id := range c.CPUs.IDs() {
				if o, ok := owner[id]; ok {
					return nil, fmt.Sprintf("%s: CPU %d is named for %s as well: each CPU goes to one role", key, id, o)
				}
				owner[id] = r.CPUsKey + "="
			}
			cores = append(cores, c)
		}
		named[r.Name] = cores
	}
	return named, ""
}

// NamedIsolated returns a note for each role whose named CPUs the kernel
// isolates: no load balancing there, so threads stay where they start.
func NamedIsolated(info topology.Info, table []roles.Role) []string {
	var out []string
	for _, r := range table {
		if iso := r.CPUs.Intersect(info.Isolated); !iso.IsEmpty() {
			out = append(out, fmt.Sprintf("%s=%s: %s isolated by the kernel (isolcpus= or nohz_full=); with isolcpus= the scheduler does not balance %s's threads across them, so the service must pin its own", r.CPUsKey, r.CPUs, isAre(iso), r.Name))
		}
	}
	return out
}

// isAre is "CPU 5 is", "CPUs 4-5 are".
func isAre(s cpuset.Set) string {
	if s.Len() == 1 {
		return s.Phrase() + " is"
	}
	return s.Phrase() + " are"
}

// Named reports whether any role of table has CPUs named.
func Named(table []roles.Role) bool {
	for _, r := range table {
		if !r.CPUs.IsEmpty() {
			return true
		}
	}
	return false
}
