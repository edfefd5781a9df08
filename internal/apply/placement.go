package apply

import (
	"errors"
	"io/fs"
	"os"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// planFile is the plan file: the plan document, and what activations
// applied.
type planFile struct {
	plan.Doc
	Applied *placement.Applied `json:"applied,omitempty"`
}

// Place is `ransomeye-tuner place`: the placement of activate, and nothing
// else; with undo, what earlier activations placed is restored and the
// record dropped from the plan file (without a plan file there is nothing
// to undo). An invalid configuration places nothing: false.
func Place(root hostroot.Root, log *priolog.Logger, undo bool) bool {
	r, ok := placeRun(root, undo, false)
	logPlacement(log, r.Report)
	if !ok {
		log.Errorf("nothing placed: %v", r.Err)
	}
	return ok
}

// Uninstall is what the package's removal runs while the binary is still
// installed: it records the configured swapfile for a purge (the swap
// provider's Record), undoes the placement and holds later ones
// (placement.HoldName), and gives back the sysctls activate set
// (sysctl.GiveBack). It reports whether everything could be given back.
func Uninstall(root hostroot.Root, log *priolog.Logger) bool {
	ok := true
	// After an activation, never in the middle of one: an activation that
	// was creating the swapfile when the package's removal began otherwise
	// finished after the give-back and wrote /run/sysctl.d and the sysctls
	// again, and the removal left them.
	if unlock, err := marker.Lock(root); err != nil {
		log.Warnf("cannot take the activation lock (%v): going on without it; an activation running now may apply the sysctls again", err)
	} else {
		defer unlock()
	}
	if f := facts.Gather(root, facts.FailClosed); f.ConfigErr != nil {
		log.Warnf("the configuration cannot be read (%v): the swapfile it names is not recorded for a purge", f.ConfigErr)
	} else if f.Swap != nil {
		f.Swap.Record(log)
		f.Close()
	}
	r, _ := placeRun(root, true, true)
	logPlacement(log, r.Report)
	given, err := sysctl.GiveBack(root)
	for _, g := range given {
		switch {
		case g.Err != nil:
			log.Warnf("%s: not given back: %v", g.Key, g.Err)
			ok = false
		case g.Changed:
			log.Noticef("%s = %s (ransomeye-tuner had set %s): %s", g.Key, g.Now, g.Set, g.Why)
		default:
			log.Noticef("%s: %s", g.Key, g.Why)
		}
	}
	if len(given) > 0 {
		log.Noticef("removed %s: a later sysctl --system no longer applies the tuner's values", sysctl.RunFile)
	}
	if err != nil {
		log.Warnf("%v", err)
		ok = false
	}
	return ok
}

// placeRun is Place, returning what it did; forRemoval (with undo) also
// holds later placements, under the same lock, until the next activation.
// A placement held places nothing and says so.
func placeRun(root hostroot.Root, undo, forRemoval bool) (placeReport, bool) {
	var r placeReport
	noPlan := func() bool {
		_, err := os.Lstat(root.Path(placement.Path))
		return errors.Is(err, fs.ErrNotExist)
	}
	if undo && !forRemoval && noPlan() {
		return r, true
	}
	defer lockPlacement(root, &r.Report, undo)()
	switch held, err := placement.Hold(root, false, forRemoval); {
	case err != nil && forRemoval:
		r.Warnf("%v: a placement after this withdrawal may place again", err)
	case err != nil:
		r.Warnf("%v", err)
	case held && !undo:
		r.Infof("nothing placed: the placement was withdrawn for the package's removal (%s); the next activation places again", placement.Dir+"/"+placement.HoldName)
		return r, true
	}
	if forRemoval && noPlan() {
		return r, true
	}
	f := facts.Gather(root, facts.Place)
	defer f.Close()
	if f.ConfigErr != nil && !undo {
		r.Err = f.ConfigErr
		return r, false
	}
	p := plan.Decide(f)
	if undo {
		withdraw(f, p, &r.Report)
	} else {
		r.Report = place(f, &p, r.Report)
	}
	return r, true
}

// placeReport is what a placement run did.
type placeReport struct {
	placement.Report
	// Err is why nothing was placed.
	Err error
}

// lockPlacement takes the placement lock (one placement at a time: the
// record must be read under it) and returns the function that releases it;
// without it the placement goes on, with a warning in r.
func lockPlacement(root hostroot.Root, r *placement.Report, undo bool) func() {
	unlock, err := placement.Lock(root)
	switch {
	case err == nil:
		return unlock
	case undo:
		r.Warnf("cannot take the placement lock (%v): going on without it", err)
	default:
		r.Warnf("cannot take the placement lock (%v): going on without it; a placement run at the same time may lose what undo restores", err)
	}
	return func() {}
}

// place applies the placement for p (decided on f): with a reservation,
// the capture NIC's channel count, interrupts and unbound work onto the
// core set and the capture NIC's queues onto the capture set; without one
// (or disabled), the undo. Then it writes the plan file. What it changes
// is folded into f, and p decided again on it.
func place(f *facts.Facts, p *plan.Plan, r placement.Report) placement.Report {
	if !p.CPU.Reserved {
		withdraw(f, *p, &r)
		return r
	}
	fp := &f.Placement
	// The channels before the interrupts: a channel change renumbers them.
	channels := placeChannels(f, p, &r)
	fp.Record = placement.Place(f.Root, &fp.IRQ, fp.IRQErr, p.IRQ, fp.Workqueue, fp.Record, p.CPU.Core(), &r)
	fp.Record.Channels = channels
	if err := placement.WriteFile(f.Root, planFile{p.Doc(f), fp.Record}); err != nil {
		r.Warnf("plan file: %v", err)
	}
	return r
}

// withdraw undoes what earlier activations applied (read from the plan
// file) and writes the plan file without that record: at activation without
// a reservation, and before the package is removed, which must leave the
// interrupts and kernel work where the kernel would have them before the
// binary that knows the record is gone.
func withdraw(f *facts.Facts, p plan.Plan, r *placement.Report) {
	fp := &f.Placement
	switch {
	case fp.RecordErr != nil && !facts.Missing(fp.RecordErr):
		r.Warnf("cannot undo the interrupt and kernel-work placement: %v", fp.RecordErr)
	default:
		placement.Undo(f.Root, fp.Record, f.Cmdline, r)
		fp.Record = nil
	}
	if err := placement.WriteCaptureDevice(f.Root, ""); err != nil {
		r.Warnf("%v", err)
	}
	if err := placement.WriteFile(f.Root, planFile{Doc: p.Doc(f)}); err != nil {
		r.Warnf("plan file: %v", err)
	}
}

// logPlacement logs what a placement did: its problems as warnings
// (interrupt and kernel-work placement never keeps the core down: the
// core's correctness does not depend on it, and a driver can move its
// interrupts again at any time), the rest at info.
func logPlacement(log *priolog.Logger, r placement.Report) {
	for _, l := range r.Infos {
		log.Infof("%s", l)
	}
	for _, w := range r.Warnings {
		log.Warnf("%s", w)
	}
}
