// Package cpuset is a set of CPU ids in the kernel's list syntax ("0-3,8").
// Parse takes exactly what sysfs and cgroup files print and refuses all
// else: a plan built on a misread list is worse than none. ParseKernel takes
// what an administrator may write on the kernel command line.
package cpuset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxCPUs bounds CPU ids (the kernel's largest x86-64 NR_CPUS): a larger
// id is a misread file.
const MaxCPUs = 8192

// Set is an immutable set of CPU ids. The zero value is the empty set.
type Set struct {
	ids []int // sorted ascending, unique
}

// Of returns the set of ids (any order); it panics on an id out of range,
// so it is for literals and computed ids only.
func Of(ids ...int) Set {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id >= MaxCPUs {
			panic(fmt.Sprintf("cpuset.Of: CPU id %d out of range", id))
		}
		out = append(out, id)
	}
	return fromUnsorted(out)
}

func fromUnsorted(ids []int) Set {
	if len(ids) == 0 {
		return Set{}
	}
	slices.Sort(ids)
	return Set{ids: slices.Compact(ids)}
}

// Parse parses a kernel CPU list ("0-3,8", one trailing newline allowed);
// an empty list is an error.
func Parse(s string) (Set, error) {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return Set{}, fmt.Errorf("empty CPU list")
	}
	var ids []int
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			return Set{}, fmt.Errorf("CPU list %q: empty element", s)
		}
		loStr, hiStr, isRange := strings.Cut(part, "-")
		lo, err := parseID(loStr)
		if err != nil {
			return Set{}, fmt.Errorf("CPU list %q: %w", s, err)
		}
		hi := lo
		if isRange {
			if hi, err = parseID(hiStr); err != nil {
				return Set{}, fmt.Errorf("CPU list %q: %w", s, err)
			}
			if hi < lo {
				return Set{}, fmt.Errorf("CPU list %q: range %q runs backwards", s, part)
			}
		}
		if len(ids)+(hi-lo+1) > MaxCPUs {
			return Set{}, fmt.Errorf("CPU list %q names more than %d CPUs", s, MaxCPUs)
		}
		for i := lo; i <= hi; i++ {
			ids = append(ids, i)
		}
	}
	return fromUnsorted(ids), nil
}

// ParseMaybeEmpty is Parse for the files where the kernel prints nothing,
// or nohz_full's "  (null)", for no CPUs (isolated, nohz_full, a memory-only
// node's cpulist).
func ParseMaybeEmpty(s string) (Set, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "(null)" {
		return Set{}, nil
	}
	return Parse(s)
}

// ParseKernel parses a command-line CPU list as the kernel's
// bitmap_parselist does, CPU ids running from 0 to last: regions "a",
// "a-b", "a-b:used/group" and "all", separated by commas or blanks, "N"
// for last. A list naming no CPU is an error.
func ParseKernel(s string, last int) (Set, error) {
	if last < 0 || last >= MaxCPUs {
		return Set{}, fmt.Errorf("CPU list %q: last CPU id %d out of range (0 to %d)", s, last, MaxCPUs-1)
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		// The kernel stops at the first newline (end_of_str).
		s = s[:i]
	}
	var ids []int
	rest := s
	for {
		rest = strings.TrimLeftFunc(rest, isRegionSep)
		if rest == "" {
			break
		}
		var r region
		var err error
		if r, rest, err = parseRegion(rest, last); err != nil {
			return Set{}, fmt.Errorf("CPU list %q: %w", s, err)
		}
		for start := r.start; start <= r.end; start += r.group {
			for i := start; i < start+r.used && i <= r.end; i++ {
				ids = append(ids, i)
			}
		}
	}
	if len(ids) == 0 {
		return Set{}, fmt.Errorf("CPU list %q names no CPU", s)
	}
	return fromUnsorted(ids), nil
}

// region is one element of a kernel CPU list: from start to end, the first
// used ids of every group ids.
type region struct{ start, end, used, group int }

// isRegionSep: commas and the C locale's isspace.
func isRegionSep(r rune) bool {
	return r == ',' || r == ' ' || r == '\t' || r == '\v' || r == '\f' || r == '\r'
}

func regionEnd(s string) bool { return s == "" || isRegionSep(rune(s[0])) }

// parseRegion parses one region at the start of s and returns what follows.
func parseRegion(s string, last int) (region, string, error) {
	var r region
	var err error
	if len(s) >= 3 && strings.EqualFold(s[:3], "all") {
		r.start, r.end = 0, last
		s = s[3:]
	} else {
		if r.start, s, err = kernelNum(s, last); err != nil {
			return r, s, err
		}
		r.end = r.start
		if !regionEnd(s) {
			if s[0] != '-' {
				return r, s, fmt.Errorf("unexpected %q after CPU %d", s[:1], r.start)
			}
			if r.end, s, err = kernelNum(s[1:], last); err != nil {
				return r, s, err
			}
		}
	}
	r.used, r.group = r.end+1, r.end+1
	if !regionEnd(s) {
		if s[0] != ':' {
			return r, s, fmt.Errorf("unexpected %q after the range %d-%d", s[:1], r.start, r.end)
		}
		if r.used, s, err = kernelNum(s[1:], last); err != nil {
			return r, s, err
		}
		if s == "" || s[0] != '/' {
			return r, s, fmt.Errorf("group form of %d-%d needs \"used/group\"", r.start, r.end)
		}
		if r.group, s, err = kernelNum(s[1:], last); err != nil {
			return r, s, err
		}
		if !regionEnd(s) {
			return r, s, fmt.Errorf("unexpected %q after the group size %d", s[:1], r.group)
		}
	}
	switch {
	case r.start > r.end:
		return r, s, fmt.Errorf("range %d-%d runs backwards", r.start, r.end)
	case r.group == 0:
		return r, s, fmt.Errorf("group size 0 in %d-%d:%d/0", r.start, r.end, r.used)
	case r.used > r.group:
		return r, s, fmt.Errorf("%d used of groups of %d in %d-%d", r.used, r.group, r.start, r.end)
	case r.end > last:
		return r, s, fmt.Errorf("CPU %d is beyond the last CPU %d", r.end, last)
	}
	return r, s, nil
}

// kernelNum parses "N" (last) or decimal digits, returning what follows.
func kernelNum(s string, last int) (int, string, error) {
	if s != "" && s[0] == 'N' {
		return last, s[1:], nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		if s == "" {
			return 0, s, fmt.Errorf("missing CPU id at the end")
		}
		return 0, s, fmt.Errorf("%q is not a CPU id or N", s[:1])
	}
	n, err := strconv.ParseUint(s[:i], 10, 32)
	if err != nil {
		return 0, s, fmt.Errorf("CPU id %q overflows", s[:i])
	}
	if n > uint64(MaxCPUs) {
		// Beyond any kernel's CPUs: capped, for cheap range checks.
		n = uint64(MaxCPUs)
	}
	return int(n), s[i:], nil
}

func parseID(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing CPU id")
	}
	if len(s) > 5 {
		return 0, fmt.Errorf("CPU id %q is out of range (0 to %d)", s, MaxCPUs-1)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a CPU id", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("CPU id %q has a leading zero", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= MaxCPUs {
		return 0, fmt.Errorf("CPU id %q is out of range (0 to %d)", s, MaxCPUs-1)
	}
	return n, nil
}

// String returns the canonical list ("0-3,8"; "" for the empty set).
func (s Set) String() string {
	var b strings.Builder
	for i := 0; i < len(s.ids); {
		j := i
		for j+1 < len(s.ids) && s.ids[j+1] == s.ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s.ids[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s.ids[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Phrase is the set in a sentence: "CPU 5", "CPUs 4-5,8", "no CPU".
func (s Set) Phrase() string {
	switch len(s.ids) {
	case 0:
		return "no CPU"
	case 1:
		return "CPU " + s.String()
	}
	return "CPUs " + s.String()
}

// Len returns the number of CPUs in the set.
func (s Set) Len() int { return len(s.ids) }

// IsEmpty reports whether the set holds no CPU.
func (s Set) IsEmpty() bool { return len(s.ids) == 0 }

// IDs returns the ids in ascending order (a copy).
func (s Set) IDs() []int { return append([]int(nil), s.ids...) }

// Min returns the lowest id, or -1 for the empty set.
func (s Set) Min() int {
	if len(s.ids) == 0 {
		return -1
	}
	return s.ids[0]
}

// Max returns the highest id, or -1 for the empty set.
func (s Set) Max() int {
	if len(s.ids) == 0 {
		return -1
	}
	return s.ids[len(s.ids)-1]
}

// Contains reports whether id is in the set.
func (s Set) Contains(id int) bool {
	_, ok := slices.BinarySearch(s.ids, id)
	return ok
}

// Equal reports whether both sets hold the same ids.
func (s Set) Equal(o Set) bool { return slices.Equal(s.ids, o.ids) }

// IsSubsetOf reports whether every id of s is in o.
func (s Set) IsSubsetOf(o Set) bool {
	for _, id := range s.ids {
		if !o.Contains(id) {
			return false
		}
	}
	return true
}

// Union returns s ∪ o.
func (s Set) Union(o Set) Set { return fromUnsorted(append(s.IDs(), o.ids...)) }

// Intersect returns s ∩ o.
func (s Set) Intersect(o Set) Set {
	var out []int
	for _, id := range s.ids {
		if o.Contains(id) {
			out = append(out, id)
		}
	}
	return Set{ids: out}
}

// Difference returns s \ o.
func (s Set) Difference(o Set) Set {
	var out []int
	for _, id := range s.ids {
		if !o.Contains(id) {
			out = append(out, id)
		}
	}
	return Set{ids: out}
}

// Within returns s kept within allowed, taking as little from it as it can:
// s inside allowed, else s ∩ allowed, else allowed. A mask narrowed on
// purpose (a NUMA-local interrupt, a default_smp_affinity of 0-1) is kept.
func (s Set) Within(allowed Set) Set {
	if !s.IsEmpty() && s.IsSubsetOf(allowed) {
		return s
	}
	if in := s.Intersect(allowed); !in.IsEmpty() {
		return in
	}
	return allowed
}
