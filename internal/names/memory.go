package names

import (
	"fmt"
	"strings"
)

// MemoryDropIn is the file name of every memory drop-in the generator
// writes (a service's MemoryLow=, MemoryHigh=, ...; a slice's protection).
const MemoryDropIn = "memory.conf"

// DefaultSlice is the slice systemd puts a service without Slice= in:
// system.slice, or "system-<prefix>.slice" for a template or an instance
// of one, the prefix escaped as systemd's unit_name_escape() does, so
// that a "-" in it does not nest the slice (unit_set_default_slice()).
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

// SliceUnits returns slice and the slices above it, as unit names,
// outermost first: "a-b.slice" gives "a.slice", "a-b.slice"; the root
// slice gives none.
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
