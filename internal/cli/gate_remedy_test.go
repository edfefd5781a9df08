package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// more is what the gate adds to its first line when more follow.
var more = regexp.MustCompile(` \(\d+ more reasons follow\)$`)

// TestGatePrintsEachCheckRemedy: with two guarantees failing (the active
// swap list unreadable, the swappiness changed after the activation) the
// gate prints one line per failing check, each ending with that check's
// own remedy as status shows it, and nothing of its own: a remedy the gate
// patched in was one status did not print, and the on-call engineer got
// two answers.
func TestGatePrintsEachCheckRemedy(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	t.Setenv("JOURNAL_STREAM", "")
	if err := os.Remove(root.Path("/proc/swaps")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := facts.Gather(root, facts.Gate)
	r := check.Run(f, plan.Decide(f))
	f.Close()
	remedies := map[string]string{}
	for _, c := range r.Checks {
		if c.Failed() {
			remedies[c.Name] = c.Remedy
		}
	}
	if len(remedies) < 2 {
		t.Fatalf("want two failing checks, have %v", remedies)
	}
	code, out, _ := runMain("--root", root.String(), "gate")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != ExitFail || len(lines) != len(remedies) {
		t.Fatalf("gate: exit %d, %d lines for %d failing checks:\n%s", code, len(lines), len(remedies), out)
	}
	for _, l := range lines {
		_, rest, ok := strings.Cut(l, " may not start: ")
		name, _, _ := strings.Cut(rest, ": ")
		want, failing := remedies[name]
		l = more.ReplaceAllString(l, "")
		if !ok || !failing || want == "" || !strings.HasSuffix(l, "; "+want) || !strings.HasSuffix(want, names.ThenRecover) {
			t.Errorf("gate line %q: want it to name a failing check and end with its remedy %q", l, want)
		}
	}
}
