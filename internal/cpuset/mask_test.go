package cpuset

import "testing"

func TestMaskRoundTrip(t *testing.T) {
	cases := []struct {
		list, mask string
	}{
		{"0-3", "f"},
		{"0-7", "ff"},
		{"4-7", "f0"},
		{"32", "1,00000000"},
		{"0,33-34,95", "80000000,00000006,00000001"},
		{"", "0"},
	}
	for _, c := range cases {
		var s Set
		if c.list != "" {
			var err error
			if s, err = Parse(c.list); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.Mask(); got != c.mask {
			t.Errorf("%q.Mask() = %q, want %q", c.list, got, c.mask)
		}
		back, err := ParseMask(c.mask + "\n")
		if err != nil || !back.Equal(s) {
			t.Errorf("ParseMask(%q) = %q, %v; want %q", c.mask, back, err, c.list)
		}
	}
}

func TestParseMaskKernelPadding(t *testing.T) {
	// As a 64-CPU kernel prints default_smp_affinity.
	s, err := ParseMask("00000000,0000000f\n")
	if err != nil || s.String() != "0-3" {
		t.Fatalf("ParseMask = %q, %v; want 0-3", s, err)
	}
}

func TestParseMaskBad(t *testing.T) {
	for _, bad := range []string{"", "\n", "g", "f,", ",f", "123456789", "f f", "-1"} {
		if _, err := ParseMask(bad); err == nil {
			t.Errorf("ParseMask(%q) accepted", bad)
		}
	}
}
