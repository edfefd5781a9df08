package procfs

import (
	"fmt"
	"strings"
	"testing"
)

// kernelEscape escapes a path as the kernel's seq_file does for
// /proc/swaps (seq_path with the escape set " \t\n\\": each such byte as
// \ooo octal).
func kernelEscape(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzSwapsFilenameRoundTrip: whatever path the kernel prints in
// /proc/swaps, ParseSwaps gives back that path. The activator decides
// whether its swapfile is active by this name (fault rows 14-16: an active
// file taken for inactive would be "replaced" under the kernel).
func FuzzSwapsFilenameRoundTrip(f *testing.F) {
	for _, s := range []string{"/ransomeye/swap", "/srv/swap dir/ransom-eye%h_ü.swap", `/a\134b`, "/tab\there", "/nl\nx", `/back\slash\`, "/x\\0401"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
			return
		}
		text := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" + kernelEscape(p) + "\tfile\t\t1024\t\t0\t\t-2\n"
		out, err := ParseSwaps(text)
		if err != nil {
			t.Fatalf("ParseSwaps of the kernel's line for %q: %v", p, err)
		}
		if len(out) != 1 || out[0].Filename != p {
			t.Fatalf("path %q printed as %q parsed back as %+v", p, kernelEscape(p), out)
		}
	})
}
