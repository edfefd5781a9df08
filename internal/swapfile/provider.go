package swapfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/mounts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/privilege"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/selinux"
	"github.com/ransomeye/ransomeye-tuner/internal/statedir"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
)

// The swapfile is a swap provider.
var _ swap.Provider = (*Swapfile)(nil)

// DirMode is the mode of a swapfile directory activate creates.
const DirMode = 0o755

// Leftover is a temporary file an interrupted activation left; activate
// removes it first.
type Leftover struct {
	Path  string // host path
	Bytes int64  // allocated
	Ours  bool   // root's regular file: removed; else left alone
}

// Swapfile is the swap provider of [Swap] Path=. Inspect reads, changing
// nothing: fstab and the directory's links for the units; with the state,
// the directory resolved once by safefs, its filesystem, its mounts and
// the file, all through that descriptor. Our active swap area is matched by
// device and inode, never by the name /proc/swaps prints.
type Swapfile struct {
	root     hostroot.Root
	cfg      config.Config
	Path     string // the configured swapfile, a host path
	Unit     string // its swap unit
	PageSize int

	// FstabSwap is fstab's swap line for the swapfile ("" when none;
	// FstabErr: unreadable), whose unit Unit then is. LinkDir is where the
	// directory's links lead when elsewhere, for the units.
	FstabSwap string
	FstabErr  error
	LinkDir   string

	// Inspected: the state was read; forUnits: the units' facts were.
	Inspected, forUnits bool
	// Swaps is /proc/swaps; Ours our swapfile's entry (nil: not active);
	// Others the rest, reported and not counted.
	Swaps  []procfs.Swap
	Ours   *procfs.Swap
	Others []procfs.Swap
	// Dir is the configured directory; Resolved where its links lead
	// (Links); DirMissing: activate would create Resolved.
	Dir, Resolved string
	Links         []string
	DirMissing    bool
	// FS is the filesystem that holds (or would hold) the directory;
	// FSMount where it is mounted (FSMountErr: not known, and why).
	FS         fsinfo.Info
	FSKnown    bool
	FSMount    string
	FSMountErr error
	// File is what is at the path (FileKnown; else InspectErr says why).
	File       Existing
	FileKnown  bool
	InspectErr string
	// Denied is what a run not root's could not read: the swap guarantee
	// is then not measured.
	Denied    string
	Leftovers []Leftover
	// SELinux is the machine's SELinux state and the context wanted.
	SELinux selinux.State
	// Btrfs is where the extents of the file at the path lie, on btrfs
	// (nil elsewhere, or when they could not be read: BtrfsErr says why).
	Btrfs    *fsinfo.BtrfsPlacement
	BtrfsErr string

	// problem is the first reason to refuse; notActive why the swap is not
	// in effect, before /proc/swaps is matched, and fixActive the remedy.
	problem, notActive, fixActive string
	dir                           *safefs.Dir
}

// fixes is what activate changes on a file it keeps, and whether a
// replacement removes the old file first (it fits only without it).
type fixes struct {
	perms, context, discard, removeFirst bool
}

// Inspect reads the swapfile of cfg under root: with forUnits what its
// units need, with state the rest. The caller must Close it.
func Inspect(root hostroot.Root, cfg config.Config, forUnits, state bool, swaps []procfs.Swap, swapsErr error, pageSize int) *Swapfile {
	s := &Swapfile{root: root, cfg: cfg, Path: cfg.SwapPath, Unit: names.SwapUnitName(cfg.SwapPath), PageSize: pageSize,
		Dir: filepath.Dir(cfg.SwapPath), Swaps: swaps, forUnits: forUnits}
	s.Resolved = s.Dir
	// Remedies name fstab's unit for the same file, which the generator
	// wires instead of writing ours.
	if s.FstabSwap, _, s.FstabErr = FstabHasSwap(root, cfg.SwapPath); s.FstabSwap != "" {
		s.Unit = names.SwapUnitName(s.FstabSwap)
	}
	if forUnits {
		// Resolved before the data disk mounts (the link is on the root
		// filesystem); unresolvable, activate refuses it with the reason.
		if host, err := safefs.Resolve(root, s.Dir); err == nil && host != s.Dir {
			s.LinkDir = host
		}
	}
	if !state {
		return s
	}
	s.Inspected = true
	s.SELinux = selinux.Detect(root)
	s.notActive = fmt.Sprintf("swapfile %q is not active (see systemctl status %s)", s.Path, s.Unit)
	s.fixActive = remedyFixCause
	if swapsErr != nil {
		s.refuse(fmt.Sprintf("%v: cannot tell whether %q is in use", swapsErr, s.Path))
		s.notActive = fmt.Sprintf("%v: cannot tell whether %q is active", swapsErr, s.Path)
	}
	d, unsafe := safefs.OpenDir(root, s.Dir, safefs.Options{Create: DirMode, RootOnly: true, Probe: true})
	if unsafe != nil {
		// Refused; still say where it is and what holds it, through a
		// descriptor used for reading only.
		var err error
		d, err = safefs.OpenDir(root, s.Dir, safefs.Options{Create: DirMode, Probe: true})
		if privilege.Denied(err) {
			s.Denied = err.Error()
		}
		if err != nil {
			s.refuse(fmt.Sprintf("the swapfile's directory %q cannot be used: %v; or set [Swap] Path= elsewhere", s.Dir, unsafe))
			s.notActive = fmt.Sprintf("cannot tell whether swapfile %q is active: %v", s.Path, unsafe)
			s.fixActive = "make the swapfile's directory what the reason says, or set [Swap] Path= elsewhere, " + names.ThenRecover
			s.others()
			return s
		}
	}
	s.dir = d
	s.Resolved, s.Links, s.DirMissing = d.Host, d.Links, d.Missing != ""
	// Before anything is made: a missing data disk leaves its mount point
	// a directory on the root filesystem; the resolved directory counts.
	for _, dir := range []string{s.Dir, s.Resolved} {
		if err := mounts.Check(root, dir); err != nil {
			s.refuse(err.Error())
		}
		if s.Resolved == s.Dir {
			break
		}
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(d.Fd(), &st); err != nil {
		s.refuse(fmt.Sprintf("statfs %q: %v", s.Resolved, err))
	} else {
		s.FS, s.FSKnown = fsinfo.FromStatfs(s.Resolved, st), true
		s.FSMount, s.FSMountErr = mounts.MountPoint(root, s.Resolved)
		if s.FS.Support == fsinfo.NeedsNoCOW {
			// Not asked, nothing refused: swapon refuses what the kernel
			// cannot swap to, and OnFailure= keeps the core down. Decide
			// judges it (checkBtrfs).
			if b, err := fsinfo.ReadBtrfs(d.Fd()); err == nil {
				s.FS.Btrfs = &b
			}
		}
		if err := s.FS.CheckUsable(); err != nil {
			s.refuse(err.Error())
		}
	}
	if unsafe != nil {
		s.refuse(fmt.Sprintf("the swapfile's directory %q cannot be used safely: %v; or set [Swap] Path= elsewhere", s.Dir, unsafe))
	}
	s.File, s.FileKnown = Existing{Path: s.Path, Kind: Missing}, true
	if !s.DirMissing {
		s.inspectFile()
		s.Leftovers = leftovers(d)
		if s.FS.Btrfs != nil && s.File.Kind == Regular {
			if pl, err := btrfsPlacement(d.Fd(), s.name(), s.File); err != nil {
				s.BtrfsErr = err.Error()
			} else {
				s.Btrfs = &pl
			}
		}
	}
	if unsafe != nil {
		// Read for the report only: activate gets no directory to act in.
		d.Close()
		s.dir = nil
	}
	s.matchActive()
	return s
}

// inspectFile inspects the file through the open directory.
func (s *Swapfile) inspectFile() {
	ex, err := InspectAt(s.dir.Fd(), s.dir.Host, s.name(), s.PageSize)
	if privilege.Denied(err) {
		// stat needs no read permission: what it gave still finds our
		// active area by device and inode.
		ex.Path = s.Path
		s.File, s.Denied = ex, err.Error()
		s.InspectErr, s.FileKnown = err.Error(), false
		return
	}
	if err != nil {
		s.InspectErr, s.FileKnown = err.Error(), false
		s.refuse(s.InspectErr)
		return
	}
	ex.Path = s.Path // messages name the configured path
	s.File = ex
}

// SwapUnit is the swapfile's swap unit: the generator's, or the one
// systemd makes for an /etc/fstab line naming the same file.
func (s *Swapfile) SwapUnit() string { return s.Unit }

// Close closes the directory Inspect opened.
func (s *Swapfile) Close() error {
	if s.dir == nil {
		return nil
	}
	err := s.dir.Close()
	s.dir = nil
	return err
}

func (s *Swapfile) name() string { return filepath.Base(s.Path) }

// refuse records a reason to refuse (the first one counts).
func (s *Swapfile) refuse(reason string) {
	if s.problem == "" {
		s.problem = reason
	}
}

// matchActive finds our file in /proc/swaps by device and inode.
func (s *Swapfile) matchActive() {
	s.Ours, s.Others = nil, nil
	for i, a := range s.Swaps {
		if s.Ours == nil && s.File.Kind == Regular && a.Type == "file" {
			if st, ok := Identify(s.root, a.Filename); ok && st.Dev == s.File.Dev && st.Ino == s.File.Inode {
				s.Ours = &s.Swaps[i]
				continue
			}
		}
		s.Others = append(s.Others, a)
	}
}

// others fills Others with every active swap area (ours not found).
func (s *Swapfile) others() { s.Ours, s.Others = nil, append([]procfs.Swap(nil), s.Swaps...) }

// Decide says what activate would do for t, and whether the swap guarantee
// is in effect: our file active with the target, and kept as it is (safe
// directory, root:root 0600, the SELinux type): the gate must not open on
// a swap area activate would refuse.
func (s *Swapfile) Decide(t swap.Target) swap.Decision {
	d := swap.Decision{Target: t, Expected: fmt.Sprintf("swapfile %q active with at least %s", s.Path, fsinfo.Human(t.Bytes)), Actual: "not active"}
	if s.Denied != "" {
		// Whether activate keeps the file needs its header: not judged.
		d.NotMeasured, d.Reason = privilege.Reason(errors.New(s.Denied)), s.Denied
		d.NotInEffect = "not measured: " + d.NotMeasured
		switch {
		case s.Ours != nil:
			d.Active, d.Actual = s.Ours.Size, "active with "+fsinfo.Human(s.Ours.Size)
		case s.File.Kind == Regular:
			d.Actual = "not active"
		default:
			d.Actual = ""
		}
		return d
	}
	var fx fixes
	refuse := func(r string) {
		if d.Action != swap.Refuse {
			d.Action, d.Reason, fx = swap.Refuse, r, fixes{}
		}
	}
	if t.Err != nil {
		refuse(t.Err.Error())
	}
	if s.problem != "" {
		refuse(s.problem)
	}
	if d.Action != swap.Refuse {
		dec := Decide(s.File, t.Bytes, s.Ours != nil, s.FS.Support == fsinfo.NeedsNoCOW, names.SwapLabel, s.Unit)
		d.Action, d.Reason, fx.perms, fx.discard = dec.Action, dec.Reason, dec.FixPerms, dec.DiscardImage
		if dec.Action == swap.Keep {
			switch c := DecideContext(s.File, s.SELinux.SwapContext, names.SwapLabel); {
			case c.Refuse:
				refuse(c.Reason)
			case c.Fix:
				fx.context = true
				d.Reason += "; " + c.Reason
			}
		}
	}
	if d.Action != swap.Refuse {
		if err := s.checkBtrfs(d.Action); err != nil {
			refuse(err.Error())
		} else if d.Action == swap.Keep && s.Ours == nil && s.FS.Btrfs != nil && s.Btrfs == nil {
			d.Reason += fmt.Sprintf("; where its btrfs extents lie is not known (%s): swapon judges them", s.BtrfsErr)
		}
	}
	if d.Action == swap.Create || d.Action == swap.Replace {
		fs := s.FS
		for _, l := range s.Leftovers {
			if l.Ours {
				fs.Free += l.Bytes // activate removes them first
			}
		}
		err := fs.CheckSpace(t.Bytes, s.cfg.Reserve)
		if err != nil && d.Action == swap.Replace && s.oursToRemove() {
			// The file replaced frees its blocks: the replacement may fit
			// in its place where it does not beside it.
			fs.Free += s.File.Allocated
			if fs.CheckSpace(t.Bytes, s.cfg.Reserve) == nil {
				err, fx.removeFirst = nil, true
				d.Reason += fmt.Sprintf("; the new file does not fit beside it (%s free, %s needed with the reserve): the old file is removed first, and the new one made in its place", fsinfo.Human(s.FS.Free), fsinfo.Human(t.Bytes+s.cfg.Reserve))
			}
		}
		if err != nil {
			refuse(err.Error())
		}
	}
	d.Detail, d.NotInEffect, d.Remedy = fx, s.notActive, s.fixActive
	if s.Ours == nil {
		return d
	}
	d.Active, d.Actual = s.Ours.Size, "active with "+fsinfo.Human(s.Ours.Size)
	switch {
	case !t.Satisfies(s.Ours.Size):
		d.NotInEffect = fmt.Sprintf("swapfile %q is active with %s, less than the target %s", s.Path, fsinfo.Human(s.Ours.Size), fsinfo.Human(t.Bytes))
		d.Remedy = fmt.Sprintf("reboot (activate replaces it before it is swapped on), or: swapoff %q && %s", s.Path, names.RecoverCommand)
	case d.Action == swap.Refuse:
		d.NotInEffect = fmt.Sprintf("swapfile %q is active, but activate refuses it: %s", s.Path, d.Reason)
		d.Remedy = remedyFixCause
	case d.Action != swap.Keep || fx.perms || fx.context || fx.discard || !s.File.RootOnly():
		d.NotInEffect = fmt.Sprintf("swapfile %q is active, but activate would not keep it as it is (%s: %s)", s.Path, d.Action, d.Reason)
		d.Remedy = remedyFixCause
	default:
		d.InEffect, d.NotInEffect, d.Remedy = true, "", ""
	}
	return d
}

// remedyFixCause is the remedy when the reason names the cause.
const remedyFixCause = "fix the cause, " + names.ThenRecover

// checkBtrfs says why the kernel would refuse, on btrfs, the swapfile
// action leaves: a new file by where new data lands; a kept inactive file
// by where its extents lie, when they could be read (the chunk tree needs
// CAP_SYS_ADMIN); our active file not at all (btrfs moves no extent of an
// active swapfile). A second device added under a working swapfile made
// the kernel refuse it at every boot.
func (s *Swapfile) checkBtrfs(action string) error {
	b := s.FS.Btrfs
	switch {
	case b == nil:
	case action == swap.Create || action == swap.Replace:
		return b.CheckNewFile(s.FS.Dir)
	case action == swap.Keep && s.Ours == nil && s.Btrfs != nil:
		return s.Btrfs.CheckSwap(s.Path, s.FS.Dir, *b)
	}
	return nil
}

// btrfsPlacement reads where the extents of name (the inspected file f)
// lie: FIEMAP's btrfs logical addresses mapped through the chunk tree.
func btrfsPlacement(dirfd int, name string, f Existing) (fsinfo.BtrfsPlacement, error) {
	var pl fsinfo.BtrfsPlacement
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return pl, fmt.Errorf("open %q: %w", f.Path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return pl, fmt.Errorf("fstat %q: %w", f.Path, err)
	}
	if st.Dev != f.Dev || st.Ino != f.Inode {
		return pl, fmt.Errorf("%q changed while it was inspected", f.Path)
	}
	ext, _, err := Extents(fd, f.Size)
	if err != nil {
		return pl, err
	}
	chunks, err := fsinfo.ReadBtrfsChunks(fd)
	if err != nil {
		return pl, err
	}
	ranges := make([][2]uint64, len(ext))
	for i, e := range ext {
		ranges[i] = [2]uint64{uint64(e.Physical), uint64(e.Length)}
	}
	return fsinfo.PlaceBtrfs(chunks, ranges)
}

// oursToRemove reports whether the file may be removed before its
// replacement is made: our inactive root-only swap area, its blocks its
// own (not shared with a snapshot).
func (s *Swapfile) oursToRemove() bool {
	f := s.File
	return s.Ours == nil && f.Kind == Regular && f.Header.Label == names.SwapLabel && f.RootOnly() && !f.Shared
}

// Apply makes the swapfile usable as d says, through the directory Inspect
// opened, then inspects the file it changed: it must be what activate
// keeps.
func (s *Swapfile) Apply(d swap.Decision, log *priolog.Logger) error {
	if d.Action == swap.Refuse {
		return fmt.Errorf("%s", d.Reason)
	}
	fx, _ := d.Detail.(fixes)
	if s.DirMissing {
		// Create it now, and check it is still where Decide looked.
		nd, err := safefs.OpenDir(s.root, s.Dir, safefs.Options{Create: DirMode, RootOnly: true})
		if err != nil {
			return fmt.Errorf("create the swapfile's directory %q: %v", s.Dir, err)
		}
		if nd.Host != s.Resolved {
			nd.Close()
			return fmt.Errorf("the swapfile's directory %q resolved to %q while it was being created, not %q as planned: run activate again", s.Dir, nd.Host, s.Resolved)
		}
		for _, c := range nd.Created {
			log.Noticef("created the directory %q", c)
		}
		s.Close()
		s.dir, s.DirMissing = nd, false
	}
	removed, skipped, err := CleanLeftoversAt(s.dir.Fd(), s.dir.Host)
	for _, r := range removed {
		log.Noticef("removed %q, left by an interrupted run", r)
	}
	if len(removed) > 0 {
		// btrfs frees a removed file's extents only when its transaction
		// commits: after a power loss mid-creation the new file did not
		// fit. syncfs commits it.
		if err := unix.Syncfs(s.dir.Fd()); err != nil {
			log.Warnf("syncfs %q after removing leftovers: %v", s.dir.Host, err)
		}
	}
	for _, sk := range skipped {
		log.Warnf("%q looks like a leftover of ours but is not a regular file owned by root: left it alone", sk)
	}
	if err != nil {
		return err
	}
	log.Infof("%s", d.Reason)
	fd, host, name := s.dir.Fd(), s.dir.Host, s.name()
	if fx.perms {
		if err := FixPermsAt(fd, host, name); err != nil {
			return err
		}
		log.Noticef("set owner root:root and mode 0600 on %q (it had %d:%d, mode %04o)", s.Path, s.File.UID, s.File.GID, uint32(s.File.Perm))
	}
	if fx.discard {
		if err := DiscardImageAt(fd, host, name, s.PageSize, s.File); err != nil {
			return err
		}
		log.Noticef("discarded the stale hibernation image in %q (signature %s, left by a boot that did not resume from it): wrote the swap signature back, as swapon does", s.Path, s.File.Header.Hibernation)
	}
	if fx.context {
		if err := SetContextAt(fd, host, name, s.SELinux.SwapContext); err != nil {
			return err
		}
		log.Noticef("relabelled %q %s (it had %q)", s.Path, s.SELinux.SwapContext, s.File.Context)
	}
	if d.Action == swap.Create || d.Action == swap.Replace {
		if err := s.create(d, fx.removeFirst, log); err != nil {
			return err
		}
	}
	if d.Action == swap.Keep && !fx.perms && !fx.discard && !fx.context {
		return nil // nothing changed: what Decide judged is what is there
	}
	// What is there now must be usable: the same decision again.
	ex, err := InspectAt(fd, host, name, s.PageSize)
	if err != nil {
		return err
	}
	ex.Path = s.Path
	s.File, s.FileKnown = ex, true
	s.matchActive()
	if d2 := Decide(ex, d.Target.Bytes, s.Ours != nil, s.FS.Support == fsinfo.NeedsNoCOW, names.SwapLabel, s.Unit); d2.Action != swap.Keep || d2.FixPerms {
		return fmt.Errorf("after provisioning, %s", d2.Reason)
	}
	if c := DecideContext(ex, s.SELinux.SwapContext, names.SwapLabel); c.Fix || c.Refuse {
		return fmt.Errorf("after provisioning, %q: %s", s.Path, c.Reason)
	}
	return nil
}

// create makes (or replaces) the swapfile for d, the old one removed first
// with removeFirst.
func (s *Swapfile) create(d swap.Decision, removeFirst bool, log *priolog.Logger) error {
	mkswap, err := FindMkswap(os.Getenv(TestMkswapEnv))
	if err != nil {
		return err
	}
	fsi, reserve := s.FS, fsinfo.Human(s.cfg.Reserve)
	// removed goes into a failure's reason: the old file is gone.
	removed := ""
	if removeFirst {
		if err := RemoveAt(s.dir.Fd(), s.dir.Host, s.name(), s.File); err != nil {
			return err
		}
		removed = fmt.Sprintf("the old swapfile %q (%s) was removed first to make room for its replacement", s.Path, fsinfo.Human(s.File.Size))
		log.Noticef("%s: the new %s file does not fit beside it", removed, fsinfo.Human(d.Target.Bytes))
		// Commit the removal, or the new file may not fit yet.
		if err := unix.Syncfs(s.dir.Fd()); err != nil {
			log.Warnf("syncfs %q after removing the old swapfile: %v", s.dir.Host, err)
		}
		var st unix.Statfs_t
		if unix.Fstatfs(s.dir.Fd(), &st) == nil {
			fsi.Free = fsinfo.FromStatfs(s.dir.Host, st).Free
		}
	}
	log.Infof("creating %q: %s on %s (%s free, reserve %s)", s.Path, fsinfo.Human(d.Target.Bytes), fsi.Name, fsinfo.Human(fsi.Free), reserve)
	t0 := time.Now()
	n, err := Create(s.dir, s.name(), d.Target.Bytes, Options{
		Mkswap:  mkswap,
		Label:   names.SwapLabel,
		NoCOW:   fsi.Support == fsinfo.NeedsNoCOW,
		Replace: d.Action == swap.Replace && !removeFirst,
		Context: s.SELinux.SwapContext,
		Log:     log,
	})
	if err != nil {
		// btrfs frees the extents of the temporary file Create removed
		// when its transaction commits (up to 30 s later): a restart
		// right after this failure saw "0 B free" until then. syncfs
		// commits it now, and the free space below is what is free.
		if serr := unix.Syncfs(s.dir.Fd()); serr != nil {
			log.Warnf("syncfs %q after the failed creation: %v", s.dir.Host, serr)
		}
		free := "unknown"
		var st unix.Statfs_t
		if unix.Fstatfs(s.dir.Fd(), &st) == nil {
			free = fsinfo.Human(fsinfo.FromStatfs(s.dir.Host, st).Free)
		}
		reason := fmt.Sprintf("cannot create the swapfile %q (%s) on the %s filesystem holding %q (%s free, reserve %s): %v", s.Path, fsinfo.Human(d.Target.Bytes), fsi.Name, s.dir.Host, free, reserve, err)
		if removed != "" {
			reason += "; " + removed
		}
		return errors.New(reason)
	}
	log.Noticef("created %q (%s, mode 0600, label %s) in %s", s.Path, fsinfo.Human(n), names.SwapLabel, time.Since(t0).Round(time.Millisecond))
	return nil
}

// Record adds our swapfile (labelled), by resolved host path, to the record
// a purge reads after the binary is gone, also after Path= moved it.
func (s *Swapfile) Record(log *priolog.Logger) {
	if s.dir == nil || s.DirMissing || !s.FileKnown || s.File.Kind != Regular || s.File.Header.Label != names.SwapLabel {
		return
	}
	hostPath := filepath.Join(s.dir.Host, s.name())
	added, err := statedir.AddSwapfile(s.root, hostPath)
	switch {
	case errors.Is(err, statedir.ErrNotNow):
		log.Infof("the swapfile %q is not recorded for a purge now (%v); an activation records it", hostPath, err)
	case err != nil:
		log.Warnf("%v: a purge of the package may leave the swapfile %q behind", err, hostPath)
	case added:
		log.Infof("recorded the swapfile %q in %s, for a purge of the package", hostPath, filepath.Join(statedir.Dir, statedir.Swapfiles))
	}
}

// Identify stats the file /proc/swaps names without following a link in
// any component (the kernel prints a resolved path: a link there is new).
// Under a root prefix a name inside the prefix is taken as it is; a
// " (deleted)" name is looked up literally (that inode is another).
func Identify(root hostroot.Root, name string) (unix.Stat_t, bool) {
	p := root.Path(name)
	if !root.IsHost() && strings.HasPrefix(name, root.String()+"/") {
		p = name
	}
	var st unix.Stat_t
	if !filepath.IsAbs(p) {
		return st, false
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, false
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, c := range parts {
		if c == "" || c == "." || c == ".." {
			break
		}
		if i == len(parts)-1 {
			err := unix.Fstatat(fd, c, &st, unix.AT_SYMLINK_NOFOLLOW)
			unix.Close(fd)
			return st, err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
		}
		next, err := unix.Openat(fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return st, false
		}
		fd = next
	}
	unix.Close(fd)
	return st, false
}

// leftovers lists the temporary files of an interrupted activation in d.
func leftovers(d *safefs.Dir) []Leftover {
	var out []Leftover
	ents, _ := readDirNames(d.Fd())
	for _, name := range ents {
		if !names.IsSwapTempName(name) {
			continue
		}
		st, err := d.Lstat(name)
		if err != nil {
			continue
		}
		out = append(out, Leftover{Path: filepath.Join(d.Host, name), Bytes: st.Blocks * 512, Ours: st.Mode&unix.S_IFMT == unix.S_IFREG && st.Uid == 0})
	}
	return out
}
