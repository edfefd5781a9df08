package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// binaryUnits are the size units (powers of 1024), as systemd's
// parse_size() takes them.
var binaryUnits = map[string]int64{"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}

// ParseSize parses a size as the tool prints it and people write it: a
// whole or decimal number, then maybe blanks and a unit K, M, G, T, P, E
// (or KiB ... EiB; powers of 1024; any case) or B: "16G", "16 GiB", "16.0
// GiB" and "16384M" are one size. "GB" and its kind are refused (util-linux
// and systemd disagree on their base), and so is more than 64 TiB.
func ParseSize(s string) (int64, error) {
	notSize := fmt.Errorf("%q is not a size: write a number of bytes, or a number with a unit K, M, G or T (powers of 1024): 16G, 16GiB, 1.5T", s)
	t := strings.TrimSpace(s)
	end := 0
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, notSize
	}
	if end < len(t) && t[end] == '.' {
		frac := end + 1
		for frac < len(t) && t[frac] >= '0' && t[frac] <= '9' {
			frac++
		}
		if frac == end+1 {
			return 0, notSize
		}
		end = frac
	}
	num, unit := t[:end], strings.ToLower(strings.TrimLeft(t[end:], " \t"))
	mult := int64(1)
	switch {
	case unit == "" || unit == "b":
	case len(unit) <= 3 && binaryUnits[unit[:1]] != 0 && (len(unit) == 1 || unit[1:] == "ib"):
		mult = binaryUnits[unit[:1]]
	case len(unit) == 2 && binaryUnits[unit[:1]] != 0 && unit[1] == 'b':
		u := strings.ToUpper(unit[:1])
		return 0, fmt.Errorf("%q: %sB is ambiguous (powers of 1000 to some tools, of 1024 to others): write %s%s or %s%siB (powers of 1024)", s, u, num, u, num, u)
	default:
		return 0, notSize
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, notSize
	}
	v := f * float64(mult)
	if v > float64(MaxSize) {
		return 0, fmt.Errorf("%q is larger than 64T", s)
	}
	return int64(v), nil
}
