// Package cpuinfo reads the kernel's second account of the physical cores:
// which logical CPUs are online and which physical package and core each
// belongs to, from /proc/cpuinfo ("processor", "physical id", "core id").
//
// The CPU plan groups CPUs into cores from the sysfs sibling lists
// (internal/topology), reading only the first CPU's list of each core; this
// package is the other reading it is checked against, from other files and
// with no code in common, so that a topology the kernel reports
// inconsistently, or a reading cut short, makes no plan instead of a wrong
// one. On x86 /proc/cpuinfo prints the same package and core ids as sysfs's
// per-CPU topology/physical_package_id and core_id, in one file instead of
// two per CPU; where it does not print them (other architectures), those
// two files are read for each CPU instead.
package cpuinfo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// Path is the file read, as on the host.
const Path = "/proc/cpuinfo"

// cpuDir holds the per-CPU topology files read where /proc/cpuinfo has no
// ids.
const cpuDir = "/sys/devices/system/cpu"

// maxSize bounds the read: about 1.5 KiB per CPU on x86, so 64 MiB is far
// above any machine's, and a file that never ends stops there.
const maxSize = 64 << 20

// CPU is one logical CPU as /proc/cpuinfo lists it.
type CPU struct {
	// ID is the logical CPU number ("processor").
	ID int
	// Package and Core are its physical package and core ids ("physical
	// id", "core id"); a core id repeats across packages.
	Package, Core int
}

// Read returns the CPUs /proc/cpuinfo lists under root, in its order. An
// error means the account cannot be used: the file cannot be read, lists
// no CPU, lists one twice, or holds an id that is not a number.
func Read(root hostroot.Root) ([]CPU, error) {
	b, err := readfile.Kernel(root.Path(Path), maxSize)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", root.Path(Path), pathErr(err))
	}
	cpus, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", root.Path(Path), err)
	}
	for i, c := range cpus {
		if c.Package >= 0 && c.Core >= 0 {
			continue
		}
		if cpus[i], err = fromSysfs(root, c.ID); err != nil {
			return nil, err
		}
	}
	return cpus, nil
}

// Parse parses /proc/cpuinfo: blocks separated by blank lines, one per
// logical CPU, of "key<TAB>: value" lines. Package and Core are -1 where
// the block has no "physical id" or "core id".
func Parse(b []byte) ([]CPU, error) {
	n := bytes.Count(b, []byte("processor"))
	cpus := make([]CPU, 0, n)
	seen := make(map[int]bool, n)
	cur := CPU{ID: -1, Package: -1, Core: -1}
	end := func() error {
		if cur.ID < 0 {
			cur = CPU{ID: -1, Package: -1, Core: -1}
			return nil // a block without "processor" (a header on s390x)
		}
		if seen[cur.ID] {
			return fmt.Errorf("processor %d is listed twice", cur.ID)
		}
		seen[cur.ID] = true
		cpus = append(cpus, cur)
		cur = CPU{ID: -1, Package: -1, Core: -1}
		return nil
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		key, val, ok := bytes.Cut(line, []byte(":"))
		key = bytes.TrimSpace(key)
		if len(key) == 0 {
			if err := end(); err != nil {
				return nil, err
			}
			continue
		}
		if !ok {
			continue
		}
		var dst *int
		switch string(key) {
		case "processor":
			dst = &cur.ID
		case "physical id":
			dst = &cur.Package
		case "core id":
			dst = &cur.Core
		default:
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s %q is not a CPU id", key, bytes.TrimSpace(val))
		}
		*dst = n
	}
	if err := end(); err != nil {
		return nil, err
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("no processor listed")
	}
	return cpus, nil
}

// fromSysfs reads CPU id's package and core ids from its sysfs topology
// directory, for a /proc/cpuinfo that does not print them.
func fromSysfs(root hostroot.Root, id int) (CPU, error) {
	c := CPU{ID: id}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"physical_package_id", &c.Package}, {"core_id", &c.Core}} {
		p := root.Path(fmt.Sprintf("%s/cpu%d/topology/%s", cpuDir, id, f.name))
		b, err := readfile.Kernel(p, 64)
		if err != nil {
			return c, fmt.Errorf("/proc/cpuinfo has no ids for CPU %d, and read %q: %w", id, p, pathErr(err))
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(b)))
		if err != nil {
			return c, fmt.Errorf("%q: %q is not an id", p, bytes.TrimSpace(b))
		}
		*f.dst = n
	}
	return c, nil
}

// pathErr is err without the *fs.PathError around it: the caller names the
// path quoted.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Cores groups cpus into physical cores: CPUs with the same package and
// core id, each core's CPU ids sorted, the cores in the order of their
// first CPU.
func Cores(cpus []CPU) [][]int {
	type key struct{ pkg, core int }
	idx := map[key]int{}
	var cores [][]int
	for _, c := range cpus {
		k := key{c.Package, c.Core}
		i, ok := idx[k]
		if !ok {
			i = len(cores)
			idx[k] = i
			cores = append(cores, nil)
		}
		cores[i] = append(cores[i], c.ID)
	}
	for _, c := range cores {
		slices.Sort(c)
	}
	return cores
}
