// Package cpuset is a set of CPU ids with the kernel's list syntax
// ("0-3,8"), parsed strictly.
//
// The parser accepts exactly what the kernel prints in sysfs cpulist files
// and cgroup cpuset files: comma-separated ids and ascending ranges, no
// spaces, no strides. Anything else (a descending range "10-6", "1--3",
// "0,,1", garbage, a range of more than MaxCPUs ids, an id at or above
// MaxCPUs) is an error, because a CPU plan built on a misread list is worse
// than no plan. An empty list is an error for Parse; ParseMaybeEmpty is for
// the few files where the kernel legitimately prints nothing.
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

// Range returns the set lo..hi inclusive (empty when hi < lo).
func Range(lo, hi int) Set {
	if hi < lo {
		return Set{}
	}
	ids := make([]int, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		ids = append(ids, i)
	}
	return Of(ids...)
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
