// Package suggest finds the known name a mistyped one was meant to be, for
// every "did you mean" of the command line and the configuration alike.
package suggest

import "strings"

// Closest returns the one candidate close to name (at most two letters
// added, dropped, changed or swapped, or the start of only one), else "";
// case counts (Fold ignores it).
func Closest(name string, candidates []string) string {
	best, bestD, ties := "", 3, 0
	var prefixed []string
	for _, c := range candidates {
		if len(name) >= 2 && strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
		d := Distance(name, c)
		switch {
		case d < bestD:
			best, bestD, ties = c, d, 1
		case d == bestD:
			ties++
		}
	}
	// Two letters off a name of two or three is another word.
	if best != "" && ties == 1 && bestD < len(name)-1 {
		return best
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// Fold returns the one candidate equal to name once both are folded (case
// and "_", "-", "." ignored: "vfs_cache_pressure" is "VFSCachePressure"),
// else the Closest of the folded names, else "".
func Fold(name string, candidates []string) string {
	folded := make([]string, len(candidates))
	var same []string
	for i, c := range candidates {
		folded[i] = fold(c)
		if folded[i] == fold(name) {
			same = append(same, c)
		}
	}
	if len(same) == 1 {
		return same[0]
	}
	if len(same) > 1 {
		return ""
	}
	if f := Closest(fold(name), folded); f != "" {
		for i := range folded {
			if folded[i] == f {
				return candidates[i]
			}
		}
	}
	return ""
}

func fold(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(s))
}

// Distance is the optimal string alignment distance of a and b ("stauts"
// is one swap from "status").
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
