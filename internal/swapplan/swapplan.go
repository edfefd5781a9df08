// Package swapplan is the one decision about the swapfile: what activate
// will do with it and why, and whether the swap guarantee is in effect now.
// activate acts on the Plan; status and plan print it; the gate uses its
// InEffect answer. Written once so that they cannot disagree (they did:
// plan said "create" where status said "activate would refuse", because the
// data-disk check had reached only two of the three copies).
//
// Make reads and changes nothing: /proc/meminfo and /proc/swaps, the
// swapfile's directory resolved once by safefs (links followed only when
// root's, every directory on the resolved path root's and closed to
// others), the filesystem holding it (fstatfs on that descriptor), /etc/fstab
// against mountinfo for the resolved directory, and the file itself,
// inspected relative to the descriptor. Our active swap area is found by
// device and inode, never by the name /proc/swaps prints.
package swapplan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/mounts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/selinux"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
)

// DirMode is the mode of a swapfile directory activate creates.
const DirMode = 0o755

// Inputs are what Make decides from.
type Inputs struct {
	Root   hostroot.Root
	Config config.Config
	// PageSize is the kernel's page size; 0 means this machine's.
	PageSize int
}

// Leftover is a temporary file an interrupted activation left, which
// activate removes before creating anything.
type Leftover struct {
	Path  string // host path
	Bytes int64  // allocated
	Ours  bool   // a regular file owned by root: removed; otherwise left alone
}

// Plan is what activate will do with the swapfile, and why.
type Plan struct {
	Path     string // the configured swapfile, a host path
	Unit     string // its swap unit: ours, or the one an /etc/fstab line for the same file makes
	MemTotal int64
	MinSize  int64
	// Target is max(MinSize, MemTotal), rounded up to a page.
	Target   int64
	PageSize int

	// Swaps is everything in /proc/swaps; Ours is our swapfile's entry,
	// found by device and inode (nil when it is not active); Others are
	// the rest, reported and not counted.
	Swaps  []procfs.Swap
	Ours   *procfs.Swap
	Others []procfs.Swap

	// Dir is the configured directory; Resolved where it really is (links
	// followed), Links the links followed on the way; DirMissing says that
	// activate would create Resolved.
	Dir        string
	Resolved   string
	Links      []string
	DirMissing bool
	// FS is the filesystem that holds (or would hold) the directory.
	FS      fsinfo.Info
	FSKnown bool
	// File is what is at the swapfile's path now.
	File      swapfile.Existing
	FileKnown bool
	// InspectErr says why the file could not be inspected (unprivileged,
	// an I/O error); the plan then refuses with it.
	InspectErr string
	Leftovers  []Leftover

	// SELinux is what the machine says of SELinux, and the context the
	// swapfile must carry (SELinux.SwapContext, "" when it is off).
	SELinux selinux.State

	// Action, FixPerms, FixContext and Reason are the decision; Reason
	// names the remedy when the action is refuse. FixContext: our swap
	// area is kept but relabelled SELinux.SwapContext first.
	Action     swapfile.Action
	FixPerms   bool
	FixContext bool
	Reason     string
	// RemoveFirst: the replacement fits only once the file it replaces is
	// gone, and that file is ours (our label, root:root 0600), inactive,
	// its blocks its own: activate removes it before creating the new one
	// (otherwise the new one is made beside it and renamed over it).
	RemoveFirst bool
	// DiscardImage: our swap area holds a stale hibernation image; activate
	// writes the swap signature back before keeping it.
	DiscardImage bool

	// InEffect: our swapfile is active with at least the target, as the
	// kernel counts it, and the decision keeps it as it is (its directory
	// safe, the file root:root 0600: what activate itself accepts).
	// NotInEffect says why not, with the remedy.
	InEffect    bool
	NotInEffect string

	dir *safefs.Dir
}

// OpenDir returns the swapfile's directory, opened once by Make, for the
// effects (nil when it was refused; the existing parent's when DirMissing).
// It stays open until Close.
func (p *Plan) OpenDir() *safefs.Dir { return p.dir }

// Close closes the directory Make opened.
func (p *Plan) Close() error {
	if p.dir == nil {
		return nil
	}
	err := p.dir.Close()
	p.dir = nil
	return err
}

// Name is the swapfile's name in its directory.
func (p *Plan) Name() string { return filepath.Base(p.Path) }

// refuse records a refusal (the first one counts).
func (p *Plan) refuse(reason string) {
	if p.Action != swapfile.ActRefuse {
		p.Action, p.Reason, p.FixPerms, p.FixContext, p.RemoveFirst, p.DiscardImage = swapfile.ActRefuse, reason, false, false, false, false
	}
}

// Satisfies reports whether a swap area of activeBytes as /proc/swaps
// counts it (the header page left out) gives at least target: the gate's
// test, and activate's (Existing.Avail counts the header page).
func Satisfies(activeBytes, target int64, pageSize int) bool {
	return activeBytes+int64(pageSize) >= target
}

// Make decides, changing nothing. The caller must Close the Plan.
func Make(in Inputs) *Plan {
	root, cfg := in.Root, in.Config
	ps := in.PageSize
	if ps <= 0 {
		ps = os.Getpagesize()
	}
	p := &Plan{
		Path:     cfg.SwapPath,
		Unit:     names.SwapUnitName(cfg.SwapPath),
		MinSize:  cfg.MinSize,
		PageSize: ps,
		Dir:      filepath.Dir(cfg.SwapPath),
	}
	p.Resolved = p.Dir
	if what, ok, err := mounts.FstabSwap(root, p.Path); err == nil && ok {
		// An fstab line for the same file: its unit, which the generator
		// wires instead of writing ours, is the one remedies must name.
		p.Unit = names.SwapUnitName(what)
	}
	p.SELinux = selinux.Detect(root)
	p.NotInEffect = fmt.Sprintf("swapfile %q is not active (see systemctl status %s); fix the cause, then: systemctl restart %s %s", p.Path, p.Unit, names.ActivatorUnit, p.Unit)

	mem, err := procfs.ReadMeminfo(root)
	if err != nil {
		p.refuse(err.Error())
	}
	p.MemTotal = mem.MemTotal
	p.Target = swapfile.Target(cfg.MinSize, mem.MemTotal, ps)
	p.Swaps, err = procfs.ReadSwaps(root)
	if err != nil {
		p.refuse(fmt.Sprintf("%v: cannot tell whether %q is in use", err, p.Path))
		p.NotInEffect = fmt.Sprintf("%v: cannot tell whether %q is active", err, p.Path)
	}

	d, unsafe := safefs.OpenDir(root, p.Dir, safefs.Options{Create: DirMode, RootOnly: true, Probe: true})
	if unsafe != nil {
		// Refused; still say where it is and what holds it (the data-disk
		// and filesystem reasons come first, as they did before), through a
		// descriptor used for reading only.
		var err error
		d, err = safefs.OpenDir(root, p.Dir, safefs.Options{Create: DirMode, Probe: true})
		if err != nil {
			p.refuse(fmt.Sprintf("the swapfile's directory %q cannot be used: %v; or set [Swap] Path= elsewhere", p.Dir, unsafe))
			p.NotInEffect = fmt.Sprintf("cannot tell whether swapfile %q is active: %v", p.Path, unsafe)
			p.others()
			return p
		}
	}
	p.dir = d
	p.Resolved, p.Links, p.DirMissing = d.Host, d.Links, d.Missing != ""

	// Before anything is made: with the data disk missing, its mount point
	// is a directory on the root filesystem. The resolved directory counts
	// (a link on the root filesystem may lead onto the data disk).
	for _, dir := range dedupe(p.Dir, p.Resolved) {
		if err := mounts.Check(root, dir); err != nil {
			p.refuse(err.Error())
		}
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(d.Fd(), &st); err != nil {
		p.refuse(fmt.Sprintf("statfs %q: %v", p.Resolved, err))
	} else {
		p.FS, p.FSKnown = fsinfo.FromStatfs(p.Resolved, st), true
		if p.FS.Support == fsinfo.NeedsNoCOW {
			// Not asked, nothing refused: swapon then refuses a profile
			// the kernel cannot swap to, and the swap unit's OnFailure=
			// keeps the core down. Judged after the decision (checkBtrfs):
			// a new file by the filesystem, an existing one by its extents.
			if b, err := fsinfo.ReadBtrfs(d.Fd()); err == nil {
				p.FS.Btrfs = &b
			}
		}
		if err := p.FS.CheckUsable(); err != nil {
			p.refuse(err.Error())
		}
	}
	if unsafe != nil {
		p.refuse(fmt.Sprintf("the swapfile's directory %q cannot be used safely: %v; or set [Swap] Path= elsewhere", p.Dir, unsafe))
	}

	p.File = swapfile.Existing{Path: p.Path, Kind: swapfile.Missing}
	if !p.DirMissing {
		ex, err := swapfile.InspectAt(d.Fd(), d.Host, p.Name(), ps)
		if err != nil {
			p.InspectErr = err.Error()
			p.refuse(p.InspectErr)
		} else {
			p.File, p.FileKnown = ex, true
		}
		p.File.Path = p.Path // messages name the configured path
		p.Leftovers = leftovers(d)
	} else {
		p.FileKnown = true
	}
	if unsafe != nil {
		// Read through for the report, not for the effects: activate gets
		// no directory to act in.
		d.Close()
		p.dir = nil
	}
	p.matchActive(root)
	p.others()
	defer p.inEffect()
	if p.Action == swapfile.ActRefuse || !p.FileKnown {
		return p
	}
	dec := swapfile.Decide(p.File, p.Target, p.Ours != nil, p.FS.Support == fsinfo.NeedsNoCOW, names.SwapLabel, p.Unit)
	p.Action, p.FixPerms, p.DiscardImage, p.Reason = dec.Action, dec.FixPerms, dec.DiscardImage, dec.Reason
	if p.checkBtrfs(); p.Action == swapfile.ActRefuse {
		return p
	}
	if p.Action == swapfile.ActKeep {
		switch c := swapfile.DecideContext(p.File, p.SELinux.SwapContext, names.SwapLabel); {
		case c.Refuse:
			p.refuse(c.Reason)
			return p
		case c.Fix:
			p.FixContext = true
			p.Reason += "; " + c.Reason
		}
	}
	if p.Action == swapfile.ActCreate || p.Action == swapfile.ActReplace {
		fs := p.FS
		for _, l := range p.Leftovers {
			if l.Ours {
				fs.Free += l.Bytes // activate removes them first
			}
		}
		err := fs.CheckSpace(p.Target, cfg.Reserve)
		if err != nil && p.Action == swapfile.ActReplace && p.oursToRemove() {
			// The file being replaced frees its blocks anyway: counted,
			// the replacement may fit where it does not beside it (a RAM
			// upgrade on a disk sized for one swapfile).
			fs.Free += p.File.Allocated
			if fs.CheckSpace(p.Target, cfg.Reserve) == nil {
				err, p.RemoveFirst = nil, true
				p.Reason += fmt.Sprintf("; the new file does not fit beside it (%s free, %s needed with the reserve): the old file is removed first, and the new one made in its place", fsinfo.Human(p.FS.Free), fsinfo.Human(p.Target+cfg.Reserve))
			}
		}
		if err != nil {
			p.refuse(err.Error())
		}
	}
	return p
}

// checkBtrfs refuses, on btrfs, a swapfile the kernel would refuse, as the
// kernel judges it (fsinfo.Btrfs): a file to be made by where new data
// lands on the filesystem; a file kept and not active by where its extents
// lie, when they can be read (the chunk tree needs CAP_SYS_ADMIN), and
// otherwise not at all, since the filesystem's layout does not tell; our
// active file not at all: the kernel took it, and btrfs moves no extent of
// an active swapfile (balance skips its block groups). Why: a swapfile made
// on one device was refused, active and working, once the administrator
// added a second device, and the core stayed down at every boot.
func (p *Plan) checkBtrfs() {
	b := p.FS.Btrfs
	switch {
	case b == nil:
	case p.Action == swapfile.ActCreate || p.Action == swapfile.ActReplace:
		if err := b.CheckNewFile(p.FS.Dir); err != nil {
			p.refuse(err.Error())
		}
	case p.Action == swapfile.ActKeep && p.Ours == nil:
		pl, err := p.btrfsPlacement()
		if err != nil {
			p.Reason += fmt.Sprintf("; where its btrfs extents lie is not known (%v): swapon judges them", err)
			return
		}
		if err := pl.CheckSwap(p.Path, p.FS.Dir, *b); err != nil {
			p.refuse(err.Error())
		}
	}
}

// btrfsPlacement reads where the extents of the file at the path lie: its
// FIEMAP extents (btrfs reports logical addresses) mapped through the
// chunk tree. The file opened must be the one inspected.
func (p *Plan) btrfsPlacement() (fsinfo.BtrfsPlacement, error) {
	var pl fsinfo.BtrfsPlacement
	if p.dir == nil {
		return pl, fmt.Errorf("the directory %q is not open", p.Resolved)
	}
	fd, err := unix.Openat(p.dir.Fd(), p.Name(), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return pl, fmt.Errorf("open %q: %w", p.Path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return pl, fmt.Errorf("fstat %q: %w", p.Path, err)
	}
	if st.Dev != p.File.Dev || st.Ino != p.File.Inode {
		return pl, fmt.Errorf("%q changed while it was inspected", p.Path)
	}
	ext, _, err := swapfile.Extents(fd, p.File.Size)
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

// oursToRemove reports whether the file at the path may be removed before
// its replacement is made: a swap area of ours (our label, root:root 0600),
// not active, whose blocks are its own (not shared with a snapshot, where
// removing it would free nothing).
func (p *Plan) oursToRemove() bool {
	f := p.File
	return p.Ours == nil && f.Kind == swapfile.Regular && f.Header.Label == names.SwapLabel && f.RootOnly() && !f.Shared
}

// inEffect settles InEffect, once the decision is made: our file active
// with at least the target as the kernel counts it, and kept as it is by
// the decision (a safe directory, root:root 0600, nothing activate would
// refuse or change: swapfile.Decide's ActKeep without FixPerms, and under
// SELinux the type swapon needs, without FixContext). Why: the
// gate opened on an active swapfile whose directory had become uid 1000's,
// or on a swap area owned by uid 1000, both of which activate refuses: it
// checked device, inode and size only.
func (p *Plan) inEffect() {
	if p.Ours == nil {
		return // NotInEffect says why already
	}
	restart := fmt.Sprintf("then: systemctl restart %s", names.ActivatorUnit)
	switch {
	case !Satisfies(p.Ours.Size, p.Target, p.PageSize):
		p.NotInEffect = fmt.Sprintf("swapfile %q is active with %s, less than the target %s; fix the cause, then: systemctl restart %s and reboot", p.Path, fsinfo.Human(p.Ours.Size), fsinfo.Human(p.Target), names.ActivatorUnit)
	case p.Action == swapfile.ActRefuse:
		p.NotInEffect = fmt.Sprintf("swapfile %q is active, but activate refuses it: %s; fix the cause, %s", p.Path, p.Reason, restart)
	case p.Action != swapfile.ActKeep || p.FixPerms || p.FixContext || p.DiscardImage || !p.File.RootOnly():
		p.NotInEffect = fmt.Sprintf("swapfile %q is active, but activate would not keep it as it is (%s: %s); fix the cause, %s", p.Path, p.Action, p.Reason, restart)
	default:
		p.InEffect, p.NotInEffect = true, ""
	}
}

// others fills Others: every active swap area but ours.
func (p *Plan) others() {
	p.Others = nil
	for i := range p.Swaps {
		if &p.Swaps[i] != p.Ours {
			p.Others = append(p.Others, p.Swaps[i])
		}
	}
}

// matchActive finds our file in /proc/swaps by device and inode.
func (p *Plan) matchActive(root hostroot.Root) {
	if p.File.Kind != swapfile.Regular {
		return
	}
	for i, s := range p.Swaps {
		if s.Type != "file" {
			continue
		}
		if st, ok := Identify(root, s.Filename); ok && st.Dev == p.File.Dev && st.Ino == p.File.Inode {
			p.Ours = &p.Swaps[i]
			return
		}
	}
}

// Identify stats the file /proc/swaps names, without following a link in
// any component (the kernel prints the path it resolved, which holds no
// links; a link there now was put there since). The name is a host path,
// looked up under root; under a root prefix the kernel names the real file,
// so a name inside the prefix is taken as it is. A name the kernel marked
// " (deleted)" is looked up literally only: the file at the name without
// the mark is not the swap area (its inode is another).
func Identify(root hostroot.Root, name string) (unix.Stat_t, bool) {
	p := root.Path(name)
	if !root.IsHost() && strings.HasPrefix(name, root.String()+"/") {
		p = name
	}
	return statNoFollow(p)
}

// statNoFollow stats an absolute path walking it from "/" one component at
// a time with O_PATH|O_NOFOLLOW: any link on the way fails it.
func statNoFollow(path string) (unix.Stat_t, bool) {
	var st unix.Stat_t
	if !filepath.IsAbs(path) {
		return st, false
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, false
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, c := range parts {
		if c == "" || c == "." || c == ".." {
			unix.Close(fd)
			return st, false
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
	ents, _ := readNames(d)
	for _, name := range ents {
		if !swapfile.IsTempName(name) {
			continue
		}
		st, err := d.Lstat(name)
		if err != nil {
			continue
		}
		out = append(out, Leftover{
			Path:  filepath.Join(d.Host, name),
			Bytes: st.Blocks * 512,
			Ours:  st.Mode&unix.S_IFMT == unix.S_IFREG && st.Uid == 0,
		})
	}
	return out
}

// readNames lists the open directory d.
func readNames(d *safefs.Dir) ([]string, error) {
	fd, err := unix.Openat(d.Fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d.Path)
	defer f.Close()
	return f.Readdirnames(-1)
}

func dedupe(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
