// Package apply is the only code that changes the machine, each effect on
// a plan decided from the same run's facts: the generator's units, activate
// (swap, sysctls, placement, records), place and its undo, the marker and
// the metrics textfile. What an effect changes it folds back into the
// facts, so the closing report gathers nothing again.
package apply

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

// Generator is the generator: Gather, Decide, write the files into dirs,
// and log at most KmsgBurst messages of INFO and above (Limit).
func Generator(root hostroot.Root, dirs Dirs, log *priolog.Logger) plan.Plan {
	f := facts.Gather(root, facts.Generator)
	defer f.Close()
	p := plan.Decide(f)
	// Collect first: /dev/kmsg drops what exceeds its burst, so the most
	// severe must be among those that get through.
	notes := p.Notes
	collect := priolog.New(io.Discard, "")
	collect.SetSink(func(pr priolog.Priority, msg string) {
		if pr <= priolog.Info {
			notes = append(notes, priolog.Note{Priority: pr, Text: msg})
		}
	})
	if len(p.Files) > 0 {
		r := WriteUnits(p.Files, dirs, collect)
		notes = append(notes, priolog.Notef(priolog.Info, "%s %s: %d files written, %d kept, %d failed, %d skipped (CPU mode %s)",
			names.GeneratorName, version.Version, r.Written, r.Kept, r.Failed, r.Skipped, p.CPUMode))
	}
	log.Log(Limit(notes, KmsgBurst)...)
	return p
}

// Dirs are the output directories of one generator run.
type Dirs struct {
	Normal, Late string
}

// Result counts what WriteUnits did.
type Result struct {
	Written, Kept, Failed, Skipped int
}

// WriteUnits writes files into dirs in order, atomically and never over a
// different file (units), logging each problem once with a count. When a
// file wiring the swap unit fails, the late swap unit and its link are
// skipped (never a swap unit without its wiring); a link only with its
// unit.
func WriteUnits(files []units.File, dirs Dirs, log *priolog.Logger) Result {
	var r Result
	wiringFailed := false
	lateUnitOK := map[string]bool{}
	var causes []string
	failedBy := map[string]int{}
	var skipped []string
	for _, f := range files {
		dir := dirs.Normal
		if f.Dir == units.Late {
			dir = dirs.Late
		}
		if f.Dir == units.Late && (wiringFailed || f.IsSymlink() && !lateUnitOK[f.Target]) {
			skipped = append(skipped, f.Path)
			r.Skipped++
			continue
		}
		var err error
		if f.IsSymlink() {
			err = units.Symlink(dir, f.Path, f.Target)
		} else {
			err = units.WriteFile(dir, f.Path, f.Content)
		}
		switch {
		case err == nil:
			r.Written++
			if f.Dir == units.Late && !f.IsSymlink() {
				lateUnitOK["../"+f.Path] = true
			}
		case errors.Is(err, units.ErrExists):
			r.Kept++
			log.Warnf("%v", err)
		default:
			r.Failed++
			cause := rootCause(err)
			if failedBy[cause] == 0 {
				causes = append(causes, cause)
				log.Errorf("%v", err)
			}
			failedBy[cause]++
			if f.Dir == units.Normal && !f.CPU {
				wiringFailed = true
			}
		}
	}
	for _, c := range causes {
		if n := failedBy[c]; n > 1 {
			log.Errorf("%d more files could not be written either: %s", n-1, c)
		}
	}
	if len(skipped) > 0 {
		why := "the swap unit's wiring drop-in could not be written"
		if !wiringFailed {
			why = "the swap unit was not written"
		}
		log.Errorf("not writing %s in %s: %s", strings.Join(skipped, ", "), dirs.Late, why)
	}
	return r
}

// rootCause is the innermost error's text ("read-only file system").
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// KmsgBurst is what /dev/kmsg takes from one open in a burst (the default
// printk.devkmsg=ratelimit); the rest are dropped, whatever their priority.
const KmsgBurst = 10

// Limit returns notes as logged when at most max get through: all when
// they fit, else the max-1 most severe in order and one line counting the
// rest, at their worst priority, saying where they all are.
func Limit(notes []priolog.Note, max int) []priolog.Note {
	if len(notes) <= max || max < 1 {
		return notes
	}
	idx := make([]int, len(notes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return notes[idx[a]].Priority < notes[idx[b]].Priority })
	keep := map[int]bool{}
	for _, i := range idx[:max-1] {
		keep[i] = true
	}
	out := make([]priolog.Note, 0, max)
	dropped, worst := 0, priolog.Debug
	for i, n := range notes {
		if keep[i] {
			out = append(out, n)
			continue
		}
		dropped++
		if n.Priority < worst {
			worst = n.Priority
		}
	}
	return append(out, priolog.Note{Priority: worst, Text: fmt.Sprintf(
		"%d more messages not logged (the kernel log takes %d per run); `ransomeye-tuner plan` shows them all", dropped, max)})
}
