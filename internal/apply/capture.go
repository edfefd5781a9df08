package apply

import (
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// placeChannels carries out p's decision on the capture NIC's channel
// count and returns the record to keep. A change resets the driver's queues
// and interrupts, so they are read and p decided again on them. A NIC's
// refusal is a warning, never a failure.
func placeChannels(f *facts.Facts, p *plan.Plan, r *placement.Report) *placement.ChannelsChange {
	var prev *placement.ChannelsChange
	if f.Placement.Record != nil {
		prev = f.Placement.Record.Channels
	}
	nic, ch := f.Capture, p.Channels
	reread := false
	if ch.GiveBack && prev != nil {
		drop, changed := placement.RestoreChannels(f.Root, prev, r)
		reread = changed && prev.Interface == nic.Name
		if drop {
			prev = nil
		}
	}
	var rec *placement.ChannelsChange
	switch {
	case ch.State == plan.ChannelsChange:
		var changed bool
		rec, changed = placement.SetChannels(f.Root, nic.Name, nic.Ifindex, nic.Channels, ch.To, sameInterface(prev, nic.Name), r)
		reread = reread || changed
	case prev != nil && prev.Interface == nic.Name:
		rec = placement.KeptChannels(prev, nic.Name, nic.Ifindex, nic.Channels, nic.ChannelsErr)
	default:
		rec = prev // another interface's, given back when the engine stops
	}
	switch ch.State {
	case plan.ChannelsPending, plan.ChannelsRefused:
		r.Warnf("capture interface %q: %s", nic.Name, plan.ChannelsText(ch.Setting, ch.State, ch.Note))
	case plan.ChannelsLimited, plan.ChannelsUnknown, plan.ChannelsNoDPICPUs:
		r.Infof("capture interface %q: %s", nic.Name, plan.ChannelsText(ch.Setting, ch.State, ch.Note))
	}
	if reread {
		f.RereadCapture()
		p.Redecide(f)
	}
	return rec
}

// sameInterface is rec when it is name's, else nil.
func sameInterface(rec *placement.ChannelsChange, name string) *placement.ChannelsChange {
	if rec != nil && rec.Interface == name {
		return rec
	}
	return nil
}
