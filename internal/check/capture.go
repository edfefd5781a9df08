package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// CaptureInterface is the capture interface against the DPI CPUs (status
// --json "capture_interface"): queues, where their interrupts arrive,
// channels and offloads, and what differs from one receive queue per DPI
// worker. Reported, never gated, like the placement.
type CaptureInterface struct {
	Name string `json:"name"`
	// Present: the interface exists; Missing says why not.
	Present bool   `json:"present"`
	Missing string `json:"missing,omitempty"`
	// Device and Driver are its device's and driver's names ("": virtual);
	// NUMANode its device's node (-1: none or unknown).
	Device   string `json:"device,omitempty"`
	Driver   string `json:"driver,omitempty"`
	NUMANode int    `json:"numa_node"`
	// RxQueues and TxQueues are its receive and transmit queues in use.
	RxQueues int `json:"rx_queues"`
	TxQueues int `json:"tx_queues"`
	// DPICPUs are the CPUs its receive queues belong on.
	DPICPUs string `json:"dpi_cpus"`
	// Steering: its queue interrupts were compared with the DPI CPUs; the
	// four fields below are that comparison.
	Steering bool `json:"steering"`
	// QueueIRQs are its queue interrupts and where they arrive.
	QueueIRQs []CaptureQueueIRQ `json:"queue_irqs"`
	// RxIRQCPUs are the CPUs its receive queues' interrupts arrive on.
	RxIRQCPUs string `json:"rx_irq_cpus"`
	// RxIRQsOutsideDPI counts receive queue interrupts off the DPI CPUs.
	RxIRQsOutsideDPI int `json:"rx_irqs_outside_dpi_cpus"`
	// OnePerDPICPU: each DPI CPU takes exactly one receive queue's
	// interrupt, none arrives elsewhere.
	OnePerDPICPU bool `json:"one_queue_per_dpi_cpu"`
	// Channels are its channel counts and the DPIChannels= decision.
	Channels CaptureChannels `json:"channels"`
	// Offloads are the receive offloads that merge packets before an
	// engine sees them, as information; OffloadsErr says why not read.
	Offloads    []ethtool.Feature `json:"offloads"`
	OffloadsErr string            `json:"offloads_error,omitempty"`
	// Differences say what differs from one receive queue per DPI worker.
	Differences []string `json:"differences"`
	// Gated is always false: none of this keeps the core down.
	Gated bool `json:"gated"`
}

// CaptureQueueIRQ is one queue interrupt of the capture interface.
type CaptureQueueIRQ struct {
	IRQ   int    `json:"irq"`
	Name  string `json:"name"`
	Queue int    `json:"queue"`
	// Receive: a receive or combined queue's; InUse: below the receive
	// queue count.
	Receive bool `json:"receive"`
	InUse   bool `json:"in_use"`
	// CPUs are where it arrives; Source which affinity file says so.
	CPUs   string `json:"cpus"`
	Source string `json:"source"`
}

// CaptureChannels are the capture interface's channels.
type CaptureChannels struct {
	// Setting is [CPU] DPIChannels=; State the decision (plan.Channels*);
	// Note why, or what the NIC refused.
	Setting string `json:"setting"`
	State   string `json:"state"`
	Note    string `json:"note,omitempty"`
	// Kind is the kind set ("combined", "rx"); Wanted the receive channels
	// wanted (absent with off); Max the NIC's maximum of that kind.
	Kind   string `json:"kind,omitempty"`
	Wanted int    `json:"wanted,omitempty"`
	Max    int    `json:"max,omitempty"`
	// Current are its receive channels now, Counts the driver's counts and
	// maxima; both absent when not read (Error says why).
	Current *int              `json:"current,omitempty"`
	Counts  *ethtool.Channels `json:"counts,omitempty"`
	Error   string            `json:"error,omitempty"`
	// SetByTuner is an activation's change with the counts before, which
	// undo and the package's removal give back.
	SetByTuner *placement.ChannelsChange `json:"set_by_tuner,omitempty"`
}

// captureView compares the capture interface of f with p's DPI CPUs.
func captureView(f *facts.Facts, p plan.Plan) *CaptureInterface {
	nic := f.Capture
	c := &CaptureInterface{Name: nic.Name, Present: nic.Present, Missing: nic.Missing, Device: nic.Device, Driver: nic.Driver,
		NUMANode: nic.Node, RxQueues: nic.RxQueues, TxQueues: nic.TxQueues, QueueIRQs: []CaptureQueueIRQ{},
		Offloads: []ethtool.Feature{}, Differences: []string{}}
	c.Channels = captureChannels(f, p)
	diff := func(format string, a ...any) { c.Differences = append(c.Differences, fmt.Sprintf(format, a...)) }
	if !nic.Present {
		diff("%s: nothing is steered to the DPI CPUs and the DPI CPUs are not chosen by its NUMA node; name an interface this machine has in [CPU] DPIInterface= (ip -brief link lists them)", nic.Missing)
		return c
	}
	if nic.FeaturesErr != nil {
		c.OffloadsErr = nic.FeaturesErr.Error()
	} else if nic.Features != nil {
		c.Offloads = nic.Features
	}
	dpi := p.CaptureCPUs()
	c.DPICPUs = dpi.String()
	if nic.Device == "" {
		diff("%q is a virtual interface (no device): it has no queue interrupts to steer", nic.Name)
	}
	for _, s := range p.Services {
		if s.Role.Capture && p.CPU.Reserved && s.Node >= 0 && nic.Node >= 0 && s.Node != nic.Node {
			diff("the DPI CPUs %s are on NUMA node %d, the NIC on node %d: captured packets cross nodes", s.CPUs, s.Node, nic.Node)
		}
	}
	if !dpi.IsEmpty() && f.Placement.Read {
		c.steering(f, dpi, diff)
	}
	if d := channelsDifference(c.Channels, nic.Name, dpi.Len(), c.Steering); d != "" {
		diff("%s", d)
	}
	return c
}

// steering compares the queue interrupts with the DPI CPUs.
func (c *CaptureInterface) steering(f *facts.Facts, dpi cpuset.Set, diff func(string, ...any)) {
	if err := f.Placement.IRQErr; err != nil {
		diff("its queue interrupts are not known: %v", err)
		return
	}
	if c.Device == "" {
		return
	}
	c.Steering = true
	var rxOn cpuset.Set
	taken := map[int][]int{} // DPI CPU -> receive queues arriving only there
	for _, q := range f.Placement.IRQ.Queues() {
		c.QueueIRQs = append(c.QueueIRQs, CaptureQueueIRQ{IRQ: q.IRQ, Name: q.Name, Queue: q.Index, Receive: q.Receive, InUse: q.InUse,
			CPUs: q.On.String(), Source: q.Source})
		if !q.Receive || !q.InUse {
			continue
		}
		rxOn = rxOn.Union(q.On)
		switch {
		case !q.On.IsSubsetOf(dpi):
			c.RxIRQsOutsideDPI++
			diff("receive queue %d's interrupt %d (%s) arrives on CPUs %s, outside the DPI CPUs %s", q.Index, q.IRQ, q.Name, q.On, dpi)
		case q.On.Len() == 1:
			cpu := q.On.IDs()[0]
			taken[cpu] = append(taken[cpu], q.Index)
		}
	}
	c.RxIRQCPUs = rxOn.String()
	if len(c.QueueIRQs) == 0 {
		diff("%s: nothing to steer to the DPI CPUs", f.Placement.IRQ.NoQueues())
		return
	}
	if c.RxQueues != dpi.Len() {
		remedy := ""
		if c.Channels.State == plan.ChannelsOff {
			remedy = "; " + plan.ChannelsOffRemedy(c.Name, channelKind(c.Channels), dpi.Len())
		}
		diff("%d receive queues for %d DPI CPUs (%s): not one queue per DPI worker%s", c.RxQueues, dpi.Len(), dpi, remedy)
	}
	one := c.RxIRQsOutsideDPI == 0 && c.RxQueues == dpi.Len()
	var idle []string
	for _, cpu := range dpi.IDs() {
		qs := taken[cpu]
		one = one && len(qs) == 1
		switch len(qs) {
		case 0:
			idle = append(idle, strconv.Itoa(cpu))
		case 1:
		default:
			sort.Ints(qs)
			diff("DPI CPU %d takes the interrupts of receive queues %s", cpu, joinInts(qs))
		}
	}
	if len(idle) > 0 {
		diff("DPI CPU(s) %s take no receive queue's interrupt", strings.Join(idle, ", "))
	}
	c.OnePerDPICPU = one
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// captureChannels renders p's channel decision with the counts of f.
func captureChannels(f *facts.Facts, p plan.Plan) CaptureChannels {
	ch, nic := p.Channels, f.Capture
	c := CaptureChannels{Setting: ch.Setting, State: ch.State, Note: ch.Note, Kind: ch.Kind, Wanted: ch.Wanted, Max: ch.Max}
	if nic.Present {
		if nic.ChannelsErr != nil {
			c.Error = nic.ChannelsErr.Error()
		} else {
			counts, cur := nic.Channels, plan.RxChannels(nic.Channels)
			c.Counts, c.Current = &counts, &cur
		}
	}
	if r := f.Placement.Record; r != nil && r.Channels != nil {
		c.SetByTuner = r.Channels
	}
	return c
}

// channelsDifference is what the channels make differ ("" nothing): what
// the NIC refused or what waits, and with DPIChannels=off a receive count
// other than dpi's where the queues were not compared.
func channelsDifference(c CaptureChannels, name string, dpi int, steering bool) string {
	switch c.State {
	case plan.ChannelsPending, plan.ChannelsRefused, plan.ChannelsLimited, plan.ChannelsChange:
		return plan.ChannelsText(c.Setting, c.State, c.Note)
	case plan.ChannelsOff:
		if steering || c.Current == nil || dpi == 0 || *c.Current == dpi {
			return ""
		}
		return fmt.Sprintf("%d receive channels for %d DPI CPUs (DPIChannels=off leaves them): %s", *c.Current, dpi, plan.ChannelsOffRemedy(name, channelKind(c), dpi))
	}
	return ""
}

// channelKind is the kind of channel ethtool -L would set on the NIC
// (plan.ChannelKind; "combined" when its counts were not read).
func channelKind(c CaptureChannels) string {
	if c.Counts == nil {
		return "combined"
	}
	return plan.ChannelKind(*c.Counts)
}
