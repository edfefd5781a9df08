package generate

import (
	"errors"

	"github.com/ransomeye/ransomeye-tuner/internal/klog"
	"github.com/ransomeye/ransomeye-tuner/internal/unitwrite"
)

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
// every problem. When a file that wires the swap unit cannot be written, the
// late swap unit and its link are skipped, so that the swap unit never
// exists without its wiring; the .wants link is written only with its unit.
func Apply(out Output, dirs Dirs, log *klog.Logger) Result {
	var r Result
	wiringFailed := false
	lateUnitOK := map[string]bool{}
	for _, f := range out.Files {
		dir := dirs.Normal
		if f.Dir == Late {
			dir = dirs.Late
		}
		if f.Dir == Late && wiringFailed {
			log.Errorf("not writing %s/%s: its wiring drop-in could not be written", dir, f.Path)
			r.Skipped++
			continue
		}
		if f.IsSymlink() && f.Dir == Late && !lateUnitOK[f.Target] {
			log.Errorf("not writing %s/%s: its unit was not written", dir, f.Path)
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
			log.Errorf("%v", err)
			if f.Dir == Normal && !f.CPU {
				wiringFailed = true
			}
		}
	}
	return r
}

// LogNotes logs out.Notes at their priorities.
func LogNotes(out Output, log *klog.Logger) {
	for _, n := range out.Notes {
		log.Printf(n.Priority, "%s", n.Text)
	}
}
