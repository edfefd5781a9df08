package cpuset

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []struct {
		in, canon string
		n         int
	}{
		{"0", "0", 1},
		{"0\n", "0", 1},
		{"0-3,8", "0-3,8", 5},
		{"0-1", "0-1", 2},
		{"3,1,2", "1-3", 3},
		{"0,2,4-5,5", "0,2,4-5", 4},
		{"8191", "8191", 1},
		{"0-8191", "0-8191", 8192},
		{"5-5", "5", 1},
	}
	for _, c := range good {
		s, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if s.String() != c.canon || s.Len() != c.n {
			t.Errorf("Parse(%q) = %q (%d CPUs), want %q (%d)", c.in, s.String(), s.Len(), c.canon, c.n)
		}
	}
	bad := []string{"", "\n", "10-6", "1--3", "0,,1", ",0", "0,", "a", "0-", "-1", "0-3 ", " 0",
		"0-3:2", "8192", "0-8192", "0-4000,4001-8192", "99999999999999999999", "01", "0x1",
		"1-3\n\n", "(null)", "0;1", "+1"}
	for _, in := range bad {
		if s, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, s)
		}
	}
}

func TestParseMaybeEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "(null)\n", "(null)", "  (null)\n"} {
		s, err := ParseMaybeEmpty(in)
		if err != nil || !s.IsEmpty() {
			t.Errorf("ParseMaybeEmpty(%q) = %q, %v; want empty set", in, s, err)
		}
	}
	if _, err := ParseMaybeEmpty("10-6\n"); err == nil {
		t.Errorf("ParseMaybeEmpty(10-6) accepted")
	}
	if s, _ := ParseMaybeEmpty("2-3\n"); s.String() != "2-3" {
		t.Errorf("ParseMaybeEmpty(2-3) = %q", s)
	}
}

func TestOps(t *testing.T) {
	a := Of(0, 1, 2, 3, 8)
	b := Range(2, 9)
	if got := a.Union(b).String(); got != "0-9" {
		t.Errorf("union = %q", got)
	}
	if got := a.Intersect(b).String(); got != "2-3,8" {
		t.Errorf("intersect = %q", got)
	}
	if got := a.Difference(b).String(); got != "0-1" {
		t.Errorf("difference = %q", got)
	}
	if !Of(2, 3).IsSubsetOf(a) || Of(4).IsSubsetOf(a) {
		t.Errorf("IsSubsetOf wrong")
	}
	if a.Min() != 0 || a.Max() != 8 || (Set{}).Min() != -1 || (Set{}).Max() != -1 {
		t.Errorf("Min/Max wrong")
	}
	if !a.Contains(8) || a.Contains(7) {
		t.Errorf("Contains wrong")
	}
	if !Of(3, 1).Equal(Of(1, 3)) || Of(1).Equal(Of(1, 2)) {
		t.Errorf("Equal wrong")
	}
	if (Set{}).String() != "" || !(Set{}).IsEmpty() {
		t.Errorf("empty set wrong")
	}
	ids := a.IDs()
	ids[0] = 99
	if a.Min() != 0 {
		t.Errorf("IDs shares storage")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "0-3,8", "10-6", "1--3", "0,,1", "", "0-8191", "0-8192", "3,1,2", "(null)", "1-3\n", "0-3:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		if s.IsEmpty() {
			t.Fatalf("Parse(%q) returned an empty set without error", in)
		}
		out := s.String()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", out, in, err)
		}
		if !s2.Equal(s) || s2.String() != out {
			t.Fatalf("round trip of %q: %q then %q", in, out, s2.String())
		}
		if strings.ContainsAny(out, " \n") || s.Max() >= MaxCPUs {
			t.Fatalf("bad canonical form %q", out)
		}
	})
}
