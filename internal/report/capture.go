package report

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
)

// writeCapture writes the capture interface's rows.
func writeCapture(c *check.CaptureInterface, row func(k, v string, a ...any)) {
	if c == nil {
		return
	}
	if !c.Present {
		row("capture interface", "%s: NOT PRESENT (reported, not gated)", c.Name)
	} else {
		var what []string
		if c.Driver != "" {
			what = append(what, c.Driver)
		}
		if c.Device != "" {
			what = append(what, c.Device)
		}
		node := "NUMA node unknown"
		if c.NUMANode >= 0 {
			node = fmt.Sprintf("NUMA node %d", c.NUMANode)
		}
		what = append(what, node)
		row("capture interface", "%s: %s (reported, not gated)", c.Name, strings.Join(what, ", "))
		queues := fmt.Sprintf("%d receive, %d transmit", c.RxQueues, c.TxQueues)
		switch {
		case c.Steering && c.OnePerDPICPU:
			queues += fmt.Sprintf("; receive interrupts on CPUs %s: one queue per DPI CPU (%s)", c.RxIRQCPUs, c.DPICPUs)
		case c.Steering:
			queues += fmt.Sprintf("; receive interrupts on CPUs %s, DPI CPUs %s", orNone(c.RxIRQCPUs), c.DPICPUs)
		case c.DPICPUs == "":
			queues += "; no DPI CPUs reserved, not steered"
		}
		row("  queues", "%s", queues)
		var on []string
		for _, q := range c.QueueIRQs {
			if q.Receive && q.InUse {
				on = append(on, fmt.Sprintf("%d on %s", q.Queue, q.CPUs))
			}
		}
		if len(on) > 0 {
			row("  receive queue irqs", "%s", strings.Join(on, ", "))
		}
		row("  channels", "%s", channelsText(c.Channels))
		if c.OffloadsErr != "" {
			row("  offloads", "not read: %s", c.OffloadsErr)
		} else if len(c.Offloads) > 0 {
			var o []string
			for _, f := range c.Offloads {
				v := f.Name + " off"
				if f.Active {
					v = f.Name + " on"
				}
				if f.Fixed {
					v += " (fixed)"
				}
				o = append(o, v)
			}
			row("  offloads", "%s (information: the capture engine sets these)", strings.Join(o, ", "))
		}
	}
	for _, d := range c.Differences {
		row("  differs", "%s", d)
	}
}

// channelsText is the channels row: what the NIC has, what is wanted, and
// the decision.
func channelsText(ch check.CaptureChannels) string {
	var b strings.Builder
	switch {
	case ch.Counts != nil:
		n := ch.Counts
		fmt.Fprintf(&b, "combined %d (max %d), rx %d (max %d), tx %d (max %d)", n.Combined, n.MaxCombined, n.Rx, n.MaxRx, n.Tx, n.MaxTx)
	case ch.Error != "":
		fmt.Fprintf(&b, "not read (%s)", ch.Error)
	default:
		b.WriteString("not read")
	}
	fmt.Fprintf(&b, "; DPIChannels=%s", ch.Setting)
	if ch.Wanted > 0 {
		fmt.Fprintf(&b, " wants %d", ch.Wanted)
	}
	if ch.State != "off" {
		fmt.Fprintf(&b, ": %s", ch.State)
	}
	if s := ch.SetByTuner; s != nil {
		fmt.Fprintf(&b, "; set by ransomeye-tuner from %s (place --undo gives it back)", s.From)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// captureFamilies are the capture interface's gauges: no series without
// [CPU] DPIInterface=, and of a present interface only what was measured.
func captureFamilies(c *check.CaptureInterface) []family {
	present := family{name: Prefix + "capture_interface_present", help: "1 when the capture interface [CPU] DPIInterface= names exists, else 0 (reported, never gated; no series without DPIInterface=)."}
	rxq := family{name: Prefix + "capture_rx_queues", help: "Receive queues of the capture interface in use (no series when it is absent)."}
	channels := family{name: Prefix + "capture_channels", help: "Receive channels (combined and rx) of the capture interface: current in use, max the NIC allows of the kind set, wanted by [CPU] DPIChannels= (no series for what is not known or not asked)."}
	outside := family{name: Prefix + "capture_rx_irqs_outside_dpi_cpus", help: "Receive queue interrupts of the capture interface that arrive outside the DPI CPUs (no series without a reservation or when the interrupts were not read)."}
	one := family{name: Prefix + "capture_one_queue_per_dpi_cpu", help: "1 when each DPI CPU takes exactly one receive queue's interrupt of the capture interface and none arrives elsewhere, else 0 (no series without a reservation)."}
	differences := family{name: Prefix + "capture_differences", help: "What differs on the capture interface from one receive queue per DPI worker on the DPI CPUs, counted (status names each; reported, never gated)."}
	offload := family{name: Prefix + "capture_offload_active", help: "1 when the capture interface's receive offload (rx-gro, rx-lro, rx-gro-hw) is on, else 0: information, the capture engine sets these."}
	if c != nil {
		l := [][2]string{{"interface", c.Name}}
		present.samples = []sample{{labels: l, value: bool01(c.Present)}}
		differences.samples = []sample{{labels: l, value: float64(len(c.Differences))}}
		if c.Present {
			rxq.samples = []sample{{labels: l, value: float64(c.RxQueues)}}
			ch := c.Channels
			if ch.Current != nil {
				channels.samples = append(channels.samples, sample{labels: append(l[:1:1], [2]string{"kind", "current"}), value: float64(*ch.Current)})
			}
			if ch.Max > 0 {
				channels.samples = append(channels.samples, sample{labels: append(l[:1:1], [2]string{"kind", "max"}), value: float64(ch.Max)})
			}
			if ch.Wanted > 0 {
				channels.samples = append(channels.samples, sample{labels: append(l[:1:1], [2]string{"kind", "wanted"}), value: float64(ch.Wanted)})
			}
			if c.Steering {
				outside.samples = []sample{{labels: l, value: float64(c.RxIRQsOutsideDPI)}}
				one.samples = []sample{{labels: l, value: bool01(c.OnePerDPICPU)}}
			}
			for _, f := range c.Offloads {
				offload.samples = append(offload.samples, sample{labels: append(l[:1:1], [2]string{"feature", f.Name}), value: bool01(f.Active)})
			}
		}
	}
	return []family{present, rxq, channels, outside, one, differences, offload}
}
