// Package apply is the only code that changes the machine, each effect
// acting on a plan decided from the facts of the same run: the generator's
// unit files (generator.go), activate's swap, sysctls, placement and
// records (activate.go), the placement on its own and its undo
// (placement.go), the failure marker (records.go) and the metrics textfile
// (metrics.go). What an effect changes it folds back into the facts, so
// that the closing report gathers nothing again.
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

// Generator is the generator: Gather under root, Decide, write the files
// into dirs, and log what happened to log, at priority INFO and above, at
// most KmsgBurst messages (see Limit). It returns the plan.
func Generator(root hostroot.Root, dirs Dirs, log *priolog.Logger) plan.Plan {
	f := facts.Gather(root, facts.Generator)
	defer f.Close()
	p := plan.Decide(f)
	// Collect every message first: /dev/kmsg drops what exceeds its burst,
	// so the most severe ones must be among those that get through.
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

// WriteUnits writes files into dirs, in order, each atomically and without
// replacing a different file of the same name (see units), and logs every
// problem (a cause shared by several files once, with a count). When a file
// that wires the swap unit cannot be written, the late swap unit and its
// link are skipped, so that the swap unit never exists without its wiring;
// the .wants link is written only with its unit.
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

// KmsgBurst is how many messages the kernel takes from one open of
// /dev/kmsg in a burst (the default printk.devkmsg=ratelimit: 10 per 5 s);
// the rest are dropped, whatever their priority.
const KmsgBurst = 10

// Limit returns notes as they should be logged when at most max lines get
// through: all of them when they fit; otherwise the max-1 most severe (in
// their original order) and one line saying how many were left out, at the
// priority of the most severe of those, pointing to where they all are.
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
