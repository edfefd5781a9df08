package placement

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/testkit/netns"
)

// vethNow reads rtva's index and channels.
func vethNow(t *testing.T) (int, ethtool.Channels) {
	t.Helper()
	ifindex, err := Ifindex("/", "rtva")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ethtool.GetChannels("rtva")
	if err != nil {
		t.Fatal(err)
	}
	return ifindex, c
}

// TestChannelsSetAndGivenBack sets a real NIC's channels (a veth of the
// test's own, in its own network namespace) and gives them back: a second
// change keeps the counts before the first; undo restores them where the
// NIC still holds what was set, and leaves a NIC changed by hand since, or
// made anew (another index), as it is.
func TestChannelsSetAndGivenBack(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 4}) {
		return
	}
	var r Report
	root := hostroot.Root("/")
	ifindex, cur := vethNow(t)
	rec, changed := SetChannels(root, "rtva", ifindex, cur, ChannelCounts{Rx: 2, Tx: 4}, nil, &r)
	if !changed || rec == nil || rec.From != (ChannelCounts{Rx: 4, Tx: 4}) || rec.To != (ChannelCounts{Rx: 2, Tx: 4}) || rec.Ifindex != ifindex {
		t.Fatalf("first change: %+v, changed %v; %v", rec, changed, r.Warnings)
	}
	_, cur = vethNow(t)
	rec, changed = SetChannels(root, "rtva", ifindex, cur, ChannelCounts{Rx: 3, Tx: 4}, rec, &r)
	if !changed || rec.From != (ChannelCounts{Rx: 4, Tx: 4}) || rec.To != (ChannelCounts{Rx: 3, Tx: 4}) {
		t.Fatalf("second change must keep the counts before the first: %+v", rec)
	}
	if drop, changed := RestoreChannels(root, rec, &r); !drop || !changed {
		t.Fatalf("undo: drop %v changed %v; %v", drop, changed, r.Warnings)
	}
	if _, c := vethNow(t); c.Rx != 4 || c.Tx != 4 {
		t.Errorf("after undo: %+v, want rx 4 tx 4", c)
	}

	// Changed by hand since: not ours any more.
	_, cur = vethNow(t)
	rec, _ = SetChannels(root, "rtva", ifindex, cur, ChannelCounts{Rx: 2, Tx: 4}, nil, &r)
	if err := ethtool.SetChannels("rtva", ethtool.Channels{Rx: 1, Tx: 4}); err != nil {
		t.Fatal(err)
	}
	if drop, changed := RestoreChannels(root, rec, &r); !drop || changed {
		t.Errorf("undo after a change by hand: drop %v changed %v", drop, changed)
	}
	if _, c := vethNow(t); c.Rx != 1 {
		t.Errorf("undo changed what an administrator set: %+v", c)
	}
	if got := KeptChannels(rec, "rtva", ifindex, ethtool.Channels{Rx: 1, Tx: 4}, nil); got != nil {
		t.Errorf("a record kept for counts changed by hand: %+v", got)
	}

	// Made anew (a driver's re-probe gives another index): not ours.
	_, cur = vethNow(t)
	rec, _ = SetChannels(root, "rtva", ifindex, cur, ChannelCounts{Rx: 2, Tx: 4}, nil, &r)
	for _, args := range [][]string{{"link", "del", "rtva"},
		{"link", "add", "rtva", "numrxqueues", "4", "numtxqueues", "4", "type", "veth", "peer", "name", "rtvb", "numrxqueues", "4", "numtxqueues", "4"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	if err := ethtool.SetChannels("rtva", ethtool.Channels{Rx: 2, Tx: 4}); err != nil {
		t.Fatal(err)
	}
	if drop, changed := RestoreChannels(root, rec, &r); !drop || changed {
		t.Errorf("undo on a device made anew: drop %v changed %v", drop, changed)
	}
	if idx, c := vethNow(t); idx == ifindex || c.Rx != 2 {
		t.Errorf("device made anew: index %d (was %d), %+v", idx, ifindex, c)
	}
}

// TestChannelsRefusedIsAWarning: a change the driver refuses (veth has no
// combined channels) changes nothing, keeps no record and says why.
func TestChannelsRefusedIsAWarning(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 4}) {
		return
	}
	var r Report
	ifindex, cur := vethNow(t)
	rec, changed := SetChannels("/", "rtva", ifindex, cur, ChannelCounts{Combined: 2}, nil, &r)
	if rec != nil || changed || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "EINVAL") {
		t.Errorf("refused change: %+v, changed %v, warnings %q", rec, changed, r.Warnings)
	}
}

// TestChannelsNotUnderRootPrefix: under a root prefix the driver is not
// asked: nothing is set or given back, the record stays, a warning says so.
func TestChannelsNotUnderRootPrefix(t *testing.T) {
	var r Report
	root := hostroot.Root(t.TempDir())
	rec := &ChannelsChange{Interface: "eth0", Ifindex: 2, From: ChannelCounts{Combined: 8}, To: ChannelCounts{Combined: 2}}
	if got, changed := SetChannels(root, "eth0", 2, ethtool.Channels{Combined: 2}, ChannelCounts{Combined: 4}, rec, &r); got != rec || changed {
		t.Errorf("set under a root prefix: %+v, changed %v", got, changed)
	}
	if drop, changed := RestoreChannels(root, rec, &r); drop || changed {
		t.Errorf("undo under a root prefix: drop %v changed %v", drop, changed)
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[1], "root prefix") {
		t.Errorf("warnings %q", r.Warnings)
	}
}
