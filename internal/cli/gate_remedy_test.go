package cli

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// count is what the gate puts before each line when there are more than
// one ("1 of 2: ").
var count = regexp.MustCompile(`^(\d+) of (\d+): `)

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
	for i, l := range lines {
		if m := count.FindStringSubmatch(l); m == nil || m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(len(lines)) {
			t.Errorf("gate line %d of %d does not start with its count: %q", i+1, len(lines), l)
		}
		_, rest, ok := strings.Cut(l, " may not start: ")
		name, _, _ := strings.Cut(rest, ": ")
		want, failing := remedies[name]
		if !ok || !failing || want == "" || !strings.HasSuffix(l, "; "+want) || !strings.HasSuffix(want, names.ThenRecover) {
			t.Errorf("gate line %q: want it to name a failing check and end with its remedy %q", l, want)
		}
	}
}
