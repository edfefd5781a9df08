package placement

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// ChannelCounts are the channel counts a NIC's driver was given.
type ChannelCounts struct {
	Combined uint32 `json:"combined"`
	Rx       uint32 `json:"rx"`
	Tx       uint32 `json:"tx"`
	Other    uint32 `json:"other"`
}

// CountsOf are c's counts in use.
func CountsOf(c ethtool.Channels) ChannelCounts {
	return ChannelCounts{Combined: c.Combined, Rx: c.Rx, Tx: c.Tx, Other: c.Other}
}

// String is the counts as ethtool -L takes them.
func (c ChannelCounts) String() string {
	return fmt.Sprintf("combined %d rx %d tx %d other %d", c.Combined, c.Rx, c.Tx, c.Other)
}

// Channels writes c's counts over ch's.
func (c ChannelCounts) Channels() ethtool.Channels {
	return ethtool.Channels{Combined: c.Combined, Rx: c.Rx, Tx: c.Tx, Other: c.Other}
}

// ChannelsChange is a channel count an activation set on the capture NIC
// (the plan file's "capture_channels"), with what it held before the first
// change, which undo gives back.
type ChannelsChange struct {
	// Interface is the NIC's name; Ifindex its index when set (a device
	// probed again, or renamed onto, has another: its counts not ours).
	Interface string        `json:"interface"`
	Ifindex   int           `json:"ifindex"`
	From      ChannelCounts `json:"from"`
	To        ChannelCounts `json:"to"`
}

// ours reports whether the NIC (name, ifindex, counts cur) holds what c set.
func (c *ChannelsChange) ours(name string, ifindex int, cur ethtool.Channels) bool {
	return c != nil && c.Interface == name && c.Ifindex == ifindex && CountsOf(cur) == c.To
}

// KeptChannels is the record to keep of prev when nothing is set now: prev
// while the NIC still holds what it set, else nil (changed since).
func KeptChannels(prev *ChannelsChange, name string, ifindex int, cur ethtool.Channels, curErr error) *ChannelsChange {
	if curErr != nil || !prev.ours(name, ifindex, cur) {
		return nil
	}
	return prev
}

// SetChannels gives the NIC name (index ifindex, counts now cur) the counts
// to, reads them back, and returns the record to keep (counts before the
// first change while prev holds). A refusal keeps what KeptChannels keeps,
// with a warning, never a failure. changed: the driver reset its queues.
func SetChannels(root hostroot.Root, name string, ifindex int, cur ethtool.Channels, to ChannelCounts, prev *ChannelsChange, r *Report) (rec *ChannelsChange, changed bool) {
	kept := KeptChannels(prev, name, ifindex, cur, nil)
	if !root.IsHost() {
		r.Warnf("capture interface %q: channels not set (%v)", name, ethtool.ErrNotHost)
		return kept, false
	}
	if err := ethtool.SetChannels(name, to.Channels()); err != nil {
		r.Warnf("capture interface %q: channels left at %s: %s (%v)", name, CountsOf(cur), ethtool.Refusal(err), err)
		return kept, false
	}
	got, err := ethtool.GetChannels(name)
	rec = &ChannelsChange{Interface: name, Ifindex: ifindex, From: CountsOf(cur), To: to}
	if kept != nil {
		rec.From = kept.From
	}
	switch {
	case err != nil:
		r.Warnf("capture interface %q: channels set to %s, not read back: %v", name, to, err)
	case CountsOf(got) != to:
		// The driver gave other counts: undo gives back what it finds.
		r.Warnf("capture interface %q: channels set to %s, read back %s", name, to, CountsOf(got))
		rec.To = CountsOf(got)
	default:
		r.Infof("capture interface %q: channels %s -> %s (read back; the driver reset its queues)", name, CountsOf(cur), to)
	}
	return rec, true
}

// RestoreChannels gives c's NIC its counts before the first change where
// it still holds what was set (same index and counts). drop: the record
// can go (given back, or not ours); changed: the driver reset its queues.
func RestoreChannels(root hostroot.Root, c *ChannelsChange, r *Report) (drop, changed bool) {
	if c == nil {
		return true, false
	}
	if !root.IsHost() {
		r.Warnf("undo: capture interface %q: channels not given back (%v)", c.Interface, ethtool.ErrNotHost)
		return false, false
	}
	ifindex, err := Ifindex(root, c.Interface)
	if err != nil {
		r.Infof("undo: capture interface %q is gone (%v): its channels are its driver's again", c.Interface, err)
		return true, false
	}
	cur, err := ethtool.GetChannels(c.Interface)
	if err != nil {
		r.Warnf("undo: capture interface %q: channels not given back: %v", c.Interface, err)
		return false, false
	}
	if !c.ours(c.Interface, ifindex, cur) {
		r.Infof("undo: capture interface %q: channels %s are not the %s set earlier (the NIC was probed again or changed by hand): left as they are", c.Interface, CountsOf(cur), c.To)
		return true, false
	}
	if err := ethtool.SetChannels(c.Interface, c.From.Channels()); err != nil {
		r.Warnf("undo: capture interface %q: channels not given back to %s: %s (%v)", c.Interface, c.From, ethtool.Refusal(err), err)
		return false, false
	}
	r.Infof("undo: capture interface %q: channels %s -> %s (its counts before the placement)", c.Interface, c.To, c.From)
	return true, true
}

// Ifindex reads a network interface's index from sysfs.
func Ifindex(root hostroot.Root, name string) (int, error) {
	p := "/sys/class/net/" + name + "/ifindex"
	b, err := readfile.Regular(root.Path(p), 4096)
	if err != nil {
		return 0, fmt.Errorf("read %q: %w", p, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%q: %w", p, err)
	}
	return v, nil
}
