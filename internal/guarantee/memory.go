package guarantee

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
	"github.com/ransomeye/ransomeye-tuner/internal/kmask"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// This file is the core's memory cgroup: what the swap and swappiness
// guarantees become for the core itself once cgroups are in between. The
// kernel applies vm.swappiness and the swapfile to every process only as
// far as the core's memory cgroup and those above it let them:
//
//   - cgroup v1: each memory cgroup has its own memory.swappiness, copied
//     from its parent when the cgroup is made; a later write to
//     vm.swappiness changes only the root memory cgroup's. systemd makes
//     system.slice's memory cgroup before activate sets vm.swappiness, so
//     without more the core reclaims with the boot default (60).
//   - cgroup v2: memory.swappiness does not exist (vm.swappiness applies
//     to every cgroup), but memory.swap.max (MemorySwapMax=) of the core's
//     cgroup or of any slice above it caps the swap the core may use,
//     whatever the swapfile holds.
//
// Further memory settings of the core's path (MemoryMin=, MemoryLow=,
// MemoryHigh=) belong here, as more checks of CoreMemory.

// MemoryV1Dir is the cgroup v1 memory hierarchy as systemd mounts it.
const MemoryV1Dir = topology.CgroupDir + "/memory"

// memoryKind is the memory controller this machine runs.
type memoryKind int

const (
	memoryNone memoryKind = iota // no memory controller: nothing between the core and the sysctls
	memoryV1                     // the cgroup v1 memory hierarchy (legacy or hybrid mode)
	memoryV2                     // the unified hierarchy with the memory controller
)

// procCgroup is one line of /proc/self/cgroup.
type procCgroup struct {
	controllers []string // empty for the unified hierarchy ("0::/...")
	name        string   // "name=systemd", or ""
	path        string
}

// selfCgroups reads /proc/self/cgroup under root (nil when it cannot be
// read: then no memory controller is known, as on a kernel without
// cgroups). Why this file and not the mounts: it is what the kernel says
// of this process, and under a test's root prefix it is absent unless
// the test fakes it, so a test never reads this machine's cgroups by
// accident.
func selfCgroups(root hostroot.Root) []procCgroup {
	f, err := os.Open(root.Path("/proc/self/cgroup"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []procCgroup
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		c := procCgroup{path: parts[2]}
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

// memoryHierarchy says which memory controller the machine runs, and this
// process's memory cgroup in it (below the hierarchy's root).
func memoryHierarchy(root hostroot.Root) (memoryKind, string) {
	var unified string
	hasUnified := false
	for _, c := range selfCgroups(root) {
		if slices.Contains(c.controllers, "memory") {
			return memoryV1, c.path
		}
		if len(c.controllers) == 0 && c.name == "" {
			unified, hasUnified = c.path, true
		}
	}
	if !hasUnified {
		return memoryNone, ""
	}
	b, err := readfile.Regular(root.Path(topology.CgroupDir+"/cgroup.controllers"), 4096)
	if err != nil || !slices.Contains(strings.Fields(string(b)), "memory") {
		return memoryNone, ""
	}
	return memoryV2, unified
}

// MemoryV1 reports whether the machine runs the cgroup v1 memory
// controller, where memory.swappiness is per cgroup.
func MemoryV1(root hostroot.Root) bool {
	k, _ := memoryHierarchy(root)
	return k == memoryV1
}

// coreCgroupPath is the core's cgroup below the memory hierarchy's root:
// the gate's own (it runs in the core's cgroup; a Delegate=yes core's
// ".control" is left out, the core runs in the unit's cgroup), else its
// slice's path and its escaped name (the slice's alone for a template,
// whose instances are made in it). slice "" is system.slice.
func coreCgroupPath(core, slice string, inCgroup bool, self string) string {
	if inCgroup && self != "" {
		return path.Clean(strings.TrimSuffix(self, "/.control"))
	}
	if slice == "" {
		slice = "system.slice"
	}
	p := "/" + placement.SlicePath(slice)
	if !isTemplate(core) {
		p = path.Join(p, placement.CgroupEscape(core))
	}
	return path.Clean(p)
}

// sliceChain returns the cgroups of slice and of the slices above it,
// outermost first ("a-b.slice": "/a.slice", "/a.slice/a-b.slice"); none
// for the root slice.
func sliceChain(slice string) []string {
	var out []string
	p := "/"
	for _, c := range strings.Split(placement.SlicePath(slice), "/") {
		if c == "" {
			continue
		}
		p = path.Join(p, c)
		out = append(out, p)
	}
	return out
}

// memoryV1Swappiness reads the memory.swappiness that cgroup cg reclaims
// with: its own when it exists, else that of its nearest existing
// ancestor, which it copies when it is made. The root memory cgroup's is
// vm.swappiness itself. from is the cgroup read.
func memoryV1Swappiness(root hostroot.Root, cg string) (val int, from string, err error) {
	for p := path.Clean(cg); ; p = path.Dir(p) {
		var s string
		if p == "/" {
			if s, err = sysctl.Read(root, "vm.swappiness"); err != nil {
				return 0, p, err
			}
		} else {
			f := MemoryV1Dir + p + "/memory.swappiness"
			b, rerr := readfile.Regular(root.Path(f), 64)
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

// swapLimit is the smallest memory.swap.max on the core's path.
type swapLimit struct {
	bytes   uint64
	cgroup  string // the cgroup that sets it ("" when set by the unit's property)
	unit    string // the unit whose MemorySwapMax= sets it
	limited bool
}

// memoryV2SwapLimit reads memory.swap.max of cg and of every cgroup above
// it up to the root's children ("max", or no file, is no limit), and
// returns the smallest.
func memoryV2SwapLimit(root hostroot.Root, cg string) (swapLimit, error) {
	var l swapLimit
	for p := path.Clean(cg); p != "/"; p = path.Dir(p) {
		f := topology.CgroupDir + p + "/memory.swap.max"
		b, err := readfile.Regular(root.Path(f), 64)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return l, fmt.Errorf("read %q: %w", f, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("%q holds %q, not a byte count or \"max\"", f, s)
		}
		if !l.limited || n < l.bytes {
			l = swapLimit{bytes: n, cgroup: p, unit: unitOfCgroup(p), limited: true}
		}
	}
	return l, nil
}

// unitOfCgroup is the unit a cgroup directory belongs to: its last
// component, without the "_" systemd's cg_escape() puts before some names.
func unitOfCgroup(cg string) string {
	last := path.Base(cg)
	if u := strings.TrimPrefix(last, "_"); u != last && placement.CgroupEscape(u) == last {
		return u
	}
	return last
}

// NoSwapLimit is systemd's MemorySwapMax= "infinity" as its D-Bus API
// carries it.
const NoSwapLimit = ^uint64(0)

// CoreMemory is the guarantee that the core's memory cgroup lets the swap
// and swappiness guarantees reach the core: on cgroup v1 the
// memory.swappiness its memory cgroup reclaims with (its own, or what it
// copies from its slice when it starts) is the configured one; on cgroup
// v2 no memory.swap.max on its path (MemorySwapMax= of the core or of a
// slice above it) is below the swap target. m is the measurement of the
// core's CPUs: in the core's own cgroup (the gate) its cgroup is read from
// /proc/self/cgroup; elsewhere it is its slice's (systemd's Slice=, else
// system.slice) and its name, and systemd's MemorySwapMax= counts for a
// core that is not running and for a slice whose cgroup is not made yet.
//
// Why: on cgroup v1 the core reclaimed with 60 while vm.swappiness said 10
// and status said COMPLIANT; a MemorySwapMax=0 kept the core from the
// swapfile that the swap guarantee held for it.
func CoreMemory(root hostroot.Root, core string, swappiness int, target int64, m Measurement) Entry {
	e := Entry{Name: NameCoreMemory}
	kind, self := memoryHierarchy(root)
	cg := coreCgroupPath(core, m.Slice, m.InCgroup, self)
	switch kind {
	case memoryNone:
		e.Expected = fmt.Sprintf("%s reclaims with vm.swappiness and may use the swapfile", core)
		e.OK, e.Actual = true, "no memory cgroup controller: vm.swappiness and the swapfile apply to it as to every process"
		return e
	case memoryV1:
		e.Expected = fmt.Sprintf("%s reclaims with memory.swappiness %d in its memory cgroup (cgroup v1)", core, swappiness)
		val, from, err := memoryV1Swappiness(root, cg)
		if err != nil {
			e.Reason = fmt.Sprintf("the memory.swappiness %s reclaims with cannot be measured: %v", core, err)
			e.Remedy = "fix the cause; the swappiness guarantee does not reach the core until then"
			return e
		}
		e.Actual = strconv.Itoa(val)
		e.Source = "memory.swappiness of " + cgroupName(from)
		if from != cg {
			e.Source += fmt.Sprintf(", which %s's memory cgroup %s copies when it starts", core, cg)
		}
		if e.OK = val == swappiness; !e.OK {
			e.Reason = fmt.Sprintf("%s reclaims with memory.swappiness %d, want %d (%s): on cgroup v1 a memory cgroup copies its parent's value when it is made, and vm.swappiness reaches only the root's", core, val, swappiness, e.Source)
			e.Remedy = fmt.Sprintf("systemctl restart %s (it sets memory.swappiness of the core's slice, and of the core's memory cgroup while it runs)", names.ActivatorUnit)
		}
		return e
	}
	e.Expected = fmt.Sprintf("%s may use at least %s of swap (no memory.swap.max below it on its cgroup path)", core, fsinfo.Human(target))
	l, err := memoryV2SwapLimit(root, cg)
	if err != nil {
		e.Reason = fmt.Sprintf("the swap %s may use cannot be measured: %v", core, err)
		e.Remedy = "fix the cause; the swap guarantee does not reach the core until then"
		return e
	}
	// A core that is not running has no cgroup to read: its own
	// MemorySwapMax= is systemd's, applied when it starts.
	if _, err := os.Stat(root.Path(topology.CgroupDir + cg)); err != nil && m.SwapMaxKnown && m.SwapMax != NoSwapLimit && (!l.limited || m.SwapMax < l.bytes) {
		l = swapLimit{bytes: m.SwapMax, unit: core, limited: true}
	}
	// Nor has a slice of its own before the core first starts in it: the
	// slice's MemorySwapMax= is systemd's then. Why: status said the
	// guarantee held, and the gate, reading the slice's file once systemd
	// made it for the core's start, refused.
	if !m.InCgroup && m.Slice != "" {
		for _, sc := range sliceChain(m.Slice) {
			if _, err := os.Stat(root.Path(topology.CgroupDir + sc)); err == nil {
				continue // its memory.swap.max counted
			}
			unit := unitOfCgroup(sc)
			v, ok := m.SliceSwapMax[unit]
			if !ok {
				e.Reason = fmt.Sprintf("the swap %s may use cannot be measured: systemd has not made the cgroup of %s yet, and its MemorySwapMax= is not known", core, unit)
				e.Remedy = fmt.Sprintf("see: systemctl show -p MemorySwapMax %s; fix the cause; the swap guarantee is not known to reach the core until then", unit)
				return e
			}
			if v != NoSwapLimit && (!l.limited || v < l.bytes) {
				l = swapLimit{bytes: v, unit: unit, limited: true}
			}
		}
	}
	if !l.limited {
		e.OK, e.Actual = true, "no swap limit (memory.swap.max) on its cgroup path"
		return e
	}
	e.Actual = fsinfo.Human(int64(min(l.bytes, uint64(1)<<62)))
	if l.cgroup != "" {
		e.Source = "memory.swap.max of " + l.cgroup
	} else {
		e.Source = "systemd's MemorySwapMax= of " + l.unit
	}
	if e.OK = l.bytes >= uint64(target); e.OK {
		return e
	}
	what := "may use only " + e.Actual + " of swap"
	if l.bytes == 0 {
		what = "may not swap at all"
	}
	e.Reason = fmt.Sprintf("%s %s (%s, MemorySwapMax= of %s), below the swap target %s: the swapfile does not serve it", core, what, e.Source, l.unit, fsinfo.Human(target))
	e.Remedy = fmt.Sprintf("find the setting with: systemctl cat %s (MemorySwapMax= in a drop-in), remove it, then: systemctl daemon-reload and systemctl restart %s", l.unit, core)
	return e
}

// cgroupName names a memory cgroup for people ("/" is the root's, whose
// value is vm.swappiness).
func cgroupName(cg string) string {
	if cg == "/" {
		return "the root memory cgroup (vm.swappiness)"
	}
	return cg
}

// SetCoreSwappiness writes value to memory.swappiness of the cgroup v1
// memory cgroups on the core's path that exist: those of its slice and of
// the slices above it (what the core's memory cgroup copies when it
// starts), and the core's own while it runs (a template's instances are
// left: each copies the slice's value when it starts). It returns what it
// changed, one line each with the value it found, for the log: that is
// what an administrator writes back to give the value back. Nothing to do
// without the cgroup v1 memory hierarchy. The kernel files are opened
// without following a link (internal/kernfile, kmask.WriteFile), and every
// value is read back.
func SetCoreSwappiness(root hostroot.Root, core, slice string, value int) ([]string, error) {
	if !MemoryV1(root) {
		return nil, nil
	}
	cgs := sliceChain(slice)
	if !isTemplate(core) {
		own := coreCgroupPath(core, slice, false, "")
		if fi, err := os.Stat(root.Path(MemoryV1Dir + own)); err == nil && fi.IsDir() {
			cgs = append(cgs, own)
		}
	}
	var changed []string
	want := strconv.Itoa(value)
	for _, cg := range cgs {
		f := MemoryV1Dir + cg + "/memory.swappiness"
		old, err := readKernel(root, f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // not made yet: it will copy its parent's value
		}
		if err != nil {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: %w", cg, want, err)
		}
		if old == want {
			continue
		}
		if err := kmask.WriteFile(root, f, want); err != nil {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: %w", cg, want, err)
		}
		got, err := readKernel(root, f)
		if err != nil {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: read back: %w", cg, want, err)
		}
		if got != want {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: read back %q instead", cg, want, got)
		}
		changed = append(changed, fmt.Sprintf("cgroup v1: memory.swappiness of %s set to %s (it was %s; the core's memory cgroup copies it when it starts; give it back with: echo %s > %s)", cg, want, old, old, f))
	}
	return changed, nil
}

// readKernel reads a small kernel file without following a link.
func readKernel(root hostroot.Root, hostPath string) (string, error) {
	fd, err := kernfile.Open(root, hostPath, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	buf := make([]byte, 64)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return "", fmt.Errorf("read %q: %w", root.Path(hostPath), err)
	}
	return strings.TrimSpace(string(buf[:max(n, 0)])), nil
}
