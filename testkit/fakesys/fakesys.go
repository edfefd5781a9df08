// Package fakesys writes fake machine roots for tests and benchmarks: a
// sysfs CPU/NUMA/cgroup tree, /proc/cmdline, /proc/cpuinfo, /proc/meminfo,
// /proc/swaps, /etc files. It is a test fixture (a fake of what cannot be
// changed on this host: its CPUs and NUMA layout), named so.
//
// Test-only, like everything under testkit/: _test.go files, the benchmark
// driver (scripts/benchrun) and cmd/fakesys import it; the shipped
// binaries never link it.
//
// The trees follow what Linux prints: cpulist syntax, thread_siblings_list
// per online CPU, nodeN/cpulist with online CPUs only, cpuN/online = 0 for
// offline CPUs, physical_package_id = node, core_id repeating per package.
package fakesys

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
)

// Numbering says how SMT siblings are numbered.
type Numbering int

const (
	// Split numbers the second thread of core c as c + cores (0/8 on 8x2),
	// as Intel and AMD servers do.
	Split Numbering = iota
	// Adjacent numbers the threads of a core next to each other (0/1).
	Adjacent
)

// Cgroup is the cgroup layout to fake.
type Cgroup string

const (
	// CgroupV2 is a unified hierarchy with the cpuset controller.
	CgroupV2 Cgroup = "v2"
	// CgroupV2NoCpuset is a unified hierarchy without the cpuset controller.
	CgroupV2NoCpuset Cgroup = "v2-nocpuset"
	// CgroupV1 is a legacy hierarchy with a cpuset mount.
	CgroupV1 Cgroup = "v1"
	// CgroupNone has no cgroup files at all.
	CgroupNone Cgroup = "none"
)

// Machine describes a fake machine. The zero value of each field is a
// sensible default: 1 node without node directories, 1 thread per core,
// cgroup v2 with cpuset, 8 GiB of RAM.
type Machine struct {
	// Nodes is the number of NUMA nodes; 0 writes no node directories
	// (one implicit node), 1 or more writes node0..nodeN-1.
	Nodes int
	// CoresPerNode is the number of physical cores per node (with Nodes 0,
	// the number of cores).
	CoresPerNode int
	// Threads is the number of SMT threads per core (0 means 1).
	Threads int
	// Numbering of SMT siblings.
	Numbering Numbering
	// Offline CPUs.
	Offline []int
	// Isolated and NohzFull are the contents of the sysfs files ("" writes
	// an empty line; NoNohzFile leaves nohz_full out).
	Isolated, NohzFull string
	NoNohzFile         bool
	// Cgroup layout ("" is CgroupV2); RootCpuset overrides the root cgroup's
	// effective cpuset (default: the online CPUs).
	Cgroup     Cgroup
	RootCpuset string
	// Cmdline is /proc/cmdline without the trailing newline ("" gives a
	// plain one).
	Cmdline string
	// MemTotalKiB is MemTotal (0: 8 GiB).
	MemTotalKiB int64
	// MemoryBlocks writes that many /sys/devices/system/memory/memoryN
	// blocks, linked from the node directories (a topology reader that
	// walked them, as ghw.Topology does, would cost more the more RAM).
	MemoryBlocks int
	// NICs maps interface names to the numa_node their device reports.
	NICs map[string]int
	// NoCPUInfo leaves /proc/cpuinfo out (the topology's cross-check then
	// has no second account of the cores).
	NoCPUInfo bool
	// Files are extra files (host path -> content), e.g. the config.
	Files map[string]string
	// Override replaces generated files (host path -> content), to break
	// a tree on purpose (malformed lists).
	Override map[string]string
}

// cpuRange is the set lo..hi inclusive (empty when hi < lo).
func cpuRange(lo, hi int) cpuset.Set {
	var ids []int
	for i := lo; i <= hi; i++ {
		ids = append(ids, i)
	}
	return cpuset.Of(ids...)
}

func (m Machine) threads() int {
	if m.Threads < 1 {
		return 1
	}
	return m.Threads
}

func (m Machine) nodes() int {
	if m.Nodes < 1 {
		return 1
	}
	return m.Nodes
}

// CPUs returns the number of logical CPUs.
func (m Machine) CPUs() int { return m.nodes() * m.CoresPerNode * m.threads() }

// cpu returns the CPU id of thread t of global core g.
func (m Machine) cpu(g, t int) int {
	total := m.nodes() * m.CoresPerNode
	if m.Numbering == Adjacent {
		return g*m.threads() + t
	}
	return g + t*total
}

// Write writes the machine's files under dir (the root prefix).
func (m Machine) Write(dir string) error {
	files := map[string]string{}
	offline := cpuset.Of(m.Offline...)
	all := cpuRange(0, m.CPUs()-1)
	online := all.Difference(offline)
	cpuDir := "/sys/devices/system/cpu"
	files[cpuDir+"/online"] = online.String() + "\n"
	files[cpuDir+"/possible"] = all.String() + "\n"
	files[cpuDir+"/present"] = all.String() + "\n"
	files[cpuDir+"/offline"] = offline.String() + "\n"
	files[cpuDir+"/isolated"] = m.Isolated + "\n"
	if !m.NoNohzFile {
		nohz := m.NohzFull
		if nohz == "" {
			// The kernel prints the unallocated mask with "%*pbl", width
			// nr_cpu_ids: "  (null)" on 8 CPUs (seen in a Debian 12 boot).
			nohz = fmt.Sprintf("%*s", m.CPUs(), "(null)")
		}
		files[cpuDir+"/nohz_full"] = nohz + "\n"
	}
	var cpuinfo strings.Builder
	type lp struct{ id, node, core int }
	var lps []lp
	for n := 0; n < m.nodes(); n++ {
		var nodeCPUs []int
		for c := 0; c < m.CoresPerNode; c++ {
			g := n*m.CoresPerNode + c
			var sibs []int
			for t := 0; t < m.threads(); t++ {
				sibs = append(sibs, m.cpu(g, t))
			}
			sibSet := cpuset.Of(sibs...).Intersect(online)
			for _, id := range sibs {
				p := fmt.Sprintf("%s/cpu%d", cpuDir, id)
				files[p+"/topology/core_id"] = fmt.Sprintf("%d\n", c)
				files[p+"/topology/physical_package_id"] = fmt.Sprintf("%d\n", n)
				if id != 0 {
					if offline.Contains(id) {
						files[p+"/online"] = "0\n"
						continue
					}
					files[p+"/online"] = "1\n"
				}
				files[p+"/topology/thread_siblings_list"] = sibSet.String() + "\n"
				files[p+"/topology/core_cpus_list"] = sibSet.String() + "\n"
				nodeCPUs = append(nodeCPUs, id)
				lps = append(lps, lp{id, n, c})
			}
		}
		if m.Nodes > 0 {
			np := fmt.Sprintf("/sys/devices/system/node/node%d", n)
			files[np+"/cpulist"] = cpuset.Of(nodeCPUs...).String() + "\n"
			files[np+"/distance"] = distances(n, m.Nodes) + "\n"
		}
	}
	if m.Nodes > 0 {
		files["/sys/devices/system/node/online"] = cpuRange(0, m.Nodes-1).String() + "\n"
	}
	sort.Slice(lps, func(i, j int) bool { return lps[i].id < lps[j].id })
	for _, l := range lps {
		fmt.Fprintf(&cpuinfo, "processor\t: %d\nvendor_id\t: GenuineIntel\nmodel name\t: Fake CPU @ 2.00GHz\nphysical id\t: %d\ncore id\t\t: %d\nflags\t\t: fpu sse2 ht\n\n", l.id, l.node, l.core)
	}
	if !m.NoCPUInfo {
		files["/proc/cpuinfo"] = cpuinfo.String()
	}
	rootCpuset := m.RootCpuset
	if rootCpuset == "" {
		rootCpuset = online.String()
	}
	switch m.Cgroup {
	case "", CgroupV2:
		files["/sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu io memory hugetlb pids rdma misc\n"
		files["/sys/fs/cgroup/cgroup.subtree_control"] = "cpu io memory pids\n"
		files["/sys/fs/cgroup/cpuset.cpus.effective"] = rootCpuset + "\n"
		files["/sys/fs/cgroup/cpuset.mems.effective"] = "0\n"
	case CgroupV2NoCpuset:
		files["/sys/fs/cgroup/cgroup.controllers"] = "cpu io memory pids\n"
		files["/sys/fs/cgroup/cgroup.subtree_control"] = "cpu io memory pids\n"
	case CgroupV1:
		files["/sys/fs/cgroup/cpuset/cpuset.effective_cpus"] = rootCpuset + "\n"
		files["/sys/fs/cgroup/cpuset/cpuset.cpus"] = rootCpuset + "\n"
		files["/sys/fs/cgroup/memory/memory.limit_in_bytes"] = "9223372036854771712\n"
	case CgroupNone:
	}
	cmdline := m.Cmdline
	if cmdline == "" {
		cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1 ro quiet"
	}
	files["/proc/cmdline"] = cmdline + "\n"
	mem := m.MemTotalKiB
	if mem == 0 {
		mem = 8 << 20
	}
	files["/proc/meminfo"] = fmt.Sprintf("MemTotal:       %d kB\nMemFree:        %d kB\nMemAvailable:   %d kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n", mem, mem/2, mem/2)
	files["/proc/swaps"] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	links := map[string]string{}
	if m.Nodes > 0 {
		for n := 0; n < m.Nodes; n++ {
			files[fmt.Sprintf("/sys/devices/system/node/node%d/meminfo", n)] = fmt.Sprintf(
				"Node %d MemTotal:       %d kB\nNode %d MemFree:        %d kB\n", n, mem/int64(m.Nodes), n, mem/int64(2*m.Nodes))
		}
	}
	if m.MemoryBlocks > 0 {
		// As Linux lays them out: memory/memoryM with its state, and each
		// NUMA node linking the blocks it holds (nodeN/memoryM).
		files["/sys/devices/system/memory/block_size_bytes"] = "8000000\n"
		for i := 0; i < m.MemoryBlocks; i++ {
			p := fmt.Sprintf("/sys/devices/system/memory/memory%d", i)
			files[p+"/state"] = "online\n"
			if m.Nodes > 0 {
				n := i * m.Nodes / m.MemoryBlocks
				links[fmt.Sprintf("/sys/devices/system/node/node%d/memory%d", n, i)] = fmt.Sprintf("../../memory/memory%d", i)
			}
		}
	}
	for name, node := range m.NICs {
		files["/sys/class/net/"+name+"/device/numa_node"] = fmt.Sprintf("%d\n", node)
	}
	for p, c := range m.Files {
		files[p] = c
	}
	for p, c := range m.Override {
		files[p] = c
	}
	for p, c := range files {
		full := filepath.Join(dir, strings.TrimPrefix(p, "/"))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			return err
		}
	}
	for p, target := range links {
		full := filepath.Join(dir, strings.TrimPrefix(p, "/"))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(target, full); err != nil {
			return err
		}
	}
	return nil
}

func distances(n, nodes int) string {
	d := make([]string, nodes)
	for i := range d {
		if i == n {
			d[i] = "10"
		} else {
			d[i] = "21"
		}
	}
	return strings.Join(d, " ")
}
