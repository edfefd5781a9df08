package names

import (
	"fmt"
	"strings"
)

// MemoryDropIn is the file name of every memory drop-in the generator
// writes.
const MemoryDropIn = "memory.conf"

// DefaultSlice is the slice systemd puts a service without Slice= in:
// system.slice, or for a template's instance "system-<prefix>.slice", the
// prefix escaped (unit_name_escape()) so a "-" does not nest the slice.
func DefaultSlice(unit string) string {
	prefix, _, ok := strings.Cut(strings.TrimSuffix(unit, ".service"), "@")
	if !ok {
		return "system.slice"
	}
	var b strings.Builder
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return "system-" + b.String() + ".slice"
}

// SliceUnits returns slice and the slices above it as units, outermost
// first ("a-b.slice": "a.slice", "a-b.slice"); none for the root slice.
func SliceUnits(slice string) []string {
	if slice == "-.slice" || slice == "" {
		return nil
	}
	parts := strings.Split(strings.TrimSuffix(slice, ".slice"), "-")
	out := make([]string, 0, len(parts))
	for i := range parts {
		out = append(out, strings.Join(parts[:i+1], "-")+".slice")
	}
	return out
}
