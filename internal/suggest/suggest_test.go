package suggest

import "testing"

func TestClosest(t *testing.T) {
	cands := []string{"status", "metrics", "plan", "place", "check-config"}
	for name, want := range map[string]string{
		"stauts": "status", "metric": "metrics", "pla": "plan", "pl": "", "check": "check-config", "xyz": "", "plam": "plan",
	} {
		if got := Closest(name, cands); got != want {
			t.Errorf("Closest(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestFold: letter case and separators do not count ("swap" is "Swap",
// "vfs_cache_pressure" is "VFSCachePressure"); a typo of the folded name
// is still found; two candidates that fold alike give none.
func TestFold(t *testing.T) {
	cands := []string{"Swap", "Sysctl", "CPU", "Metrics", "Swappiness", "VFSCachePressure", "MinSize"}
	for name, want := range map[string]string{
		"swap": "Swap", "SYSCTL": "Sysctl", "vfs_cache_pressure": "VFSCachePressure", "min-size": "MinSize",
		"minsie": "MinSize", "cpus": "CPU", "Colour": "",
	} {
		if got := Fold(name, cands); got != want {
			t.Errorf("Fold(%q) = %q, want %q", name, got, want)
		}
	}
	if got := Fold("ab", []string{"AB", "a_b"}); got != "" {
		t.Errorf("two candidates folding alike: %q, want none", got)
	}
}
