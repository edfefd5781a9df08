package irq

// Outside review probe: FAILS on this tree where the review found a defect.

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
)

// TestProbeCombinedQueueNoteENA: AWS ENA names its combined queue
// interrupts "<if>-Tx-Rx-<n>" (ena_netdev.c, "%s-Tx-Rx-%d"); nfp
// "<if>-rxtx-<n>". isReceive takes any name holding "tx-" but not "txrx-"
// for a transmit-only queue, so with two queues on two DPI CPUs (steered
// one each) the note says "some DPI CPUs get no receive queue interrupt"
// and tells the operator to run ethtool -L, while it is one queue per
// DPI worker.
func TestProbeCombinedQueueNoteENA(t *testing.T) {
	for _, names := range [][]string{{"eth0-Tx-Rx-0", "eth0-Tx-Rx-1"}, {"eth0-rxtx-0", "eth0-rxtx-1"}} {
		root := fakePCINIC(t, "eth0", 2, names...)
		st, err := Read(root, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		core, _ := cpuset.Parse("0-3")
		dpi, _ := cpuset.Parse("4-5")
		d := Decide(st, core, dpi)
		if !strings.HasSuffix(d.NICNote, "one queue per DPI worker") {
			t.Errorf("%v: note %q", names, d.NICNote)
		}
	}
}
