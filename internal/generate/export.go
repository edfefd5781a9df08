package generate

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// The environment each pinned service gets from its EnvDropIn: the
// product's contract with the services (documented in
// ransomeye-tuner(8)); change them only with it.
const (
	// EnvCPUs is the CPU list the service may use, kernel list syntax
	// ("4-5", "0-3,8").
	EnvCPUs = "RANSOMEYE_CPUS"
	// EnvCPUCount is the number of CPUs in EnvCPUs.
	EnvCPUCount = "RANSOMEYE_CPU_COUNT"
	// EnvNUMANode is the NUMA node holding every CPU of EnvCPUs, or -1
	// when they span nodes.
	EnvNUMANode = "RANSOMEYE_NUMA_NODE"
	// EnvReserved is 1 when the CPUs are the service's alone (a
	// reservation), 0 when they are shared with everything else.
	EnvReserved = "RANSOMEYE_CPUS_RESERVED"
)

// EnvDropIn is the file name of the drop-in that hands each pinned
// service its CPUs through the environment.
const EnvDropIn = "cpu-environment.conf"

// IRQBalanceUnit is irqbalance's service; IRQBalanceDropIn is the drop-in
// that bans the CPUs outside the core set from its balancing, as a list
// (IRQBalanceEnvList) and as a hexadecimal mask (IRQBalanceEnvMask). Why
// both: irqbalance reads the list from 1.8 on, and Debian 11's 1.7.0 reads
// only the mask (its binary has no IRQBALANCE_BANNED_CPULIST), so with the
// list alone it balanced interrupts onto the reserved CPUs; 1.9 (Debian 12
// and 13) reads the mask first, and logs that the mask is deprecated.
//
// Why "00-": systemd applies a unit's drop-ins from every directory in
// file-name order, and of two Environment= assignments of a variable the
// later wins. Named after the administrator's override.conf (what
// `systemctl edit irqbalance` writes) or 50-*.conf, ours replaced their
// IRQBALANCE_ARGS; sorting first, theirs stay whole.
const (
	IRQBalanceUnit    = "irqbalance.service"
	IRQBalanceDropIn  = "00-ransomeye-tuner-banned-cpus.conf"
	IRQBalanceEnvList = "IRQBALANCE_BANNED_CPULIST"
	IRQBalanceEnvMask = "IRQBALANCE_BANNED_CPUS"
)

// IRQBalancePolicy is the policy script the package ships for irqbalance's
// --policyscript; IRQBalanceEnvCapture names, in irqbalance's environment,
// the capture interface whose interrupts the script bans from balancing.
// Why: irqbalance moves every interrupt it may balance onto its unbanned
// CPUs, so with only the banned CPU list it took the capture queues steered
// to the DPI CPUs back onto the core's at its next pass.
const (
	IRQBalancePolicy     = "/usr/lib/ransomeye-tuner/irqbalance-policy"
	IRQBalanceEnvArgs    = "IRQBALANCE_ARGS"
	IRQBalanceEnvCapture = "RANSOMEYE_CAPTURE_INTERFACE"
)

// PlanVersion is the "version" of the plan document; it changes only
// when a field changes meaning or goes away.
const PlanVersion = 1

// Role is what a pinned service is for.
type Role string

// The roles of the three pinned services.
const (
	RoleCore     Role = "core"
	RoleDPI      Role = "dpi"
	RoleTraining Role = "training"
)

// ServiceCPUs is what one pinned service may use: the same sets as its
// AllowedCPUs=/CPUAffinity= drop-in, or, without a reservation, the usable
// CPUs it shares with everything else.
type ServiceCPUs struct {
	Role     Role
	Unit     string
	CPUs     cpuset.Set
	Node     int
	Reserved bool
}

// Env returns the service's environment variables, in a fixed order.
func (s ServiceCPUs) Env() [][2]string {
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

// assignServices gives each pinned service its CPUs from out.Plan (which
// must be made).
func assignServices(cfg config.Config, t topology.Info, out *Output) {
	p := out.Plan
	sets := []struct {
		role Role
		unit string
		set  cpuset.Set
	}{{RoleCore, cfg.CoreService, p.Core}, {RoleDPI, cfg.DPIService, p.DPI}, {RoleTraining, cfg.TrainingService, p.Training}}
	for _, s := range sets {
		set := s.set
		if !p.Reserved {
			set = p.Usable
		}
		out.Services = append(out.Services, ServiceCPUs{Role: s.role, Unit: s.unit, CPUs: set, Node: nodeOf(t, set), Reserved: p.Reserved})
	}
}

// renderEnv adds each service's environment drop-in and, with a
// reservation, irqbalance's banned CPUs: every online CPU outside the core
// set (irqbalance's own ban of isolated and nohz_full CPUs applies only
// when the variable is unset, so the list must hold them too). With a
// capture interface and DPI CPUs, irqbalance also runs IRQBalancePolicy,
// which keeps its hands off that interface's interrupts, through
// IRQBALANCE_ARGS: an Environment= value, which an IRQBALANCE_ARGS the
// administrator set in the distribution's EnvironmentFile= or in a drop-in
// of theirs overrides (their arguments stay whole; the man page says to
// add the script to them).
// Replacing ExecStart= instead would drop their arguments or the
// distribution's own flags, which differ between distributions.
func renderEnv(in Input, out *Output) {
	for _, s := range out.Services {
		opts := []*unit.UnitOption{}
		for _, kv := range s.Env() {
			opts = append(opts, unit.NewUnitOption("Service", "Environment", kv[0]+"="+kv[1]))
		}
		out.Files = append(out.Files, File{Dir: Normal, Path: s.Unit + ".d/" + EnvDropIn, Content: serialize(opts), CPU: true, Advisory: true})
	}
	if out.Plan.Reserved {
		banned := in.Topology.Online.Difference(out.Plan.Core)
		opts := []*unit.UnitOption{
			unit.NewUnitOption("Service", "Environment", IRQBalanceEnvList+"="+banned.String()),
			unit.NewUnitOption("Service", "Environment", IRQBalanceEnvMask+"="+banned.Mask()),
		}
		if nic := in.Config.DPIInterface; nic != "" && !out.Plan.DPI.IsEmpty() {
			opts = append(opts,
				unit.NewUnitOption("Service", "Environment", IRQBalanceEnvArgs+"=--policyscript="+IRQBalancePolicy),
				unit.NewUnitOption("Service", "Environment", IRQBalanceEnvCapture+"="+nic))
		}
		out.Files = append(out.Files, File{Dir: Normal, Path: IRQBalanceUnit + ".d/" + IRQBalanceDropIn, CPU: true, Advisory: true,
			Content: serialize(opts)})
	}
}

// IRQBalanceBanned returns the CPUs irqbalance must leave alone under out
// (empty without a reservation).
func (o Output) IRQBalanceBanned(t topology.Info) cpuset.Set {
	if !o.Plan.Reserved {
		return cpuset.Set{}
	}
	return t.Online.Difference(o.Plan.Core)
}

// PlanDoc is the CPU plan as machines read it: `ransomeye-tuner plan
// --json` and the plan file activate writes. Fields are only added; a
// change of meaning bumps Version.
type PlanDoc struct {
	Version   int    `json:"version"`
	Enabled   bool   `json:"enabled"`
	PlanMade  bool   `json:"plan_made"`
	Reserved  bool   `json:"reserved"`
	Reason    string `json:"reason,omitempty"`
	Isolation string `json:"isolation,omitempty"`
	Mode      string `json:"mode"`
	Online    string `json:"online,omitempty"`
	Usable    string `json:"usable,omitempty"`
	// Services are the pinned services, core first.
	Services []ServiceDoc `json:"services"`
	// IRQBalanceBanned is the CPU list irqbalance is told to leave alone.
	IRQBalanceBanned string `json:"irqbalance_banned_cpus,omitempty"`
	// CaptureInterface is [CPU] DPIInterface=; CaptureNode its NUMA node
	// (-1 unknown).
	CaptureInterface string `json:"capture_interface,omitempty"`
	CaptureNode      int    `json:"capture_numa_node"`
}

// ServiceDoc is one service in a PlanDoc.
type ServiceDoc struct {
	Role        Role              `json:"role"`
	Unit        string            `json:"unit"`
	CPUs        string            `json:"cpus"`
	CPUCount    int               `json:"cpu_count"`
	NUMANode    int               `json:"numa_node"`
	Reserved    bool              `json:"reserved"`
	Environment map[string]string `json:"environment"`
}

// Doc returns the plan document for in and out (a Render of in).
func Doc(in Input, out Output) PlanDoc {
	d := PlanDoc{Version: PlanVersion, Enabled: out.Enabled, PlanMade: out.PlanMade, Reserved: out.Plan.Reserved,
		Reason: out.Plan.Reason, Isolation: string(out.Isolation), Mode: string(out.CPUMode),
		Services: []ServiceDoc{}, CaptureNode: -1}
	switch {
	case !out.Enabled:
		d.Reason = names.CmdlineSwitch + "=0 on the kernel command line"
	case in.ConfigErr != nil:
		// The error names itself ("invalid configuration: FILE:LINE: ...")
		// when the file was read; a file that cannot be read says so.
		d.Reason = in.ConfigErr.Error()
		if !strings.HasPrefix(d.Reason, "invalid configuration") {
			d.Reason = "invalid configuration: " + d.Reason
		}
	case out.Isolation == config.IsolationOff:
		d.Reason = "CPU isolation is off ([CPU] Isolation=off)"
	case in.TopologyErr != nil:
		d.Reason = "no trustworthy CPU topology: " + in.TopologyErr.Error()
	}
	if out.PlanMade {
		d.Online = in.Topology.Online.String()
		d.Usable = out.Plan.Usable.String()
		d.IRQBalanceBanned = out.IRQBalanceBanned(in.Topology).String()
		d.CaptureInterface = in.Topology.NIC
		d.CaptureNode = in.Topology.NICNode
	}
	for _, s := range out.Services {
		env := map[string]string{}
		for _, kv := range s.Env() {
			env[kv[0]] = kv[1]
		}
		d.Services = append(d.Services, ServiceDoc{Role: s.Role, Unit: s.Unit, CPUs: s.CPUs.String(), CPUCount: s.CPUs.Len(),
			NUMANode: s.Node, Reserved: s.Reserved, Environment: env})
	}
	return d
}

// JSON renders the document, indented, with a final newline.
func (d PlanDoc) JSON() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return append(b, '\n')
}
