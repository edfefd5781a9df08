package plan

import (
	"encoding/json"
	"strconv"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// The environment each pinned service gets from its EnvDropIn: a contract
// with the services (ransomeye-tuner(8)).
const (
	// EnvCPUs is the CPU list the service may use ("0-3,8").
	EnvCPUs = "RANSOMEYE_CPUS"
	// EnvCPUCount is the number of CPUs in EnvCPUs.
	EnvCPUCount = "RANSOMEYE_CPU_COUNT"
	// EnvNUMANode is the NUMA node holding all of EnvCPUs, or -1.
	EnvNUMANode = "RANSOMEYE_NUMA_NODE"
	// EnvReserved is 1 when the CPUs are the service's alone, else 0.
	EnvReserved = "RANSOMEYE_CPUS_RESERVED"
)

// EnvDropIn hands each pinned service its CPUs through the environment.
const EnvDropIn = "cpu-environment.conf"

// irqbalance's drop-in bans the CPUs outside the core set as a list and as
// a mask: 1.7 (Debian 11) reads only the mask, later versions the list.
// "00-": of two Environment= assignments the later file wins, and ours
// must not replace an administrator's IRQBALANCE_ARGS.
const (
	IRQBalanceUnit    = "irqbalance.service"
	IRQBalanceDropIn  = "00-ransomeye-tuner-banned-cpus.conf"
	IRQBalanceEnvList = "IRQBALANCE_BANNED_CPULIST"
	IRQBalanceEnvMask = "IRQBALANCE_BANNED_CPUS"
)

// IRQBalancePolicy is the policy script that keeps irqbalance off the
// capture interface's interrupts (named by IRQBalanceEnvCapture): it
// balances all it may onto its unbanned CPUs, the capture queues too.
const (
	IRQBalancePolicy     = "/usr/lib/ransomeye-tuner/irqbalance-policy"
	IRQBalanceEnvArgs    = "IRQBALANCE_ARGS"
	IRQBalanceEnvCapture = "RANSOMEYE_CAPTURE_INTERFACE"
)

// Env returns the service's environment variables, in a fixed order.
func (s Service) Env() [][2]string {
	r := "0"
	if s.Reserved {
		r = "1"
	}
	return [][2]string{
		{EnvCPUs, s.CPUs.String()},
		{EnvCPUCount, strconv.Itoa(s.CPUs.Len())},
		{EnvNUMANode, strconv.Itoa(s.Node)},
		{EnvReserved, r},
	}
}

// nodeOf returns the NUMA node holding all of set, or -1.
func nodeOf(t topology.Info, set cpuset.Set) int {
	for _, n := range t.Nodes {
		if !set.IsEmpty() && set.IsSubsetOf(n.CPUs) {
			return n.ID
		}
	}
	return -1
}

// environment gives each role's service its CPUs from the plan, with its
// environment drop-in, and with a reservation irqbalance's banned CPUs:
// every online CPU outside the core set (irqbalance bans isolated CPUs
// itself only when the variable is unset). With capture CPUs, the policy
// script through IRQBALANCE_ARGS, which an administrator's own value
// overrides (not ExecStart=, which would drop theirs).
func (p *Plan) environment(f *facts.Facts) {
	for _, r := range roles.Table {
		set := p.CPU.CPUs(r.Name)
		if !p.CPU.Reserved {
			set = p.CPU.Usable
		}
		s := Service{Role: r, Unit: f.Config.Units[r.Name], CPUs: set, Node: nodeOf(f.Topology, set), Reserved: p.CPU.Reserved}
		p.Services = append(p.Services, s)
		var opts []*units.Option
		for _, kv := range s.Env() {
			opts = append(opts, units.Opt("Service", "Environment", kv[0]+"="+kv[1]))
		}
		p.Files = append(p.Files, units.File{Dir: units.Normal, Path: s.Unit + ".d/" + EnvDropIn, Content: units.Serialize(opts...), CPU: true, Advisory: true})
	}
	if !p.CPU.Reserved {
		return
	}
	banned := p.IRQBalanceBanned(f)
	opts := []*units.Option{
		units.Opt("Service", "Environment", IRQBalanceEnvList+"="+banned.String()),
		units.Opt("Service", "Environment", IRQBalanceEnvMask+"="+banned.Mask()),
	}
	if nic := f.Config.DPIInterface; nic != "" && !p.CaptureCPUs().IsEmpty() {
		opts = append(opts,
			units.Opt("Service", "Environment", IRQBalanceEnvArgs+"=--policyscript="+IRQBalancePolicy),
			units.Opt("Service", "Environment", IRQBalanceEnvCapture+"="+nic))
	}
	p.Files = append(p.Files, units.File{Dir: units.Normal, Path: IRQBalanceUnit + ".d/" + IRQBalanceDropIn, CPU: true, Advisory: true,
		Content: units.Serialize(opts...)})
}

// Doc is the CPU plan as machines read it (plan --json, the plan file);
// fields are only added, a change of meaning bumps Version.
type Doc struct {
	Version   int          `json:"version"`
	Enabled   bool         `json:"enabled"`
	PlanMade  bool         `json:"plan_made"`
	Reserved  bool         `json:"reserved"`
	Reason    string       `json:"reason,omitempty"`
	Isolation string       `json:"isolation,omitempty"`
	Mode      string       `json:"mode"`
	Online    string       `json:"online,omitempty"`
	Usable    string       `json:"usable,omitempty"`
	Services  []ServiceDoc `json:"services"`
	// IRQBalanceBanned is the CPU list irqbalance is told to leave alone.
	IRQBalanceBanned string `json:"irqbalance_banned_cpus,omitempty"`
	// CaptureInterface is [CPU] DPIInterface=; CaptureNode its NUMA node.
	CaptureInterface string `json:"capture_interface,omitempty"`
	CaptureNode      int    `json:"capture_numa_node"`
}

// ServiceDoc is one service in a Doc.
type ServiceDoc struct {
	Role        string            `json:"role"`
	Unit        string            `json:"unit"`
	CPUs        string            `json:"cpus"`
	CPUCount    int               `json:"cpu_count"`
	NUMANode    int               `json:"numa_node"`
	Reserved    bool              `json:"reserved"`
	Environment map[string]string `json:"environment"`
}

// Doc returns the plan document of p, decided on f.
func (p Plan) Doc(f *facts.Facts) Doc {
	d := Doc{Version: placement.Version, Enabled: p.Enabled, PlanMade: p.PlanMade, Reserved: p.CPU.Reserved,
		Reason: p.ReasonNoPlan(f), Isolation: string(p.Isolation), Mode: string(p.CPUMode), Services: []ServiceDoc{}, CaptureNode: -1}
	if p.PlanMade {
		d.Online = f.Topology.Online.String()
		d.Usable = p.CPU.Usable.String()
		d.IRQBalanceBanned = p.IRQBalanceBanned(f).String()
		d.CaptureInterface = f.Topology.NIC
		d.CaptureNode = f.Topology.NICNode
	}
	for _, s := range p.Services {
		env := map[string]string{}
		for _, kv := range s.Env() {
			env[kv[0]] = kv[1]
		}
		d.Services = append(d.Services, ServiceDoc{Role: s.Role.Name, Unit: s.Unit, CPUs: s.CPUs.String(), CPUCount: s.CPUs.Len(),
			NUMANode: s.Node, Reserved: s.Reserved, Environment: env})
	}
	return d
}

// JSON renders the document, indented, with a final newline.
func (d Doc) JSON() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return append(b, '\n')
}
