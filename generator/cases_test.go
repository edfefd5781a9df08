package main

import "github.com/ransomeye/ransomeye-tuner/testkit/fakesys"

// goldenCase is one directory under testdata: its fake root is written from
// the Machine with -update, and committed so it can be inspected.
type goldenCase struct {
	name string
	m    fakesys.Machine
}

const confPath = "/etc/ransomeye/tuner.conf"

func conf(text string) map[string]string { return map[string]string{confPath: text} }

var goldenCases = []goldenCase{
	{"01-no-config", fakesys.Machine{CoresPerNode: 2}},
	{"02-8cpu", fakesys.Machine{Nodes: 1, CoresPerNode: 8}},
	{"03-2node-smt", fakesys.Machine{Nodes: 2, CoresPerNode: 8, Threads: 2, NICs: map[string]int{"ens1f0": 1},
		Files: conf("[CPU]\nDPIInterface=ens1f0\n")}},
	{"04-fewer-than-8-cores", fakesys.Machine{Nodes: 1, CoresPerNode: 4, Threads: 2, Numbering: fakesys.Adjacent}},
	{"05-cmdline-off", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Cmdline: "root=/dev/nvme0n1 ransomeye.tuner=0 quiet",
		Files: conf("[Swap]\nPath=/swapfile\n")}},
	{"06-path-swapfile", fakesys.Machine{CoresPerNode: 2, Files: conf("# the original specification's path\n[Swap]\nPath=/swapfile\n")}},
	{"07-invalid-config", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf(
		"[Swap]\nPath=relative/swap\nMinSize=999999T\nBogus=1\n[CPU]\nIsolation=sometimes\nCoreService=evil%n.service\n" +
			"garbage line\n[Nope]\nX=y\n")}},
	{"08-cgroup-v1", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Cgroup: fakesys.CgroupV1}},
	{"09-odd-path-escaping", fakesys.Machine{CoresPerNode: 2, Files: conf("[Swap]\nPath=/srv/swap dir/ransom-eye%h_ü.swap\n")}},
	{"10-dropin-precedence", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: map[string]string{
		confPath: "[Swap]\nPath=/a/swap\n[CPU]\nIsolation=strict\n",
		"/etc/ransomeye/tuner.conf.d/10-disk.conf":     "[Swap]\nPath=/b/swap\nPath=/data/swap\n",
		"/etc/ransomeye/tuner.conf.d/20-services.conf": "[CPU]\nIsolation=services\n",
		"/etc/ransomeye/tuner.conf.d/30-ignored.txt":   "[Swap]\nPath=/ignored\n",
	}}},
	{"11-fstab-has-path", fakesys.Machine{CoresPerNode: 2, Files: map[string]string{
		"/etc/fstab": "# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=1234 / ext4 errors=remount-ro 0 1\n/ransomeye/swap none swap sw 0 0\n",
	}}},
	{"12-services-mode", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[CPU]\nIsolation=services\n")}},
	{"13-off-mode", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[CPU]\nIsolation=off\n")}},
	{"14-core-service-renamed", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[CPU]\nCoreService=ransomeye-db.service\n")}},
	{"15-malformed-cpu-list", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Override: map[string]string{
		"/sys/devices/system/cpu/online": "10-6\n"}}},
	{"16-cpuinfo-missing", fakesys.Machine{Nodes: 1, CoresPerNode: 8, NoCPUInfo: true}},
	{"17-unreadable-config", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: map[string]string{
		confPath + "/this-is-a-directory": "a configuration file that is a directory cannot be read\n"}}},
	{"18-isolcpus-restricted-cpuset", fakesys.Machine{Nodes: 1, CoresPerNode: 12, Cmdline: "root=/dev/nvme0n1 isolcpus=domain,managed_irq,10-N",
		Isolated:   "10-11",
		RootCpuset: "0-10"}},
	{"19-cgroup-v2-no-cpuset", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Cgroup: fakesys.CgroupV2NoCpuset}},
	{"20-unknown-keys-warned", fakesys.Machine{CoresPerNode: 2, Files: conf("[Swap]\nPath=/ransomeye/swap\nColour=blue\n[Future]\nKey=1\n")}},
	{"21-percent-and-continuation", fakesys.Machine{CoresPerNode: 2, Files: conf("[Swap]\nPath=/data/%i\\\n  swap\n")}},
	{"22-huge-values", fakesys.Machine{CoresPerNode: 2, Files: conf("[Swap]\nMinSize=99999999999999999999999G\n[Sysctl]\nSwappiness=100000000000000000000\n")}},
	{"23-control-characters", fakesys.Machine{CoresPerNode: 2, Files: conf("[Swap]\r\nPath=/ransom\x1beye/swap\r\n[CPU]\r\nCoreService=core\x7f.service\r\n")}},
	// Without a reservation the environment still names what the services
	// may use; over two nodes RANSOMEYE_NUMA_NODE is -1.
	{"24-env-no-reservation-2node", fakesys.Machine{Nodes: 2, CoresPerNode: 3}},
	// The capture interface on node 0 pulls DPI there; irqbalance's ban
	// covers both reserved sets.
	{"25-capture-interface-node0", fakesys.Machine{Nodes: 2, CoresPerNode: 6, NICs: map[string]int{"eth1": 0},
		Files: conf("[CPU]\nDPIInterface=eth1\n")}},
	// A renamed core keeps its gate whatever else is wrong.
	{"26-invalid-config-core-renamed", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[CPU]\nCoreService=mydb.service\n[Sysctl]\nSwappiness=1O\n")}},
	// A line continuation after a typo swallows the [CPU] header: every
	// unit a CoreService= line names is gated, in any section.
	{"27-swallowed-cpu-header-core-gated", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[Sysctl]\nSwappiness=1O \\\n[CPU]\nCoreService=mydb.service\n[Metrics]\nCoreService=other.service\n")}},
	// The DPI CPUs named on the capture NIC's node (whole cores, siblings
	// 28-29 with them); training still chosen by the plan, the core the rest.
	{"28-named-dpi-cpus", fakesys.Machine{Nodes: 2, CoresPerNode: 8, Threads: 2, NICs: map[string]int{"ens1f0": 1},
		Files: conf("[CPU]\nDPIInterface=ens1f0\nDPICPUs=12-13,28-29\n")}},
	// Named CPUs this machine cannot give (half of each core): no CPU
	// drop-ins at all, an ERR line; the plan's own choice is not used.
	{"29-named-cpus-half-cores", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Threads: 2, Files: conf("[CPU]\nDPICPUs=4-5\n")}},
	// Every [Memory] setting off: no memory drop-in at all.
	{"30-memory-off", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[Memory]\nCoreLow=off\nDPISwapMax=off\nTrainingHigh=off\nTrainingSwapMax=infinity\n")}},
	// Sizes and a protection for DPI too: with a reservation DPI runs in
	// ransomeye-dpi.slice, so that slice and ransomeye.slice above it get
	// DPI's protection; system.slice the core's alone; a template core's
	// instances run in its own slice below system.slice.
	{"31-memory-sizes-template-core", fakesys.Machine{Nodes: 1, CoresPerNode: 8, MemTotalKiB: 64 << 20, Files: conf(
		"[CPU]\nCoreService=ransomeye-db@.service\n[Memory]\nCoreMin=8G\nCoreLow=60%\nDPILow=2G\nTrainingHigh=12.5%\nTrainingSwapMax=0\n")}},
	// A bad [Memory] value is an invalid configuration: no units, the
	// file and line named.
	{"32-memory-invalid", fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[Memory]\nCoreLow=120%\nTrainingHigh=0\nCoreSwapMax=1G\nDPIHigh=lots\n")}},
	// Without a reservation DPI and training stay in system.slice beside
	// the core: system.slice carries the sum of the protections below it.
	{"33-memory-no-reservation-sum", fakesys.Machine{CoresPerNode: 4, Files: conf("[Memory]\nDPILow=1G\n")}},
}
