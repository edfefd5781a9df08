package swapfile

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/mounts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// FstabPath is the file checked for an administrator's swap line.
const FstabPath = "/etc/fstab"

// maxFstab bounds what is read of /etc/fstab.
const maxFstab = 1 << 20

// Units are the swap unit and its .wants link (late directory: the
// administrator's own unit wins), and the drop-ins wiring it and the
// activator, which keep the gate also when fstab has the file as swap and
// the unit is fstab's.
func (s *Swapfile) Units() ([]units.File, []priolog.Note) {
	if !s.forUnits {
		return nil, nil
	}
	var notes []priolog.Note
	if s.FstabErr != nil {
		notes = append(notes, priolog.Notef(priolog.Warning, "%v: assuming %q is not in it", s.FstabErr, s.Path))
	}
	// The link's target too: systemd orders after the lexical path's
	// mounts only.
	mountsFor := units.QuotePath(s.Dir)
	swapOpts := []*units.Option{
		units.Opt("Unit", "Wants", names.ActivatorUnit),
		units.Opt("Unit", "After", names.ActivatorUnit+" "+names.FailClosedUnit),
		units.Opt("Unit", "ConditionPathExists", "!"+names.MarkerPath),
		units.Opt("Unit", "OnFailure", names.FailClosedUnit),
	}
	if s.LinkDir != "" {
		mountsFor += " " + units.QuotePath(s.LinkDir)
		swapOpts = append(swapOpts, units.Opt("Unit", "RequiresMountsFor", units.QuotePath(s.LinkDir)))
		notes = append(notes, priolog.Notef(priolog.Info, "the swapfile's directory %q is a link to %q: the units also require the mounts for %q", s.Dir, s.LinkDir, s.LinkDir))
	}
	files := []units.File{
		// s.Unit is fstab's unit for the same file when there is one.
		{Dir: units.Normal, Path: s.Unit + ".d/" + names.SwapDropIn, Content: units.Serialize(swapOpts...)},
		{Dir: units.Normal, Path: names.ActivatorUnit + ".d/" + names.SwapDropIn, Content: units.Serialize(
			units.Opt("Unit", "RequiresMountsFor", mountsFor),
			units.Opt("Unit", "Before", s.Unit))},
	}
	switch s.FstabSwap {
	case "":
	case s.Path:
		notes = append(notes, priolog.Notef(priolog.Notice, "%s already has %q as swap: the administrator's %s wins; writing only its drop-in, which keeps the gate", FstabPath, s.Path, s.Unit))
		return files, notes
	default:
		notes = append(notes, priolog.Notef(priolog.Notice, "%s already has %q as swap, the same file as %q (through a link): the administrator's %s wins; writing only its drop-in, which keeps the gate", FstabPath, s.FstabSwap, s.Path, s.Unit))
		return files, notes
	}
	return append(files,
		units.File{Dir: units.Late, Path: s.Unit, Content: units.Serialize(
			units.Opt("Unit", "Description", "RansomEye swapfile"),
			units.Opt("Unit", "Documentation", "man:ransomeye-tuner(8)"),
			units.SourcePath(s.cfg),
			units.Opt("Swap", "What", units.EscapeSpecifiers(s.Path)))},
		units.File{Dir: units.Late, Path: "swap.target.wants/" + s.Unit, Target: "../" + s.Unit},
	), notes
}

// FstabHasSwap returns fstab's swap line for the swapfile at swapPath
// (mounts.SwapLine); a missing fstab is no line.
func FstabHasSwap(root hostroot.Root, swapPath string) (string, bool, error) {
	b, err := readfile.Regular(root.Path(FstabPath), maxFstab)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %q: %w", FstabPath, err)
	}
	what, ok := mounts.SwapLine(root, b, swapPath)
	return what, ok, nil
}
