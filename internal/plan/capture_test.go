package plan

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
)

// nic8 is input8 (DPI CPUs 4-5) with the capture interface ens1f0 present
// and read with the channels c, and DPIChannels=setting.
func nic8(t *testing.T, setting int, c ethtool.Channels) *facts.Facts {
	t.Helper()
	f := input8(t, func(cfg *config.Config) { cfg.DPIInterface, cfg.DPIChannels = "ens1f0", setting })
	f.Capture = facts.Capture{Name: "ens1f0", Read: true, Present: true, Ifindex: 4, Driver: "ice", Device: "0000:3b:00.0", Node: -1, Channels: c}
	return f
}

// TestChannelDecision: what DPIChannels= makes of the capture NIC's
// channels, with DPI CPUs 4-5 (two workers): the combined count set to the
// DPI CPU count (auto) or to a number, capped at the NIC's maximum (and
// said); the receive channels of a NIC without combined ones; nothing set
// with off, on a NIC that matches, has no channels (EOPNOTSUPP), mixes
// kinds or is missing; nothing set under a running DPI engine (pending,
// with the remedy), nor when whether it runs is unknown.
func TestChannelDecision(t *testing.T) {
	ice := ethtool.Channels{MaxCombined: 64, MaxOther: 1, Combined: 8, Other: 1}
	for _, c := range []struct {
		name    string
		setting int
		ch      ethtool.Channels
		change  func(*facts.Facts)
		state   string
		to      placement.ChannelCounts
		note    string
		wanted  int
	}{
		{name: "off", setting: config.ChannelsOff, ch: ice, state: ChannelsOff},
		{name: "auto", setting: config.ChannelsAuto, ch: ice, state: ChannelsChange, to: placement.ChannelCounts{Combined: 2, Other: 1}, note: "combined 8 -> 2", wanted: 2},
		{name: "a number", setting: 3, ch: ice, state: ChannelsChange, to: placement.ChannelCounts{Combined: 3, Other: 1}, wanted: 3},
		{name: "already so", setting: config.ChannelsAuto, ch: ethtool.Channels{MaxCombined: 64, Combined: 2}, state: ChannelsMatch, wanted: 2},
		{name: "above the maximum", setting: 6, ch: ethtool.Channels{MaxCombined: 4, Combined: 8}, state: ChannelsChange,
			to: placement.ChannelCounts{Combined: 4}, note: "the NIC allows at most 4 combined channels, 6 wanted", wanted: 6},
		{name: "at its maximum", setting: 6, ch: ethtool.Channels{MaxCombined: 4, Combined: 4}, state: ChannelsLimited,
			note: "the NIC allows at most 4 combined channels, 6 wanted", wanted: 6},
		{name: "separate rx and tx", setting: config.ChannelsAuto, ch: ethtool.Channels{MaxRx: 8, MaxTx: 8, Rx: 8, Tx: 8}, state: ChannelsChange,
			to: placement.ChannelCounts{Rx: 2, Tx: 8}, note: "rx 8 -> 2", wanted: 2},
		{name: "mixed kinds", setting: config.ChannelsAuto, ch: ethtool.Channels{MaxCombined: 8, MaxRx: 8, Combined: 2, Rx: 2}, state: ChannelsRefused,
			note: "combined (2) and separate receive (2) channels together", wanted: 2},
		{name: "no channels", setting: config.ChannelsAuto, change: func(f *facts.Facts) { f.Capture.ChannelsErr = unix.EOPNOTSUPP },
			state: ChannelsRefused, note: "the driver ice has no channel count to set (EOPNOTSUPP)", wanted: 2},
		{name: "no maximum", setting: config.ChannelsAuto, ch: ethtool.Channels{}, state: ChannelsRefused, note: "no receive channels it can set", wanted: 2},
		{name: "missing", setting: config.ChannelsAuto, change: func(f *facts.Facts) {
			f.Capture = facts.Capture{Name: "ens1f0", Read: true, Node: -1, Missing: `no network interface "ens1f0" on this machine`}
		}, state: ChannelsUnknown, note: "no network interface", wanted: 2},
		{name: "engine running", setting: config.ChannelsAuto, ch: ice, change: func(f *facts.Facts) { f.Capture.EngineRunning = true },
			state: ChannelsPending, note: "combined 8 -> 2: not changed while the DPI service runs", wanted: 2},
		{name: "engine unknown", setting: config.ChannelsAuto, ch: ice, change: func(f *facts.Facts) { f.Capture.EngineErr = "read /proc: denied" },
			state: ChannelsPending, note: "whether the DPI service runs is not known", wanted: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := nic8(t, c.setting, c.ch)
			if c.change != nil {
				c.change(f)
			}
			ch := Decide(f).Channels
			if ch.State != c.state || ch.To != c.to || ch.Wanted != c.wanted || !strings.Contains(ch.Note, c.note) {
				t.Errorf("%+v, want state %s, to %+v, wanted %d, note with %q", ch, c.state, c.to, c.wanted, c.note)
			}
			if ch.State != ChannelsChange && ch.To != (placement.ChannelCounts{}) {
				t.Errorf("counts to set in state %s: %+v", ch.State, ch.To)
			}
		})
	}
}

// TestChannelGiveBack: a change on record (the plan file) is given back
// when it is no longer wanted (DPIChannels=off, another interface, no
// DPI CPUs), unless the DPI engine runs; a wanted one is kept.
func TestChannelGiveBack(t *testing.T) {
	rec := &placement.ChannelsChange{Interface: "ens1f0", Ifindex: 4, From: placement.ChannelCounts{Combined: 8}, To: placement.ChannelCounts{Combined: 2}}
	matched := ethtool.Channels{MaxCombined: 64, Combined: 2}
	for _, c := range []struct {
		name     string
		setting  int
		change   func(*facts.Facts)
		giveBack bool
	}{
		{"still wanted", config.ChannelsAuto, nil, false},
		{"off", config.ChannelsOff, nil, true},
		{"off, engine running", config.ChannelsOff, func(f *facts.Facts) { f.Capture.EngineRunning = true }, false},
		{"another interface", config.ChannelsAuto, func(f *facts.Facts) { f.Config.DPIInterface, f.Capture.Name = "ens2f0", "ens2f0" }, true},
		{"no DPI CPUs", config.ChannelsAuto, func(f *facts.Facts) { f.Config.Isolation = config.IsolationOff }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := nic8(t, c.setting, matched)
			f.Placement.Record = &placement.Applied{Channels: rec}
			if c.change != nil {
				c.change(f)
			}
			if got := Decide(f).Channels.GiveBack; got != c.giveBack {
				t.Errorf("give back %v, want %v", got, c.giveBack)
			}
		})
	}
}

// TestChannelsOrdersTheEngine: with DPIChannels= set, the DPI service is
// ordered after the placement unit that sets the channels at boot (its own
// drop-in, advisory: never compared, never gating); with off, no drop-in.
func TestChannelsOrdersTheEngine(t *testing.T) {
	p := "normal/ransomeye-dpi.service.d/" + ChannelsDropIn
	for _, setting := range []int{config.ChannelsOff, config.ChannelsAuto, 4} {
		f := input8(t, func(c *config.Config) { c.DPIInterface, c.DPIChannels = "ens1f0", setting })
		got, ok := files(Decide(f))[p]
		switch {
		case setting == config.ChannelsOff && ok:
			t.Errorf("off: %s written", p)
		case setting != config.ChannelsOff && (!ok || !strings.Contains(string(got.Content), "[Unit]\nAfter=ransomeye-tuner-place.service\n") || !got.Advisory):
			t.Errorf("DPIChannels=%s: %s = %+v", config.ChannelsString(setting), p, got)
		}
	}
}

// TestCaptureNoteRemedyKnowsTheChannels: one receive queue for the two
// DPI CPUs 4-5. The capture note told the operator to "consider [CPU]
// DPIChannels=auto (or ethtool -L ... combined 2)" whatever the
// configuration and the NIC: with auto already set it advised the setting
// in force, and on a NIC with separate rx/tx channels an ethtool -L it
// refuses. With DPIChannels=off it names the NIC's channel kind; with it
// set, it says what became of it, in status's words (ChannelsText).
func TestCaptureNoteRemedyKnowsTheChannels(t *testing.T) {
	for _, c := range []struct {
		name        string
		setting     int
		ch          ethtool.Channels
		change      func(*facts.Facts)
		want, never string
	}{
		{"off, combined", config.ChannelsOff, ethtool.Channels{MaxCombined: 8, Combined: 1}, nil,
			"set [CPU] DPIChannels=auto for one per DPI CPU from the next boot, or run ethtool -L ens1f0 combined 2", ""},
		{"off, rx and tx", config.ChannelsOff, ethtool.Channels{MaxRx: 8, MaxTx: 8, Rx: 1, Tx: 1}, nil,
			"ethtool -L ens1f0 rx 2", "combined"},
		{"auto, limited", config.ChannelsAuto, ethtool.Channels{MaxCombined: 1, Combined: 1}, nil,
			"channels (DPIChannels=auto) limited: the NIC allows at most 1 combined channels, 2 wanted", "consider"},
		{"auto, refused", config.ChannelsAuto, ethtool.Channels{}, func(f *facts.Facts) { f.Capture.ChannelsErr = unix.EOPNOTSUPP },
			"channels (DPIChannels=auto) refused: the driver ice has no channel count to set (EOPNOTSUPP)", "DPIChannels=auto for"},
		{"auto, pending", config.ChannelsAuto, ethtool.Channels{MaxCombined: 8, Combined: 1}, func(f *facts.Facts) { f.Capture.EngineRunning = true },
			"channels (DPIChannels=auto) pending: combined 1 -> 2", "DPIChannels=auto for"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := nic8(t, c.setting, c.ch)
			if c.change != nil {
				c.change(f)
			}
			f.Placement.Read = true
			f.Placement.IRQ = irq.State{Default: cpuset.Of(0, 1, 2, 3, 4, 5, 6, 7),
				IRQs: []irq.IRQ{{Num: 60, Name: "ice-ens1f0-TxRx-0", Affinity: cpuset.Of(0, 1, 2, 3, 4, 5, 6, 7), Writable: true}},
				NIC:  irq.NIC{Name: "ens1f0", Device: "0000:3b:00.0", Driver: "ice", IRQs: map[int]bool{60: true}, RxQueues: 1}}
			note := Decide(f).IRQ.NICNote
			if !strings.Contains(note, "some DPI CPUs get no receive queue interrupt") || !strings.Contains(note, c.want) {
				t.Errorf("note %q, want it to say %q", note, c.want)
			}
			if c.never != "" && strings.Contains(note, c.never) {
				t.Errorf("note %q says %q", note, c.never)
			}
		})
	}
}
