// Package cpuset is a set of CPU ids with the kernel's list syntax
// ("0-3,8"), parsed strictly.
//
// Parse accepts exactly what the kernel prints in sysfs cpulist files and
// cgroup cpuset files: comma-separated ids and ascending ranges, no spaces,
// no strides. Anything else (a descending range "10-6", "1--3", "0,,1",
// garbage, a range of more than MaxCPUs ids, an id at or above MaxCPUs) is
// an error, because a CPU plan built on a misread list is worse than no
// plan. An empty list is an error for Parse; ParseMaybeEmpty is for the few
// files where the kernel legitimately prints nothing.
//
// ParseKernel is for lists an administrator wrote (isolcpus=, nohz_full= on
// the kernel command line): it accepts what the kernel's bitmap_parselist
// accepts, "N" for the last CPU and the group form "a-b:used/group"
// included, and nothing else.
package cpuset

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxCPUs bounds CPU ids: every id is below it. It is the kernel's largest
// NR_CPUS on x86-64 (8192); larger ids are a misread file.
const MaxCPUs = 8192

// Set is an immutable set of CPU ids. The zero value is the empty set.
type Set struct {
	ids []int // sorted ascending, unique
}

// Of returns the set holding ids (any order, duplicates allowed). It panics
// on an id outside [0, MaxCPUs): use it for literals and computed ids only.
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
	sort.Ints(ids)
	out := ids[:1]
	for _, id := range ids[1:] {
		if id != out[len(out)-1] {
			out = append(out, id)
		}
	}
	return Set{ids: out}
}

// Parse parses a kernel CPU list such as "0-3,8" (a single trailing newline,
// as sysfs files end, is allowed). An empty list is an error: use
// ParseMaybeEmpty where the kernel can print an empty list.
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

// ParseMaybeEmpty is Parse for the files where the kernel prints an empty
// line for "no CPUs": /sys/devices/system/cpu/isolated, .../nohz_full (which
// prints "  (null)", with two leading spaces, when nohz_full is not in use:
// seen in a Debian 12 cloud-kernel boot), and the cpulist of a memory-only
// NUMA node. Everywhere else an empty list means a broken file.
func ParseMaybeEmpty(s string) (Set, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "(null)" {
		return Set{}, nil
	}
	return Parse(s)
}

// ParseKernel parses a CPU list the way the kernel's bitmap_parselist
// (lib/bitmap-str.c; "cpu lists" in Documentation/admin-guide/
// kernel-parameters.rst) parses a command-line value, for a kernel whose
// CPU ids run from 0 to last (nr_cpu_ids - 1):
//
//   - regions are separated by commas or white space, and any number of
//     them may come before a region ("0,,1" is 0 and 1);
//   - a region is "a", "a-b" (a <= b), "a-b:used/group" (from a to b, the
//     first used CPUs of every group of group CPUs: "8-11:1/2" is 8,10), or
//     "all" (0-N, case-insensitive), which takes a group suffix as well;
//   - a number is decimal digits (leading zeros allowed) or "N", the last
//     CPU id;
//   - group must be at least 1 and used at most group ("used" 0 is valid
//     and names no CPU); an id above last is out of range (the kernel then
//     ignores the whole parameter).
//
// A list that names no CPU at all is an error: the caller has nothing to
// apply and the kernel's handling of an empty isolcpus= is not a plan to
// build on. last must be in [0, MaxCPUs).
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
// used ids of every group of group ids.
type region struct{ start, end, used, group int }

// isRegionSep reports the bytes bitmap_parselist skips between regions:
// commas and the C locale's isspace.
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

// kernelNum parses a number of a kernel CPU list: "N" (last) or decimal
// digits; it returns what follows.
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
		// Beyond any kernel's CPUs; cap so that range checks stay cheap.
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

// String returns the canonical list: ascending, ranges of 2 or more
// consecutive ids as "a-b", e.g. "0-3,8". The empty set is "".
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
	i := sort.SearchInts(s.ids, id)
	return i < len(s.ids) && s.ids[i] == id
}

// Equal reports whether both sets hold the same ids.
func (s Set) Equal(o Set) bool {
	if len(s.ids) != len(o.ids) {
		return false
	}
	for i := range s.ids {
		if s.ids[i] != o.ids[i] {
			return false
		}
	}
	return true
}

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
func (s Set) Union(o Set) Set {
	out := make([]int, 0, len(s.ids)+len(o.ids))
	i, j := 0, 0
	for i < len(s.ids) || j < len(o.ids) {
		switch {
		case j == len(o.ids) || (i < len(s.ids) && s.ids[i] < o.ids[j]):
			out = append(out, s.ids[i])
			i++
		case i == len(s.ids) || o.ids[j] < s.ids[i]:
			out = append(out, o.ids[j])
			j++
		default:
			out = append(out, s.ids[i])
			i++
			j++
		}
	}
	return Set{ids: out}
}

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

// Within returns s kept within allowed, taking as little from whoever set
// s as it can: s itself when it is inside allowed, else its CPUs in
// allowed, else (s empty, or disjoint from allowed) allowed. Why not
// allowed outright: a mask someone narrowed on purpose (a driver's
// NUMA-local interrupt, an administrator's default_smp_affinity of 0-1)
// would be widened onto CPUs they kept free.
func (s Set) Within(allowed Set) Set {
	if !s.IsEmpty() && s.IsSubsetOf(allowed) {
		return s
	}
	if in := s.Intersect(allowed); !in.IsEmpty() {
		return in
	}
	return allowed
}
