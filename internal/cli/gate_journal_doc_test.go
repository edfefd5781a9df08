package cli

import (
	"os"
	"strings"
	"testing"
)

// TestManJournalNamesTheGatesUnitField: the gate's records carry
// OBJECT_SYSTEMD_UNIT=, often without _SYSTEMD_UNIT=, so
// `journalctl _SYSTEMD_UNIT=<core>` misses them while `journalctl -u`
// finds them; THE JOURNAL in ransomeye-tuner(8), which lists the fields
// sent natively, must say so.
func TestManJournalNamesTheGatesUnitField(t *testing.T) {
	b, err := os.ReadFile("../../docs/man/ransomeye-tuner.8.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n# THE JOURNAL\n")
	if !ok {
		t.Fatal("no THE JOURNAL section")
	}
	sec, _, _ = strings.Cut(sec, "\n# ")
	if !strings.Contains(sec, "OBJECT_SYSTEMD_UNIT") {
		t.Errorf("THE JOURNAL lists the native fields but not OBJECT_SYSTEMD_UNIT=, which every gate line carries")
	}
}
