package facts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// This file is the core's memory cgroup, through which the swap and
// swappiness guarantees reach the core (docs/design.md, "The core's memory
// cgroup"): on cgroup v1 its own memory.swappiness, copied from its parent
// when made; on cgroup v2 any memory.swap.max on its path.

// MemoryV1Dir is the cgroup v1 memory hierarchy as systemd mounts it.
const MemoryV1Dir = topology.CgroupDir + "/memory"

// MemoryKind is the memory controller this machine runs.
type MemoryKind int

const (
	MemoryNone MemoryKind = iota // no memory controller
	MemoryV1                     // cgroup v1 memory hierarchy (legacy, hybrid)
	MemoryV2                     // unified hierarchy with the memory controller
)

// NoSwapLimit is MemorySwapMax= "infinity" as D-Bus carries it.
const NoSwapLimit = ^uint64(0)

// Memory is the core's memory cgroup as the kernel has it now.
type Memory struct {
	Kind MemoryKind
	// Cgroup is the core's cgroup below the hierarchy's root (CoreCgroup).
	Cgroup string
	// Swappiness (v1) is what the core reclaims with, read from cgroup
	// From: its own, else the nearest ancestor's, which it copies.
	Swappiness int
	From       string
	// Limit (v2) is the smallest memory.swap.max on the core's path, or
	// MemorySwapMax= of a core not running.
	Limit SwapLimit
	// Err: what the core gets cannot be measured.
	Err error
}

// SwapLimit is the smallest memory.swap.max on the core's path.
type SwapLimit struct {
	Bytes   uint64
	Cgroup  string // the cgroup that sets it ("": the unit's property)
	Unit    string // the unit whose MemorySwapMax= sets it
	Limited bool
}

// procCgroup is one line of /proc/self/cgroup.
type procCgroup struct {
	id          string
	controllers []string // empty for the unified hierarchy ("0::/...")
	name        string   // "name=systemd", or ""
	path        string
}

// selfCgroups reads /proc/self/cgroup under root (nil when unreadable: no
// controller known). Not the mounts: under a test's root prefix it is
// absent unless faked, so a test never reads this machine's cgroups.
func selfCgroups(root hostroot.Root) []procCgroup { return readCgroups(root, "/proc/self/cgroup") }

// readCgroups reads a /proc/PID/cgroup file under root (nil: unreadable).
func readCgroups(root hostroot.Root, p string) []procCgroup {
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return nil
	}
	var out []procCgroup
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		c := procCgroup{id: parts[0], path: parts[2]}
		for _, w := range strings.Split(parts[1], ",") {
			switch {
			case strings.HasPrefix(w, "name="):
				c.name = w
			case w != "":
				c.controllers = append(c.controllers, w)
			}
		}
		out = append(out, c)
	}
	return out
}

// memoryHierarchy returns the memory controller and this process's memory
// cgroup in it.
func memoryHierarchy(files *CgroupFiles, self []procCgroup) (MemoryKind, string) {
	var unified string
	hasUnified := false
	for _, c := range self {
		if slices.Contains(c.controllers, "memory") {
			return MemoryV1, c.path
		}
		if len(c.controllers) == 0 && c.name == "" {
			unified, hasUnified = c.path, true
		}
	}
	if !hasUnified {
		return MemoryNone, ""
	}
	b, err := files.Read(topology.CgroupDir + "/cgroup.controllers")
	if err != nil || !slices.Contains(strings.Fields(string(b)), "memory") {
		return MemoryNone, ""
	}
	return MemoryV2, unified
}

// CoreCgroup is the core's cgroup below the memory hierarchy's root: the
// gate's own when it runs in it (".control" of Delegate=yes left out),
// else slice/escaped name (the slice alone for a template). slice "" is
// system.slice.
func CoreCgroup(core, slice string, inCgroup bool, self string) string {
	if inCgroup && self != "" {
		return path.Clean(strings.TrimSuffix(self, "/.control"))
	}
	if slice == "" {
		slice = "system.slice"
	}
	p := "/" + names.SlicePath(slice)
	if !isTemplate(core) {
		p = path.Join(p, names.CgroupEscape(core))
	}
	return path.Clean(p)
}

// SliceChain returns the cgroups of slice and the slices above it,
// outermost first.
func SliceChain(slice string) []string {
	var out []string
	p := "/"
	for _, c := range strings.Split(names.SlicePath(slice), "/") {
		if c == "" {
			continue
		}
		p = path.Join(p, c)
		out = append(out, p)
	}
	return out
}

// readMemory reads the core's memory cgroup where c (its measurement)
// places it: its files through files, vm.swappiness (what the root memory
// cgroup of cgroup v1 holds) through swappiness.
func readMemory(files *CgroupFiles, c Core, self []procCgroup, swappiness func() (string, error)) Memory {
	root := files.Root()
	kind, own := memoryHierarchy(files, self)
	m := Memory{Kind: kind, Cgroup: CoreCgroup(c.Unit, c.Slice, c.InCgroup, own)}
	switch kind {
	case MemoryV1:
		m.Swappiness, m.From, m.Err = memoryV1Swappiness(files, m.Cgroup, swappiness)
	case MemoryV2:
		m.Limit, m.Err = memoryV2SwapLimit(files, m.Cgroup)
		// A core not running has no cgroup: its MemorySwapMax= counts.
		l := m.Limit
		if _, err := os.Stat(root.Path(topology.CgroupDir + m.Cgroup)); m.Err == nil && err != nil && c.SwapMaxKnown && c.SwapMax != NoSwapLimit && (!l.Limited || c.SwapMax < l.Bytes) {
			m.Limit = SwapLimit{Bytes: c.SwapMax, Unit: c.Unit, Limited: true}
		}
		if m.Err == nil {
			m.Limit, m.Err = sliceLimits(root, c, m.Limit)
		}
	}
	return m
}

// sliceLimits adds to l the MemorySwapMax= systemd has for each slice on
// the core's path whose cgroup it has not made yet (an error for one it
// gave no value for): status must judge as the gate will once the slice
// exists. Only where systemd was asked, outside the core's cgroup.
func sliceLimits(root hostroot.Root, c Core, l SwapLimit) (SwapLimit, error) {
	if c.InCgroup || c.Slice == "" {
		return l, nil
	}
	for _, sc := range SliceChain(c.Slice) {
		if _, err := os.Stat(root.Path(topology.CgroupDir + sc)); err == nil {
			continue // its memory.swap.max was read
		}
		unit := unitOfCgroup(sc)
		v, ok := c.SliceSwapMax[unit]
		if !ok {
			return l, fmt.Errorf("systemd has not made the cgroup of %s yet, and its MemorySwapMax= is not known (see: systemctl show -p MemorySwapMax %s)", unit, unit)
		}
		if v != NoSwapLimit && (!l.Limited || v < l.Bytes) {
			l = SwapLimit{Bytes: v, Unit: unit, Limited: true}
		}
	}
	return l, nil
}

// memoryV1Swappiness reads the memory.swappiness cg reclaims with: its
// own, else its nearest existing ancestor's ("/": vm.swappiness); from is
// the cgroup read.
func memoryV1Swappiness(files *CgroupFiles, cg string, swappiness func() (string, error)) (val int, from string, err error) {
	for p := path.Clean(cg); ; p = path.Dir(p) {
		var s string
		if p == "/" {
			if s, err = swappiness(); err != nil {
				return 0, p, err
			}
		} else {
			f := MemoryV1Dir + p + "/memory.swappiness"
			b, rerr := files.Read(f)
			if errors.Is(rerr, fs.ErrNotExist) {
				continue
			}
			if rerr != nil {
				return 0, p, fmt.Errorf("read %q: %w", f, rerr)
			}
			s = strings.TrimSpace(string(b))
		}
		n, perr := strconv.Atoi(s)
		if perr != nil {
			return 0, p, fmt.Errorf("memory.swappiness of %s is %q, not a number", p, s)
		}
		return n, p, nil
	}
}

// memoryV2SwapLimit returns the smallest memory.swap.max of cg and the
// cgroups above it ("max" or none: no limit).
func memoryV2SwapLimit(files *CgroupFiles, cg string) (SwapLimit, error) {
	var l SwapLimit
	for p := path.Clean(cg); p != "/"; p = path.Dir(p) {
		v := readValue(files, topology.CgroupDir+p+"/memory.swap.max")
		switch {
		case v.Err != nil:
			return l, v.Err
		case v.Missing || v.Max:
			continue
		}
		if !l.Limited || v.Bytes < l.Bytes {
			l = SwapLimit{Bytes: v.Bytes, Cgroup: p, Unit: unitOfCgroup(p), Limited: true}
		}
	}
	return l, nil
}

// unitOfCgroup is a cgroup directory's unit (cg_escape()'s "_" undone).
func unitOfCgroup(cg string) string {
	last := path.Base(cg)
	if u := strings.TrimPrefix(last, "_"); u != last && names.CgroupEscape(u) == last {
		return u
	}
	return last
}

func isTemplate(unit string) bool { return strings.HasSuffix(unit, "@.service") }

// ReadMemory reads the core's memory cgroup under root as c places it, on
// its own (a run's Gather reads it with the rest).
func ReadMemory(root hostroot.Root, c Core) Memory {
	return readMemory(NewCgroupFiles(root), c, selfCgroups(root), func() (string, error) { return sysctl.Read(root, "vm.swappiness") })
}

// MemoryAgain places the core's memory cgroup again where f.Core now says
// (activate asked systemd where the core goes), judged from what this run
// read and activate wrote: only a cgroup not read before is read now.
func (f *Facts) MemoryAgain() { f.Memory = f.readMemory() }

func (f *Facts) readMemory() Memory {
	return readMemory(f.cgroups(), f.Core, f.self, func() (string, error) { return f.sysctlNow("vm.swappiness") })
}

// cgroups are the run's cgroup files (a Facts made by hand gets its own).
func (f *Facts) cgroups() *CgroupFiles {
	if f.Cgroups == nil {
		f.Cgroups = NewCgroupFiles(f.Root)
	}
	return f.Cgroups
}

// sysctlNow is key as this run read it, and activate set it; read now
// when the run did not read the sysctls.
func (f *Facts) sysctlNow(key string) (string, error) {
	if v, ok := f.Sysctls[key]; ok {
		return v.Value, v.Err
	}
	return sysctl.Read(f.Root, key)
}
