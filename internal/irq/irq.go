// Package irq keeps movable interrupts off the reserved CPUs and steers the
// capture NIC's queue interrupts onto the DPI CPUs: Read (state), Decide
// (pure), Apply (every write read back). A write refused with EIO (managed
// or per-CPU) or EINVAL is reported, never retried. Interrupt placement
// never keeps the core down: a driver can move its interrupts at any time.
package irq

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// Host paths read and written by this package.
const (
	InterruptsPath      = "/proc/interrupts"
	IRQDir              = "/proc/irq"
	DefaultAffinityPath = "/proc/irq/default_smp_affinity"
	NetDir              = "/sys/class/net"
)

// maxInterrupts bounds what is read of /proc/interrupts (a few MiB on 256
// CPUs).
const maxInterrupts = 64 << 20

// IRQ is one numbered interrupt of /proc/interrupts.
type IRQ struct {
	// Num is the IRQ number; Name the action names ("virtio0-input.0").
	Num  int
	Name string
	// Affinity is smp_affinity_list (AffinityErr: unknown, left alone).
	Affinity    cpuset.Set
	AffinityErr string
	// Effective is effective_affinity_list where the kernel has one.
	Effective    cpuset.Set
	HasEffective bool
	// Writable is false for a read-only (0444) smp_affinity_list: a
	// managed or per-CPU interrupt.
	Writable bool
}

// NIC is the capture interface's view.
type NIC struct {
	// Name is the interface ("" for none); Err says why it was not read.
	Name string
	Err  string
	// Device is the device's name ("virtio0", "0000:03:00.0"); Driver its
	// driver's ("ice", "virtio_net"; "" when not known).
	Device, Driver string
	// IRQs are the IRQ numbers of the NIC's device: its msi_irqs where
	// that can be read (ByName false), else the IRQs named after the
	// interface or the device (ByName true).
	IRQs   map[int]bool
	ByName bool
	// RxQueues is the number of receive queues (queues/rx-N).
	RxQueues int
	// MSIDir is the host path of the device directory whose msi_irqs lists
	// the NIC's vectors (a virtio device's PCI parent), "" when none.
	MSIDir string
}

// State is what Read sees.
type State struct {
	// Default is default_smp_affinity (DefaultErr: unknown).
	Default    cpuset.Set
	DefaultErr string
	IRQs       []IRQ
	NIC        NIC
}

// Read reads the interrupt state under root for the capture interface nic
// (or ""); only an unreadable /proc/interrupts is an error.
func Read(root hostroot.Root, nic string) (State, error) {
	var st State
	if s, err := kernfile.ReadMask(root, DefaultAffinityPath); err != nil {
		st.DefaultErr = err.Error()
	} else {
		st.Default = s
	}
	b, err := readfile.Regular(root.Path(InterruptsPath), maxInterrupts)
	if err != nil {
		return st, fmt.Errorf("read %q: %w", InterruptsPath, err)
	}
	irqs, err := ParseInterrupts(string(b))
	if err != nil {
		return st, err
	}
	for i := range irqs {
		readIRQ(root, &irqs[i])
	}
	st.IRQs = irqs
	if nic != "" {
		st.NIC = readNIC(root, nic, irqs)
	}
	return st, nil
}

// ParseInterrupts parses the numbered rows of /proc/interrupts and their
// action names (after the counts, the chip and the hardware IRQ).
func ParseInterrupts(text string) ([]IRQ, error) {
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "CPU") {
		return nil, fmt.Errorf("%q does not start with the CPU header line", InterruptsPath)
	}
	ncpu := len(strings.Fields(lines[0]))
	var out []IRQ
	for _, l := range lines[1:] {
		head, rest, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		num, err := strconv.Atoi(strings.TrimSpace(head))
		if err != nil || num < 0 {
			continue // NMI, LOC, ERR, MIS, ...
		}
		f := strings.Fields(rest)
		i := 0
		for i < len(f) && i < ncpu && isDigits(f[i]) {
			i++
		}
		f = f[i:]
		name := ""
		if len(f) > 2 {
			name = strings.Join(f[2:], " ")
		}
		out = append(out, IRQ{Num: num, Name: name})
	}
	return out, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func irqFile(num int, name string) string { return fmt.Sprintf("%s/%d/%s", IRQDir, num, name) }

func readIRQ(root hostroot.Root, q *IRQ) {
	p := irqFile(q.Num, "smp_affinity_list")
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		q.AffinityErr = err.Error()
		return
	}
	s, err := cpuset.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		q.AffinityErr = fmt.Sprintf("%q: %v", p, err)
		return
	}
	q.Affinity = s
	if fi, err := os.Lstat(root.Path(p)); err == nil {
		q.Writable = fi.Mode().Perm()&0o222 != 0
	}
	readEffective(root, q)
}

// readEffective reads q's effective_affinity_list, where the kernel has one.
func readEffective(root hostroot.Root, q *IRQ) {
	if b, err := readfile.Regular(root.Path(irqFile(q.Num, "effective_affinity_list")), 1<<16); err == nil {
		if s, err := cpuset.ParseMaybeEmpty(string(b)); err == nil {
			q.Effective, q.HasEffective = s, true
		}
	}
}

// readNIC finds the capture interface's IRQs: its device's msi_irqs (for a
// virtio device, its PCI parent's). Only where neither has one (a legacy
// INTx device, a sysfs that hides it) are they found by name: those whose
// name starts with the interface's or the device's name and a dash, and
// that do not start with a longer interface's name and a dash. Why not
// both: an interface's name may start with another's and a dash (a .link
// file's Name= can make "cap" and "cap-b"), and cap-b's "cap-b-TxRx-0"
// was steered as cap's queue.
func readNIC(root hostroot.Root, name string, irqs []IRQ) NIC {
	n := NIC{Name: name, IRQs: map[int]bool{}}
	ifdir := root.Path(NetDir + "/" + name)
	if _, err := os.Stat(ifdir); err != nil {
		n.Err = fmt.Sprintf("interface %q not found (%v)", name, err)
		return n
	}
	dev, err := filepath.EvalSymlinks(filepath.Join(ifdir, "device"))
	if err == nil && !strings.HasPrefix(dev, root.Path("/")) {
		err = fmt.Errorf("its device link leaves the root %q", root)
	}
	if err != nil {
		n.Err = fmt.Sprintf("interface %q has no device (%v): a virtual interface has no queue interrupts", name, err)
		return n
	}
	n.Device = filepath.Base(dev)
	if drv, err := os.Readlink(filepath.Join(dev, "driver")); err == nil {
		n.Driver = filepath.Base(drv)
	}
	n.ByName = true
	for _, d := range []string{dev, filepath.Dir(dev)} {
		entries, err := os.ReadDir(filepath.Join(d, "msi_irqs"))
		if err != nil {
			continue
		}
		n.ByName = false
		for _, e := range entries {
			if v, err := strconv.Atoi(e.Name()); err == nil {
				n.IRQs[v] = true
			}
		}
		if rel, err := filepath.Rel(root.Path("/"), d); err == nil && !strings.HasPrefix(rel, "..") {
			n.MSIDir = filepath.Clean("/" + rel)
		}
		break
	}
	if n.ByName {
		longer := longerInterfaces(root, name)
		for _, q := range irqs {
			if namedAfter(q.Name, name, longer) || strings.HasPrefix(q.Name, n.Device+"-") {
				n.IRQs[q.Num] = true
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(ifdir, "queues")); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "rx-") {
				n.RxQueues++
			}
		}
	}
	return n
}

// longerInterfaces are this machine's interfaces whose names start with
// name and a dash ("cap-b" for "cap").
func longerInterfaces(root hostroot.Root, name string) []string {
	var out []string
	entries, _ := os.ReadDir(root.Path(NetDir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), name+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// namedAfter reports whether an interrupt's name (irqName) is the
// interface name's: it starts with name and a dash, and not with the name
// of a longer interface (longer) and a dash: the longest interface name
// that fits owns it.
func namedAfter(irqName, name string, longer []string) bool {
	if !strings.HasPrefix(irqName, name+"-") {
		return false
	}
	for _, l := range longer {
		if strings.HasPrefix(irqName, l+"-") {
			return false
		}
	}
	return true
}

// IsQueue reports whether an IRQ name is a data queue's (virtio's
// "input.N"/"output.N", "<if>-TxRx-N", "-rx-N", "-tx-N", mlx5's "compN",
// mlx4's "mlx4-N@<pci>") rather than the device's configuration or control
// interrupt.
func IsQueue(name string) bool {
	l := strings.ToLower(name)
	for _, k := range []string{"input", "output", "txrx", "-rx", "-tx", "rx-", "tx-", "comp", "-fp-", "queue"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return isMlx4Queue(name)
}

// isMlx4Queue reports whether name is mlx4's completion vector interrupt,
// "mlx4-N@0000:04:00.0": event queue N is completion vector N-1 (0 is the
// async one).
func isMlx4Queue(name string) bool {
	rest, ok := strings.CutPrefix(name, "mlx4-")
	i := 0
	for ok && i < len(rest) && isDigit(rest[i]) {
		i++
	}
	return ok && i > 0 && i < len(rest) && rest[i] == '@'
}

// queueParts are what a queue number follows in the drivers' names
// ("virtio0-input.3", "eth0-TxRx-3", "eth0-Tx-Rx-3", "eth0-rxtx-3",
// "eth0-fp-3", "mlx5_comp3@pci:0000:3b:00.0", "mlx4-4@..." at the start),
// tried in this order at each position: combined parts first, or combined
// queues are taken for transmit-only ones.
var queueParts = [...]string{"txrx-", "tx-rx-", "rxtx-", "rx-tx-", "rx-", "tx-", "-fp-", "input.", "output.", "comp", "queue-", "queue", "mlx4-"}

// lastQueuePart returns the last queue part in name (case ignored, lower
// case out) followed by digits, and the digits, or "", "": the last counts
// (an interface may be named "rx-0"); not the trailing digits, as mlx5's
// end in the PCI function. A regular expression would do it, but compiling
// one costs the generator's start more than the rest of its setup.
func lastQueuePart(name string) (part, digits string) {
	for i := 0; i < len(name); {
		n := 0
		for _, p := range queueParts {
			if p == "mlx4-" && i != 0 || len(name)-i < len(p) || !strings.EqualFold(name[i:i+len(p)], p) {
				continue
			}
			d := i + len(p)
			for d < len(name) && isDigit(name[d]) {
				d++
			}
			if d > i+len(p) {
				part, digits, n = p, name[i+len(p):d], d-i
				break
			}
		}
		i += max(n, 1)
	}
	return part, digits
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// queuePart returns the queue part of a queue IRQ's name (lower case) and
// its queue number, ok false when the name has none.
func queuePart(name string) (part string, idx int, ok bool) {
	part, digits := lastQueuePart(name)
	if part == "" {
		return "", -1, false
	}
	v, err := strconv.Atoi(digits)
	if err != nil {
		return "", -1, false
	}
	if part == "mlx4-" {
		v-- // event queue N is completion vector N-1
	}
	return part, v, v >= 0
}

// queueIndex is the queue number of a queue IRQ's name (queuePart), else
// its trailing number, or -1.
func queueIndex(name string) int {
	if _, v, ok := queuePart(name); ok {
		return v
	}
	i := len(name)
	for i > 0 && isDigit(name[i-1]) {
		i--
	}
	if i == len(name) {
		return -1
	}
	v, err := strconv.Atoi(name[i:])
	if err != nil {
		return -1
	}
	return v
}

// isReceive reports whether a queue IRQ is a receive or combined one (not
// "-tx-N", virtio's "output.N").
func isReceive(name string) bool {
	if part, _, ok := queuePart(name); ok {
		return part != "tx-" && part != "output."
	}
	return !strings.Contains(strings.ToLower(name), "output")
}

// Move is one affinity change.
type Move struct {
	IRQ  int    `json:"irq"`
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
	// Queue is true for a capture-NIC queue steered to a DPI CPU.
	Queue bool `json:"capture_queue,omitempty"`
}

// Left is an IRQ left where it is, with the reason.
type Left struct {
	IRQ    int    `json:"irq"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
	// Unmovable: user space may not set its affinity (a read-only file, or
	// a write refused with EIO: some per-CPU NVMe queues have a writable
	// file), so only the write tells.
	Unmovable bool `json:"unmovable,omitempty"`
}

// Decision is what Decide says.
type Decision struct {
	// Default is default_smp_affinity's target (Within the core set);
	// DefaultChange is false when it holds that already.
	Default       cpuset.Set
	DefaultChange bool
	Moves         []Move
	Left          []Left
	// Kept counts the IRQs already where they should be.
	Kept int
	// NICNote compares the capture NIC's queues with the DPI CPUs ("" with
	// no capture interface); NICUneven is true when they are steered but
	// not one receive queue per DPI CPU (the remedy, a channel count, is
	// the plan's to say: it knows [CPU] DPIChannels= and the NIC's
	// channels).
	NICNote   string
	NICUneven bool
}

// nicPlaced counts what Decide does with the capture NIC's interrupts
// when none is a queue's: moved onto the core CPUs, already there, left.
type nicPlaced struct{ moved, kept, left int }

// Decide is the pure decision: default_smp_affinity and every movable IRQ
// kept Within core (a narrower choice survives), and the capture NIC's
// queue IRQs one DPI CPU each, queue N on dpi[N mod len], its receive and
// transmit IRQs together.
func Decide(st State, core, dpi cpuset.Set) Decision {
	d := Decision{Default: core}
	if st.DefaultErr == "" {
		d.Default = st.Default.Within(core)
	}
	d.DefaultChange = st.DefaultErr != "" || !st.Default.Equal(d.Default)
	dpiIDs := dpi.IDs()
	var queueOrder int
	nqueueIRQs := 0
	// rxOn maps each DPI CPU to the receive queues steered to it.
	rxOn := map[int]map[int]bool{}
	queues := st.captureQueues()
	var placed nicPlaced
	for _, q := range st.IRQs {
		id, isQueue := queues[q.Num]
		queue := len(dpiIDs) > 0 && isQueue
		ours := st.NIC.IRQs[q.Num]
		var target cpuset.Set
		switch {
		case q.AffinityErr != "":
			d.Left = append(d.Left, Left{IRQ: q.Num, Name: q.Name, Reason: "affinity unknown: " + q.AffinityErr})
			if ours {
				placed.left++
			}
			continue
		case queue:
			idx := id.Index
			if idx < 0 {
				idx = queueOrder
				queueOrder++
			}
			cpu := dpiIDs[idx%len(dpiIDs)]
			target = cpuset.Of(cpu)
			nqueueIRQs++
			// A NIC may have more queue interrupts than queues in use
			// (mlx5 requests one per CPU whatever ethtool -L says):
			// those above the receive queues carry no traffic.
			if id.Receive && (st.NIC.RxQueues == 0 || idx < st.NIC.RxQueues) {
				if rxOn[cpu] == nil {
					rxOn[cpu] = map[int]bool{}
				}
				rxOn[cpu][idx] = true
			}
			if q.Affinity.Equal(target) {
				d.Kept++
				continue
			}
		case q.Affinity.IsSubsetOf(core):
			d.Kept++
			if ours {
				placed.kept++
			}
			continue
		default:
			target = q.Affinity.Within(core)
		}
		if !q.Writable {
			d.Left = append(d.Left, Left{IRQ: q.Num, Name: q.Name, Unmovable: true,
				Reason: fmt.Sprintf("its affinity file is read-only, as the kernel makes it for a managed or per-CPU interrupt (on %s)", q.Affinity)})
			if ours {
				placed.left++
			}
			continue
		}
		d.Moves = append(d.Moves, Move{IRQ: q.Num, Name: q.Name, From: q.Affinity.String(), To: target.String(), Queue: queue})
		if ours {
			placed.moved++
		}
	}
	if st.NIC.Name != "" {
		d.NICNote, d.NICUneven = nicNote(st, nqueueIRQs, rxOn, dpi, core, placed)
	}
	return d
}

// NoQueues says why none of the capture NIC's interrupts in st is
// steered as a queue's: none of it was found, or none has a name this
// package knows for a queue interrupt (with the driver, whose naming
// this package would need to learn). "" when some are queues.
func (st State) NoQueues() string {
	n := st.NIC
	if len(st.captureQueues()) > 0 {
		return ""
	}
	if len(n.IRQs) == 0 {
		how := "its device's msi_irqs lists none"
		if n.ByName {
			how = "its device has no msi_irqs, and no interrupt is named after it"
		}
		return fmt.Sprintf("no interrupts of %q (%s) found in %s (%s)", n.Name, n.Device, InterruptsPath, how)
	}
	var names []string
	for _, q := range st.IRQs {
		if n.IRQs[q.Num] {
			names = append(names, fmt.Sprintf("%d %s", q.Num, q.Name))
		}
	}
	driver := n.Driver
	if driver == "" {
		driver = "(unknown)"
	}
	return fmt.Sprintf("none of the %d interrupts of %q (%s; %s) has a name known for a queue interrupt: the queue naming of its driver %s is not known to ransomeye-tuner", len(names), n.Name, n.Device, strings.Join(names, ", "), driver)
}

// nicNote compares the capture NIC's receive queues with the DPI CPUs as
// Decide steered them (rxOn: DPI CPU to its receive queues): "one queue
// per DPI worker" only when every DPI CPU got exactly one (uneven false).
// With no queue interrupt it says why, and what was done with the NIC's
// interrupts (placed) instead.
func nicNote(st State, queueIRQs int, rxOn map[int]map[int]bool, dpi, core cpuset.Set, placed nicPlaced) (note string, uneven bool) {
	n := st.NIC
	switch {
	case n.Err != "":
		return "capture interface: " + n.Err, false
	case dpi.IsEmpty():
		return fmt.Sprintf("capture interface %q: %d receive queues; no DPI CPUs reserved, its interrupts stay on the core CPUs", n.Name, n.RxQueues), false
	case queueIRQs == 0 && len(n.IRQs) == 0:
		return fmt.Sprintf("capture interface %q: %s (%d receive queues): nothing to steer to the DPI CPUs %s", n.Name, st.NoQueues(), n.RxQueues, dpi), false
	case queueIRQs == 0:
		var what []string
		if placed.moved > 0 {
			what = append(what, fmt.Sprintf("%d moved onto them", placed.moved))
		}
		if placed.kept > 0 {
			what = append(what, fmt.Sprintf("%d already there", placed.kept))
		}
		if placed.left > 0 {
			what = append(what, fmt.Sprintf("%d left where they are", placed.left))
		}
		return fmt.Sprintf("capture interface %q: %s; nothing steered to the DPI CPUs %s: its interrupts are kept on the core CPUs %s like any other (%s)", n.Name, st.NoQueues(), dpi, core, strings.Join(what, ", ")), false
	}
	var shared, idle []string
	for _, cpu := range dpi.IDs() {
		switch qs := rxOn[cpu]; len(qs) {
		case 0:
			idle = append(idle, strconv.Itoa(cpu))
		case 1:
		default:
			var l []string
			for _, q := range slices.Sorted(maps.Keys(qs)) {
				l = append(l, strconv.Itoa(q))
			}
			shared = append(shared, fmt.Sprintf("CPU %d takes queues %s", cpu, strings.Join(l, ", ")))
		}
	}
	head := fmt.Sprintf("capture interface %q: %d receive queues for %d DPI CPUs (%s)", n.Name, n.RxQueues, dpi.Len(), dpi)
	var why []string
	if len(shared) > 0 {
		why = append(why, "queues share CPUs ("+strings.Join(shared, "; ")+")")
	}
	if len(idle) > 0 {
		why = append(why, "some DPI CPUs get no receive queue interrupt (CPU "+strings.Join(idle, ", ")+")")
	}
	if len(why) == 0 {
		return head + ": one queue per DPI worker", false
	}
	return fmt.Sprintf("%s: %s", head, strings.Join(why, "; ")), true
}

// Result is what Apply did.
type Result struct {
	// DefaultErr is set when default_smp_affinity could not be set.
	DefaultErr error
	// Moved are the moves read back as asked; Left adds what the kernel
	// refused.
	Moved []Move
	Left  []Left
	Kept  int
}

// Apply carries out d, reading every write back, and folds what it wrote
// into st, so that a report after it reads nothing again.
func Apply(root hostroot.Root, d Decision, st *State) Result {
	r := Result{Left: append([]Left(nil), d.Left...), Kept: d.Kept}
	if d.DefaultChange {
		if r.DefaultErr = kernfile.WriteMask(root, DefaultAffinityPath, d.Default); r.DefaultErr == nil {
			st.Default, st.DefaultErr = d.Default, ""
		}
	}
	byNum := map[int]*IRQ{}
	for i := range st.IRQs {
		byNum[st.IRQs[i].Num] = &st.IRQs[i]
	}
	for _, m := range d.Moves {
		to, _ := cpuset.Parse(m.To)
		if reason, unmovable := setAffinity(root, m.IRQ, to); reason != "" {
			r.Left = append(r.Left, Left{IRQ: m.IRQ, Name: m.Name, Reason: reason, Unmovable: unmovable})
			continue
		}
		r.Moved = append(r.Moved, m)
		if q := byNum[m.IRQ]; q != nil {
			q.Affinity = to // read back by setAffinity
			readEffective(root, q)
		}
	}
	sort.Slice(r.Left, func(i, j int) bool { return r.Left[i].IRQ < r.Left[j].IRQ })
	return r
}

// setAffinity writes one IRQ's smp_affinity_list and reads it back: why
// not ("" when done), and whether the kernel refused with EIO.
func setAffinity(root hostroot.Root, num int, to cpuset.Set) (string, bool) {
	p := irqFile(num, "smp_affinity_list")
	if err := kernfile.WriteFile(root, p, to.String()); err != nil {
		return Refusal(err, to), errors.Is(err, unix.EIO)
	}
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return fmt.Sprintf("read back: %v", err), false
	}
	got, err := cpuset.Parse(strings.TrimSpace(string(b)))
	if err != nil || !got.Equal(to) {
		return fmt.Sprintf("wrote %s, read back %q", to, strings.TrimSpace(string(b))), false
	}
	return "", false
}

// Refusal says why a failed affinity write leaves the IRQ where it is.
func Refusal(err error, to cpuset.Set) string {
	switch {
	case errors.Is(err, unix.EIO):
		return "the kernel refuses to move it (EIO): a managed or per-CPU interrupt"
	case errors.Is(err, unix.EINVAL):
		return fmt.Sprintf("the kernel refuses %s for it (EINVAL): none of those CPUs can take it (or a managed interrupt)", to)
	case errors.Is(err, fs.ErrNotExist):
		return "it went away"
	}
	return err.Error()
}
