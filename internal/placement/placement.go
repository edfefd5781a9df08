// Package placement carries the CPU plan past systemd's reach: it keeps
// movable interrupts and unbound kernel work on the core CPUs (steering the
// capture NIC's queues to the capture CPUs), undoes that when the plan has
// no reservation, and keeps the record of what it did in the plan file.
//
// None of it gates the core: the core's correctness does not depend on
// where interrupts and kernel work run, and a NIC driver can move its
// interrupts at any time. Failures are returned as warnings for the log.
//
// Undo restores only what an earlier activation set and that still holds
// the value it set (the plan file's "applied" section), to what it held
// before: a mask an administrator changed since is theirs, and left alone.
// An interrupt requested while the placement was in effect got the
// placement's default_smp_affinity, and undo gives it the one it restores;
// so does one a later placement found back on that default rather than
// where it was put (a driver re-probe re-requests with the same numbers).
//
// Placements run one at a time (Lock): each reads the record the one
// before it wrote, and adds to it.
package placement

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/rundir"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// The plan file (ransomeye-tuner(8)); Version changes only when a field
// changes meaning or goes away.
const (
	Dir      = rundir.Path
	FileName = "plan.json"
	Path     = Dir + "/" + FileName
	Version  = 1
)

// CaptureDeviceFile, in Dir, holds the capture interface's device directory
// for irqbalance's policy script: its unit's PrivateNetwork= /sys shows no
// /sys/class/net entry of the interface, but the PCI directories.
const CaptureDeviceFile = "capture-device"

// The unbound workqueues' cpumask files: the global one first (on undo it
// widens first), then writeback's, which a write-heavy database keeps busy.
const (
	CPUMaskPath   = "/sys/devices/virtual/workqueue/cpumask"
	WritebackPath = "/sys/devices/virtual/workqueue/writeback/cpumask"
)

// WorkqueuePaths are the workqueue files placed, in order.
var WorkqueuePaths = []string{CPUMaskPath, WritebackPath}

// lockName, in Dir, is the placement lock's file: two placements at once
// (the place unit and a DPI engine's ExecStartPost= at boot) lost the
// record, and undo restored nothing.
const lockName = "place.lock"

// CPU files read for the kernel's boot defaults.
const (
	possiblePath = "/sys/devices/system/cpu/possible"
	isolatedPath = "/sys/devices/system/cpu/isolated"
	nohzPath     = "/sys/devices/system/cpu/nohz_full"
)

// Applied is the plan file's "applied" section: what placements set.
type Applied struct {
	// DefaultIRQAffinity is what was written to default_smp_affinity;
	// DefaultIRQAffinityFrom its value before the first write ("": the
	// kernel's boot default), which undo restores.
	DefaultIRQAffinity     string `json:"default_irq_affinity,omitempty"`
	DefaultIRQAffinityFrom string `json:"default_irq_affinity_from,omitempty"`
	// IRQsBefore are the interrupts (number to name) that existed when
	// DefaultIRQAffinity was first written: any other got it, and undo
	// gives it the restored default where it still has it.
	IRQsBefore map[int]string `json:"irqs_before,omitempty"`
	// Workqueue maps each cpumask file written to its CPU list;
	// WorkqueueFrom to its value before the first write.
	Workqueue     map[string]string `json:"workqueue_cpumask,omitempty"`
	WorkqueueFrom map[string]string `json:"workqueue_cpumask_from,omitempty"`
	// IRQsMoved are the interrupts moved since boot, each with its affinity
	// before the first move; IRQsLeft and IRQsKept are the last run's.
	IRQsMoved []irq.Move `json:"irqs_moved"`
	IRQsLeft  []irq.Left `json:"irqs_left"`
	IRQsKept  int        `json:"irqs_kept"`
	// Capture compares the capture NIC's queues with the capture CPUs.
	Capture string `json:"capture_interface_note,omitempty"`
	// Channels is the capture NIC's channel count as set ([CPU]
	// DPIChannels=), with its counts before (nil: none set, or not ours
	// any more).
	Channels *ChannelsChange `json:"capture_channels,omitempty"`
}

// Mask is one kernel CPU mask file as read (Err wraps fs.ErrNotExist when
// the kernel has none).
type Mask struct {
	Set cpuset.Set
	Err error
}

// Report is what a placement did, for the log.
type Report struct {
	Infos, Warnings []string
}

// Warnf adds a warning.
func (r *Report) Warnf(format string, a ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...))
}

// Infof adds a line of information.
func (r *Report) Infof(format string, a ...any) { r.Infos = append(r.Infos, fmt.Sprintf(format, a...)) }

// ReadWorkqueue reads each workqueue cpumask file.
func ReadWorkqueue(root hostroot.Root) map[string]Mask {
	m := map[string]Mask{}
	for _, p := range WorkqueuePaths {
		s, err := kernfile.ReadMask(root, p)
		m[p] = Mask{s, err}
	}
	return m
}

// HoldName, in Dir, marks the placement withdrawn for the package's
// removal: place then places nothing until the next activation lifts it,
// or a DPI engine's ExecStartPost= could place again with a record no
// installed binary would undo.
const HoldName = "withdrawn"

// Hold reports whether the placement is withdrawn (HoldName); with lift it
// removes the mark first, with set it makes it. The caller holds the lock.
func Hold(root hostroot.Root, lift, set bool) (bool, error) {
	p := Dir + "/" + HoldName
	_, err := os.Lstat(root.Path(p))
	switch {
	case !lift && !set && err == nil:
		return true, nil
	case !lift && !set && !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("the placement hold %q: %w", p, err)
	case !set && errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	dir, err := rundir.Open(root, true)
	if err != nil {
		return set, fmt.Errorf("the placement hold %q: %w", p, err)
	}
	defer dir.Close()
	if lift {
		if err := unix.Unlinkat(dir.Fd(), HoldName, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return false, fmt.Errorf("remove %q: %w", p, err)
		}
		return false, nil
	}
	return true, dir.WriteFile(HoldName, []byte("withdrawn for the package's removal: place does nothing until the next activation\n"), 0o644, safefs.WriteOptions{})
}

// Lock takes the placement lock (rundir.Lock: a flock on lockName, 0600)
// and returns its release; the record must be read after it is taken.
func Lock(root hostroot.Root) (unlock func(), err error) {
	return rundir.Lock(root, lockName)
}

// Place keeps movable interrupts (st read, d decided) and unbound work (wq)
// within core, every write read back and folded into st and wq, and
// returns the record: this run's changes merged with prev's that still
// hold (so that undo after a restart finds them).
func Place(root hostroot.Root, st *irq.State, stErr error, d irq.Decision, wq map[string]Mask, prev *Applied, core cpuset.Set, r *Report) *Applied {
	if prev == nil {
		prev = &Applied{}
	}
	a := &Applied{Workqueue: map[string]string{}, WorkqueueFrom: map[string]string{}, IRQsMoved: []irq.Move{}, IRQsLeft: []irq.Left{}}
	if stErr != nil {
		r.Warnf("interrupts not placed: %v", stErr)
	} else {
		// ours: default_smp_affinity still holds an earlier run's value, so
		// its value before and the interrupts of then are that run's.
		ours := prev.DefaultIRQAffinity != "" && st.DefaultErr == "" && prev.DefaultIRQAffinity == st.Default.String()
		before, beforeErr := st.Default, st.DefaultErr
		// found is where each interrupt was before this run moved any.
		found := map[int]irq.IRQ{}
		for _, q := range st.IRQs {
			found[q.Num] = q
		}
		res := irq.Apply(root, d, st)
		switch {
		case res.DefaultErr != nil:
			r.Warnf("new interrupts may land on reserved CPUs: %v", res.DefaultErr)
		case ours:
			a.DefaultIRQAffinity, a.DefaultIRQAffinityFrom, a.IRQsBefore = prev.DefaultIRQAffinity, prev.DefaultIRQAffinityFrom, prev.IRQsBefore
			if d.DefaultChange {
				a.DefaultIRQAffinity = d.Default.String()
			}
		case d.DefaultChange:
			a.DefaultIRQAffinity, a.IRQsBefore = d.Default.String(), map[int]string{}
			if beforeErr == "" {
				a.DefaultIRQAffinityFrom = before.String()
			}
			for _, q := range st.IRQs {
				a.IRQsBefore[q.Num] = q.Name
			}
		}
		if ours {
			a.IRQsBefore = notWherePlaced(prev, found, res.Moved, r)
		} else {
			notWherePlaced(prev, found, res.Moved, r)
		}
		a.IRQsMoved, a.IRQsKept, a.Capture = MergeMoves(prev.IRQsMoved, res.Moved, *st), res.Kept, d.NICNote
		if err := WriteCaptureDevice(root, st.NIC.MSIDir); err != nil {
			r.Warnf("irqbalance may move the capture queues: %v", err)
		}
		if res.Left != nil {
			a.IRQsLeft = res.Left
		}
		r.Infof("interrupts: %d moved onto the core CPUs %s or the capture queues' DPI CPUs, %d already there, %d left (default_smp_affinity %s)", len(res.Moved), core, res.Kept, len(res.Left), d.Default.Mask())
		for _, m := range res.Moved {
			r.Infof("IRQ %d (%s): %s -> %s", m.IRQ, m.Name, m.From, m.To)
		}
		for _, l := range res.Left {
			r.Infof("IRQ %d (%s) left where it is: %s", l.IRQ, l.Name, l.Reason)
		}
		if d.NICNote != "" {
			r.Infof("%s", d.NICNote)
		}
	}
	placeWorkqueue(root, wq, prev, core, a, r)
	return a
}

// notWherePlaced finds the interrupts an earlier run moved (prev) that
// this run found (found, before its moves; now the moves it made) not
// where that run put them, says so in r, and returns prev's IRQsBefore
// without those found on the placement's default_smp_affinity. Such an
// interrupt was requested anew while the placement was in effect (a driver
// re-probe hands out the same numbers and names again, and the kernel
// gives a new interrupt default_smp_affinity), or moved there by someone
// else: for undo it is one requested while the placement was in effect,
// and gets the default_smp_affinity undo restores, which is what it would
// have without the placement. Taken for the one that existed before, it
// was given back its From, the placement's own default. One found
// elsewhere was moved by someone else (or placed by its driver): that
// value is what undo gives back; the log says when this run moves it
// again.
func notWherePlaced(prev *Applied, found map[int]irq.IRQ, now []irq.Move, r *Report) map[int]string {
	movedNow := map[int]string{}
	for _, m := range now {
		movedNow[m.IRQ] = m.To
	}
	before := prev.IRQsBefore
	copied := false
	for _, p := range prev.IRQsMoved {
		q, ok := found[p.IRQ]
		if !ok || q.AffinityErr != "" || q.Name != p.Name || q.Affinity.String() == p.To {
			continue
		}
		then := "left there"
		if to, ok := movedNow[p.IRQ]; ok {
			then = "placed again on " + to
		}
		if prev.DefaultIRQAffinity != "" && q.Affinity.String() == prev.DefaultIRQAffinity {
			if !copied && before != nil {
				before, copied = maps.Clone(before), true
			}
			delete(before, p.IRQ)
			r.Infof("IRQ %d (%s) found on %s, the placement's default_smp_affinity, not on %s where it was placed: requested anew while the placement was in effect (a driver re-probe), or moved there by someone else; %s, and undo gives it the default_smp_affinity it restores", p.IRQ, p.Name, q.Affinity, p.To, then)
			continue
		}
		r.Infof("IRQ %d (%s) found on %s, not on %s where it was placed: moved by someone else (or placed by its driver); %s, and undo gives it back %s", p.IRQ, p.Name, q.Affinity, p.To, then, q.Affinity)
	}
	return before
}

// placeWorkqueue keeps the unbound workqueue masks (wq as read) within
// core, recording in a what it wrote, and what earlier runs (prev) wrote
// that still holds, with the value before the first write; what it writes
// is folded into wq. A mask already inside core is left as it is
// (cpuset.Set.Within): an administrator who narrowed unbound work to 0-1
// inside a core set of 0-3 kept 2-3 free of it on purpose.
func placeWorkqueue(root hostroot.Root, wq map[string]Mask, prev *Applied, core cpuset.Set, a *Applied, r *Report) {
	for _, p := range WorkqueuePaths {
		m := wq[p]
		// ours: the file still holds what an earlier run wrote.
		ours := m.Err == nil && prev.Workqueue[p] != "" && prev.Workqueue[p] == m.Set.String()
		after := m.Set.Within(core)
		switch {
		case errors.Is(m.Err, fs.ErrNotExist):
			r.Infof("%q: no such file on this kernel", p)
		case m.Err != nil:
			r.Warnf("unbound kernel work may run on reserved CPUs: %v", m.Err)
		case !m.Set.Equal(after):
			if err := kernfile.WriteMask(root, p, after); err != nil {
				r.Warnf("unbound kernel work may run on reserved CPUs: %v", err)
				continue
			}
			a.Workqueue[p], a.WorkqueueFrom[p] = after.String(), m.Set.String()
			if ours {
				a.WorkqueueFrom[p] = prev.WorkqueueFrom[p] // its value before the first write
			}
			r.Infof("%s: %s -> %s", p, m.Set, after)
			wq[p] = Mask{Set: after}
		case ours:
			a.Workqueue[p], a.WorkqueueFrom[p] = prev.Workqueue[p], prev.WorkqueueFrom[p]
		}
		if a.WorkqueueFrom[p] == "" {
			delete(a.WorkqueueFrom, p)
		}
	}
}

// MergeMoves is the record of interrupts moved since boot: this run's
// moves (an IRQ moved again keeps its earliest From) and prev's not redone
// whose IRQ still has the affinity they gave it.
func MergeMoves(prev, now []irq.Move, st irq.State) []irq.Move {
	byIRQ := map[int]irq.Move{}
	for _, p := range prev {
		byIRQ[p.IRQ] = p
	}
	out := []irq.Move{}
	done := map[int]bool{}
	for _, m := range now {
		if p, ok := byIRQ[m.IRQ]; ok && p.To == m.From {
			m.From = p.From
		}
		out = append(out, m)
		done[m.IRQ] = true
	}
	cur := map[int]string{}
	for _, q := range st.IRQs {
		if q.AffinityErr == "" {
			cur[q.Num] = q.Affinity.String()
		}
	}
	for _, p := range prev {
		if !done[p.IRQ] && cur[p.IRQ] == p.To {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IRQ < out[j].IRQ })
	return out
}

// Undo restores what the record a set, where it still holds the value
// written: the capture NIC's channel counts (RestoreChannels), moved IRQs
// to their former affinity, default_smp_affinity and the workqueue masks
// to their values before (else the kernel's boot defaults), interrupts
// requested meanwhile that still have the placement's default to the one
// restored. The caller holds the lock.
func Undo(root hostroot.Root, a *Applied, cmdline []string, r *Report) {
	if a == nil {
		return // nothing applied earlier (a fresh /run at boot)
	}
	// The channels first: a channel change made the driver request its
	// queue interrupts anew, and giving it back does again.
	RestoreChannels(root, a.Channels, r)
	irqDefault, wq, derr := BootDefaults(root, cmdline)
	// before is the value to restore: recorded, else the boot default def.
	warned := false
	before := func(recorded string, def cpuset.Set) (s cpuset.Set, what string, ok bool) {
		if s, err := cpuset.Parse(recorded); err == nil {
			return s, "its value before the placement", true
		}
		if derr != nil {
			if !warned {
				r.Warnf("kernel defaults unknown (%v): the masks recorded without their earlier value are left as they are", derr)
			}
			warned = true
			return s, "", false
		}
		return def, "the kernel's default", true
	}
	// newTo is the default_smp_affinity restored (empty when not).
	var newTo cpuset.Set
	if a.DefaultIRQAffinity != "" {
		if to, what, ok := before(a.DefaultIRQAffinityFrom, irqDefault); ok && undoMask(root, irq.DefaultAffinityPath, a.DefaultIRQAffinity, to, what, r) {
			newTo = to
		}
	}
	// requested: the interrupt appeared while the placement's default held.
	requested := func(num int, name string) bool {
		was, ok := a.IRQsBefore[num]
		return a.IRQsBefore != nil && (!ok || was != name)
	}
	// Each moved interrupt is counted once: restored, given the default
	// restored, changed since (or gone), or refused.
	var restored, toDefault, changed, refused int
	moved := map[int]bool{}
	for _, m := range a.IRQsMoved {
		moved[m.IRQ] = true
		p := fmt.Sprintf("%s/%d/smp_affinity_list", irq.IRQDir, m.IRQ)
		b, err := readfile.Regular(root.Path(p), 1<<16)
		if err != nil || strings.TrimSpace(string(b)) != m.To {
			changed++
			continue // gone, or changed since: not ours any more
		}
		from, requestedSince := m.From, false
		if !newTo.IsEmpty() && m.From == a.DefaultIRQAffinity && requested(m.IRQ, m.Name) {
			// its affinity before the move was the placement's default
			from, requestedSince = newTo.String(), true
		}
		if err := kernfile.WriteFile(root, p, from); err != nil {
			f, _ := cpuset.Parse(from)
			r.Warnf("IRQ %d (%s) not restored to %s: %s", m.IRQ, m.Name, from, irq.Refusal(err, f))
			refused++
			continue
		}
		if requestedSince {
			toDefault++
			r.Infof("undo: IRQ %d (%s), requested while the placement was in effect: %s -> %s (the default_smp_affinity restored)", m.IRQ, m.Name, m.To, from)
		} else {
			restored++
		}
	}
	if len(a.IRQsMoved) > 0 {
		line := fmt.Sprintf("undo: %d of %d interrupts moved earlier restored to their former CPUs", restored, len(a.IRQsMoved))
		if toDefault > 0 {
			line += fmt.Sprintf(", %d (requested while the placement was in effect) given the default_smp_affinity restored (%s)", toDefault, newTo)
		}
		if changed > 0 {
			line += fmt.Sprintf(", %d changed since or gone (left as they are)", changed)
		}
		if refused > 0 {
			line += fmt.Sprintf(", %d refused by the kernel", refused)
		}
		r.Infof("%s", line)
	}
	if !newTo.IsEmpty() && a.IRQsBefore != nil {
		undoRequested(root, a, newTo, moved, requested, r)
	}
	for _, p := range WorkqueuePaths {
		if v, ok := a.Workqueue[p]; ok {
			if to, what, ok := before(a.WorkqueueFrom[p], wq); ok {
				undoMask(root, p, v, to, what, r)
			}
		}
	}
}

// undoRequested gives the interrupts requested while the placement held
// (not moved by it) that are still on its default_smp_affinity the one
// restored (to), as the kernel would have; one elsewhere is left.
func undoRequested(root hostroot.Root, a *Applied, to cpuset.Set, moved map[int]bool, requested func(int, string) bool, r *Report) {
	st, err := irq.Read(root, "")
	if err != nil {
		r.Warnf("interrupts requested since the placement left on %s: %v", a.DefaultIRQAffinity, err)
		return
	}
	n := 0
	for _, q := range st.IRQs {
		if moved[q.Num] || !requested(q.Num, q.Name) || q.AffinityErr != "" || !q.Writable || q.Affinity.String() != a.DefaultIRQAffinity {
			continue
		}
		p := fmt.Sprintf("%s/%d/smp_affinity_list", irq.IRQDir, q.Num)
		if err := kernfile.WriteFile(root, p, to.String()); err != nil {
			r.Warnf("IRQ %d (%s), requested while the placement was in effect, left on %s: %s", q.Num, q.Name, q.Affinity, irq.Refusal(err, to))
			continue
		}
		n++
		r.Infof("undo: IRQ %d (%s), requested while the placement was in effect: %s -> %s (the default_smp_affinity restored)", q.Num, q.Name, q.Affinity, to)
	}
	if n > 0 {
		r.Infof("undo: %d interrupts requested while the placement was in effect given the default_smp_affinity restored (%s)", n, to)
	}
}

// undoMask writes def (what) to the mask file p where it still holds
// applied, and reports whether it did.
func undoMask(root hostroot.Root, p, applied string, def cpuset.Set, what string, r *Report) bool {
	cur, err := kernfile.ReadMask(root, p)
	want, perr := cpuset.Parse(applied)
	if err != nil || perr != nil || !cur.Equal(want) {
		return false // changed since: not ours any more
	}
	if err := kernfile.WriteMask(root, p, def); err != nil {
		r.Warnf("undo: %v", err)
		return false
	}
	r.Infof("undo: %s: %s -> %s (%s)", p, cur, def, what)
	return true
}

// BootDefaults returns the kernel's boot values: default_smp_affinity is
// irqaffinity=, else every possible CPU; the workqueue mask
// workqueue.unbound_cpus=, else every possible CPU not isolated.
func BootDefaults(root hostroot.Root, cmdline []string) (irqDefault, wq cpuset.Set, err error) {
	b, err := readfile.Regular(root.Path(possiblePath), 1<<16)
	if err != nil {
		return irqDefault, wq, fmt.Errorf("read %q: %w", possiblePath, err)
	}
	possible, err := cpuset.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return irqDefault, wq, fmt.Errorf("%q: %w", possiblePath, err)
	}
	irqDefault, wq = possible, possible
	for _, p := range []string{isolatedPath, nohzPath} {
		if b, err := readfile.Regular(root.Path(p), 1<<16); err == nil {
			if s, err := cpuset.ParseMaybeEmpty(string(b)); err == nil {
				wq = wq.Difference(s)
			}
		}
	}
	if v, ok := procfs.CmdlineValue(cmdline, "irqaffinity"); ok {
		if s, err := cpuset.Parse(v); err == nil {
			irqDefault = s
		}
	}
	if v, ok := procfs.CmdlineValue(cmdline, "workqueue.unbound_cpus"); ok {
		if s, err := cpuset.Parse(v); err == nil {
			wq = s
		}
	}
	if wq.IsEmpty() {
		wq = possible
	}
	return irqDefault, wq, nil
}

// WriteCaptureDevice writes CaptureDeviceFile, or removes it for dev "".
func WriteCaptureDevice(root hostroot.Root, dev string) error {
	if dev == "" {
		if _, err := os.Lstat(root.Path(Dir + "/" + CaptureDeviceFile)); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	dir, err := rundir.Open(root, true)
	if err != nil {
		return err
	}
	defer dir.Close()
	if dev == "" {
		if err := unix.Unlinkat(dir.Fd(), CaptureDeviceFile, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove %q: %w", Dir+"/"+CaptureDeviceFile, err)
		}
		return nil
	}
	return dir.WriteFile(CaptureDeviceFile, []byte(dev+"\n"), 0o644, safefs.WriteOptions{})
}

// WriteFile writes the plan file doc through safefs, 0644: services read
// it.
func WriteFile(root hostroot.Root, doc any) error {
	dir, err := rundir.Open(root, true)
	if err != nil {
		return err
	}
	defer dir.Close()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the plan: %w", err)
	}
	return dir.WriteFile(FileName, append(b, '\n'), 0o644, safefs.WriteOptions{})
}

// ReadRecord reads the plan file's "applied" section (nil without one; an
// error wrapping fs.ErrNotExist without a file).
func ReadRecord(root hostroot.Root) (*Applied, error) {
	var d struct {
		Version int      `json:"version"`
		Applied *Applied `json:"applied"`
	}
	b, err := readfile.Regular(root.Path(Path), 16<<20)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", Path, err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%q: %w", Path, err)
	}
	if d.Version != Version {
		return nil, fmt.Errorf("%q: version %d, this build reads %d", Path, d.Version, Version)
	}
	return d.Applied, nil
}
