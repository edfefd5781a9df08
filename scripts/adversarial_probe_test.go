package scripts

// Outside review probe: FAILS on this tree where the review found a defect.

import (
	"os"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// TestProbePurgeRemovesSwapfileHoldingHibernationImage: activate takes a
// swapfile of its own (label, root 0600) that holds a stale hibernation
// image (S1SUSPEND where SWAPSPACE2 was) as its own, and discards the image.
// blkid calls such a file TYPE="swsuspend", not "swap", so the purge's
// rt_is_our_swapfile says it is not the tuner's: the file (RAM-sized, with
// a memory image in it) stays on disk, the purge exits 0 and drops it from
// the record, so no later purge finds it.
func TestProbePurgeRemovesSwapfileHoldingHibernationImage(t *testing.T) {
	p := newPurgeRoot(t)
	f := p.root + "/data/ransomeye/swap"
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	copy(b[ps-20:ps-10], b[ps-10:ps])
	copy(b[ps-10:ps], "S1SUSPEND\x00")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p.record(t, "/data/ransomeye/swap")
	code, stderr, _ := p.purge(t, "/data/ransomeye/swap")
	if exists(f) {
		t.Errorf("the tuner's swapfile (label %s, root 0600, stale hibernation image) is left after the purge (exit %d):\n%s", names.SwapLabel, code, stderr)
		if code == 0 && !exists(p.root+"/var/lib/ransomeye-tuner/swapfiles") {
			t.Error("... and the purge exited 0 and removed the record: no later purge finds it")
		}
	}
}
