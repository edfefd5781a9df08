package generate

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/unitwrite"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

// Run is the generator: Gather under root, Render, Apply into dirs, and log
// what happened to log, at priority INFO and above, at most KmsgBurst
// messages (see Limit). It returns what Render decided.
func Run(root hostroot.Root, dirs Dirs, log *priolog.Logger) Output {
	// Collect every message first: /dev/kmsg drops what exceeds its burst,
	// so the most severe ones must be among those that get through.
	var notes []Note
	collect := priolog.New(io.Discard, "")
	collect.SetSink(func(p priolog.Priority, msg string) {
		if p <= priolog.Info {
			notes = append(notes, Note{Priority: p, Text: msg})
		}
	})
	out := Render(Gather(root, collect))
	notes = append(notes, out.Notes...)
	if len(out.Files) > 0 {
		r := Apply(out, dirs, collect)
		notes = append(notes, Note{Priority: priolog.Info, Text: fmt.Sprintf(
			"%s %s: %d files written, %d kept, %d failed, %d skipped (CPU mode %s)",
			names.GeneratorName, version.Version, r.Written, r.Kept, r.Failed, r.Skipped, out.CPUMode)})
	}
	for _, n := range Limit(notes, KmsgBurst) {
		log.Printf(n.Priority, "%s", n.Text)
	}
	return out
}

// Dirs are the output directories of one generator run.
type Dirs struct {
	Normal, Late string
}

// Result counts what Apply did.
type Result struct {
	Written, Kept, Failed, Skipped int
}

// Apply writes out.Files into dirs, in order, each atomically and without
// replacing a different file of the same name (see unitwrite), and logs
// every problem (a cause shared by several files once, with a count). When a
// file that wires the swap unit cannot be written, the late swap unit and
// its link are skipped, so that the swap unit never exists without its
// wiring; the .wants link is written only with its unit.
func Apply(out Output, dirs Dirs, log *priolog.Logger) Result {
	var r Result
	wiringFailed := false
	lateUnitOK := map[string]bool{}
	var causes []string
	failedBy := map[string]int{}
	var skipped []string
	for _, f := range out.Files {
		dir := dirs.Normal
		if f.Dir == Late {
			dir = dirs.Late
		}
		if f.Dir == Late && (wiringFailed || f.IsSymlink() && !lateUnitOK[f.Target]) {
			skipped = append(skipped, f.Path)
			r.Skipped++
			continue
		}
		var err error
		if f.IsSymlink() {
			err = unitwrite.Symlink(dir, f.Path, f.Target)
		} else {
			err = unitwrite.WriteFile(dir, f.Path, f.Content)
		}
		switch {
		case err == nil:
			r.Written++
			if f.Dir == Late && !f.IsSymlink() {
				lateUnitOK["../"+f.Path] = true
			}
		case errors.Is(err, unitwrite.ErrExists):
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
			if f.Dir == Normal && !f.CPU {
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
func Limit(notes []Note, max int) []Note {
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
	out := make([]Note, 0, max)
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
	return append(out, Note{Priority: worst, Text: fmt.Sprintf(
		"%d more messages not logged (the kernel log takes %d per run); `ransomeye-tuner plan` shows them all", dropped, max)})
}
