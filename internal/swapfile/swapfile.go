// Package swapfile is the swap provider of [Swap] Path=: one swapfile that
// activate makes and keeps (provider.go), its units (units.go) and its
// descriptions (describe.go). The decisions (KernelPages, Decide,
// DecideContext) are pure; the effects work relative to an open directory,
// never on a path string, and follow no link.
package swapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/selinux"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
)

// Signature is the magic mkswap writes at the end of the first page.
const Signature = "SWAPSPACE2"

// Kind is the type of the directory entry at the swapfile's path.
type Kind string

// Kinds of directory entries.
const (
	Missing   Kind = "missing"
	Regular   Kind = "regular file"
	Symlink   Kind = "symbolic link"
	Directory Kind = "directory"
	FIFO      Kind = "FIFO"
	Device    Kind = "device"
	Socket    Kind = "socket"
	Other     Kind = "special file"
)

// hibernationSigs are what a hibernation image writes where SWAPSPACE2 was,
// as util-linux's swapon knows them (swsusp, userspace suspend, TuxOnIce,
// LINHIB0001); the header before is the swap area's, kept.
var hibernationSigs = []string{"S1SUSPEND", "S2SUSPEND", "ULSUSPEND", "\xed\xc3\x02\xe9\x98\x56\xe5\x0c", "LINHIB0001"}

// Header is what the first page of a swap area says.
type Header struct {
	Swap bool // the SWAPSPACE2 signature is at page_size-10
	// Hibernation is the (printable) signature of a hibernation image
	// found instead, "" when none; the header is parsed as for Swap.
	Hibernation string
	Version     uint32 // 1 for every swap area Linux accepts
	LastPage    uint32 // the last usable page
	BadPages    uint32 // nr_badpages: the kernel refuses a swapfile that lists any
	Label       string // the volume label, "" when none
}

// ParseHeader reads the swap header from a file's first page.
func ParseHeader(page []byte, pageSize int) Header {
	var h Header
	if pageSize < 1100 || len(page) < pageSize {
		return h
	}
	sig := page[pageSize-len(Signature) : pageSize]
	if string(sig) == Signature {
		h.Swap = true
	} else if h.Hibernation = hibernationSig(sig); h.Hibernation == "" {
		return h
	}
	// struct swap_header_v1_2 (linux/swap.h): bootbits[1024], version,
	// last_page, nr_badpages, sws_uuid[16], sws_volume[16], ...
	h.Version = binary.LittleEndian.Uint32(page[1024:])
	h.LastPage = binary.LittleEndian.Uint32(page[1028:])
	h.BadPages = binary.LittleEndian.Uint32(page[1032:])
	label := page[1052:1068]
	if i := bytes.IndexByte(label, 0); i >= 0 {
		label = label[:i]
	}
	h.Label = string(label)
	return h
}

// HasArea reports whether the header describes a swap area (a hibernation
// image's included).
func (h Header) HasArea() bool { return h.Swap || h.Hibernation != "" }

// hibernationSig returns the printable hibernation signature that starts
// sig, or "".
func hibernationSig(sig []byte) string {
	for _, s := range hibernationSigs {
		if bytes.HasPrefix(sig, []byte(s)) {
			if strconv.QuoteToASCII(s) == `"`+s+`"` {
				return s
			}
			return fmt.Sprintf("%x", s)
		}
	}
	return ""
}

// Existing describes what is at the swapfile's path.
type Existing struct {
	Path      string
	Kind      Kind
	Size      int64       // st_size
	Allocated int64       // st_blocks*512
	Perm      fs.FileMode // permission bits
	UID, GID  uint32
	// Dev and Inode identify the file: /proc/swaps's entry is matched by
	// them, never by its path.
	Dev, Inode uint64
	Header     Header
	// Area is the swap area the header describes, (last_page+1) pages: the
	// most swapon gives, whatever the file's size (0 without a header).
	Area int64
	// Usable is what swapon would give, the header page included
	// (KernelPages of the extents, at most Area); when the extents are not
	// known (UsableErr), Area counts.
	Usable      int64
	UsableKnown bool
	UsableErr   string
	NoCOW       bool // FS_NOCOW_FL is set (btrfs)
	// Shared: an extent is shared with another file or a snapshot, which
	// swapon refuses (known with UsableKnown).
	Shared bool
	// Context is the file's SELinux context, "" when none.
	Context string
}

// RootOnly reports whether the file is root:root 0600 and regular: what a
// kept or active swap area must be.
func (e Existing) RootOnly() bool {
	return e.Kind == Regular && e.UID == 0 && e.GID == 0 && e.Perm == 0o600
}

// Avail is what the kernel gets from the swap area, the header page
// included: the least of size, area and, when known, the extents' pages.
func (e Existing) Avail() int64 {
	a := min(e.Size, e.Area)
	if e.UsableKnown {
		a = min(a, e.Usable)
	}
	return a
}

// Sparse reports whether the file has holes, which swapon refuses.
func (e Existing) Sparse() bool { return e.Kind == Regular && e.Allocated < e.Size }

// FSNoCOWFlag is FS_NOCOW_FL from linux/fs.h (x/sys does not name it).
const FSNoCOWFlag = 0x00800000

// InspectAt looks at name in the open directory dirfd without following a
// link or blocking: lstat, then for a regular file open and fstat, its
// swap header and the pages its extents give.
func InspectAt(dirfd int, dirPath, name string, pageSize int) (Existing, error) {
	path := filepath.Join(dirPath, name)
	e := Existing{Path: path}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			e.Kind = Missing
			return e, nil
		}
		return e, fmt.Errorf("inspect %q: %w", path, err)
	}
	fill(&e, &st)
	if e.Kind != Regular {
		return e, nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return e, fmt.Errorf("open %q to inspect it: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return e, fmt.Errorf("fstat %q: %w", path, err)
	}
	fill(&e, &st) // what was opened counts
	if e.Kind != Regular {
		return e, nil
	}
	page := make([]byte, pageSize)
	n, err := unix.Pread(fd, page, 0)
	if err != nil {
		return e, fmt.Errorf("read the first page of %q: %w", path, err)
	}
	e.Header = ParseHeader(page[:max(n, 0)], pageSize)
	if e.Header.HasArea() {
		e.Area = (int64(e.Header.LastPage) + 1) * int64(pageSize)
		if pages, shared, err := usablePages(fd, e.Size, pageSize, e.Area/int64(pageSize)); err == nil {
			e.Usable, e.UsableKnown, e.Shared = pages*int64(pageSize), true, shared
		} else {
			e.UsableErr = err.Error()
		}
	}
	if flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS); err == nil {
		e.NoCOW = flags&FSNoCOWFlag != 0
	}
	if e.Context, err = selinux.Get(fd); err != nil {
		return e, fmt.Errorf("%q: %w", path, err)
	}
	return e, nil
}

func fill(e *Existing, st *unix.Stat_t) {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e.Kind = Regular
	case unix.S_IFLNK:
		e.Kind = Symlink
	case unix.S_IFDIR:
		e.Kind = Directory
	case unix.S_IFIFO:
		e.Kind = FIFO
	case unix.S_IFBLK, unix.S_IFCHR:
		e.Kind = Device
	case unix.S_IFSOCK:
		e.Kind = Socket
	default:
		e.Kind = Other
	}
	e.Size = st.Size
	e.Allocated = st.Blocks * 512
	e.Perm = fs.FileMode(st.Mode & 0o7777)
	e.UID, e.GID = st.Uid, st.Gid
	e.Dev, e.Inode = st.Dev, st.Ino
}

// Decision is Decide's verdict; Action is one of swap's actions.
type Decision struct {
	Action string
	// FixPerms: our swap area (label) with the wrong owner or mode: set
	// root:root 0600 first.
	FixPerms bool
	// DiscardImage: our root-only swap area holding a stale hibernation
	// image: write the swap signature back, as swapon does.
	DiscardImage bool
	// Reason says why, for the log and the marker.
	Reason string
}

// Decide chooses what to do with e, the file at the path, for target
// bytes, given whether it is active swap, whether the filesystem needs
// no-copy-on-write, our label, and the swap unit (named in remedies).
func Decide(e Existing, target int64, active, needNoCOW bool, label, unit string) Decision {
	p := e.Path
	// An active file is replaced once off: recover's activation replaces
	// it, and its start of the swap unit, which swapoff stopped, turns it
	// on again.
	restartBoth := fmt.Sprintf("swapoff %q && %s", p, names.RecoverCommand)
	switch e.Kind {
	case Missing:
		return Decision{Action: swap.Create, Reason: fmt.Sprintf("%q does not exist: create a %s swapfile", p, fsinfo.Human(target))}
	case Regular:
	default:
		return Decision{Action: swap.Refuse, Reason: fmt.Sprintf("%q is a %s, not a swapfile; it was left untouched (nothing followed or replaced): move it away, or set [Swap] Path= to another file", p, e.Kind)}
	}
	if !e.Header.HasArea() {
		return Decision{Action: swap.Refuse, Reason: fmt.Sprintf("%q holds %s of data that is not a swap area (no %s signature); it was left untouched: move it away, or set [Swap] Path= to another file", p, fsinfo.Human(e.Size), Signature)}
	}
	// A hibernation image now is stale: resume runs before the filesystems
	// are mounted read-write, and this boot has changed them since.
	// swapon(8) discards it by writing the swap signature back; so does
	// activate, for a file of its own.
	var d Decision
	if img := e.Header.Hibernation; img != "" {
		if e.Header.Label != label || !e.RootOnly() {
			return Decision{Action: swap.Refuse, Reason: fmt.Sprintf("%q is a swap area holding a hibernation image (signature %s where %s was) left by a boot that did not resume from it; it is not labelled %q with owner root:root and mode 0600 as ours are, so it was left untouched; resuming that image now would corrupt the filesystems this boot has changed: discard it as swapon does (it writes the swap signature back) with: swapon %q && swapoff %q, or remove the file; then: %s", p, img, Signature, label, p, p, names.RecoverCommand)}
		}
		d.DiscardImage = true
	}
	if e.Header.Version != 1 {
		return Decision{Action: swap.Refuse, Reason: fmt.Sprintf("%q is a swap area of version %d, which Linux cannot use; it was left untouched: remove it or run mkswap on it", p, e.Header.Version)}
	}
	if !e.RootOnly() {
		if e.Header.Label != label {
			return Decision{Action: swap.Refuse, Reason: fmt.Sprintf("%q is a swap area owned by %d:%d with mode %04o, but swap must be root:root 0600 (anyone else could read or forge swapped memory); it is not labelled %q, so it was left untouched: run chown root:root %q && chmod 0600 %q, or remove it", p, e.UID, e.GID, uint32(e.Perm), label, p, p)}
		}
		d.FixPerms = true
	}
	// The area the header describes counts, not the file's size; swapon
	// refuses a header describing more than the file holds.
	avail := e.Avail()
	switch {
	case e.Header.BadPages != 0 && !active:
		// mm/swapfile.c refuses a file whose header lists bad pages.
		d.Action = swap.Replace
		d.Reason = fmt.Sprintf("%q is a swap area whose header lists %d bad pages, which swapon refuses for a file: replace it", p, e.Header.BadPages)
	case e.Area > e.Size && !active:
		d.Action = swap.Replace
		d.Reason = fmt.Sprintf("%q is a swap area whose header describes %s, more than the %s file holds, which swapon refuses: replace it", p, fsinfo.Human(e.Area), fsinfo.Human(e.Size))
	case e.Shared && active:
		// A btrfs snapshot shares the extents: swapon refuses the file.
		d.Action = swap.Refuse
		d.Reason = fmt.Sprintf("%q is active swap whose extents are shared with a snapshot or another file (FIEMAP reports them shared), which swapon refuses at the next activation; it cannot be replaced while in use: run %s (the activator replaces the file), or reboot", p, restartBoth)
	case e.Shared:
		d.Action = swap.Replace
		d.Reason = fmt.Sprintf("%q is a swap area whose extents are shared with a snapshot or another file (a btrfs snapshot of its subvolume, a reflink copy), which swapon refuses (\"swapfile must not be copy-on-write\"): replace it (and exclude the swapfile's subvolume from snapshots, or the next one does this again)", p)
	case avail < target && active:
		d.Action = swap.Refuse
		d.Reason = fmt.Sprintf("%q is active swap of %s, smaller than the target of %s; it cannot be replaced while in use: reboot (the tuner then replaces it before swapon), or run %s", p, fsinfo.Human(avail), fsinfo.Human(target), restartBoth)
	case avail < target:
		d.Action = swap.Replace
		if e.UsableKnown && e.Usable < min(e.Size, e.Area) {
			d.Reason = fmt.Sprintf("%q is a swap area of %s, but its extents give the kernel only %s (extents that start or end off a page boundary on the device lose pages), less than the target of %s: replace it", p, fsinfo.Human(min(e.Size, e.Area)), fsinfo.Human(e.Usable), fsinfo.Human(target))
		} else if e.Area < e.Size {
			d.Reason = fmt.Sprintf("%q is a swap area of %s in a %s file (its header is shorter than the file), smaller than the target of %s: replace it", p, fsinfo.Human(avail), fsinfo.Human(e.Size), fsinfo.Human(target))
		} else {
			d.Reason = fmt.Sprintf("%q is a swap area of %s, smaller than the target of %s: replace it", p, fsinfo.Human(avail), fsinfo.Human(target))
		}
	case active:
		d.Action = swap.Keep
		d.Reason = fmt.Sprintf("%q is active swap of %s (target %s): keep it", p, fsinfo.Human(avail), fsinfo.Human(target))
	case e.Sparse():
		d.Action = swap.Replace
		d.Reason = fmt.Sprintf("%q is a swap area with holes (%s of %s allocated), which swapon refuses: replace it", p, fsinfo.Human(e.Allocated), fsinfo.Human(e.Size))
	case needNoCOW && !e.NoCOW:
		d.Action = swap.Replace
		d.Reason = fmt.Sprintf("%q is a swap area on btrfs without the no-copy-on-write attribute, which swapon refuses: replace it", p)
	default:
		d.Action = swap.Keep
		d.Reason = fmt.Sprintf("%q is a swap area of %s (target %s): keep it", p, fsinfo.Human(avail), fsinfo.Human(target))
	}
	if d.FixPerms && d.Action != swap.Refuse {
		d.Reason += fmt.Sprintf("; it had owner %d:%d and mode %04o: set root:root 0600", e.UID, e.GID, uint32(e.Perm))
	}
	if d.DiscardImage {
		switch d.Action {
		case swap.Keep:
			d.Reason += fmt.Sprintf("; it holds a stale hibernation image (signature %s) from a boot that did not resume: discard it (write the swap signature back, as swapon does)", e.Header.Hibernation)
		case swap.Replace:
			d.DiscardImage = false // the replacement discards it
			d.Reason += fmt.Sprintf(" (it holds a stale hibernation image, signature %s, which goes with it)", e.Header.Hibernation)
		default:
			d.DiscardImage = false
		}
	}
	return d
}

// ContextDecision is DecideContext's verdict:
type ContextDecision struct {
	// Fix: our swap area of another SELinux type: relabel it.
	Fix bool
	// Refuse: not ours, of another type: left alone.
	Refuse bool
	Reason string
}

// DecideContext checks the SELinux type of a swap area Decide keeps
// against want ("" with SELinux off): swapon refuses any but swapfile_t.
// Ours is relabelled, another's refused; only the type counts.
func DecideContext(e Existing, want, label string) ContextDecision {
	if want == "" || e.Kind != Regular || !e.Header.HasArea() || selinux.Type(e.Context) == selinux.Type(want) {
		return ContextDecision{}
	}
	had := e.Context
	if had == "" {
		had = "no context"
	}
	if e.Header.Label != label {
		return ContextDecision{Refuse: true, Reason: fmt.Sprintf("%q is a swap area labelled %s, not of the type %s that swapon needs under SELinux; it is not labelled %q, so it was left untouched: run restorecon %q (or chcon -t %s %q), or remove it", e.Path, had, selinux.Type(want), label, e.Path, selinux.Type(want), e.Path)}
	}
	return ContextDecision{Fix: true, Reason: fmt.Sprintf("it has SELinux context %s, not of the type %s that swapon needs: relabel it %s", had, selinux.Type(want), want)}
}

// SetContextAt labels the regular file name in dirfd with ctx.
func SetContextAt(dirfd int, dirPath, name, ctx string) error {
	fd, path, err := openRegularAt(dirfd, dirPath, name, "relabel it")
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := selinux.Set(fd, ctx); err != nil {
		return fmt.Errorf("relabel %q: %w", path, err)
	}
	return unix.Fsync(fd)
}

// openRegularAt opens the regular file name in dirfd unfollowed, to change
// it (why, for the error); path is its host path.
func openRegularAt(dirfd int, dirPath, name, why string) (fd int, path string, err error) {
	path = filepath.Join(dirPath, name)
	fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return -1, path, fmt.Errorf("open %q to %s: %w", path, why, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, path, fmt.Errorf("fstat %q: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, path, fmt.Errorf("%q is no longer a regular file: refusing to change it", path)
	}
	return fd, path, nil
}

// FixPermsAt sets root:root 0600 on the regular file name in dirfd.
func FixPermsAt(dirfd int, dirPath, name string) error {
	fd, path, err := openRegularAt(dirfd, dirPath, name, "fix its owner and mode")
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, 0, 0); err != nil {
		return fmt.Errorf("chown root:root %q: %w", path, err)
	}
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return fmt.Errorf("chmod 0600 %q: %w", path, err)
	}
	return unix.Fsync(fd)
}

// DiscardImageAt writes the swap signature back over a stale hibernation
// image in name, as swapon(8) does, if it is still the file was describes
// and still holds one.
func DiscardImageAt(dirfd int, dirPath, name string, pageSize int, was Existing) error {
	path := filepath.Join(dirPath, name)
	fd, err := unix.Openat(dirfd, name, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %q to discard its hibernation image: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %q: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Dev != was.Dev || st.Ino != was.Inode {
		return fmt.Errorf("%q changed since it was inspected: left it alone; run activate again", path)
	}
	page := make([]byte, pageSize)
	n, err := unix.Pread(fd, page, 0)
	if err != nil {
		return fmt.Errorf("read the first page of %q: %w", path, err)
	}
	if h := ParseHeader(page[:max(n, 0)], pageSize); h.Hibernation == "" {
		return fmt.Errorf("%q no longer holds a hibernation signature: left it alone; run activate again", path)
	}
	if _, err := unix.Pwrite(fd, []byte(Signature), int64(pageSize-len(Signature))); err != nil {
		return fmt.Errorf("write the swap signature of %q: %w", path, err)
	}
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("fsync %q: %w", path, err)
	}
	return nil
}

// RemoveAt removes name from dirfd if it is still root's file was
// describes (the old swap area a replacement takes the place of).
func RemoveAt(dirfd int, dirPath, name string, was Existing) error {
	path := filepath.Join(dirPath, name)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %q before removing it: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Dev != was.Dev || st.Ino != was.Inode {
		return fmt.Errorf("%q changed since it was inspected (inode %d, now %d): left it alone; run activate again", path, was.Inode, st.Ino)
	}
	if err := unix.Unlinkat(dirfd, name, 0); err != nil {
		return fmt.Errorf("remove %q: %w", path, err)
	}
	if err := unix.Fsync(dirfd); err != nil {
		return fmt.Errorf("fsync directory %q: %w", dirPath, err)
	}
	return nil
}

// CleanLeftoversAt removes what an interrupted Create left in dirfd:
// temporary names of root's regular files; others (skipped) are left.
func CleanLeftoversAt(dirfd int, dirPath string) (removed, skipped []string, err error) {
	ents, err := readDirNames(dirfd)
	if err != nil {
		return nil, nil, fmt.Errorf("list %q for leftovers: %w", dirPath, err)
	}
	for _, name := range ents {
		if !names.IsSwapTempName(name) {
			continue
		}
		p := filepath.Join(dirPath, name)
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 {
			skipped = append(skipped, p)
			continue
		}
		if err := unix.Unlinkat(dirfd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return removed, skipped, fmt.Errorf("remove leftover %q: %w", p, err)
		}
		removed = append(removed, p)
	}
	if len(removed) > 0 {
		if err := unix.Fsync(dirfd); err != nil {
			return removed, skipped, fmt.Errorf("fsync directory %q: %w", dirPath, err)
		}
	}
	return removed, skipped, nil
}

// readDirNames lists dirfd from its start (through a duplicate).
func readDirNames(dirfd int) ([]string, error) {
	fd, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	return f.Readdirnames(-1)
}

// quoteArgs renders a command line for error messages.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`") {
			q[i] = fmt.Sprintf("%q", a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
