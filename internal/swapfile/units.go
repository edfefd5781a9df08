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
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// FstabPath is the file checked for an administrator's swap line.
const FstabPath = "/etc/fstab"

// maxFstab bounds what is read of /etc/fstab.
const maxFstab = 1 << 20

// Units are the swap unit (late directory: an administrator's own unit or
// fstab line for the same file wins), its .wants link, and the drop-ins
// that wire it and the activator (normal directory). When /etc/fstab
// already has the path as swap, the unit and its link are not written but
// the drop-ins still are: they keep the gate. None when Inspect did not
// read what they need.
func (s *Swapfile) Units() ([]units.File, []priolog.Note) {
	if !s.forUnits {
		return nil, nil
	}
	var notes []priolog.Note
	if s.FstabErr != nil {
		notes = append(notes, priolog.Notef(priolog.Warning, "%v: assuming %q is not in it", s.FstabErr, s.Path))
	}
	// The configured directory, and where its link leads: systemd orders
	// after the mounts of the lexical path only, so /ransomeye ->
	// /data/ransomeye would not wait for data.mount.
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
		// s.Unit is the administrator's unit when an fstab line names the
		// same file: the drop-ins wire that one.
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

// resolveDir returns the host directory the swapfile's directory dir
// resolves to when a link leads elsewhere, or "" (not a link, or it cannot
// be resolved: activate then refuses it with the reason). Nothing is
// created; a directory that does not exist yet (its disk not mounted)
// resolves lexically from the last link. The link lives on the root
// filesystem, so it resolves before the data disk mounts.
func resolveDir(root hostroot.Root, dir string) string {
	host, err := safefs.Resolve(root, dir)
	if err != nil || host == dir {
		return ""
	}
	return host
}

// FstabHasSwap returns the path of the /etc/fstab swap line under root
// that names the swapfile at swapPath, itself or through root's links
// (mounts.SwapLine), and whether there is one. A missing fstab is no line.
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
