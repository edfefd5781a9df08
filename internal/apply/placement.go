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

// planFile is the plan file: the plan document and what placements applied.
type planFile struct {
	plan.Doc
	Applied *placement.Applied `json:"applied,omitempty"`
}

// Place is `ransomeye-tuner place`: activate's placement alone, or with
// undo what placements applied restored and the record dropped. An invalid
// configuration places nothing: false.
func Place(root hostroot.Root, log *priolog.Logger, undo bool) bool {
	r, err := placeRun(root, undo, false)
	logPlacement(log, r)
	if err != nil {
		log.Errorf("nothing placed: %v", err)
	}
	return err == nil
}

// Uninstall is what the package's removal runs while the binary is there:
// the swapfile recorded for a purge, the placement undone and later ones
// held (placement.HoldName), the sysctls given back. It reports whether
// everything could be given back.
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
	logPlacement(log, r)
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

// placeRun is Place, returning what it did (an error: nothing placed);
// forRemoval (with undo) also holds later placements, under the same lock,
// until the next activation. A placement held places nothing and says so.
func placeRun(root hostroot.Root, undo, forRemoval bool) (r placement.Report, err error) {
	noPlan := func() bool {
		_, err := os.Lstat(root.Path(placement.Path))
		return errors.Is(err, fs.ErrNotExist)
	}
	if undo && !forRemoval && noPlan() {
		return r, nil
	}
	defer lockPlacement(root, &r, undo)()
	switch held, err := placement.Hold(root, false, forRemoval); {
	case err != nil && forRemoval:
		r.Warnf("%v: a placement after this withdrawal may place again", err)
	case err != nil:
		r.Warnf("%v", err)
	case held && !undo:
		r.Infof("nothing placed: the placement was withdrawn for the package's removal (%s); the next activation places again", placement.Dir+"/"+placement.HoldName)
		return r, nil
	}
	if forRemoval && noPlan() {
		return r, nil
	}
	f := facts.Gather(root, facts.Place)
	defer f.Close()
	if f.ConfigErr != nil && !undo {
		return r, f.ConfigErr
	}
	p := plan.Decide(f)
	if undo {
		withdraw(f, p, &r)
	} else {
		r = place(f, &p, r)
	}
	return r, nil
}

// lockPlacement takes the placement lock (the record is read under it) and
// returns its release; without it, the placement goes on with a warning.
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

// place applies the placement for p: with a reservation, the capture NIC's
// channel count, interrupts and unbound work onto the core set, the capture
// queues onto the capture set; else the undo. Then the plan file. What it
// changes is folded into f, and p decided again on it.
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

// withdraw undoes what placements applied and drops the record from the
// plan file: without a reservation, and before the package's removal, as
// the binary that knows the record goes.
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

// logPlacement logs a placement's problems as warnings (never fatal), the
// rest at info.
func logPlacement(log *priolog.Logger, r placement.Report) {
	for _, l := range r.Infos {
		log.Infof("%s", l)
	}
	for _, w := range r.Warnings {
		log.Warnf("%s", w)
	}
}
