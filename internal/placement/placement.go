// Package placement carries the CPU plan past systemd's reach at each
// activation: it writes the plan file for machines, keeps movable
// interrupts and unbound kernel work on the core CPUs (steering the
// capture NIC's queues to the DPI CPUs), undoes that when the plan has no
// reservation, and reads back what is in effect.
//
// None of it gates the core: the core's correctness does not depend on
// where interrupts and kernel work run, and a NIC driver can move its
// interrupts at any time. Failures are returned as warnings for the log.
//
// Undo restores only what an earlier activation set and that still holds
// the value it set (recorded in the plan file's "applied" section), to what
// it held before: a mask an administrator changed since is theirs, and left
// alone. An interrupt requested while the placement was in effect got the
// placement's default_smp_affinity, and undo gives it the one it restores.
//
// Placements run one at a time (an flock in Dir): each reads the record
// the one before it wrote, and adds to it.
package placement

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/kmask"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/workqueue"
)

// The plan file, for machines (documented in ransomeye-tuner(8)).
const (
	Dir      = "/run/ransomeye-tuner"
	FileName = "plan.json"
	Path     = Dir + "/" + FileName
)

// CaptureDeviceFile, in Dir, holds the host path of the capture
// interface's device directory (the one whose msi_irqs lists its vectors),
// for irqbalance's policy script. Why a file and not the interface name:
// irqbalance's unit runs with PrivateNetwork=yes, and systemd then mounts a
// private /sys in which /sys/class/net shows only the namespace's loopback,
// while the PCI device directories stay visible.
const CaptureDeviceFile = "capture-device"

// lockName, in Dir, is the file whose flock makes placements one at a
// time. Why: a placement reads the record, moves the interrupts, and writes
// the record; one that read the record while another was moving them
// found them moved, recorded nothing, and wrote its empty record last, so
// undo restored nothing. ransomeye-tuner-place.service and a DPI engine's
// ExecStartPost= run place at the same time at boot.
const lockName = "place.lock"

// CPU files read for the kernel's boot defaults.
const (
	possiblePath = "/sys/devices/system/cpu/possible"
	isolatedPath = "/sys/devices/system/cpu/isolated"
	nohzPath     = "/sys/devices/system/cpu/nohz_full"
)

// FileDoc is the plan file: the plan document and what this activation
// applied.
type FileDoc struct {
	generate.PlanDoc
	Applied *Applied `json:"applied,omitempty"`
}

// Applied is what an activation set outside systemd.
type Applied struct {
	// DefaultIRQAffinity is the CPU list written to
	// /proc/irq/default_smp_affinity ("" when not written);
	// DefaultIRQAffinityFrom is what it held before the first write, which
	// undo restores ("" when unknown: then the kernel's boot default).
	DefaultIRQAffinity     string `json:"default_irq_affinity,omitempty"`
	DefaultIRQAffinityFrom string `json:"default_irq_affinity_from,omitempty"`
	// IRQsBefore are the interrupts (number to name) that existed when
	// DefaultIRQAffinity was first written. Any other was requested while
	// it was in effect, and got it: undo gives such an interrupt, where it
	// still has that affinity, the default_smp_affinity it restores.
	IRQsBefore map[int]string `json:"irqs_before,omitempty"`
	// Workqueue maps each workqueue cpumask file written to its CPU list;
	// WorkqueueFrom each to what it held before the first write.
	Workqueue     map[string]string `json:"workqueue_cpumask,omitempty"`
	WorkqueueFrom map[string]string `json:"workqueue_cpumask_from,omitempty"`
	// IRQsMoved are the interrupts moved since boot (MergeMoves), each
	// with the affinity before the first move, which undo restores;
	// IRQsLeft and IRQsKept are this run's.
	IRQsMoved []irq.Move `json:"irqs_moved"`
	IRQsLeft  []irq.Left `json:"irqs_left"`
	IRQsKept  int        `json:"irqs_kept"`
	// Capture compares the capture NIC's queues with the DPI CPUs.
	Capture string `json:"capture_interface_note,omitempty"`
}

// Report is what Activate did, for the log.
type Report struct {
	// Infos and Warnings are lines to log.
	Infos, Warnings []string
	// Doc is the plan file written (or that could not be).
	Doc FileDoc
}

func (r *Report) warnf(format string, a ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...))
}
func (r *Report) infof(format string, a ...any) { r.Infos = append(r.Infos, fmt.Sprintf(format, a...)) }

// HoldName, in Dir, marks the placement withdrawn for the package's
// removal (WithdrawForRemoval): Place then places nothing, until the next
// activation (Activate) removes it. Why: after the package's prerm
// withdrew the placement, a DPI engine restarted by then ran `place` from
// its ExecStartPost= and put the interrupts back on the core's CPUs, with
// a record no installed binary would undo.
const HoldName = "withdrawn"

// Activate is the one call activate makes after its CPU check: a fresh
// Render under root, then Place, lifting a hold WithdrawForRemoval left
// (an activation run by hand after a removal applies everything again).
func Activate(root hostroot.Root) Report {
	in := generate.Gather(root, nil)
	return place(root, in, generate.Render(in), true)
}

// Place applies the placement for out (a Render of in): with a
// reservation, interrupts and unbound work onto the core set and the
// capture NIC's queues onto the DPI set; without one (or disabled), Undo.
// Then it writes the plan file. One placement at a time (lock). While the
// placement is withdrawn for the package's removal (HoldName) it does
// nothing, and says so.
func Place(root hostroot.Root, in generate.Input, out generate.Output) Report {
	return place(root, in, out, false)
}

func place(root hostroot.Root, in generate.Input, out generate.Output, lift bool) Report {
	r := Report{Doc: FileDoc{PlanDoc: generate.Doc(in, out)}}
	if unlock, err := lock(root); err != nil {
		r.warnf("cannot take the placement lock (%v): going on without it; a placement run at the same time may lose what undo restores", err)
	} else {
		defer unlock()
	}
	switch held, err := hold(root, lift, false); {
	case err != nil:
		r.warnf("%v", err)
	case held:
		r.infof("nothing placed: the placement was withdrawn for the package's removal (%s); the next activation places again", Dir+"/"+HoldName)
		return r
	}
	if !out.Plan.Reserved {
		Undo(root, &r)
		if err := writeCaptureDevice(root, ""); err != nil {
			r.warnf("%v", err)
		}
	} else {
		r.Doc.Applied = apply(root, in, out, &r)
	}
	if err := WriteFile(root, r.Doc); err != nil {
		r.warnf("plan file: %v", err)
	}
	return r
}

// lock takes an exclusive flock on lockName in Dir (made, root-only, when
// missing) and returns the function that releases it. The file is mode
// 0600 in a directory only root can change, so no other user can open it
// to hold the lock; it is opened without following a link and must be a
// regular file.
func lock(root hostroot.Root) (unlock func(), err error) {
	dir, err := safefs.OpenDir(root, Dir, safefs.Options{Create: 0o755, RootOnly: true})
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	p := dir.Path + "/" + lockName
	fd, err := unix.Openat(dir.Fd(), lockName, unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%q is not a regular file (%v): remove it (ransomeye-tuner makes it)", p, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %q: %w", p, err)
	}
	return func() { unix.Close(fd) }, nil
}

func apply(root hostroot.Root, in generate.Input, out generate.Output, r *Report) *Applied {
	core, dpi := out.Plan.Core, out.Plan.DPI
	// What an earlier activation in this boot set and still holds stays on
	// the record, so that undo after a restart still finds it.
	prev := &Applied{}
	if d, err := ReadFile(root); err == nil && d.Applied != nil {
		prev = d.Applied
	}
	a := &Applied{Workqueue: map[string]string{}, WorkqueueFrom: map[string]string{}, IRQsMoved: []irq.Move{}, IRQsLeft: []irq.Left{}}
	st, err := irq.Read(root, in.Config.DPIInterface)
	if err != nil {
		r.warnf("interrupts not placed: %v", err)
	} else {
		d := irq.Decide(st, core, dpi)
		res := irq.Apply(root, d)
		// ours is whether default_smp_affinity still holds what an earlier
		// run wrote: then its value before, and the interrupts that existed
		// then, are that run's.
		ours := prev.DefaultIRQAffinity != "" && st.DefaultErr == "" && prev.DefaultIRQAffinity == st.Default.String()
		switch {
		case res.DefaultErr != nil:
			r.warnf("new interrupts may land on reserved CPUs: %v", res.DefaultErr)
		case ours:
			a.DefaultIRQAffinity, a.DefaultIRQAffinityFrom, a.IRQsBefore = prev.DefaultIRQAffinity, prev.DefaultIRQAffinityFrom, prev.IRQsBefore
			if d.DefaultChange {
				a.DefaultIRQAffinity = d.Default.String()
			}
		case d.DefaultChange:
			a.DefaultIRQAffinity, a.IRQsBefore = d.Default.String(), map[int]string{}
			if st.DefaultErr == "" {
				a.DefaultIRQAffinityFrom = st.Default.String()
			}
			for _, q := range st.IRQs {
				a.IRQsBefore[q.Num] = q.Name
			}
		}
		a.IRQsMoved, a.IRQsKept, a.Capture = MergeMoves(prev.IRQsMoved, res.Moved, st), res.Kept, d.NICNote
		if err := writeCaptureDevice(root, st.NIC.MSIDir); err != nil {
			r.warnf("irqbalance may move the capture queues: %v", err)
		}
		if res.Left != nil {
			a.IRQsLeft = res.Left
		}
		r.infof("interrupts: %d moved onto the core CPUs %s or the capture queues' DPI CPUs, %d already there, %d left (default_smp_affinity %s)", len(res.Moved), core, res.Kept, len(res.Left), d.Default.Mask())
		for _, m := range res.Moved {
			r.infof("IRQ %d (%s): %s -> %s", m.IRQ, m.Name, m.From, m.To)
		}
		for _, l := range res.Left {
			r.infof("IRQ %d (%s) left where it is: %s", l.IRQ, l.Name, l.Reason)
		}
		if d.NICNote != "" {
			r.infof("%s", d.NICNote)
		}
	}
	for _, w := range workqueue.Apply(root, core) {
		// ours: the file still holds what an earlier run wrote.
		ours := prev.Workqueue[w.Path] != "" && prev.Workqueue[w.Path] == w.Before.String()
		switch {
		case w.Missing:
			r.infof("%q: no such file on this kernel", w.Path)
		case w.Err != nil:
			r.warnf("unbound kernel work may run on reserved CPUs: %v", w.Err)
		case w.Changed:
			a.Workqueue[w.Path], a.WorkqueueFrom[w.Path] = w.After.String(), w.Before.String()
			if ours {
				a.WorkqueueFrom[w.Path] = prev.WorkqueueFrom[w.Path] // its value before the first write
			}
			r.infof("%s: %s -> %s", w.Path, w.Before, w.After)
		case ours:
			a.Workqueue[w.Path], a.WorkqueueFrom[w.Path] = prev.Workqueue[w.Path], prev.WorkqueueFrom[w.Path]
		}
		if a.WorkqueueFrom[w.Path] == "" {
			delete(a.WorkqueueFrom, w.Path)
		}
	}
	return a
}

// MergeMoves is the record of interrupts moved since boot: this run's
// moves, each with the affinity it had before the first move (an IRQ
// moved again keeps its earliest From), and the earlier moves not redone
// now whose IRQ still has the affinity they gave it (a value changed
// since is not ours any more).
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

// Undo restores what an earlier activation applied (read from the plan
// file) where it still holds the value written: each moved IRQ to its
// former affinity, default_smp_affinity and the workqueue masks to what
// they held before (the kernel's boot defaults, BootDefaults, for a record
// without that), and each interrupt requested since that still has the
// placement's default_smp_affinity to the one restored. The caller holds
// the placement lock.
func Undo(root hostroot.Root, r *Report) {
	prev, err := ReadFile(root)
	if errors.Is(err, fs.ErrNotExist) || err == nil && prev.Applied == nil {
		return // nothing applied earlier (a fresh /run at boot)
	}
	if err != nil {
		r.warnf("cannot undo the interrupt and kernel-work placement: %v", err)
		return
	}
	a := prev.Applied
	irqDefault, wq, derr := BootDefaults(root)
	// before is the value to restore: the one recorded, else the kernel's
	// boot default def; ok is false when neither is known.
	warned := false
	before := func(recorded string, def cpuset.Set) (s cpuset.Set, what string, ok bool) {
		if s, err := cpuset.Parse(recorded); err == nil {
			return s, "its value before the placement", true
		}
		if derr != nil {
			if !warned {
				r.warnf("kernel defaults unknown (%v): the masks recorded without their earlier value are left as they are", derr)
			}
			warned = true
			return s, "", false
		}
		return def, "the kernel's default", true
	}
	// newTo is where interrupts requested while the placement was in
	// effect go: the default_smp_affinity restored (empty when it was not).
	var newTo cpuset.Set
	if a.DefaultIRQAffinity != "" {
		if to, what, ok := before(a.DefaultIRQAffinityFrom, irqDefault); ok && undoMask(root, irq.DefaultAffinityPath, a.DefaultIRQAffinity, to, what, r) {
			newTo = to
		}
	}
	// requested reports whether an interrupt was requested while the
	// placement's default_smp_affinity was in effect (and got it).
	requested := func(num int, name string) bool {
		was, ok := a.IRQsBefore[num]
		return a.IRQsBefore != nil && (!ok || was != name)
	}
	restored := 0
	moved := map[int]bool{}
	for _, m := range a.IRQsMoved {
		moved[m.IRQ] = true
		p := fmt.Sprintf("%s/%d/smp_affinity_list", irq.IRQDir, m.IRQ)
		b, err := readfile.Regular(root.Path(p), 1<<16)
		if err != nil || strings.TrimSpace(string(b)) != m.To {
			continue // gone, or changed since: not ours any more
		}
		from := m.From
		if !newTo.IsEmpty() && m.From == a.DefaultIRQAffinity && requested(m.IRQ, m.Name) {
			from = newTo.String() // its affinity before the move was the placement's default
		}
		if err := kmask.WriteFile(root, p, from); err != nil {
			f, _ := cpuset.Parse(from)
			r.warnf("IRQ %d (%s) not restored to %s: %s", m.IRQ, m.Name, from, irq.Refusal(err, f))
			continue
		}
		restored++
	}
	if len(a.IRQsMoved) > 0 {
		r.infof("undo: %d of %d interrupts moved earlier restored to their former CPUs", restored, len(a.IRQsMoved))
	}
	if !newTo.IsEmpty() && a.IRQsBefore != nil {
		undoRequested(root, a, newTo, moved, requested, r)
	}
	for _, p := range workqueue.Paths {
		if v, ok := a.Workqueue[p]; ok {
			if to, what, ok := before(a.WorkqueueFrom[p], wq); ok {
				undoMask(root, p, v, to, what, r)
			}
		}
	}
}

// undoRequested gives every interrupt requested while the placement was in
// effect (requested), not moved by it (moved) and still on the placement's
// default_smp_affinity the one undo restored (to): what the kernel would
// have given it without the placement. One on other CPUs was placed there
// by its driver or someone else, and is left.
func undoRequested(root hostroot.Root, a *Applied, to cpuset.Set, moved map[int]bool, requested func(int, string) bool, r *Report) {
	st, err := irq.Read(root, "")
	if err != nil {
		r.warnf("interrupts requested since the placement left on %s: %v", a.DefaultIRQAffinity, err)
		return
	}
	n := 0
	for _, q := range st.IRQs {
		if moved[q.Num] || !requested(q.Num, q.Name) || q.AffinityErr != "" || !q.Writable || q.Affinity.String() != a.DefaultIRQAffinity {
			continue
		}
		p := fmt.Sprintf("%s/%d/smp_affinity_list", irq.IRQDir, q.Num)
		if err := kmask.WriteFile(root, p, to.String()); err != nil {
			r.warnf("IRQ %d (%s), requested while the placement was in effect, left on %s: %s", q.Num, q.Name, q.Affinity, irq.Refusal(err, to))
			continue
		}
		n++
		r.infof("undo: IRQ %d (%s), requested while the placement was in effect: %s -> %s (the default_smp_affinity restored)", q.Num, q.Name, q.Affinity, to)
	}
	if n > 0 {
		r.infof("undo: %d interrupts requested while the placement was in effect given the default_smp_affinity restored (%s)", n, to)
	}
}

// Withdraw undoes what earlier activations applied (Undo) and rewrites the
// plan file without its record, keeping the plan of in and out (a Render
// of in): `place --undo`. Without a plan file there is nothing to undo or
// write.
func Withdraw(root hostroot.Root, in generate.Input, out generate.Output) Report {
	if _, err := ReadFile(root); errors.Is(err, fs.ErrNotExist) {
		return Report{Doc: FileDoc{PlanDoc: generate.Doc(in, out)}}
	}
	return withdraw(root, in, out, false)
}

// WithdrawForRemoval is Withdraw for the package's removal, which must
// leave the interrupts and kernel work where the kernel would have them
// before the binary that knows the record is gone: under the same lock it
// also marks the placement withdrawn (HoldName), so that a `place` after
// it (a DPI engine's ExecStartPost=) places nothing.
func WithdrawForRemoval(root hostroot.Root, in generate.Input, out generate.Output) Report {
	return withdraw(root, in, out, true)
}

func withdraw(root hostroot.Root, in generate.Input, out generate.Output, forRemoval bool) Report {
	r := Report{Doc: FileDoc{PlanDoc: generate.Doc(in, out)}}
	if unlock, err := lock(root); err != nil {
		r.warnf("cannot take the placement lock (%v): going on without it", err)
	} else {
		defer unlock()
	}
	if forRemoval {
		if _, err := hold(root, false, true); err != nil {
			r.warnf("%v: a placement after this withdrawal may place again", err)
		}
	}
	if _, err := ReadFile(root); errors.Is(err, fs.ErrNotExist) {
		return r
	}
	Undo(root, &r)
	if err := writeCaptureDevice(root, ""); err != nil {
		r.warnf("%v", err)
	}
	if err := WriteFile(root, r.Doc); err != nil {
		r.warnf("plan file: %v", err)
	}
	return r
}

// undoMask writes def (what) to the mask file p where it still holds
// applied, the value a placement wrote, and reports whether it did.
func undoMask(root hostroot.Root, p, applied string, def cpuset.Set, what string, r *Report) bool {
	cur, err := kmask.Read(root, p)
	want, perr := cpuset.Parse(applied)
	if err != nil || perr != nil || !cur.Equal(want) {
		return false // changed since: not ours any more
	}
	if err := kmask.Write(root, p, def); err != nil {
		r.warnf("undo: %v", err)
		return false
	}
	r.infof("undo: %s: %s -> %s (%s)", p, cur, def, what)
	return true
}

// BootDefaults returns the kernel's boot-time values: default_smp_affinity
// is irqaffinity= from the kernel command line, else every possible CPU;
// the unbound workqueue mask is workqueue.unbound_cpus=, else every
// possible CPU that is not isolated (isolcpus=, nohz_full=).
func BootDefaults(root hostroot.Root) (irqDefault, wq cpuset.Set, err error) {
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
	if words, err := procfs.ReadCmdline(root); err == nil {
		if v, ok := procfs.CmdlineValue(words, "irqaffinity"); ok {
			if s, err := cpuset.Parse(v); err == nil {
				irqDefault = s
			}
		}
		if v, ok := procfs.CmdlineValue(words, "workqueue.unbound_cpus"); ok {
			if s, err := cpuset.Parse(v); err == nil {
				wq = s
			}
		}
	}
	if wq.IsEmpty() {
		wq = possible
	}
	return irqDefault, wq, nil
}

// hold reports whether the placement is withdrawn for the package's
// removal (HoldName in Dir); with lift it removes the mark first, with set
// it makes it. The caller holds the placement lock.
func hold(root hostroot.Root, lift, set bool) (bool, error) {
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
	dir, err := safefs.OpenDir(root, Dir, safefs.Options{Create: 0o755, RootOnly: true})
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

// writeCaptureDevice writes CaptureDeviceFile with dev, or removes it when
// dev is "" (no capture interface, or no reservation).
func writeCaptureDevice(root hostroot.Root, dev string) error {
	if dev == "" {
		if _, err := os.Lstat(root.Path(Dir + "/" + CaptureDeviceFile)); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	dir, err := safefs.OpenDir(root, Dir, safefs.Options{Create: 0o755, RootOnly: true})
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

// WriteFile writes the plan file through safefs (a directory only root
// can change, an atomic replace), mode 0644: services read it.
func WriteFile(root hostroot.Root, d FileDoc) error {
	dir, err := safefs.OpenDir(root, Dir, safefs.Options{Create: 0o755, RootOnly: true})
	if err != nil {
		return err
	}
	defer dir.Close()
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the plan: %w", err)
	}
	return dir.WriteFile(FileName, append(b, '\n'), 0o644, safefs.WriteOptions{})
}

// ReadFile reads the plan file (an error wrapping fs.ErrNotExist when
// there is none).
func ReadFile(root hostroot.Root) (FileDoc, error) {
	var d FileDoc
	b, err := readfile.Regular(root.Path(Path), 16<<20)
	if err != nil {
		return d, fmt.Errorf("read %q: %w", Path, err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%q: %w", Path, err)
	}
	if d.Version != generate.PlanVersion {
		return d, fmt.Errorf("%q: version %d, this build reads %d", Path, d.Version, generate.PlanVersion)
	}
	return d, nil
}
