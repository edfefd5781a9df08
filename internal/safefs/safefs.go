// Package safefs is how root reaches and writes host paths other users may
// influence. A directory is resolved component by component from the root
// prefix's descriptor (O_PATH|O_NOFOLLOW, as systemd's chase()), a link
// followed only when root owns it in a directory only root can change; the
// caller then works on the open Dir with the *at calls, never on the path
// string again, which a local user could race. WriteFile replaces a file
// atomically (temporary, fsync, rename, fsync of the directory).
package safefs

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// maxLinks bounds the links followed in one resolution (MAXSYMLINKS).
const maxLinks = 40

// Options say how OpenDir resolves a directory.
type Options struct {
	// Create makes missing directories with this mode; 0 leaves a missing
	// directory an error wrapping fs.ErrNotExist.
	Create os.FileMode
	// RootOnly requires every directory on the resolved path to be root's
	// and closed to other users (an ancestor may be sticky instead): anyone
	// who can write there could swap root's file for their own.
	RootOnly bool
	// Probe, with Create, makes nothing: it opens the deepest existing
	// directory and sets Missing, Host and Path to what Create would make,
	// for plan and status, and to check a place before making it.
	Probe bool
	// NoLinks refuses a link in any component: for the kernel's own
	// directories, which hold none.
	NoLinks bool
	// PathOnly opens the directory O_PATH: enough for Host, and needs no
	// SELinux read permission (the generator's domain has none there).
	PathOnly bool
}

// Dir is a directory opened by OpenDir.
type Dir struct {
	fd int
	// Host is the resolved host path, every trusted link followed.
	Host string
	// Path is Host under the root prefix, for messages and commands.
	Path    string
	Created []string
	// Links lists the links followed, as "link -> target".
	Links []string
	// Missing (Probe) is the first directory that does not exist; the
	// descriptor is then its existing parent's.
	Missing string
}

// Fd returns the directory's descriptor, valid until Close.
func (d *Dir) Fd() int { return d.fd }

// Close closes the directory.
func (d *Dir) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

// Sync fsyncs the directory, making renames and removals in it durable.
func (d *Dir) Sync() error {
	if err := unix.Fsync(d.fd); err != nil {
		return fmt.Errorf("fsync directory %q: %w", d.Path, err)
	}
	return nil
}

// Lstat stats name in the directory without following a link.
func (d *Dir) Lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// step is one directory on the way: O_PATH descriptor, host path, stat.
type step struct {
	fd   int
	host string
	st   unix.Stat_t
}

// Writable reports whether users other than root can change the entries of
// a directory with this stat (others' write, or a non-root group's).
func Writable(st *unix.Stat_t) bool {
	return st.Mode&0o002 != 0 || (st.Mode&0o020 != 0 && st.Gid != 0)
}

// othersChange says who other than root can change the entries of s
// ("owner uid 1000", "mode 0777, group 0", "its POSIX ACL: user:1000"), or
// "" when only root can (root's, and closed to others' writes by mode and
// ACL, or sticky). An ACL that cannot be read counts as open (aclErr).
func othersChange(s *step) (who string, aclErr error) {
	switch {
	case s.st.Uid != 0:
		return fmt.Sprintf("owner uid %d", s.st.Uid), nil
	case s.st.Mode&unix.S_ISVTX != 0:
		return "", nil
	case Writable(&s.st):
		return fmt.Sprintf("mode %04o, group %d", s.st.Mode&0o7777, s.st.Gid), nil
	}
	acl, err := aclWriters(s.fd, s.st.Gid)
	switch {
	case err != nil:
		return "its POSIX ACL, which cannot be read", err
	case acl != "":
		return "its POSIX ACL: " + acl, nil
	}
	return "", nil
}

// aclAccessXattr is the extended attribute holding a POSIX access ACL.
const aclAccessXattr = "system.posix_acl_access"

// ACL tags and the write permission, from linux/posix_acl_xattr.h.
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
	aclWrite    = 0x02
	aclVersion  = 2
)

// aclWriters returns who other than root the POSIX access ACL of the
// directory fd (owning group gid) lets write, as setfacl names them
// ("user:1000"), "" for nobody: with an ACL the mode's group bits are only
// its mask, and a root:root 0755-looking directory can let a user swap the
// swapfile.
func aclWriters(fd int, gid uint32) (string, error) {
	// On the stack: every directory root writes below is checked, a score
	// of times per activate.
	var b [4096]byte
	buf := b[:]
	n, err := getACL(fd, buf)
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.EOPNOTSUPP):
		return "", nil
	case errors.Is(err, unix.ERANGE):
		return "", fmt.Errorf("its POSIX ACL is larger than %d bytes", len(buf))
	case err != nil:
		return "", fmt.Errorf("read its POSIX ACL: %w", err)
	}
	return ParseACLWriters(buf[:n], gid)
}

// getACL reads the access ACL xattr of directory fd into buf. fgetxattr
// refuses O_PATH descriptors: the directory is opened again through fd
// (no /proc needed, as in a chroot), else reached through /proc/self/fd
// when the caller may not read it.
func getACL(fd int, buf []byte) (int, error) {
	rfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		defer unix.Close(rfd)
		return unix.Fgetxattr(rfd, aclAccessXattr, buf)
	}
	n, perr := unix.Getxattr(fmt.Sprintf("/proc/self/fd/%d", fd), aclAccessXattr, buf)
	if perr != nil && !errors.Is(perr, unix.ENODATA) && !errors.Is(perr, unix.EOPNOTSUPP) && !errors.Is(perr, unix.ERANGE) {
		return n, fmt.Errorf("open it (%v), or reach it through /proc/self/fd (%w)", err, perr)
	}
	return n, perr
}

// ParseACLWriters returns who other than root the system.posix_acl_access
// value b lets write, for a file of group gid: named users and groups with
// write through the mask, a non-root owning group likewise, and others. A
// malformed ACL is an error.
func ParseACLWriters(b []byte, gid uint32) (string, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 || binary.LittleEndian.Uint32(b) != aclVersion {
		return "", fmt.Errorf("its POSIX ACL is malformed (%d bytes)", len(b))
	}
	type entry struct {
		tag, perm uint16
		id        uint32
	}
	var ents []entry
	mask := uint16(0o7) // no mask entry: nothing is masked
	for i := 4; i < len(b); i += 8 {
		e := entry{binary.LittleEndian.Uint16(b[i:]), binary.LittleEndian.Uint16(b[i+2:]), binary.LittleEndian.Uint32(b[i+4:])}
		if e.tag == aclMask {
			mask = e.perm
		}
		ents = append(ents, e)
	}
	var who []string
	for _, e := range ents {
		w := e.perm&aclWrite != 0
		switch e.tag {
		case aclUser:
			if w && mask&aclWrite != 0 && e.id != 0 {
				who = append(who, fmt.Sprintf("user:%d", e.id))
			}
		case aclGroup:
			if w && mask&aclWrite != 0 && e.id != 0 {
				who = append(who, fmt.Sprintf("group:%d", e.id))
			}
		case aclGroupObj:
			if w && mask&aclWrite != 0 && gid != 0 {
				who = append(who, fmt.Sprintf("group:%d (the owning group)", gid))
			}
		case aclOther:
			if w {
				who = append(who, "other")
			}
		case aclUserObj, aclMask:
		default:
			return "", fmt.Errorf("its POSIX ACL has an unknown entry tag %#x", e.tag)
		}
	}
	return strings.Join(who, ", "), nil
}

// OpenDir resolves the host directory hostPath under root and opens it;
// errors name the path and remedy, a missing one wraps fs.ErrNotExist.
func OpenDir(root hostroot.Root, hostPath string, opt Options) (*Dir, error) {
	rootfd, err := unix.Open(root.String(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the root %q: %w", root.String(), err)
	}
	d := &Dir{fd: -1}
	var stack []step
	defer func() {
		for _, s := range stack {
			unix.Close(s.fd)
		}
	}()
	first := step{fd: rootfd, host: "/"}
	if err := unix.Fstat(rootfd, &first.st); err != nil {
		unix.Close(rootfd)
		return nil, fmt.Errorf("fstat the root %q: %w", root.String(), err)
	}
	stack = append(stack, first)
	if opt.RootOnly {
		if err := checkDir(&first, false); err != nil {
			return nil, err
		}
	}
	rest := splitPath(hostPath)
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				unix.Close(stack[len(stack)-1].fd)
				stack = stack[:len(stack)-1]
			}
			continue
		}
		cur := &stack[len(stack)-1]
		host := path.Join(cur.host, c)
		fd, err := unix.Openat(cur.fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && opt.Create != 0 && opt.Probe {
			// What Create would make: the rest, lexically (no links there).
			d.Missing = host
			missing := path.Join(append([]string{host}, rest...)...)
			if opt.RootOnly {
				if err := checkDir(cur, false); err != nil {
					return nil, err
				}
			}
			fd, err := unix.Openat(cur.fd, ".", finalFlags(opt), 0)
			if err != nil {
				return nil, fmt.Errorf("open directory %q: %w", cur.host, err)
			}
			d.fd, d.Host, d.Path = fd, missing, root.Path(missing)
			return d, nil
		}
		if errors.Is(err, unix.ENOENT) && opt.Create != 0 {
			if err := mkdir(cur, c, host, opt.Create); err != nil {
				return nil, err
			}
			d.Created = append(d.Created, host)
			fd, err = unix.Openat(cur.fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil, fmt.Errorf("directory %q does not exist: %w", host, fs.ErrNotExist)
			}
			return nil, fmt.Errorf("open %q: %w", host, err)
		}
		s := step{fd: fd, host: host}
		if err := unix.Fstat(fd, &s.st); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("fstat %q: %w", host, err)
		}
		switch s.st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := readlink(fd)
			unix.Close(fd)
			if err != nil {
				return nil, fmt.Errorf("read the link %q: %w", host, err)
			}
			if opt.NoLinks {
				return nil, fmt.Errorf("%q is a symbolic link (to %q): refusing to follow it, since no link belongs there", host, target)
			}
			if err := trustLink(cur, &s, target); err != nil {
				return nil, err
			}
			if links++; links > maxLinks {
				return nil, fmt.Errorf("%q: more than %d symbolic links: %w", hostPath, maxLinks, unix.ELOOP)
			}
			d.Links = append(d.Links, host+" -> "+target)
			if strings.HasPrefix(target, "/") {
				for len(stack) > 1 {
					unix.Close(stack[len(stack)-1].fd)
					stack = stack[:len(stack)-1]
				}
			}
			rest = append(splitPath(target), rest...)
			continue
		case unix.S_IFDIR:
		default:
			unix.Close(fd)
			return nil, fmt.Errorf("%q is not a directory: %w", host, unix.ENOTDIR)
		}
		stack = append(stack, s)
		if opt.RootOnly {
			if err := checkDir(&stack[len(stack)-1], false); err != nil {
				return nil, err
			}
		}
	}
	last := &stack[len(stack)-1]
	if opt.RootOnly {
		if err := checkDir(last, true); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Openat(last.fd, ".", finalFlags(opt), 0)
	if err != nil {
		return nil, fmt.Errorf("open directory %q: %w", last.host, err)
	}
	d.fd, d.Host, d.Path = fd, last.host, root.Path(last.host)
	return d, nil
}

// Resolve returns where hostPath leads with root's links followed, as
// OpenDir takes it, creating, reading and checking nothing; a missing
// directory resolves lexically from the last link.
func Resolve(root hostroot.Root, hostPath string) (string, error) {
	d, err := OpenDir(root, hostPath, Options{Create: 0o755, Probe: true, PathOnly: true})
	if err != nil {
		return "", err
	}
	defer d.Close()
	return d.Host, nil
}

// finalFlags are the open flags of the directory OpenDir returns.
func finalFlags(opt Options) int {
	if opt.PathOnly {
		return unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC
	}
	return unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
}

// checkDir applies RootOnly to one directory; final refuses stickiness.
func checkDir(s *step, final bool) error {
	st := &s.st
	sticky := !final && st.Mode&unix.S_ISVTX != 0
	switch {
	case st.Uid != 0:
		return fmt.Errorf("%q is owned by uid %d, not root: its owner could swap what root writes below it; run chown root:root %q, or choose a directory only root can change", s.host, st.Uid, s.host)
	case Writable(st) && !sticky:
		return fmt.Errorf("%q is writable by other users (mode %04o, group %d): they could swap what root writes below it; run chmod go-w %q, or choose a directory only root can change", s.host, st.Mode&0o7777, st.Gid, s.host)
	case sticky:
		return nil
	}
	who, err := aclWriters(s.fd, st.Gid)
	switch {
	case err != nil:
		return fmt.Errorf("%q: %v: cannot tell whether other users can write there; choose a directory only root can change", s.host, err)
	case who != "":
		return fmt.Errorf("%q is writable by other users through its POSIX ACL (%s): they could swap what root writes below it; run setfacl -b %q (getfacl shows the entries), or choose a directory only root can change", s.host, who, s.host)
	}
	return nil
}

// trustLink decides whether a link may be followed: root's, in a directory
// only root can change (else someone could repoint it between runs).
func trustLink(dir *step, link *step, target string) error {
	switch {
	case link.st.Uid != 0:
		return fmt.Errorf("%q is a symbolic link (to %q) owned by uid %d, not root: refusing to follow it; replace it with a directory or a link made by root", link.host, target, link.st.Uid)
	}
	switch who, aclErr := othersChange(dir); {
	case aclErr != nil:
		// Not "users other than root can change it": its owner and mode
		// say they cannot, and only the ACL could not be read.
		return fmt.Errorf("%q is a symbolic link (to %q) in %q, whose POSIX ACL cannot be read (%v): whether users other than root can change that directory is not known, so the link is not followed", link.host, target, dir.host, aclErr)
	case who != "":
		return fmt.Errorf("%q is a symbolic link (to %q) in %q, which users other than root can change (%s): refusing to follow it; make %q root's and not writable by others", link.host, target, dir.host, who, dir.host)
	case target == "":
		return fmt.Errorf("%q is an empty symbolic link: %w", link.host, unix.ENOENT)
	}
	return nil
}

func mkdir(cur *step, name, host string, perm os.FileMode) error {
	if err := unix.Mkdirat(cur.fd, name, uint32(perm.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create directory %q: %w", host, err)
	}
	// The mode asked for, whatever the umask took away.
	fd, err := unix.Openat(cur.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the new directory %q: %w", host, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %q: %w", host, err)
	}
	if st.Uid == uint32(os.Geteuid()) && st.Mode&0o7777 != uint32(perm.Perm()) {
		if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
			return fmt.Errorf("chmod %04o %q: %w", perm.Perm(), host, err)
		}
	}
	// The new entry made durable; fsync refuses the O_PATH cur.fd.
	pfd, err := unix.Openat(cur.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the directory holding %q: %w", host, err)
	}
	defer unix.Close(pfd)
	if err := unix.Fsync(pfd); err != nil {
		return fmt.Errorf("fsync the directory holding %q: %w", host, err)
	}
	return nil
}

// readlink reads the target of the link opened as fd (O_PATH|O_NOFOLLOW).
func readlink(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// WriteOptions tune WriteFile.
type WriteOptions struct {
	// NoReplace fails (wrapping fs.ErrExist) when the name is taken.
	NoReplace bool
	// MoveAsideDir moves a directory planted at the name aside and
	// retries: for a file whose absence is dangerous (the marker).
	MoveAsideDir bool
}

// TempPrefix is the prefix of WriteFile's temporary names: ".NAME.tmp.",
// never matched by "*.prom" or "*.conf".
func TempPrefix(name string) string { return "." + name + ".tmp." }

// WriteFile writes data to name in d atomically with mode perm (whatever
// the umask), replacing without following what is there; on error the
// name is untouched.
func (d *Dir) WriteFile(name string, data []byte, perm os.FileMode, opt WriteOptions) (err error) {
	if name == "" || strings.ContainsRune(name, '/') || name == "." || name == ".." {
		return fmt.Errorf("%q is not a file name", name)
	}
	tmp, fd, err := d.createTemp(name, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			unix.Unlinkat(d.fd, tmp, 0)
		}
	}()
	werr := writeAll(fd, data)
	if werr == nil {
		werr = unix.Fsync(fd)
	}
	cerr := unix.Close(fd)
	if werr != nil || cerr != nil {
		return fmt.Errorf("write %q in %q: %w", tmp, d.Path, errors.Join(werr, cerr))
	}
	if err := d.rename(tmp, name, opt); err != nil {
		return err
	}
	return d.Sync()
}

// rename moves tmp to name in d.
func (d *Dir) rename(tmp, name string, opt WriteOptions) error {
	var flags uint
	if opt.NoReplace {
		flags = unix.RENAME_NOREPLACE
	}
	err := unix.Renameat2(d.fd, tmp, d.fd, name, flags)
	if err == nil {
		return nil
	}
	if opt.NoReplace && errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%q exists in %q: %w", name, d.Path, fs.ErrExist)
	}
	if opt.MoveAsideDir && (errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST)) {
		if _, err2 := d.MoveAside(name); err2 != nil {
			return fmt.Errorf("rename %q into place in %q: %w (moving the directory at its name aside failed: %v)", name, d.Path, err, err2)
		}
		err = unix.Renameat(d.fd, tmp, d.fd, name)
	}
	if err != nil {
		return fmt.Errorf("rename %q into place in %q: %w", name, d.Path, err)
	}
	return nil
}

// ErrNotOurs is StartsWith's answer for an entry the tuner did not write.
var ErrNotOurs = errors.New("not written by ransomeye-tuner")

// StartsWith returns nil when name in d is missing or a regular file that
// starts with header (one the tuner wrote), ErrNotOurs for anything else,
// or the error opening it (unfollowed, unblocking).
func (d *Dir) StartsWith(name, header string) error {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	buf := make([]byte, len(header))
	n, _ := unix.Read(fd, buf)
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || string(buf[:max(n, 0)]) != header {
		return ErrNotOurs
	}
	return nil
}

// MoveAside renames the entry at name, unfollowed, to a hidden
// ".NAME.planted.RANDOM" and returns it: for something planted that cannot
// be removed but must not keep the name.
func (d *Dir) MoveAside(name string) (string, error) {
	aside := "." + name + ".planted." + randomSuffix()
	if err := unix.Renameat(d.fd, name, d.fd, aside); err != nil {
		return "", fmt.Errorf("move %q aside in %q: %w", name, d.Path, err)
	}
	return aside, nil
}

// createTemp makes a new temporary file for name, retrying when something
// planted takes the random name.
func (d *Dir) createTemp(name string, perm os.FileMode) (string, int, error) {
	var last error
	for range 8 {
		tmp := TempPrefix(name) + randomSuffix()
		fd, err := unix.Openat(d.fd, tmp, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
				unix.Close(fd)
				unix.Unlinkat(d.fd, tmp, 0)
				return "", -1, fmt.Errorf("chmod %04o the temporary %q in %q: %w", perm.Perm(), tmp, d.Path, err)
			}
			return tmp, fd, nil
		}
		last = err
		if !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	return "", -1, fmt.Errorf("create a temporary file for %q in %q: %w", name, d.Path, last)
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err
		}
		if n == 0 {
			return unix.EIO
		}
		data = data[n:]
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
