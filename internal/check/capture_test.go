package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuplan"
	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

// plan8 is the plan of an 8-CPU machine: core 0-3, DPI 4-5 (NUMA node
// dpiNode), training 6-7.
func plan8(t *testing.T, dpiNode int) plan.Plan {
	t.Helper()
	p := plan.Plan{CPU: cpuplan.Plan{Reserved: true}, Channels: plan.Channels{Setting: "off", State: plan.ChannelsOff}}
	for i, s := range []string{"0-3", "4-5", "6-7"} {
		r := roles.Table[i]
		node := 0
		if r.Capture {
			node = dpiNode
		}
		p.CPU.Assignments = append(p.CPU.Assignments, cpuplan.Assignment{Role: r, CPUs: set(t, s), Node: node})
		p.Services = append(p.Services, plan.Service{Role: r, Unit: r.Unit, CPUs: set(t, s), Node: node, Reserved: true})
	}
	return p
}

// nicIRQ is one interrupt of the capture NIC and the CPUs it arrives on
// (its effective affinity).
type nicIRQ struct{ name, on string }

// captureFacts are the facts of a capture NIC ens1f0 (driver, rxQueues
// receive queues) whose interrupts are irqs (numbered from 60), all the
// device's, on NUMA node 0.
func captureFacts(t *testing.T, driver string, rxQueues int, irqs []nicIRQ) *facts.Facts {
	t.Helper()
	f := &facts.Facts{}
	f.Config.DPIInterface = "ens1f0"
	f.Capture = facts.Capture{Name: "ens1f0", Read: true, Present: true, Driver: driver, Device: "0000:3b:00.0", Node: 0, RxQueues: rxQueues, TxQueues: rxQueues,
		ChannelsErr: ethtool.ErrNotHost, FeaturesErr: ethtool.ErrNotHost}
	f.Placement.Read = true
	st := &f.Placement.IRQ
	st.NIC = irq.NIC{Name: "ens1f0", Device: "0000:3b:00.0", IRQs: map[int]bool{}, RxQueues: rxQueues}
	for i, q := range irqs {
		st.IRQs = append(st.IRQs, irq.IRQ{Num: 60 + i, Name: q.name, Affinity: set(t, q.on), Effective: set(t, q.on), HasEffective: true, Writable: true})
		st.NIC.IRQs[60+i] = true
	}
	return f
}

// TestCaptureRowPerDriver: the capture interface's queue interrupts as
// each driver names them, against the DPI CPUs 4-5: one receive queue per
// DPI CPU only when every DPI CPU takes exactly one and none arrives
// elsewhere; transmit-only queues and interrupts above the receive queues
// in use (mlx5 requests one per CPU) do not count; what differs is named.
func TestCaptureRowPerDriver(t *testing.T) {
	for _, c := range []struct {
		driver  string
		rx      int
		irqs    []nicIRQ
		one     bool
		outside int
		differs []string
	}{
		{"mlx5_core", 2, []nicIRQ{{"mlx5_async0@pci:0000:3b:00.0", "0-3"}, {"mlx5_comp0@pci:0000:3b:00.0", "4"}, {"mlx5_comp1@pci:0000:3b:00.0", "5"},
			{"mlx5_comp2@pci:0000:3b:00.0", "0"}, {"mlx5_comp3@pci:0000:3b:00.0", "1"}}, true, 0, nil},
		{"ice", 2, []nicIRQ{{"ice-0000:3b:00.0:misc", "0-3"}, {"ice-ens1f0-TxRx-0", "4"}, {"ice-ens1f0-TxRx-1", "5"}}, true, 0, nil},
		{"i40e", 2, []nicIRQ{{"i40e-0000:3b:00.0:misc", "0"}, {"i40e-ens1f0-TxRx-0", "5"}, {"i40e-ens1f0-TxRx-1", "4"}}, true, 0, nil},
		{"virtio_net", 2, []nicIRQ{{"virtio0-config", "0"}, {"virtio0-input.0", "4"}, {"virtio0-output.0", "4"}, {"virtio0-input.1", "5"}, {"virtio0-output.1", "1"}}, true, 0, nil},
		{"bnxt_en", 2, []nicIRQ{{"ens1f0-rx-0", "4"}, {"ens1f0-rx-1", "5"}, {"ens1f0-tx-2", "0"}, {"ens1f0-tx-3", "1"}}, true, 0, nil},
		{"ixgbe", 3, []nicIRQ{{"ens1f0-TxRx-0", "4"}, {"ens1f0-TxRx-1", "5"}, {"ens1f0-TxRx-2", "4"}, {"ens1f0", "0"}}, false, 0,
			[]string{"3 receive queues for 2 DPI CPUs (4-5): not one queue per DPI worker; set [CPU] DPIChannels=auto for one per DPI CPU", "DPI CPU 4 takes the interrupts of receive queues 0, 2"}},
		{"ice, one queue", 1, []nicIRQ{{"ice-ens1f0-TxRx-0", "4"}}, false, 0, []string{"1 receive queues for 2 DPI CPUs", "DPI CPU(s) 5 take no receive queue's interrupt"}},
		{"virtio_net, not steered", 2, []nicIRQ{{"virtio0-input.0", "4"}, {"virtio0-input.1", "2"}}, false, 1,
			[]string{"receive queue 1's interrupt 61 (virtio0-input.1) arrives on CPUs 2, outside the DPI CPUs 4-5", "DPI CPU(s) 5 take no receive queue's interrupt"}},
	} {
		t.Run(c.driver, func(t *testing.T) {
			f := captureFacts(t, strings.Fields(c.driver)[0], c.rx, c.irqs)
			r := captureView(f, plan8(t, 0))
			if !r.Steering || r.OnePerDPICPU != c.one || r.RxIRQsOutsideDPI != c.outside || r.DPICPUs != "4-5" || r.Gated {
				t.Errorf("%+v", r)
			}
			if len(r.Differences) != len(c.differs) {
				t.Errorf("differences %q, want %d", r.Differences, len(c.differs))
			}
			for i, d := range c.differs {
				if i < len(r.Differences) && !strings.HasPrefix(r.Differences[i], d) {
					t.Errorf("difference %d: %q, want it to start with %q", i, r.Differences[i], d)
				}
			}
		})
	}
}

// TestCaptureRowMissing: a DPIInterface= the machine does not have is
// reported as such, with the remedy, and nothing is compared.
func TestCaptureRowMissing(t *testing.T) {
	f := &facts.Facts{}
	f.Capture = facts.Capture{Name: "ens1f0", Read: true, Node: -1, Missing: `no network interface "ens1f0" on this machine`}
	r := captureView(f, plan8(t, 0))
	if r.Present || r.Steering || len(r.Differences) != 1 || !strings.Contains(r.Differences[0], "name an interface this machine has in [CPU] DPIInterface=") {
		t.Errorf("%+v", r)
	}
}

// TestCaptureRowOther: the DPI CPUs on another NUMA node than the NIC; the
// interrupts unreadable; channels that wait for the engine to stop; with
// DPIChannels=off and queues not compared, a channel count other than the
// DPI CPU count, with the remedy; a virtual interface.
func TestCaptureRowOther(t *testing.T) {
	ok := []nicIRQ{{"ice-ens1f0-TxRx-0", "4"}, {"ice-ens1f0-TxRx-1", "5"}}
	for _, c := range []struct {
		name   string
		change func(*facts.Facts, *plan.Plan)
		want   string
	}{
		{"NUMA", func(f *facts.Facts, p *plan.Plan) { *p = plan8(t, 1) }, "the DPI CPUs 4-5 are on NUMA node 1, the NIC on node 0"},
		{"interrupts unread", func(f *facts.Facts, p *plan.Plan) {
			f.Placement.IRQErr = errors.New("read \"/proc/interrupts\": denied")
		},
			"its queue interrupts are not known: read"},
		{"pending", func(f *facts.Facts, p *plan.Plan) {
			p.Channels = plan.Channels{Setting: "auto", State: plan.ChannelsPending, Note: "combined 8 -> 2: not changed while the DPI service runs"}
		}, "channels (DPIChannels=auto) pending: combined 8 -> 2"},
		{"off, other count", func(f *facts.Facts, p *plan.Plan) {
			f.Placement.IRQErr = errors.New("denied")
			f.Capture.ChannelsErr, f.Capture.Channels = nil, ethtool.Channels{MaxCombined: 64, Combined: 8}
		}, "8 receive channels for 2 DPI CPUs (DPIChannels=off leaves them): set [CPU] DPIChannels=auto for one per DPI CPU from the next boot, or run ethtool -L ens1f0 combined 2"},
		{"virtual", func(f *facts.Facts, p *plan.Plan) { f.Capture.Device = "" }, `"ens1f0" is a virtual interface (no device)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, p := captureFacts(t, "ice", 2, ok), plan8(t, 0)
			c.change(f, &p)
			r := captureView(f, p)
			found := false
			for _, d := range r.Differences {
				found = found || strings.HasPrefix(d, c.want)
			}
			if !found {
				t.Errorf("differences %q lack %q", r.Differences, c.want)
			}
		})
	}
}
