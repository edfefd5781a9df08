package guarantee

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// Measurement is the CPU set the core gets, as one place can tell.
type Measurement struct {
	// Set is the CPUs the core runs on.
	Set cpuset.Set
	// Source says how Set was measured.
	Source string
	// NotMeasured, when not empty, says why nothing could be measured here.
	NotMeasured string
	// Err is a measurement that failed (the core's CPU set is not known:
	// the guarantee fails).
	Err error
	// InCgroup is true when this process runs in the core's own cgroup:
	// the gate, run as the core's ExecCondition=.
	InCgroup bool
	// ExecCondition is the core's ExecCondition= commands as systemd has
	// them, when it was asked (Set measured over D-Bus).
	ExecCondition []Command
	// Slice is the core's slice as systemd has it, when it was asked
	// ("": not asked; the core's memory cgroup is then looked for in
	// system.slice).
	Slice string
	// SwapMax is the core's MemorySwapMax= as systemd has it (NoSwapLimit:
	// none), when SwapMaxKnown.
	SwapMax      uint64
	SwapMaxKnown bool
	// SliceSwapMax is MemorySwapMax= of Slice and of each slice above it
	// as systemd has them, by unit name (NoSwapLimit: none); a slice
	// systemd could not be asked about is missing. It counts for a slice
	// whose cgroup systemd has not made yet (the core never started in it).
	SliceSwapMax map[string]uint64
	// ConditionRoot is the core's RootDirectory= or RootImage= ("RootImage=/x")
	// when systemd runs its ExecCondition= there too (no
	// RootDirectoryStartOnly=yes), as systemd has them; "" otherwise.
	ConditionRoot string
}

// Command is one command line of a unit's Exec*= list, as systemd reports
// it: the program's path and its argv (argv[0] first).
type Command struct {
	// Path is the program systemd runs.
	Path string
	// Argv is its argument vector, argv[0] first.
	Argv []string
	// IgnoreFailure is systemd's ignore-failure flag (the "-" prefix of
	// the Exec*= line): a failing command counts as a success.
	IgnoreFailure bool
}

// Measure returns the CPU set the service core gets, where mode is how the
// plan is enforced and online the online CPUs (what "no restriction" means).
type Measure func(core string, mode generate.CPUMode, online cpuset.Set) Measurement

// CoreCPUs is the guarantee that the CPUs the core gets are the plan's core
// set. Why: an administrator's drop-in setting AllowedCPUs= (or
// CPUAffinity=) for the core overrides ours, and comparing our own files
// with the plan does not notice it: the core would run on CPUs the plan
// keeps for others while every other check passes.
func CoreCPUs(core string, out generate.Output, online cpuset.Set, measure Measure) Entry {
	want := out.Plan.Core
	e := Entry{Name: NameCoreCPUs, Expected: want.String()}
	m := measure(core, out.CPUMode, online)
	e.Source = m.Source
	switch {
	case m.NotMeasured != "":
		e.NotMeasured = true
		e.Reason = fmt.Sprintf("the CPUs %s gets are not measured: %s", core, m.NotMeasured)
		return e
	case m.Err != nil:
		e.Reason = fmt.Sprintf("the CPUs %s gets cannot be measured: %v", core, m.Err)
		e.Remedy = "fix the cause; the CPU plan is not guaranteed until then"
		return e
	}
	e.Actual = m.Set.String()
	e.OK, e.Reason = CompareCoreSet(core, want, m.Set)
	if !e.OK {
		e.Remedy = fmt.Sprintf("find the setting with: systemctl cat %s (a drop-in in /etc/systemd/system/%s.d/ that sets AllowedCPUs= or CPUAffinity=), remove it, then: systemctl daemon-reload and systemctl restart %s", core, core, core)
	}
	return e
}

// CompareCoreSet compares the CPUs the core gets with the plan's core set,
// and names the difference when they differ.
func CompareCoreSet(core string, want, got cpuset.Set) (bool, string) {
	if got.Equal(want) {
		return true, ""
	}
	var diff []string
	if extra := got.Difference(want); !extra.IsEmpty() {
		diff = append(diff, "it also gets CPUs "+extra.String()+", which the plan keeps from it")
	}
	if missing := want.Difference(got); !missing.IsEmpty() {
		diff = append(diff, "it lacks CPUs "+missing.String()+" of its own")
	}
	return false, fmt.Sprintf("%s gets CPUs %q, the plan gives it %q (%s): something overrides ransomeye-tuner's CPU drop-in", core, got.String(), want.String(), strings.Join(diff, ", and "))
}

// Applied is the CPU set a service gets from its AllowedCPUs= and
// CPUAffinity= properties (empty: no restriction, all online CPUs) inside
// its slice, whose cpuset.cpus.effective is parent (empty: not known, no
// restriction). With AllowedCPUs= enforced (cgroup v2 cpuset) all three
// restrict, and the kernel gives a cgroup whose own set misses its
// parent's entirely the parent's set; in the degraded CPUAffinity= mode
// only the affinity does.
//
// Why the slice: an administrator's AllowedCPUs=0-7 on the core under
// strict isolation leaves it on system.slice's 0-3, which is what the
// gate, measuring inside the core's cgroup, sees; status compared
// systemd's 0-7 with the plan and said not compliant while the gate let
// the core start (boot case 26).
func Applied(mode generate.CPUMode, online, parent, allowed, affinity cpuset.Set) cpuset.Set {
	set := online
	if mode == generate.CPUModeAllowedCPUs {
		if !allowed.IsEmpty() {
			set = set.Intersect(allowed)
		}
		if !parent.IsEmpty() {
			if in := set.Intersect(parent); !in.IsEmpty() {
				set = in
			} else {
				set = parent
			}
		}
	}
	if !affinity.IsEmpty() {
		set = set.Intersect(affinity)
	}
	return set
}

// FromMask decodes a CPU bitmask as systemd's D-Bus properties carry it
// (AllowedCPUs, CPUAffinity: bit i of byte j is CPU 8*j+i).
func FromMask(mask []byte) cpuset.Set {
	var ids []int
	for j, b := range mask {
		for i := 0; i < 8; i++ {
			if b&(1<<i) != 0 {
				ids = append(ids, 8*j+i)
			}
		}
	}
	return cpuset.Of(ids...)
}

// Systemd measures the core's CPU set in the running system: inside the
// core's own cgroup (the gate, run as its ExecCondition=), the affinity the
// kernel gives this process, which is what the core will get; elsewhere,
// systemd's AllowedCPUs and CPUAffinity properties of the unit, over D-Bus.
// Under a root prefix other than "/", or without a running systemd, nothing
// is measured.
func Systemd(root hostroot.Root) Measure {
	return func(core string, mode generate.CPUMode, online cpuset.Set) Measurement {
		if InUnitCgroup(root, core) {
			set, err := selfAffinity()
			return Measurement{Set: set, Err: err, InCgroup: true, Source: "the CPU affinity of the gate, running in " + core + "'s cgroup"}
		}
		if !root.IsHost() {
			return Measurement{NotMeasured: fmt.Sprintf("systemd cannot be asked about a root prefix (%q)", root.String())}
		}
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return Measurement{NotMeasured: "systemd is not running"}
		}
		if isTemplate(core) {
			return Measurement{NotMeasured: fmt.Sprintf("%s is a template: systemd has no properties for it; the gate of each instance measures it in the instance's cgroup", core)}
		}
		u, err := unitProperties(core)
		if err != nil {
			return Measurement{Err: err}
		}
		src := fmt.Sprintf("systemd's AllowedCPUs=%s CPUAffinity=%s of %s", u.allowed, u.affinity, core)
		var parent cpuset.Set
		if mode == generate.CPUModeAllowedCPUs && u.slice != "" {
			p, err := sliceEffective(root, u.slice)
			if err != nil {
				return Measurement{Err: err}
			}
			if !p.IsEmpty() {
				parent = p
				src += fmt.Sprintf(" in %s (cpuset.cpus.effective %s)", u.slice, p)
			}
		}
		return Measurement{Set: Applied(mode, online, parent, u.allowed, u.affinity), ExecCondition: u.conds, Source: src,
			Slice: u.slice, SwapMax: u.swapMax, SwapMaxKnown: u.swapMaxKnown, SliceSwapMax: sliceSwapMax(u.slice), ConditionRoot: u.conditionRoot}
	}
}

// isTemplate reports whether unit is a template ("x@.service").
func isTemplate(unit string) bool { return strings.HasSuffix(unit, "@.service") }

// InUnitCgroup reports whether this process runs in unit's own cgroup
// (/proc/self/cgroup under root ends with "/"+unit, or with
// "/"+unit+"/.control" for a unit with Delegate=yes), or, for a template
// unit "x@.service", in the cgroup of one of its instances
// ("/x@NAME.service"): the gate of a template core runs in its
// instance's cgroup, and systemd has no properties for the template.
func InUnitCgroup(root hostroot.Root, unit string) bool {
	f, err := os.Open(root.Path("/proc/self/cgroup"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// cgroup v2: "0::/system.slice/x.service"; v1: "N:name=systemd:/...".
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || (parts[0] != "0" && parts[1] != "name=systemd") {
			continue
		}
		// With Delegate=yes systemd runs the unit's control processes (the
		// gate among them) in its ".control" sub-cgroup; without stripping
		// it the gate of a delegated core would not know it runs in the
		// core's cgroup, and for a template core it would then answer "not
		// measured" and open whatever AllowedCPUs= is set.
		cg := strings.TrimSuffix(parts[2], "/.control")
		// systemd escapes some names in the cgroup tree ("cpu.service"
		// lives in "_cpu.service"): without this the gate of such a core
		// did not know it ran in the core's cgroup.
		if strings.HasSuffix(cg, "/"+unit) || strings.HasSuffix(cg, "/"+placement.CgroupEscape(unit)) {
			return true
		}
		if prefix, ok := strings.CutSuffix(unit, "@.service"); ok {
			last := cg[strings.LastIndexByte(cg, '/')+1:]
			if strings.HasPrefix(last, prefix+"@") && strings.HasSuffix(last, ".service") && len(last) > len(unit) {
				return true
			}
		}
	}
	return false
}

func selfAffinity() (cpuset.Set, error) {
	var m unix.CPUSet
	if err := unix.SchedGetaffinity(0, &m); err != nil {
		return cpuset.Set{}, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var ids []int
	for i := 0; i < len(m)*64; i++ {
		if m.IsSet(i) {
			ids = append(ids, i)
		}
	}
	return cpuset.Of(ids...), nil
}

// sliceEffective reads a slice's cpuset.cpus.effective (empty when the
// slice has no cpuset file: no restriction from it).
func sliceEffective(root hostroot.Root, slice string) (cpuset.Set, error) {
	p := root.Path(topology.CgroupDir + "/" + placement.SlicePath(slice) + "/cpuset.cpus.effective")
	b, err := readfile.Regular(p, 4096)
	if errors.Is(err, os.ErrNotExist) {
		return cpuset.Set{}, nil
	}
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("read the CPUs of %s: %w", slice, err)
	}
	set, err := cpuset.ParseMaybeEmpty(strings.TrimSpace(string(b)))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("%q: %w", p, err)
	}
	return set, nil
}

// unitProps are the properties of the core systemd is asked for.
type unitProps struct {
	allowed, affinity cpuset.Set
	slice             string
	conds             []Command
	swapMax           uint64
	swapMaxKnown      bool
	conditionRoot     string
}

// unitProperties asks systemd for the unit's AllowedCPUs, CPUAffinity,
// Slice, ExecCondition, MemorySwapMax, RootDirectory, RootImage and
// RootDirectoryStartOnly.
func unitProperties(unit string) (unitProps, error) {
	var u unitProps
	props, err := serviceProperties(unit)
	if err != nil {
		return u, err
	}
	a, okA := props["AllowedCPUs"].([]byte)
	c, okC := props["CPUAffinity"].([]byte)
	if !okA || !okC {
		return u, errors.New("systemd gave no AllowedCPUs or CPUAffinity property for " + unit)
	}
	conds, ok := Commands(props["ExecCondition"])
	if !ok {
		return u, fmt.Errorf("systemd gave no ExecCondition property for %s: a systemd older than 243 ignores ExecCondition=, so the gate does not run", unit)
	}
	u.allowed, u.affinity, u.conds = FromMask(a), FromMask(c), conds
	u.slice, _ = props["Slice"].(string)
	u.swapMax, u.swapMaxKnown = props["MemorySwapMax"].(uint64)
	if startOnly, _ := props["RootDirectoryStartOnly"].(bool); !startOnly {
		for _, k := range []string{"RootImage", "RootDirectory"} {
			if v, _ := props[k].(string); v != "" {
				u.conditionRoot = k + "=" + v
				break
			}
		}
	}
	return u, nil
}

// MemoryMeasure is what systemd says of the core's memory settings, for
// CoreMemory where the core's own cgroup is not at hand (activate): its
// Slice, its MemorySwapMax= and that of each slice on its path, asked over
// D-Bus. Nothing is asked under a root prefix, without a running systemd,
// or for a template (systemd has no properties for it): the core's memory
// cgroup is then looked for in system.slice. err says why systemd could
// not be asked.
func MemoryMeasure(root hostroot.Root, core string) (Measurement, error) {
	var m Measurement
	if !root.IsHost() || isTemplate(core) {
		return m, nil
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return m, nil
	}
	props, err := serviceProperties(core)
	if err != nil {
		return m, err
	}
	m.Slice, _ = props["Slice"].(string)
	m.SwapMax, m.SwapMaxKnown = props["MemorySwapMax"].(uint64)
	m.SliceSwapMax = sliceSwapMax(m.Slice)
	return m, nil
}

// sliceSwapMax asks systemd for MemorySwapMax= of slice and of each slice
// above it (sliceChain), by unit name; one it cannot ask about is left out.
func sliceSwapMax(slice string) map[string]uint64 {
	out := map[string]uint64{}
	for _, cg := range sliceChain(slice) {
		unit := unitOfCgroup(cg)
		props, err := unitTypeProperties(unit, "Slice")
		if err != nil {
			continue
		}
		if v, ok := props["MemorySwapMax"].(uint64); ok {
			out[unit] = v
		}
	}
	return out
}

// serviceProperties asks systemd for a service's properties over D-Bus.
func serviceProperties(unit string) (map[string]any, error) {
	return unitTypeProperties(unit, "Service")
}

// unitTypeProperties asks systemd for the properties of a unit's type
// ("Service", "Slice") over D-Bus.
func unitTypeProperties(unit, typ string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd: %w", err)
	}
	defer conn.Close()
	props, err := conn.GetUnitTypePropertiesContext(ctx, unit, typ)
	if err != nil {
		return nil, fmt.Errorf("ask systemd about %s: %w", unit, err)
	}
	return props, nil
}

// Commands decodes an Exec*= property as systemd's D-Bus API carries it
// (a(sasbttttuii): path, argv, ignore-failure, timestamps, pid, status);
// ok is false when v is not one.
func Commands(v any) ([]Command, bool) {
	list, ok := v.([][]any)
	if !ok {
		return nil, false
	}
	out := []Command{}
	for _, e := range list {
		if len(e) < 2 {
			return nil, false
		}
		p, okP := e[0].(string)
		argv, okA := e[1].([]string)
		if !okP || !okA {
			return nil, false
		}
		c := Command{Path: p, Argv: argv}
		if len(e) > 2 {
			// Kept: with "-" systemd starts the core whatever the gate
			// exits, so such a line must not count as the gate.
			if c.IgnoreFailure, ok = e[2].(bool); !ok {
				return nil, false
			}
		}
		out = append(out, c)
	}
	return out, true
}

// systemdPrivate is systemd's own D-Bus socket (root only); systemBus is
// the system bus's fixed socket path.
const (
	systemdPrivate = "unix:path=/run/systemd/private"
	systemBus      = "unix:path=/run/dbus/system_bus_socket"
)

// connect connects to systemd: as root directly at its private socket,
// else (or when that fails) to the system bus at its fixed path; never at
// the address DBUS_SYSTEM_BUS_ADDRESS names. Why: the gate runs as the
// core's ExecCondition=, in the core's environment, so an Environment= or
// EnvironmentFile= of the core setting DBUS_SYSTEM_BUS_ADDRESS would
// choose which bus answers for systemd about the core, and so what the
// gate believes about the core's CPUs and its ExecCondition=.
func connect(ctx context.Context) (*sddbus.Conn, error) {
	if os.Geteuid() == 0 {
		conn, err := sddbus.NewConnection(func() (*dbus.Conn, error) { return dial(ctx, systemdPrivate, false) })
		if err == nil {
			return conn, nil
		}
	}
	return sddbus.NewConnection(func() (*dbus.Conn, error) { return dial(ctx, systemBus, true) })
}

// dial opens an authenticated connection to the bus at addr (with Hello
// for a bus daemon; systemd's private socket takes none).
func dial(ctx context.Context, addr string, hello bool) (*dbus.Conn, error) {
	conn, err := dbus.Dial(addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	uid := strconv.Itoa(os.Getuid())
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(uid)}); err != nil {
		conn.Close()
		return nil, err
	}
	if hello {
		if err := conn.Hello(); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}
