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
	b := Of(2, 3, 4, 5, 6, 7, 8, 9)
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

// TestWithin: a set inside the allowed one is kept (an administrator's
// narrower mask is not widened), one partly inside keeps only those CPUs,
// one outside (or empty) becomes the allowed set.
func TestWithin(t *testing.T) {
	core := Of(0, 1, 2, 3)
	for _, c := range []struct{ in, want string }{
		{"0-1", "0-1"}, {"0-3", "0-3"}, {"2", "2"}, {"0-7", "0-3"}, {"2-5", "2-3"}, {"4-7", "0-3"}, {"", "0-3"},
	} {
		in, _ := ParseMaybeEmpty(c.in)
		if got := in.Within(core).String(); got != c.want {
			t.Errorf("%q within 0-3 = %q, want %q", c.in, got, c.want)
		}
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

// TestParseKernel: the command-line forms the kernel's bitmap_parselist
// accepts (isolcpus=domain,managed_irq,10-N was refused with "\"N\" is not a
// CPU id" although the kernel applied it), and what it refuses.
func TestParseKernel(t *testing.T) {
	good := []struct {
		in    string
		last  int
		canon string
	}{
		{"10-N", 15, "10-15"},
		{"N", 15, "15"},
		{"N-N", 7, "7"},
		{"0-N", 0, "0"},
		{"8-11:1/2", 15, "8,10"},
		{"8-11:2/2", 15, "8-11"},
		{"8-11:0/2,3", 15, "3"},
		{"100-2000:2/25", 2047, "100-101,125-126,150-151,175-176,200-201,225-226,250-251,275-276,300-301,325-326,350-351,375-376,400-401,425-426,450-451,475-476,500-501,525-526,550-551,575-576,600-601,625-626,650-651,675-676,700-701,725-726,750-751,775-776,800-801,825-826,850-851,875-876,900-901,925-926,950-951,975-976,1000-1001,1025-1026,1050-1051,1075-1076,1100-1101,1125-1126,1150-1151,1175-1176,1200-1201,1225-1226,1250-1251,1275-1276,1300-1301,1325-1326,1350-1351,1375-1376,1400-1401,1425-1426,1450-1451,1475-1476,1500-1501,1525-1526,1550-1551,1575-1576,1600-1601,1625-1626,1650-1651,1675-1676,1700-1701,1725-1726,1750-1751,1775-1776,1800-1801,1825-1826,1850-1851,1875-1876,1900-1901,1925-1926,1950-1951,1975-1976,2000"},
		{"0-N:1/4", 15, "0,4,8,12"},
		{"2-N:3/4", 9, "2-4,6-8"},
		{"all", 3, "0-3"},
		{"ALL:1/2", 7, "0,2,4,6"},
		{"1,2,10-20", 31, "1-2,10-20"},
		{"0,,1", 7, "0-1"},
		{",0", 7, "0"},
		{"0,", 7, "0"},
		{"0 2", 7, "0,2"},
		{"007", 7, "7"},
		{"3,1", 7, "1,3"},
		{"5-5", 7, "5"},
		{"0-3\n", 7, "0-3"},
	}
	for _, c := range good {
		s, err := ParseKernel(c.in, c.last)
		if err != nil {
			t.Errorf("ParseKernel(%q, %d): %v", c.in, c.last, err)
			continue
		}
		if s.String() != c.canon {
			t.Errorf("ParseKernel(%q, %d) = %q, want %q", c.in, c.last, s, c.canon)
		}
	}
	bad := []struct {
		in      string
		last    int
		wantErr string
	}{
		{"8-11:0/2", 15, "names no CPU"},
		{"", 7, "names no CPU"},
		{",", 7, "names no CPU"},
		{"10-6", 15, "backwards"},
		{"1--3", 7, "not a CPU id"},
		{"0-", 7, "missing"},
		{"-1", 7, "not a CPU id"},
		{"8-11:3/2", 15, "used of groups"},
		{"8-11:1/0", 15, "group size 0"},
		{"8-11:1", 15, "used/group"},
		{"8-11:1/", 15, "missing"},
		{"8-11:1/2x", 15, "after the group size"},
		{"8:1/2", 15, "unexpected"},
		{"8-16", 15, "beyond the last CPU 15"},
		{"16", 15, "beyond"},
		{"99999999999", 15, "overflows"},
		{"n", 15, "not a CPU id"},
		{"garbage", 15, "not a CPU id"},
		{"0x1", 15, "unexpected"},
		{"+1", 15, "not a CPU id"},
		{"0;1", 15, "unexpected"},
		{"al", 15, "not a CPU id"},
		{"allx", 15, "unexpected"},
	}
	for _, c := range bad {
		s, err := ParseKernel(c.in, c.last)
		if err == nil {
			t.Errorf("ParseKernel(%q, %d) = %q, want an error", c.in, c.last, s)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseKernel(%q, %d): %v, want it to say %q", c.in, c.last, err, c.wantErr)
		}
	}
	if _, err := ParseKernel("0", -1); err == nil {
		t.Errorf("ParseKernel with no CPU count accepted")
	}
	if _, err := ParseKernel("0", MaxCPUs); err == nil {
		t.Errorf("ParseKernel with last >= MaxCPUs accepted")
	}
}

// FuzzParseKernel: whatever the command line holds, ParseKernel either
// refuses it or returns a non-empty set within 0..last whose canonical form
// the strict parser reads back, and every strict list means the same to it.
func FuzzParseKernel(f *testing.F) {
	for _, s := range []string{"10-N", "8-11:1/2", "all:1/2", "0,,1", "N", "100-2000:2/25", "8-11:0/2", "0-N:3/4", "9-9:1/1"} {
		f.Add(s, uint16(15))
	}
	f.Fuzz(func(t *testing.T, in string, last16 uint16) {
		last := int(last16) % MaxCPUs
		s, err := ParseKernel(in, last)
		if strict, serr := Parse(in); serr == nil && strict.Max() <= last {
			if err != nil || !s.Equal(strict) {
				t.Fatalf("strict list %q: Parse %q, ParseKernel %q, %v", in, strict, s, err)
			}
		}
		if err != nil {
			return
		}
		if s.IsEmpty() || s.Min() < 0 || s.Max() > last {
			t.Fatalf("ParseKernel(%q, %d) = %q", in, last, s)
		}
		if back, err := Parse(s.String()); err != nil || !back.Equal(s) {
			t.Fatalf("canonical %q of %q: %v", s, in, err)
		}
	})
}
