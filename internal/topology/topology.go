// Package topology reads the CPU topology the CPU plan needs from sysfs,
// under the root prefix, and returns it as plain data.
//
// What it reads, and nothing more (the generator runs at every boot and
// every daemon-reload; BENCHMARKS.md, lines 2a and 2b):
//   - /sys/devices/system/cpu/online, and cpuN/topology/thread_siblings_list
//     for the first CPU N of each physical core (a core is a sibling set,
//     identified by its lowest CPU id);
//   - /sys/devices/system/node/nodeN/cpulist (no node directory: one node 0);
//   - /sys/devices/system/cpu/isolated and nohz_full, and isolcpus= and
//     nohz_full= on the kernel command line;
//   - the root cgroup's effective cpuset (v2 cpuset.cpus.effective, v1
//     cpuset/cpuset.effective_cpus) and cgroup.controllers;
//   - /sys/class/net/<nic>/device/numa_node for the capture NIC;
//   - and /proc/cpuinfo (internal/cpuinfo), the kernel's second account of
//     the cores, to cross-check the sibling sets. Nothing under
//     /sys/devices/system/memory: a machine's memory blocks (8192 on a
//     1 TiB machine) say nothing about its CPUs.
//
// CPUs are never counted from the process (affinity, runtime.NumCPU): at
// daemon-reload the generator runs inside init.scope, which strict isolation
// has narrowed to the core set.
//
// Any list that cannot be parsed, any inconsistency between the files, and
// any disagreement with /proc/cpuinfo is an error: the caller then makes no
// CPU plan.
package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// Host paths read by this package.
const (
	CPUDir         = "/sys/devices/system/cpu"
	NodeDir        = "/sys/devices/system/node"
	CgroupDir      = "/sys/fs/cgroup"
	cgroupV1Cpuset = "/sys/fs/cgroup/cpuset/cpuset.effective_cpus"
)

// Core is one physical core: a set of SMT siblings.
type Core struct {
	// ID is the core's lowest CPU id (core_id repeats across sockets).
	ID int
	// CPUs are the online siblings, ID included.
	CPUs cpuset.Set
	// Node is the NUMA node whose cpulist holds the core.
	Node int
}

// Node is one NUMA node and its online CPUs.
type Node struct {
	ID   int
	CPUs cpuset.Set
}

// Cgroup describes the cgroup setup that decides how CPUs can be confined.
type Cgroup struct {
	// V2 is true on a unified (cgroup v2) hierarchy at /sys/fs/cgroup.
	V2 bool
	// Cpuset is true when the v2 cpuset controller is available in the
	// root's cgroup.controllers: systemd then enables it where AllowedCPUs=
	// is set (it writes cgroup.subtree_control itself), so the root's
	// subtree_control need not list it yet.
	Cpuset bool
	// Controllers are the words of the root's cgroup.controllers, and
	// ControllersErr why it could not be read (fs.ErrNotExist: not cgroup
	// v2), when ControllersRead: the memory controller is looked up there
	// too, and a run reads the file once.
	Controllers     []string
	ControllersErr  error
	ControllersRead bool
}

// AllowedCPUs reports whether systemd's AllowedCPUs= can take effect.
func (c Cgroup) AllowedCPUs() bool { return c.V2 && c.Cpuset }

// Info is the topology as plain data, the input of the CPU plan.
type Info struct {
	// Online are the online CPUs.
	Online cpuset.Set
	// Cores are the physical cores, sorted by ID.
	Cores []Core
	// Nodes are the NUMA nodes, sorted by ID; a machine without node
	// directories has one node 0 holding every online CPU.
	Nodes []Node
	// NUMA is true when the nodes came from node directories.
	NUMA bool
	// Isolated are CPUs the kernel keeps for isolated work: sysfs isolated
	// and nohz_full, and isolcpus= and nohz_full= on the command line.
	Isolated cpuset.Set
	// RootCpuset is the root cgroup's effective cpuset; when it could not
	// be read (no cpuset controller mounted) it is the online set and
	// RootCpusetKnown is false.
	RootCpuset      cpuset.Set
	RootCpusetKnown bool
	// Cgroup is the cgroup setup.
	Cgroup Cgroup
	// NIC is the capture interface asked for ("" for none); NICNode is its
	// NUMA node, -1 when none or unknown.
	NIC     string
	NICNode int
	// NICNumaNode is what the NIC's numa_node holds (NICNumaErr: why it
	// could not be read or parsed), when NICNumaRead: the capture report
	// takes it from here, and a run reads the file once.
	NICNumaNode int
	NICNumaErr  error
	NICNumaRead bool
	// Notes are facts worth logging that do not stop a plan.
	Notes []string
}

// Usable returns the CPUs a plan may use: online, inside the root cpuset,
// not isolated.
func (in Info) Usable() cpuset.Set {
	return in.Online.Intersect(in.RootCpuset).Difference(in.Isolated)
}

// Read reads the topology under root. cmdline holds the kernel command-line
// words (for isolcpus= and nohz_full=); nic names the capture interface, or
// "". An error means no plan may be made.
func Read(root hostroot.Root, cmdline []string, nic string) (Info, error) {
	info, err := ReadSysfs(root, cmdline, nic)
	if err != nil {
		return info, err
	}
	cpus, err := cpuinfo.Read(root)
	if err != nil {
		return info, fmt.Errorf("%w: the topology cannot be trusted", err)
	}
	if err := crossCheck(cpuinfo.Cores(cpus), info); err != nil {
		return info, err
	}
	return info, nil
}

// ReadSysfs is Read without the cross-check with /proc/cpuinfo.
func ReadSysfs(root hostroot.Root, cmdline []string, nic string) (Info, error) {
	info := Info{NIC: nic, NICNode: -1}
	online, err := readList(root, CPUDir+"/online", false)
	if err != nil {
		return info, err
	}
	info.Online = online

	// Physical cores from sibling lists, read relative to the CPU
	// directory: one path walk from "/" instead of one per core.
	cpuDir := sysDir{host: CPUDir, path: root.Path(CPUDir)}
	if cpuDir.fd, err = readfile.OpenDir(cpuDir.path); err != nil {
		return info, fmt.Errorf("read CPU list: %w", err)
	}
	defer unix.Close(cpuDir.fd)
	seen := make([]bool, online.Max()+1)
	for _, id := range online.IDs() {
		if seen[id] {
			continue
		}
		rel := "cpu" + strconv.Itoa(id) + "/topology/thread_siblings_list"
		sib, err := cpuDir.readList(rel, false)
		if err != nil {
			return info, err
		}
		if !sib.Contains(id) {
			return info, fmt.Errorf("%q does not list CPU %d itself (%q): the topology is inconsistent", CPUDir+"/"+rel, id, sib)
		}
		sib = sib.Intersect(online)
		for _, s := range sib.IDs() {
			if seen[s] {
				return info, fmt.Errorf("CPU %d is listed as a sibling of two different cores (%q): the topology is inconsistent", s, CPUDir+"/"+rel)
			}
			seen[s] = true
		}
		info.Cores = append(info.Cores, Core{ID: sib.Min(), CPUs: sib})
	}
	sort.Slice(info.Cores, func(i, j int) bool { return info.Cores[i].ID < info.Cores[j].ID })
	// Only the first CPU of each core is read: the other siblings' lists
	// would double the reads on big machines (BENCHMARKS.md, line 2a), and
	// the cross-check with /proc/cpuinfo, which groups CPUs by their
	// package and core ids instead, catches lists that disagree with each
	// other.

	if err := readNodes(root, &info); err != nil {
		return info, err
	}
	if err := readIsolated(root, cmdline, &info); err != nil {
		return info, err
	}
	if err := readCgroup(root, &info); err != nil {
		return info, err
	}
	if nic != "" {
		readNIC(root, &info)
	}
	return info, nil
}

// readKernel reads a sysfs file (readfile.Kernel: sysfs files are read
// per core).
func readKernel(p string) ([]byte, error) { return readfile.Kernel(p, 1<<20) }

func readList(root hostroot.Root, hostPath string, maybeEmpty bool) (cpuset.Set, error) {
	b, err := readKernel(root.Path(hostPath))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("read CPU list: %w", err)
	}
	return parseList(b, "", hostPath, maybeEmpty)
}

// sysDir is a sysfs directory opened once (readfile.OpenDir), whose files
// are read relative to it.
type sysDir struct {
	fd   int
	host string // as on the host, for messages
	path string // under the root
}

// readList reads the CPU list rel under d (readfile.AttrAt: a sysfs
// attribute, read in one call).
func (d sysDir) readList(rel string, maybeEmpty bool) (cpuset.Set, error) {
	b, err := readfile.AttrAt(d.fd, d.path, rel, 1<<20)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("read CPU list: %w", err)
	}
	return parseList(b, d.host, rel, maybeEmpty)
}

// parseList parses the CPU list b read from dir/name (name alone with dir
// "": the path is put together only for an error).
func parseList(b []byte, dir, name string, maybeEmpty bool) (cpuset.Set, error) {
	var s cpuset.Set
	var err error
	if maybeEmpty {
		s, err = cpuset.ParseMaybeEmpty(string(b))
	} else {
		s, err = cpuset.Parse(string(b))
	}
	if err != nil {
		if dir != "" {
			name = dir + "/" + name
		}
		return cpuset.Set{}, fmt.Errorf("%q: %w", name, err)
	}
	return s, nil
}

func readNodes(root hostroot.Root, info *Info) error {
	entries, err := os.ReadDir(root.Path(NodeDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("list NUMA nodes: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "node") || !e.IsDir() && e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		id, err := strconv.Atoi(name[len("node"):])
		if err != nil || id < 0 || strconv.Itoa(id) != name[len("node"):] {
			continue
		}
		cpus, err := readList(root, fmt.Sprintf("%s/node%d/cpulist", NodeDir, id), true)
		if err != nil {
			return err
		}
		info.Nodes = append(info.Nodes, Node{ID: id, CPUs: cpus.Intersect(info.Online)})
	}
	if len(info.Nodes) == 0 {
		info.Nodes = []Node{{ID: 0, CPUs: info.Online}}
		info.Notes = append(info.Notes, fmt.Sprintf("no NUMA node directories under %s: one node 0", NodeDir))
	} else {
		info.NUMA = true
	}
	sort.Slice(info.Nodes, func(i, j int) bool { return info.Nodes[i].ID < info.Nodes[j].ID })
	// Every online CPU in exactly one node, every core inside one node.
	var all cpuset.Set
	for _, n := range info.Nodes {
		if !all.Intersect(n.CPUs).IsEmpty() {
			return fmt.Errorf("CPUs %q are listed in more than one NUMA node", all.Intersect(n.CPUs))
		}
		all = all.Union(n.CPUs)
	}
	if missing := info.Online.Difference(all); !missing.IsEmpty() {
		return fmt.Errorf("online CPUs %q are in no NUMA node's cpulist", missing)
	}
	for i, c := range info.Cores {
		for _, n := range info.Nodes {
			if n.CPUs.Contains(c.ID) {
				if !c.CPUs.IsSubsetOf(n.CPUs) {
					return fmt.Errorf("the SMT siblings %q span NUMA nodes", c.CPUs)
				}
				info.Cores[i].Node = n.ID
			}
		}
	}
	return nil
}

func readIsolated(root hostroot.Root, cmdline []string, info *Info) error {
	var sysIsolated cpuset.Set
	sysIsolatedKnown := false
	for _, f := range []string{CPUDir + "/isolated", CPUDir + "/nohz_full"} {
		s, err := readList(root, f, true)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if f == CPUDir+"/isolated" {
			sysIsolated, sysIsolatedKnown = s, true
		}
		info.Isolated = info.Isolated.Union(s)
	}
	last := -1
	for _, key := range []string{"isolcpus", "nohz_full"} {
		v, found := procfs.CmdlineValue(cmdline, key)
		if !found {
			continue
		}
		if last < 0 {
			var err error
			if last, err = lastCPU(root, info); err != nil {
				return err
			}
		}
		s, domain, notes, err := parseCmdlineCPUs(key, v, last)
		if err != nil {
			return err
		}
		info.Notes = append(info.Notes, notes...)
		// The kernel's own answer: /sys/devices/system/cpu/isolated lists
		// the CPUs isolcpus= took out of the scheduler domains. Both are
		// kept (the plan avoids either), and a disagreement is logged.
		if domain && sysIsolatedKnown && !s.Equal(sysIsolated) {
			info.Notes = append(info.Notes, fmt.Sprintf("isolcpus= names CPUs %q, the kernel's %s/isolated says %q: avoiding both", s, CPUDir, sysIsolated))
		}
		info.Isolated = info.Isolated.Union(s)
	}
	return nil
}

// lastCPU is the id the kernel gives "N" in a command-line CPU list: its
// nr_cpu_ids - 1, the last possible CPU (/sys/devices/system/cpu/possible).
// Without that file, the last online CPU, which gives the same usable set
// (isolated CPUs only matter among the online ones).
func lastCPU(root hostroot.Root, info *Info) (int, error) {
	possible, err := readList(root, CPUDir+"/possible", false)
	switch {
	case err == nil:
		return possible.Max(), nil
	case errors.Is(err, fs.ErrNotExist):
		info.Notes = append(info.Notes, fmt.Sprintf("no %s/possible: N in command-line CPU lists taken as the last online CPU %d", CPUDir, info.Online.Max()))
		return info.Online.Max(), nil
	default:
		return -1, err
	}
}

// isolcpusFlags are the isolcpus= flags the kernel knows; and whether each
// takes the CPUs out of the scheduler domains (what sysfs isolated shows).
var isolcpusFlags = map[string]bool{"domain": true, "nohz": false, "managed_irq": false}

// parseCmdlineCPUs parses the value of isolcpus=[flag,...]list or
// nohz_full=list as the kernel does (housekeeping_isolcpus_setup, then
// bitmap_parselist; see cpuset.ParseKernel), "N" being last. domain reports
// whether the CPUs leave the scheduler domains (isolcpus= with the domain
// flag, or with no flag at all), which sysfs isolated then lists; notes are
// facts to log (flags the kernel skips).
func parseCmdlineCPUs(key, v string, last int) (s cpuset.Set, domain bool, notes []string, err error) {
	list := v
	if key == "isolcpus" {
		flags := 0
		// The kernel reads flags while the value starts with a letter: a
		// word up to the next comma, of letters and "_" (anything else in
		// it and the kernel ignores the whole parameter), unknown ones
		// skipped.
		for list != "" && isLetter(list[0]) {
			word, rest, ok := strings.Cut(list, ",")
			if !ok {
				return s, false, nil, fmt.Errorf("kernel command line %s=%q: %q is read by the kernel as a flag, and no CPU list follows it (fix the kernel command line: isolcpus=[flag,...]cpu-list)", key, v, word)
			}
			for _, c := range []byte(word) {
				if !isLetter(c) && c != '_' {
					return s, false, nil, fmt.Errorf("kernel command line %s=%q: invalid flag %q: the kernel ignores the whole parameter (fix the kernel command line)", key, v, word)
				}
			}
			isDomain, known := isolcpusFlags[word]
			if !known {
				notes = append(notes, fmt.Sprintf("kernel command line %s=: unknown flag %q, skipped as the kernel skips it", key, word))
			}
			domain = domain || isDomain
			flags++
			list = rest
		}
		if flags == 0 {
			domain = true
		}
	}
	s, err = cpuset.ParseKernel(list, last)
	if err != nil {
		return s, false, nil, fmt.Errorf("kernel command line %s=%q: %w", key, v, err)
	}
	return s, domain, notes, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func readCgroup(root hostroot.Root, info *Info) error {
	b, err := readKernel(root.Path(CgroupDir + "/cgroup.controllers"))
	info.Cgroup.ControllersErr, info.Cgroup.ControllersRead = err, true
	switch {
	case err == nil:
		info.Cgroup.V2 = true
		info.Cgroup.Controllers = strings.Fields(string(b))
		for _, w := range info.Cgroup.Controllers {
			if w == "cpuset" {
				info.Cgroup.Cpuset = true
			}
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("read cgroup controllers: %w", err)
	}
	var src string
	if info.Cgroup.V2 {
		src = CgroupDir + "/cpuset.cpus.effective"
	} else {
		src = cgroupV1Cpuset
	}
	s, err := readList(root, src, false)
	switch {
	case err == nil:
		info.RootCpuset = s
		info.RootCpusetKnown = true
		if s.Intersect(info.Online).IsEmpty() {
			return fmt.Errorf("%q holds no online CPU (%q)", src, s)
		}
	case errors.Is(err, fs.ErrNotExist):
		info.RootCpuset = info.Online
		info.Notes = append(info.Notes, fmt.Sprintf("no root cpuset (%s missing): taking every online CPU", src))
	default:
		return err
	}
	return nil
}

func readNIC(root hostroot.Root, info *Info) {
	p := fmt.Sprintf("/sys/class/net/%s/device/numa_node", info.NIC)
	b, err := readKernel(root.Path(p))
	info.NICNumaErr, info.NICNumaRead = err, true
	if err != nil {
		info.Notes = append(info.Notes, fmt.Sprintf("NUMA node of interface %q unknown (%v): DPI placed as without one", info.NIC, err))
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	info.NICNumaNode, info.NICNumaErr = n, err
	if err != nil || n < -1 {
		info.Notes = append(info.Notes, fmt.Sprintf("NUMA node of interface %q unreadable (%q in %s): DPI placed as without one", info.NIC, strings.TrimSpace(string(b)), p))
		return
	}
	if n == -1 {
		info.Notes = append(info.Notes, fmt.Sprintf("interface %q reports no NUMA node: DPI placed as without one", info.NIC))
		return
	}
	for _, node := range info.Nodes {
		if node.ID == n {
			info.NICNode = n
			return
		}
	}
	info.Notes = append(info.Notes, fmt.Sprintf("interface %q is on NUMA node %d, which has no online CPU: DPI placed as without one", info.NIC, n))
}

// crossCheck compares info with the cores /proc/cpuinfo groups by package
// and core id: the same online CPUs, grouped into the same physical cores.
// Anything but full agreement is an error (a CPU missing from either
// account, a core split or merged).
func crossCheck(cores [][]int, info Info) error {
	var allIDs []int
	seen := map[string]bool{}
	for _, ids := range cores {
		for _, id := range ids {
			if id >= cpuset.MaxCPUs {
				return fmt.Errorf("%s lists CPU %d: out of range: the topology cannot be trusted", cpuinfo.Path, id)
			}
		}
		allIDs = append(allIDs, ids...)
		seen[cpuset.Of(ids...).String()] = true
	}
	all := cpuset.Of(allIDs...)
	if !all.Equal(info.Online) {
		return fmt.Errorf("%s lists CPUs %q, sysfs online says %q: the topology cannot be trusted", cpuinfo.Path, all, info.Online)
	}
	if len(seen) != len(info.Cores) {
		return fmt.Errorf("%s groups the CPUs into %d physical cores, the sibling lists into %d: the topology cannot be trusted", cpuinfo.Path, len(seen), len(info.Cores))
	}
	for _, c := range info.Cores {
		if !seen[c.CPUs.String()] {
			return fmt.Errorf("%s does not group the CPUs %q into one core as the sibling lists do: the topology cannot be trusted", cpuinfo.Path, c.CPUs)
		}
	}
	return nil
}
