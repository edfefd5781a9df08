package plan

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// The states of a channel decision (Channels.State).
const (
	// ChannelsOff: [CPU] DPIChannels=off, the count is left as it is.
	ChannelsOff = "off"
	// ChannelsMatch: the NIC has the receive channels wanted.
	ChannelsMatch = "match"
	// ChannelsLimited: the NIC has its maximum, fewer than wanted.
	ChannelsLimited = "limited"
	// ChannelsChange: the count is to be set (by activate and place).
	ChannelsChange = "change"
	// ChannelsPending: the count differs and the DPI engine runs: the
	// change, which resets the NIC, waits for it to stop (next boot).
	ChannelsPending = "pending"
	// ChannelsRefused: the NIC cannot get the count.
	ChannelsRefused = "refused"
	// ChannelsUnknown: the NIC or its channels could not be read.
	ChannelsUnknown = "unknown"
	// ChannelsNoDPICPUs: no DPI CPUs reserved, no worker count to match.
	ChannelsNoDPICPUs = "no_dpi_cpus"
)

// Channels is the decision on the capture NIC's receive channel count
// ([CPU] DPIChannels=): combined channels, or separate receive ones on a
// NIC without those.
type Channels struct {
	// Setting is DPIChannels= as configured ("off", "auto", "4").
	Setting string
	// State is one of the Channels constants; Note says why.
	State string
	Note  string
	// Wanted is the receive channel count asked (0: none) of Kind
	// ("combined" or "rx"), Max the NIC's maximum of it, Current its
	// receive channels now.
	Wanted, Max, Current int
	Kind                 string
	// To are the counts to set, when State is ChannelsChange.
	To placement.ChannelCounts
	// GiveBack: an earlier change (the plan file's record) is not wanted
	// any more and the engine does not run: activate and place give it
	// back.
	GiveBack bool
}

// RxChannels are a NIC's receive channels in use (combined and rx).
func RxChannels(c ethtool.Channels) int { return int(c.Combined) + int(c.Rx) }

// decideChannels decides the capture NIC's channel count for p on f.
func (p *Plan) decideChannels(f *facts.Facts) {
	cfg, nic := f.Config, f.Capture
	ch := Channels{Setting: config.ChannelsString(cfg.DPIChannels), State: ChannelsOff}
	defer func() { p.Channels = ch }()
	var rec *placement.ChannelsChange
	if f.Placement.Record != nil {
		rec = f.Placement.Record.Channels
	}
	if nic.Read && nic.ChannelsErr == nil {
		ch.Current = RxChannels(nic.Channels)
	}
	dpi := p.CaptureCPUs().Len()
	if cfg.DPIChannels == config.ChannelsOff || nic.Name == "" || dpi == 0 {
		if cfg.DPIChannels != config.ChannelsOff && nic.Name != "" {
			ch.State, ch.Note = ChannelsNoDPICPUs, "no DPI CPUs are reserved: no worker count to match, the channel count is left as it is"
		}
		ch.GiveBack = rec != nil && !nic.EngineRunning
		return
	}
	ch.GiveBack = rec != nil && rec.Interface != nic.Name && !nic.EngineRunning
	ch.Wanted = cfg.DPIChannels
	if ch.Wanted == config.ChannelsAuto {
		ch.Wanted = dpi
	}
	c := nic.Channels
	switch {
	case !nic.Present:
		ch.State, ch.Note = ChannelsUnknown, nic.Missing
		return
	case errors.Is(nic.ChannelsErr, unix.EOPNOTSUPP):
		ch.State, ch.Note = ChannelsRefused, fmt.Sprintf("the driver %s has no channel count to set (EOPNOTSUPP)", orUnknown(nic.Driver))
		return
	case nic.ChannelsErr != nil:
		ch.State, ch.Note = ChannelsUnknown, nic.ChannelsErr.Error()
		return
	case c.MaxCombined > 0 && c.Rx == 0:
		ch.Kind, ch.Max = "combined", int(c.MaxCombined)
	case c.MaxRx > 0 && c.Combined == 0:
		ch.Kind, ch.Max = "rx", int(c.MaxRx)
	case c.MaxCombined == 0 && c.MaxRx == 0:
		ch.State, ch.Note = ChannelsRefused, fmt.Sprintf("the driver %s reports no receive channels it can set (maximum combined 0, rx 0)", orUnknown(nic.Driver))
		return
	default:
		ch.State, ch.Note = ChannelsRefused, fmt.Sprintf("the NIC uses combined (%d) and separate receive (%d) channels together: set them by hand (ethtool -L %s)", c.Combined, c.Rx, nic.Name)
		return
	}
	target := min(ch.Wanted, ch.Max)
	if target < ch.Wanted {
		ch.Note = fmt.Sprintf("the NIC allows at most %d %s channels, %d wanted", ch.Max, ch.Kind, ch.Wanted)
	}
	switch {
	case ch.Current == target && target < ch.Wanted:
		ch.State = ChannelsLimited
		return
	case ch.Current == target:
		ch.State = ChannelsMatch
		return
	}
	to := placement.CountsOf(c)
	if ch.Kind == "combined" {
		to.Combined = uint32(target)
	} else {
		to.Rx = uint32(target)
	}
	why := fmt.Sprintf("%s %d -> %d", ch.Kind, ch.Current, target)
	if ch.Note != "" {
		why += " (" + ch.Note + ")"
	}
	switch {
	case nic.EngineRunning:
		ch.State, ch.Note = ChannelsPending, why+": not changed while the DPI service runs, since a channel change resets the NIC under it; set when a placement runs with it stopped (the next boot, or: systemctl stop the DPI service, ransomeye-tuner place, start it)"
	case nic.EngineErr != "":
		ch.State, ch.Note = ChannelsPending, why+": not changed, since whether the DPI service runs is not known ("+nic.EngineErr+")"
	default:
		ch.State, ch.Note, ch.To = ChannelsChange, why, to
	}
}

func orUnknown(driver string) string {
	if driver == "" {
		return "(unknown)"
	}
	return driver
}

// decidePlacement decides the capture NIC's channel count and where the
// interrupts go (with a reservation, when read).
func (p *Plan) decidePlacement(f *facts.Facts) {
	p.decideChannels(f)
	p.IRQ = irq.Decision{}
	if p.CPU.Reserved && f.Placement.Read && f.Placement.IRQErr == nil {
		p.IRQ = irq.Decide(f.Placement.IRQ, p.CPU.Core(), p.CaptureCPUs())
		if p.IRQ.NICUneven {
			p.IRQ.NICNote += "; " + p.channelsRemedy(f)
		}
	}
}

// channelsRemedy is what the capture note says of the channels when the
// queues are not one per DPI worker: with DPIChannels=off the setting
// (or the ethtool -L of the NIC's channel kind) that gives one per DPI
// CPU; with it set, what became of it (ChannelsText): advising the
// setting in force told operators to do what they had done.
func (p Plan) channelsRemedy(f *facts.Facts) string {
	ch, nic := p.Channels, f.Capture
	n := p.CaptureCPUs().Len()
	switch {
	case ch.State == ChannelsOff:
		kind := "combined"
		if nic.ChannelsErr == nil {
			kind = ChannelKind(nic.Channels)
		}
		return "with one DPI worker per CPU, " + ChannelsOffRemedy(nic.Name, kind, n)
	case ch.State == ChannelsMatch && ch.Wanted != n:
		return ChannelsText(ch.Setting, ch.State, ch.Note) + "; with one DPI worker per CPU, set [CPU] DPIChannels=auto"
	}
	return ChannelsText(ch.Setting, ch.State, ch.Note)
}

// ChannelsText says what became of [CPU] DPIChannels= (setting) on the
// capture NIC: its state (ChannelsPending, ...) and note. Status, the
// placement's log and its capture note say it in these words.
func ChannelsText(setting, state, note string) string {
	switch state {
	case ChannelsChange:
		return fmt.Sprintf("channels (DPIChannels=%s): %s at the next placement (ransomeye-tuner place, or the next boot)", setting, note)
	case ChannelsMatch:
		return fmt.Sprintf("channels (DPIChannels=%s) %s: the NIC has the receive channels wanted", setting, state)
	case ChannelsOff:
		return "channels (DPIChannels=off): left as they are"
	}
	return fmt.Sprintf("channels (DPIChannels=%s) %s: %s", setting, state, note)
}

// ChannelsOffRemedy is the remedy for a capture NIC (name) whose receive
// channels do not match the dpi DPI CPUs under DPIChannels=off; kind is
// the kind of channel ethtool -L sets on it (ChannelKind).
func ChannelsOffRemedy(name, kind string, dpi int) string {
	return fmt.Sprintf("set [CPU] DPIChannels=auto for one per DPI CPU from the next boot, or run ethtool -L %s %s %d", name, kind, dpi)
}

// ChannelKind is the kind of channel ethtool -L sets on a NIC with
// channels c: "rx" for one that has only separate receive channels in
// use (rx/tx channels), else "combined".
func ChannelKind(c ethtool.Channels) string {
	if c.Combined == 0 && c.Rx > 0 {
		return "rx"
	}
	return "combined"
}

// Redecide decides placement again on f re-read (facts.RereadCapture)
// after a channel change: the interrupts are others, and the channels
// should now match. Pure, like Decide.
func (p *Plan) Redecide(f *facts.Facts) { p.decidePlacement(f) }

// captureText says what plan sees of the capture interface and would do
// with its channels ("" without one).
func (p Plan) captureText(f *facts.Facts) string {
	nic, ch := f.Capture, p.Channels
	if !nic.Read {
		return ""
	}
	if !nic.Present {
		return fmt.Sprintf("capture interface: %s NOT PRESENT: %s; nothing would be steered to the DPI CPUs, and they are not chosen by its NUMA node\n", nic.Name, nic.Missing)
	}
	var b strings.Builder
	what := []string{}
	if nic.Driver != "" {
		what = append(what, nic.Driver)
	}
	if nic.Device != "" {
		what = append(what, nic.Device)
	} else {
		what = append(what, "virtual, no queue interrupts")
	}
	if nic.Node >= 0 {
		what = append(what, fmt.Sprintf("NUMA node %d", nic.Node))
	}
	fmt.Fprintf(&b, "capture interface: %s (%s), %d receive queues", nic.Name, strings.Join(what, ", "), nic.RxQueues)
	if dpi := p.CaptureCPUs(); !dpi.IsEmpty() {
		fmt.Fprintf(&b, ", DPI CPUs %s (%d)", dpi, dpi.Len())
	}
	b.WriteString("\n")
	if nic.ChannelsErr != nil {
		fmt.Fprintf(&b, "  channels: not read (%v)\n", nic.ChannelsErr)
	} else {
		c := nic.Channels
		fmt.Fprintf(&b, "  channels: combined %d (max %d), rx %d (max %d), tx %d (max %d)\n", c.Combined, c.MaxCombined, c.Rx, c.MaxRx, c.Tx, c.MaxTx)
	}
	switch ch.State {
	case ChannelsOff:
		fmt.Fprintf(&b, "  DPIChannels=off: the channel count is left as it is\n")
	case ChannelsChange:
		fmt.Fprintf(&b, "  DPIChannels=%s: activate and place would set %s (the driver resets its queues: a moment without capture)\n", ch.Setting, ch.Note)
	case ChannelsMatch:
		fmt.Fprintf(&b, "  DPIChannels=%s: %d receive channels, as wanted\n", ch.Setting, ch.Current)
	default:
		fmt.Fprintf(&b, "  DPIChannels=%s: %s: %s\n", ch.Setting, ch.State, ch.Note)
	}
	return b.String()
}

// PlaceUnit places interrupts once the network is up; ChannelsDropIn
// orders the DPI service after it when [CPU] DPIChannels= is set.
const (
	PlaceUnit      = "ransomeye-tuner-place.service"
	ChannelsDropIn = "ransomeye-tuner-channels.conf"
)

// channelsFile orders the DPI service after PlaceUnit when DPIChannels= is
// set (with a capture interface and a reservation): the channel change
// resets the NIC and is made only while the engine does not run, and
// activate runs too early for a late driver. An ordering only.
func (p *Plan) channelsFile(f *facts.Facts) {
	cfg := f.Config
	if cfg.DPIChannels == config.ChannelsOff || cfg.DPIInterface == "" || !p.CPU.Reserved {
		return
	}
	for _, s := range p.Services {
		if s.Role.Capture {
			p.Files = append(p.Files, units.File{Dir: units.Normal, Path: s.Unit + ".d/" + ChannelsDropIn, CPU: true, Advisory: true,
				Content: units.Serialize(units.Opt("Unit", "After", PlaceUnit))})
		}
	}
}
