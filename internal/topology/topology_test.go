package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

func write(t testing.TB, m fakesys.Machine) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	return hostroot.Root(dir)
}

func read(t *testing.T, m fakesys.Machine, nic string) (Info, error) {
	t.Helper()
	root := write(t, m)
	words, err := procfs.ReadCmdline(root)
	if err != nil {
		t.Fatal(err)
	}
	return Read(root, words, nic)
}

func TestReadMachines(t *testing.T) {
	cases := []struct {
		name          string
		m             fakesys.Machine
		nic           string
		online, cores string // cores: each core's CPUs, "|"-joined
		nodes         string // each node's CPUs, "|"-joined
		isolated      string
		root          string
		v2, cpuset    bool
		nicNode       int
	}{
		{name: "8 cpus, no node dirs", m: fakesys.Machine{CoresPerNode: 8},
			online: "0-7", cores: "0|1|2|3|4|5|6|7", nodes: "0-7", root: "0-7", v2: true, cpuset: true, nicNode: -1},
		{name: "8x2 split", m: fakesys.Machine{Nodes: 1, CoresPerNode: 8, Threads: 2},
			online: "0-15", cores: "0,8|1,9|2,10|3,11|4,12|5,13|6,14|7,15", nodes: "0-15", root: "0-15", v2: true, cpuset: true, nicNode: -1},
		{name: "4x2 adjacent", m: fakesys.Machine{Nodes: 1, CoresPerNode: 4, Threads: 2, Numbering: fakesys.Adjacent},
			online: "0-7", cores: "0-1|2-3|4-5|6-7", nodes: "0-7", root: "0-7", v2: true, cpuset: true, nicNode: -1},
		{name: "2 nodes x2x2, NIC on node 1", m: fakesys.Machine{Nodes: 2, CoresPerNode: 2, Threads: 2, NICs: map[string]int{"eth1": 1}}, nic: "eth1",
			online: "0-7", cores: "0,4|1,5|2,6|3,7", nodes: "0-1,4-5|2-3,6-7", root: "0-7", v2: true, cpuset: true, nicNode: 1},
		{name: "NIC without numa node", m: fakesys.Machine{CoresPerNode: 2, NICs: map[string]int{"eth0": -1}}, nic: "eth0",
			online: "0-1", cores: "0|1", nodes: "0-1", root: "0-1", v2: true, cpuset: true, nicNode: -1},
		{name: "NIC missing", m: fakesys.Machine{CoresPerNode: 2}, nic: "eth9",
			online: "0-1", cores: "0|1", nodes: "0-1", root: "0-1", v2: true, cpuset: true, nicNode: -1},
		{name: "offline cpu and sibling", m: fakesys.Machine{Nodes: 1, CoresPerNode: 4, Threads: 2, Offline: []int{3, 6}},
			online: "0-2,4-5,7", cores: "0,4|1,5|2|7", nodes: "0-2,4-5,7", root: "0-2,4-5,7", v2: true, cpuset: true, nicNode: -1},
		{name: "isolated from sysfs and cmdline", m: fakesys.Machine{CoresPerNode: 8, Isolated: "7", NohzFull: "6", Cmdline: "ro isolcpus=nohz,domain,managed_irq,4 nohz_full=5"},
			online: "0-7", cores: "0|1|2|3|4|5|6|7", nodes: "0-7", isolated: "4-7", root: "0-7", v2: true, cpuset: true, nicNode: -1},
		{name: "restricted root cpuset", m: fakesys.Machine{CoresPerNode: 8, RootCpuset: "0-5"},
			online: "0-7", cores: "0|1|2|3|4|5|6|7", nodes: "0-7", root: "0-5", v2: true, cpuset: true, nicNode: -1},
		{name: "cgroup v1", m: fakesys.Machine{CoresPerNode: 2, Cgroup: fakesys.CgroupV1, RootCpuset: "1"},
			online: "0-1", cores: "0|1", nodes: "0-1", root: "1", nicNode: -1},
		{name: "cgroup v2 without cpuset", m: fakesys.Machine{CoresPerNode: 2, Cgroup: fakesys.CgroupV2NoCpuset},
			online: "0-1", cores: "0|1", nodes: "0-1", root: "0-1", v2: true, nicNode: -1},
		{name: "no cgroup", m: fakesys.Machine{CoresPerNode: 2, Cgroup: fakesys.CgroupNone, NoNohzFile: true},
			online: "0-1", cores: "0|1", nodes: "0-1", root: "0-1", nicNode: -1},
		{name: "memory-only node", m: fakesys.Machine{Nodes: 2, CoresPerNode: 2, Override: map[string]string{
			"/sys/devices/system/node/node1/cpulist": "\n", "/sys/devices/system/node/node0/cpulist": "0-3\n"}},
			online: "0-3", cores: "0|1|2|3", nodes: "0-3|", root: "0-3", v2: true, cpuset: true, nicNode: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := read(t, c.m, c.nic)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var cores, nodes []string
			for _, co := range info.Cores {
				cores = append(cores, co.CPUs.String())
				if co.ID != co.CPUs.Min() {
					t.Errorf("core %s has ID %d", co.CPUs, co.ID)
				}
			}
			for _, n := range info.Nodes {
				nodes = append(nodes, n.CPUs.String())
			}
			got := fmt.Sprintf("online %s cores %s nodes %s isolated %s root %s v2 %t cpuset %t nic %d",
				info.Online, strings.Join(cores, "|"), strings.Join(nodes, "|"), info.Isolated, info.RootCpuset, info.Cgroup.V2, info.Cgroup.Cpuset, info.NICNode)
			want := fmt.Sprintf("online %s cores %s nodes %s isolated %s root %s v2 %t cpuset %t nic %d",
				c.online, c.cores, c.nodes, c.isolated, c.root, c.v2, c.cpuset, c.nicNode)
			if got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestFaultMalformedCPULists is fault-matrix row 2: malformed CPU lists in
// sysfs or on the command line give an error (no plan), naming the file.
func TestFaultMalformedCPULists(t *testing.T) {
	base := fakesys.Machine{Nodes: 1, CoresPerNode: 8}
	for _, c := range []struct {
		name, file, content, cmdline, wantInErr string
	}{
		{"online backwards", "/sys/devices/system/cpu/online", "10-6\n", "", "online"},
		{"online double dash", "/sys/devices/system/cpu/online", "1--3\n", "", "online"},
		{"online empty element", "/sys/devices/system/cpu/online", "0,,1\n", "", "online"},
		{"online empty", "/sys/devices/system/cpu/online", "\n", "", "online"},
		{"online huge range", "/sys/devices/system/cpu/online", "0-99999\n", "", "online"},
		{"online garbage", "/sys/devices/system/cpu/online", "zero\n", "", "online"},
		{"siblings backwards", "/sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "10-6\n", "", "thread_siblings_list"},
		{"siblings empty", "/sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "", "", "thread_siblings_list"},
		{"siblings not self", "/sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "4\n", "", "itself"},
		{"siblings asymmetric", "/sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "2-3\n", "", "sibling"},
		{"node cpulist garbage", "/sys/devices/system/node/node0/cpulist", "0,,1\n", "", "cpulist"},
		{"node misses a cpu", "/sys/devices/system/node/node0/cpulist", "0-6\n", "", "no NUMA node"},
		{"isolated backwards", "/sys/devices/system/cpu/isolated", "10-6\n", "", "isolated"},
		{"nohz_full garbage", "/sys/devices/system/cpu/nohz_full", "1--3\n", "", "nohz_full"},
		{"root cpuset empty", "/sys/fs/cgroup/cpuset.cpus.effective", "\n", "", "cpuset.cpus.effective"},
		{"root cpuset offline only", "/sys/fs/cgroup/cpuset.cpus.effective", "100\n", "", "no online CPU"},
		{"isolcpus backwards", "", "", "isolcpus=10-6", "isolcpus"},
		{"nohz_full= missing range end", "", "", "nohz_full=0-", "nohz_full"},
		{"isolcpus flags only", "", "", "isolcpus=domain", "isolcpus"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base
			if c.file != "" {
				m.Override = map[string]string{c.file: c.content}
			}
			m.Cmdline = c.cmdline
			_, err := read(t, m, "")
			if err == nil {
				t.Fatalf("Read accepted a broken tree")
			}
			if !strings.Contains(err.Error(), c.wantInErr) {
				t.Errorf("error %q does not mention %q", err, c.wantInErr)
			}
		})
	}
}

// TestKernelCPUListSyntax: the command-line CPU lists the kernel accepts
// (bitmap_parselist: "N" for the last possible CPU, the group form
// a-b:used/group, flags before the isolcpus= list) are read as the kernel
// reads them; before, isolcpus=domain,managed_irq,10-N made every plan fail
// with "\"N\" is not a CPU id". What the kernel refuses is still an error.
func TestKernelCPUListSyntax(t *testing.T) {
	// 16 CPUs, as 8 cores x 2 threads (siblings c and c+8).
	base := fakesys.Machine{Nodes: 1, CoresPerNode: 8, Threads: 2}
	for _, c := range []struct {
		name, cmdline, sysIsolated string
		possible                   string // "" keeps 0-15, "-" removes the file
		isolated, note             string // note: a fact that must be logged ("" none)
	}{
		{name: "isolcpus flags and N", cmdline: "ro isolcpus=domain,managed_irq,10-N", sysIsolated: "10-15", isolated: "10-15"},
		{name: "nohz flag and N", cmdline: "isolcpus=nohz,domain,managed_irq,12-N nohz_full=12-N", sysIsolated: "12-15", isolated: "12-15"},
		{name: "group form", cmdline: "isolcpus=8-11:1/2", sysIsolated: "8,10", isolated: "8,10"},
		{name: "group form up to N", cmdline: "nohz_full=1-N:1/4", isolated: "1,5,9,13"},
		{name: "N alone in nohz_full", cmdline: "nohz_full=N", isolated: "15"},
		{name: "all with a group", cmdline: "nohz_full=all:1/8", isolated: "0,8"},
		{name: "empty elements as the kernel skips them", cmdline: "nohz_full=0,,1", isolated: "0-1"},
		{name: "N is the last possible, not the last online CPU", cmdline: "isolcpus=14-N",
			possible: "0-31", sysIsolated: "14-31", isolated: "14-31"},
		{name: "no possible file: N is the last online CPU", cmdline: "isolcpus=14-N",
			possible: "-", sysIsolated: "14-15", isolated: "14-15", note: "no /sys/devices/system/cpu/possible"},
		{name: "managed_irq only: not in sysfs isolated, still avoided", cmdline: "isolcpus=managed_irq,10-N", isolated: "10-15"},
		{name: "sysfs isolated disagrees: both avoided, logged", cmdline: "isolcpus=domain,10-N", sysIsolated: "9", isolated: "9-15",
			note: "the kernel's /sys/devices/system/cpu/isolated says"},
		{name: "unknown flag skipped as the kernel does", cmdline: "isolcpus=future_flag,domain,15", sysIsolated: "15", isolated: "15",
			note: "unknown flag \"future_flag\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base
			m.Cmdline = c.cmdline
			m.Isolated = c.sysIsolated
			if c.possible != "" && c.possible != "-" {
				m.Override = map[string]string{"/sys/devices/system/cpu/possible": c.possible + "\n"}
			}
			root := write(t, m)
			if c.possible == "-" {
				if err := os.Remove(root.Path("/sys/devices/system/cpu/possible")); err != nil {
					t.Fatal(err)
				}
			}
			words, err := procfs.ReadCmdline(root)
			if err != nil {
				t.Fatal(err)
			}
			info, err := Read(root, words, "")
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if info.Isolated.String() != c.isolated {
				t.Errorf("isolated %q, want %q", info.Isolated, c.isolated)
			}
			notes := strings.Join(info.Notes, "\n")
			if c.note != "" && !strings.Contains(notes, c.note) {
				t.Errorf("notes %q do not say %q", notes, c.note)
			}
			if c.note == "" && strings.Contains(notes, "isolated says") {
				t.Errorf("unexpected disagreement logged: %q", notes)
			}
		})
	}
	for _, c := range []struct {
		name, cmdline, possible, wantInErr string
	}{
		{"group form naming no CPU", "isolcpus=8-11:0/2", "", "names no CPU"},
		{"used larger than group", "isolcpus=8-11:3/2", "", "used of groups"},
		{"beyond the last possible CPU", "isolcpus=domain,10-16", "", "beyond the last CPU 15"},
		{"N where the kernel reads a flag", "isolcpus=domain,N", "", "read by the kernel as a flag"},
		{"invalid flag", "isolcpus=dom4in,10-N", "", "invalid flag"},
		{"garbage", "isolcpus=10-N;11", "", "isolcpus"},
		{"N with no CPU count (possible unreadable)", "nohz_full=10-N", "zero", "possible"},
		{"possible empty", "nohz_full=10-N", "", "possible"},
	} {
		t.Run("refused/"+c.name, func(t *testing.T) {
			m := base
			m.Cmdline = c.cmdline
			if c.possible != "" || c.name == "possible empty" {
				m.Override = map[string]string{"/sys/devices/system/cpu/possible": c.possible + "\n"}
			}
			_, err := read(t, m, "")
			if err == nil {
				t.Fatalf("Read accepted %q", c.cmdline)
			}
			if !strings.Contains(err.Error(), c.wantInErr) {
				t.Errorf("error %q does not mention %q", err, c.wantInErr)
			}
		})
	}
}

// TestFaultCPUInfoEmptyPartialOrDisagreeing: a second account of the cores
// (/proc/cpuinfo, or the per-CPU sysfs ids where it prints none) that is
// missing, partial, unparsable or disagrees with the sibling lists gives an
// error (no plan), while the sibling lists alone read fine.
func TestFaultCPUInfoEmptyPartialOrDisagreeing(t *testing.T) {
	m := fakesys.Machine{Nodes: 1, CoresPerNode: 8, Threads: 2}
	cpuinfoPath := func(root hostroot.Root) string { return filepath.Join(string(root), "proc/cpuinfo") }
	// edit rewrites /proc/cpuinfo's blocks (one per CPU) with f.
	edit := func(t *testing.T, root hostroot.Root, f func(blocks []string) []string) {
		t.Helper()
		b, err := os.ReadFile(cpuinfoPath(root))
		if err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(strings.TrimRight(string(b), "\n"), "\n\n")
		if err := os.WriteFile(cpuinfoPath(root), []byte(strings.Join(f(blocks), "\n\n")+"\n\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(t *testing.T, root hostroot.Root, want string) {
		t.Helper()
		_, err := Read(root, nil, "")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cannot be trusted") {
			t.Fatalf("want an error saying %q and that the topology cannot be trusted, got %v", want, err)
		}
		// Sysfs alone is fine: it is the second account that disagrees.
		if _, err := ReadSysfs(root, nil, ""); err != nil {
			t.Fatalf("ReadSysfs: %v", err)
		}
	}
	setSysfsIDs := func(t *testing.T, root hostroot.Root, cpu int, pkg, core string) {
		t.Helper()
		dir := filepath.Join(string(root), fmt.Sprintf("sys/devices/system/cpu/cpu%d/topology", cpu))
		for f, v := range map[string]string{"physical_package_id": pkg, "core_id": core} {
			if v == "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, f), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dropIDs := func(blocks []string) []string {
		out := make([]string, len(blocks))
		for i, b := range blocks {
			var keep []string
			for _, l := range strings.Split(b, "\n") {
				if !strings.HasPrefix(l, "physical id") && !strings.HasPrefix(l, "core id") {
					keep = append(keep, l)
				}
			}
			out[i] = strings.Join(keep, "\n")
		}
		return out
	}

	t.Run("no cpuinfo", func(t *testing.T) {
		mm := m
		mm.NoCPUInfo = true
		refused(t, write(t, mm), "cpuinfo")
	})
	t.Run("cpuinfo lists half the cpus", func(t *testing.T) {
		root := write(t, m)
		edit(t, root, func(b []string) []string { return b[:len(b)/2] })
		refused(t, root, `lists CPUs "0-7", sysfs online says "0-15"`)
	})
	t.Run("cpuinfo lists no cpu", func(t *testing.T) {
		root := write(t, m)
		if err := os.WriteFile(cpuinfoPath(root), []byte("\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, root, "no processor listed")
	})
	t.Run("cpuinfo lists a cpu twice", func(t *testing.T) {
		root := write(t, m)
		edit(t, root, func(b []string) []string { return append(b, b[3]) })
		refused(t, root, "processor 3 is listed twice")
	})
	t.Run("cpuinfo core id not a number", func(t *testing.T) {
		root := write(t, m)
		edit(t, root, func(b []string) []string {
			b[5] = strings.Replace(b[5], "core id\t\t: 5", "core id\t\t: five", 1)
			return b
		})
		refused(t, root, `core id "five" is not a CPU id`)
	})
	t.Run("core ids disagree with sibling lists", func(t *testing.T) {
		root := write(t, m)
		// All CPUs claim core 0: one core of 16 threads.
		edit(t, root, func(b []string) []string {
			for i := range b {
				b[i] = regexp.MustCompile(`core id\t\t: [0-9]+`).ReplaceAllString(b[i], "core id\t\t: 0")
			}
			return b
		})
		refused(t, root, "into 1 physical cores, the sibling lists into 8")
	})
	t.Run("core ids pair CPUs the sibling lists do not", func(t *testing.T) {
		root := write(t, m)
		// Same number of cores, different pairs: CPU 8 and 9 swap cores.
		edit(t, root, func(b []string) []string {
			b[8] = strings.Replace(b[8], "core id\t\t: 0", "core id\t\t: 1", 1)
			b[9] = strings.Replace(b[9], "core id\t\t: 1", "core id\t\t: 0", 1)
			return b
		})
		refused(t, root, "does not group the CPUs")
	})
	t.Run("cpuinfo without ids: the sysfs ids, agreeing", func(t *testing.T) {
		root := write(t, m)
		edit(t, root, dropIDs)
		info, err := Read(root, nil, "")
		if err != nil || len(info.Cores) != 8 {
			t.Fatalf("Read: %d cores, %v", len(info.Cores), err)
		}
	})
	t.Run("cpuinfo without ids: sysfs core ids disagree with sibling lists", func(t *testing.T) {
		root := write(t, m)
		edit(t, root, dropIDs)
		for i := 0; i < 16; i++ {
			setSysfsIDs(t, root, i, "", "0")
		}
		refused(t, root, "into 1 physical cores, the sibling lists into 8")
	})
	t.Run("cpuinfo without ids: a sysfs id unreadable", func(t *testing.T) {
		root := write(t, m)
		edit(t, root, dropIDs)
		setSysfsIDs(t, root, 4, "zero", "")
		refused(t, root, "physical_package_id")
	})
}

// TestRead256 reads a 256-CPU, 2-node SMT tree. That reading skips the
// memory blocks of a big machine is checked on the whole binary under
// strace, in generator (TestGeneratorSkipsMemoryBlocks).
func TestRead256(t *testing.T) {
	m := fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2}
	info, err := read(t, m, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Online.Len() != 256 || len(info.Cores) != 128 || len(info.Nodes) != 2 {
		t.Fatalf("256-CPU tree read as %d CPUs, %d cores, %d nodes", info.Online.Len(), len(info.Cores), len(info.Nodes))
	}
}

func BenchmarkRead(b *testing.B) {
	for _, m := range []struct {
		name string
		m    fakesys.Machine
	}{
		{"8cpus", fakesys.Machine{CoresPerNode: 8}},
		{"256cpus-2nodes", fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2}},
		{"256cpus-8192memblocks", fakesys.Machine{Nodes: 2, CoresPerNode: 64, Threads: 2, MemoryBlocks: 8192}},
	} {
		root := write(b, m.m)
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Read(root, nil, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReadThisMachine reads this machine's own sysfs and /proc/cpuinfo
// (read-only): the cross-check must agree with a real kernel's two
// accounts of its cores.
func TestReadThisMachine(t *testing.T) {
	if _, err := os.Stat("/sys/devices/system/cpu/online"); err != nil {
		t.Skipf("no sysfs here: %v", err)
	}
	words, err := procfs.ReadCmdline("/")
	if err != nil {
		t.Skipf("no /proc/cmdline here: %v", err)
	}
	info, err := Read("/", words, "")
	if err != nil {
		t.Fatalf("this machine's topology refused: %v", err)
	}
	if info.Online.Len() == 0 || len(info.Cores) == 0 {
		t.Fatalf("read %d CPUs, %d cores", info.Online.Len(), len(info.Cores))
	}
}
