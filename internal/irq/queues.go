package irq

import "github.com/ransomeye/ransomeye-tuner/internal/cpuset"

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
	for _, q := range st.IRQs {
		if !st.NIC.IRQs[q.Num] || !IsQueue(q.Name) {
			continue
		}
		if q.AffinityErr != "" {
			continue // Decide leaves it, and numbers it not
		}
		idx := queueIndex(q.Name)
		if idx < 0 {
			idx = order
			order++
		}
		on, src := q.Effective, "effective_affinity_list"
		if !q.HasEffective {
			on, src = q.Affinity, "smp_affinity_list"
		}
		out = append(out, Queue{IRQ: q.Num, Name: q.Name, Index: idx, Receive: isReceive(q.Name),
			InUse: st.NIC.RxQueues == 0 || idx < st.NIC.RxQueues, On: on, Source: src})
	}
	return out
}
