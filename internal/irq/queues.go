package irq

import (
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
)

// Queue is one queue interrupt of the capture NIC, where it arrives.
type Queue struct {
	IRQ  int
	Name string
	// Index is its queue number (as Decide numbers it: from the name, else
	// in the order of /proc/interrupts).
	Index int
	// Receive: a receive or combined queue's interrupt, not a transmit
	// queue's; InUse: its queue is below the NIC's receive queue count (a
	// driver may request more interrupts than queues in use: mlx5 requests
	// one per CPU).
	Receive, InUse bool
	// On are the CPUs it arrives on: its effective affinity, else its
	// requested one (Source says which).
	On     cpuset.Set
	Source string
}

// Queues lists the capture NIC's queue interrupts (st.NIC), in the order
// of /proc/interrupts; those whose affinity is unknown are left out, as
// Decide leaves them.
func (st State) Queues() []Queue {
	var out []Queue
	order := 0
	queues := st.captureQueues()
	for _, q := range st.IRQs {
		id, ok := queues[q.Num]
		if !ok {
			continue
		}
		if q.AffinityErr != "" {
			continue // Decide leaves it, and numbers it not
		}
		idx := id.Index
		if idx < 0 {
			idx = order
			order++
		}
		on, src := q.Effective, "effective_affinity_list"
		if !q.HasEffective {
			on, src = q.Affinity, "smp_affinity_list"
		}
		out = append(out, Queue{IRQ: q.Num, Name: q.Name, Index: idx, Receive: id.Receive,
			InUse: st.NIC.RxQueues == 0 || idx < st.NIC.RxQueues, On: on, Source: src})
	}
	return out
}

// queueID is what a queue interrupt's name says of its queue: its number
// (-1 when the name has none) and whether it is a receive or combined
// queue's.
type queueID struct {
	Index   int
	Receive bool
}

// CaptureQueueIRQs are the IRQ numbers of the capture NIC's queue
// interrupts, as Decide steers them.
func (st State) CaptureQueueIRQs() map[int]bool {
	out := map[int]bool{}
	for n := range st.captureQueues() {
		out[n] = true
	}
	return out
}

// captureQueues are the capture NIC's queue interrupts (among
// st.NIC.IRQs), by IRQ number: those named in one driver's own way
// (driverQueue), and those with a queue part IsQueue knows.
func (st State) captureQueues() map[int]queueID {
	out := map[int]queueID{}
	gveBlocks := 0
	for _, q := range st.IRQs {
		if _, ok := numberAfter(q.Name, "gve-ntfy-blk", "@"); ok && st.NIC.IRQs[q.Num] {
			gveBlocks++
		}
	}
	for _, q := range st.IRQs {
		if !st.NIC.IRQs[q.Num] {
			continue
		}
		if id, ok := driverQueue(q.Name, st.NIC.Name, gveBlocks); ok {
			out[q.Num] = id
		} else if IsQueue(q.Name) {
			out[q.Num] = queueID{Index: queueIndex(q.Name), Receive: isReceive(q.Name)}
		}
	}
	return out
}

// driverQueue reads a queue interrupt's name (of the interface ifname)
// that only its driver's own format tells apart, as the drivers request
// them:
//
//   - sfc: "<if>-<n>" for a combined channel (its separate ones are
//     "<if>-rx-<n>" and "<if>-tx-<n>", which IsQueue knows);
//   - be2net (and octeon_ep): "<if>-q<n>", an event queue serving a
//     receive and a transmit queue;
//   - MANA: "mana_q<n>@pci:<addr>", a combined queue's ("mana_hwc@..." is
//     its hardware channel);
//   - gve: "gve-ntfy-blk<n>@pci:<addr>", notify blocks of which the first
//     half serve the transmit queues and the second half the receive
//     queues (transmit queue n on block n, receive queue n on block
//     blocks/2+n; gveBlocks is how many the NIC has), "gve-mgmnt@..."
//     its management interrupt.
//
// The first two need the interface's name: "eth0-0" is a queue of eth0's
// only.
func driverQueue(name, ifname string, gveBlocks int) (queueID, bool) {
	if ifname != "" {
		if v, ok := numberAfter(name, ifname+"-", ""); ok {
			return queueID{Index: v, Receive: true}, true
		}
		if v, ok := numberAfter(name, ifname+"-q", ""); ok {
			return queueID{Index: v, Receive: true}, true
		}
	}
	if v, ok := numberAfter(name, "mana_q", "@"); ok {
		return queueID{Index: v, Receive: true}, true
	}
	if v, ok := numberAfter(name, "gve-ntfy-blk", "@"); ok {
		if half := gveBlocks / 2; v < half {
			return queueID{Index: v, Receive: false}, true
		} else {
			return queueID{Index: v - half, Receive: true}, true
		}
	}
	return queueID{}, false
}

// numberAfter reads the decimal number that follows prefix at the start
// of name, followed by rest ("" for the end of the name); ok false when
// name is not so made.
func numberAfter(name, prefix, rest string) (int, bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return -1, false
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || rest == "" && i != len(s) || rest != "" && !strings.HasPrefix(s[i:], rest) {
		return -1, false
	}
	v, err := strconv.Atoi(s[:i])
	if err != nil {
		return -1, false
	}
	return v, true
}
