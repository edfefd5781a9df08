package ethtool

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/testkit/netns"
)

// TestChannelsOnVeth asks a real driver, veth's, in a network namespace of
// the test's own: its channels are separate receive and transmit ones (no
// combined), up to the queues it was made with; setting fewer is read
// back; combined ones it refuses with EINVAL, said as such; lo has no
// channels (EOPNOTSUPP), and a name without a device is ENODEV.
func TestChannelsOnVeth(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 4}) {
		return
	}
	c, err := GetChannels("rtva")
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxRx != 4 || c.MaxTx != 4 || c.MaxCombined != 0 || c.Rx != 4 || c.Tx != 4 || c.Combined != 0 {
		t.Fatalf("channels of a 4-queue veth: %+v", c)
	}
	if err := SetChannels("rtva", Channels{Rx: 2, Tx: 3}); err != nil {
		t.Fatal(err)
	}
	if c, err := GetChannels("rtva"); err != nil || c.Rx != 2 || c.Tx != 3 {
		t.Errorf("after setting rx 2 tx 3: %+v, %v", c, err)
	}
	err = SetChannels("rtva", Channels{Combined: 2})
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(Refusal(err), "EINVAL") {
		t.Errorf("combined channels on veth: %v (%s), want EINVAL", err, Refusal(err))
	}
	if _, err := GetChannels("lo"); !errors.Is(err, unix.EOPNOTSUPP) || !strings.Contains(Refusal(err), "cannot change its channel count") {
		t.Errorf("lo: %v, want EOPNOTSUPP", err)
	}
	if _, err := GetChannels("rtnone"); !errors.Is(err, unix.ENODEV) {
		t.Errorf("no device: %v, want ENODEV", err)
	}
}

// TestFeaturesOnVeth reads the receive offloads of a real driver: veth
// lets GRO be switched (off by default) and has no LRO or hardware GRO
// (fixed off); a name the kernel does not know is left out.
func TestFeaturesOnVeth(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 2}) {
		return
	}
	got, err := GetFeatures("rtva", "rx-gro", "rx-lro", "rx-gro-hw", "no-such-feature")
	if err != nil {
		t.Fatal(err)
	}
	want := []Feature{{Name: "rx-gro"}, {Name: "rx-lro", Fixed: true}, {Name: "rx-gro-hw", Fixed: true}}
	if len(got) != len(want) {
		t.Fatalf("features %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("feature %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestBadName: a name the kernel cannot hold is refused before any ioctl.
func TestBadName(t *testing.T) {
	for _, n := range []string{"", "a-name-of-sixteen"} {
		if _, err := GetChannels(n); err == nil || !strings.Contains(err.Error(), "not a network interface name") {
			t.Errorf("GetChannels(%q): %v", n, err)
		}
	}
}
