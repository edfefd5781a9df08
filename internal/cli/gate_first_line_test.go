package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestGateFirstLineEndsWithItsCommand: the gate's first line is the one
// `systemctl status ransomeye-core` shows and the on-call engineer copies.
// With more reasons than one, what follows its "then: " must still be the
// command alone, word for word: a note appended after it ("(1 more reasons
// follow)") turns the copied `ransomeye-tuner recover (1 more reasons
// follow)` into a shell syntax error.
func TestGateFirstLineEndsWithItsCommand(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	t.Setenv("JOURNAL_STREAM", "")
	if err := os.Remove(root.Path("/proc/swaps")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runMain("--root", root.String(), "gate")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != ExitFail || len(lines) < 2 {
		t.Fatalf("gate: exit %d, want 1 with two reasons (premise):\n%s", code, out)
	}
	i := strings.LastIndex(lines[0], "then: ")
	if i < 0 {
		t.Fatalf("gate's first line %q names no command", lines[0])
	}
	if cmd := lines[0][i+len("then: "):]; cmd != names.RecoverCommand {
		t.Errorf("gate's first line ends with %q after \"then: \"; copied word for word it is not the command %q", cmd, names.RecoverCommand)
	}
}
