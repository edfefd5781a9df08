package main_test

import (
	"os"
	"strings"
	"testing"
)

// TestFaultManPageClearsMarker is fault-matrix row 19 (how to clear the
// marker by hand is in the man page): ransomeye-tuner(8) names the marker
// and its root-only fallback (used when /var/lock is not writable; the gate
// honours it), how to see why the core did not start, and the restart that
// clears the marker once the cause is fixed.
func TestFaultManPageClearsMarker(t *testing.T) {
	b, err := os.ReadFile("../docs/man/ransomeye-tuner.8.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"/var/lock/ransomeye-resource-fail",
		"/run/ransomeye-tuner/resource-fail",
		"ransomeye-tuner status",
		"ransomeye-tuner recover",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("ransomeye-tuner(8) does not mention %q", want)
		}
	}
}
