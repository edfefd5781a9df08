package facts

import (
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
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/privilege"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// Core is the core service as systemd applies it: inside its cgroup (the
// gate, its ExecCondition=), this process's affinity; elsewhere systemd's
// unit properties over D-Bus; under a root prefix or without systemd,
// nothing.
type Core struct {
	Unit string
	// NotMeasured says why nothing could be measured here; Unread: because
	// this run is not root's.
	NotMeasured string
	Unread      bool
	Err         error
	// InCgroup: this process runs in the core's cgroup; Self its affinity.
	InCgroup bool
	Self     cpuset.Set
	// Allowed and Affinity are the unit's AllowedCPUs= and CPUAffinity=
	// (empty: no restriction), Slice its slice, SliceCPUs that slice's
	// cpuset.cpus.effective where AllowedCPUs= is enforced.
	Allowed, Affinity cpuset.Set
	Slice             string
	SliceCPUs         cpuset.Set
	SliceErr          error
	// ExecCondition is the unit's ExecCondition= as systemd has it.
	ExecCondition []Command
	// SwapMax is the unit's MemorySwapMax= (when SwapMaxKnown).
	SwapMax      uint64
	SwapMaxKnown bool
	// SliceSwapMax is MemorySwapMax= of Slice and of each slice above it
	// as systemd has them, by unit name (NoSwapLimit: none); a slice
	// systemd could not be asked about is missing. It counts for a slice
	// whose cgroup systemd has not made yet (the core never started in it).
	SliceSwapMax map[string]uint64
	// ConditionRoot is the unit's RootDirectory= or RootImage=
	// ("RootImage=/x") when its ExecCondition= runs there too.
	ConditionRoot string
}

// Command is one command of a unit's Exec*= list, as systemd reports it.
type Command struct {
	Path string
	Argv []string
	// IgnoreFailure is the "-" prefix: a failing command counts as success.
	IgnoreFailure bool
}

// measureCore measures the core unit; allowedCPUs: AllowedCPUs= is
// enforced, so the slice's CPUs count.
func measureCore(root hostroot.Root, unit string, allowedCPUs bool, self []procCgroup) Core {
	c := Core{Unit: unit}
	switch {
	case inUnitCgroup(self, unit):
		c.InCgroup = true
		c.Self, c.Err = selfAffinity()
		return c
	case !root.IsHost():
		c.NotMeasured = fmt.Sprintf("systemd cannot be asked about a root prefix (%q)", root.String())
		return c
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		c.NotMeasured = "systemd is not running"
		return c
	}
	if isTemplate(unit) {
		c.NotMeasured = fmt.Sprintf("%s is a template: systemd has no properties for it; the gate of each instance measures it in the instance's cgroup", unit)
		return c
	}
	c.Err = c.unitProperties()
	if errors.Is(c.Err, errConnect) && os.Geteuid() != 0 {
		// Root asks at systemd's private socket, which refuses others;
		// without a system bus a run that is not root's cannot ask at all.
		c.NotMeasured, c.Unread, c.Err = privilege.Reason(c.Err), true, nil
		return c
	}
	if c.Err == nil && allowedCPUs && c.Slice != "" {
		c.SliceCPUs, c.SliceErr = sliceEffective(root, c.Slice)
	}
	return c
}

// inUnitCgroup reports whether this process runs in unit's own cgroup (or
// its Delegate=yes ".control"), the name escaped as systemd does, or for a
// template in one of its instances' (systemd has no properties for it).
func inUnitCgroup(self []procCgroup, unit string) bool {
	for _, c := range self {
		// cgroup v2: "0::/system.slice/x.service"; v1: "N:name=systemd:/...".
		if c.id != "0" && c.name != "name=systemd" {
			continue
		}
		// Delegate=yes runs control processes in ".control".
		cg := strings.TrimSuffix(c.path, "/.control")
		// Some names are escaped ("_cpu.service").
		if strings.HasSuffix(cg, "/"+unit) || strings.HasSuffix(cg, "/"+names.CgroupEscape(unit)) {
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

// unitOfSelf is the service whose cgroup self places this process in (on
// cgroup v2 or systemd's v1 hierarchy; a unit with Delegate=yes runs its
// control processes in ".control"), "" when it is not a service's.
func unitOfSelf(self []procCgroup) string {
	for _, c := range self {
		if c.id != "0" && c.name != "name=systemd" {
			continue
		}
		cg := strings.TrimSuffix(c.path, "/.control")
		if last := cg[strings.LastIndexByte(cg, '/')+1:]; strings.HasSuffix(last, ".service") {
			return strings.TrimPrefix(last, "_")
		}
	}
	return ""
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

// sliceEffective reads a slice's cpuset.cpus.effective (empty when none: no
// restriction).
func sliceEffective(root hostroot.Root, slice string) (cpuset.Set, error) {
	p := root.Path(topology.CgroupDir + "/" + names.SlicePath(slice) + "/cpuset.cpus.effective")
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

// unitProperties asks systemd for the unit's properties Core holds.
func (c *Core) unitProperties() error {
	props, err := serviceProperties(c.Unit)
	if err != nil {
		return err
	}
	a, okA := props["AllowedCPUs"].([]byte)
	aff, okC := props["CPUAffinity"].([]byte)
	if !okA || !okC {
		return errors.New("systemd gave no AllowedCPUs or CPUAffinity property for " + c.Unit)
	}
	conds, ok := Commands(props["ExecCondition"])
	if !ok {
		return fmt.Errorf("systemd gave no ExecCondition property for %s: a systemd older than 243 ignores ExecCondition=, so the gate does not run", c.Unit)
	}
	c.Allowed, c.Affinity, c.ExecCondition = FromMask(a), FromMask(aff), conds
	c.Slice, _ = props["Slice"].(string)
	c.SwapMax, c.SwapMaxKnown = props["MemorySwapMax"].(uint64)
	c.SliceSwapMax = sliceSwapMax(c.Slice)
	if startOnly, _ := props["RootDirectoryStartOnly"].(bool); !startOnly {
		for _, k := range []string{"RootImage", "RootDirectory"} {
			if v, _ := props[k].(string); v != "" {
				c.ConditionRoot = k + "=" + v
				break
			}
		}
	}
	return nil
}

// AskMemory asks systemd what the core's memory cgroup will be when it
// starts (its Slice, its and its slices' MemorySwapMax=), for activate,
// which measures nothing else of the core. Not under a root prefix,
// without systemd, or for a template: system.slice is then taken. err says
// why systemd could not be asked.
func (c *Core) AskMemory(root hostroot.Root) error {
	if !root.IsHost() || isTemplate(c.Unit) {
		return nil
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return nil
	}
	props, err := serviceProperties(c.Unit)
	if err != nil {
		return err
	}
	c.Slice, _ = props["Slice"].(string)
	c.SwapMax, c.SwapMaxKnown = props["MemorySwapMax"].(uint64)
	c.SliceSwapMax = sliceSwapMax(c.Slice)
	return nil
}

// sliceSwapMax asks systemd for MemorySwapMax= of slice and of each slice
// above it (SliceChain), by unit name; one it cannot ask about is left out.
func sliceSwapMax(slice string) map[string]uint64 {
	out := map[string]uint64{}
	for _, cg := range SliceChain(slice) {
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
		return nil, fmt.Errorf("%w: %w", errConnect, err)
	}
	defer conn.Close()
	props, err := conn.GetUnitTypePropertiesContext(ctx, unit, typ)
	if err != nil {
		return nil, fmt.Errorf("ask systemd about %s: %w", unit, err)
	}
	return props, nil
}

// FromMask decodes a D-Bus CPU bitmask (bit i of byte j is CPU 8*j+i).
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

// Commands decodes an Exec*= property (a(sasbttttuii)); ok is false when v
// is not one. The ignore-failure flag is kept: with "-" systemd starts the
// core whatever the gate exits.
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
			if c.IgnoreFailure, ok = e[2].(bool); !ok {
				return nil, false
			}
		}
		out = append(out, c)
	}
	return out, true
}

// errConnect wraps a failure to reach systemd at all.
var errConnect = errors.New("connect to systemd")

// systemd's own socket (root only), and the system bus's fixed socket.
const (
	systemdPrivate = "unix:path=/run/systemd/private"
	systemBus      = "unix:path=/run/dbus/system_bus_socket"
)

// connect connects to systemd's private socket as root, else to the system
// bus's fixed socket; never where DBUS_SYSTEM_BUS_ADDRESS points, which the
// core's environment (the gate's) could set.
func connect(ctx context.Context) (*sddbus.Conn, error) {
	if os.Geteuid() == 0 {
		conn, err := sddbus.NewConnection(func() (*dbus.Conn, error) { return dial(ctx, systemdPrivate, false) })
		if err == nil {
			return conn, nil
		}
	}
	return sddbus.NewConnection(func() (*dbus.Conn, error) { return dial(ctx, systemBus, true) })
}

// dial opens an authenticated connection to addr (Hello for a bus daemon).
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
