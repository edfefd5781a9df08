package check_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// TestFailingSwapCheckNamesItsRemedy: a failing swap guarantee carries a
// remedy in its own column, ending with the one command that checks again
// (remedy.go's rule), when what keeps it from being judged is the active
// swap list that cannot be read, or a swapfile directory that is another
// user's link. status's JSON and text print the remedy column; an empty
// one leaves the on-call engineer with the reason alone, and the fix
// folded into the reason does not say to run the tuner again, so the swap
// stays off and the core down after it is followed.
func TestFailingSwapCheckNamesItsRemedy(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, dir string){
		"proc-swaps-unreadable": func(t *testing.T, dir string) {
			if err := os.Remove(dir + "/proc/swaps"); err != nil {
				t.Fatal(err)
			}
		},
		"swap-dir-a-users-link": func(t *testing.T, dir string) {
			if err := os.Rename(dir+"/ransomeye", dir+"/elsewhere"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("elsewhere", dir+"/ransomeye"); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(dir+"/ransomeye", 1000, 1000); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := fakeroot.New(t, fakeroot.Healthy)
			change(t, root.String())
			f := facts.Gather(root, facts.Status)
			defer f.Close()
			r := check.Run(f, plan.Decide(f))
			found := false
			for _, c := range r.Checks {
				if c.Name != check.NameSwap {
					continue
				}
				found = true
				if !c.Failed() {
					t.Fatalf("the swap check holds: %+v", c)
				}
				if !strings.HasSuffix(c.Remedy, "then: "+names.RecoverCommand) {
					t.Errorf("swap check: remedy %q, want one ending with %q\nreason: %s", c.Remedy, "then: "+names.RecoverCommand, c.Reason)
				}
			}
			if !found {
				t.Fatalf("no swap check: %+v", r.Checks)
			}
		})
	}
}
