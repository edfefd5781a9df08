package cpuset

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMask parses a kernel CPU bitmask (default_smp_affinity, workqueue
// cpumask): 32-bit hex words, most significant first ("00000000,0000000f").
func ParseMask(s string) (Set, error) {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return Set{}, fmt.Errorf("empty CPU mask")
	}
	words := strings.Split(s, ",")
	if len(words)*32 > MaxCPUs {
		return Set{}, fmt.Errorf("CPU mask %q is wider than %d CPUs", s, MaxCPUs)
	}
	var ids []int
	for i, w := range words {
		if w == "" || len(w) > 8 {
			return Set{}, fmt.Errorf("CPU mask %q: word %q is not 1 to 8 hex digits", s, w)
		}
		v, err := strconv.ParseUint(w, 16, 32)
		if err != nil {
			return Set{}, fmt.Errorf("CPU mask %q: word %q is not hex", s, w)
		}
		base := (len(words) - 1 - i) * 32
		for b := 0; b < 32; b++ {
			if v&(1<<b) != 0 {
				ids = append(ids, base+b)
			}
		}
	}
	return fromUnsorted(ids), nil
}

// Mask returns the set as a kernel bitmask ("f", "1,00000000"; "0" when
// empty).
func (s Set) Mask() string {
	if len(s.ids) == 0 {
		return "0"
	}
	words := make([]uint32, s.Max()/32+1)
	for _, id := range s.ids {
		words[id/32] |= 1 << (id % 32)
	}
	var b strings.Builder
	for i := len(words) - 1; i >= 0; i-- {
		if i == len(words)-1 {
			fmt.Fprintf(&b, "%x", words[i])
		} else {
			fmt.Fprintf(&b, ",%08x", words[i])
		}
	}
	return b.String()
}
