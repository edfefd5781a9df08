package safefs

import (
	"encoding/binary"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// aclEntry is one entry of a POSIX ACL as the kernel stores it.
type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// aclXattr builds the system.posix_acl_access value setfacl would write
// (setfacl may not be installed: the tests write the xattr themselves).
func aclXattr(ents ...aclEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range ents {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

const undef = 0xffffffff

// acl returns u::rwx,<extra>,g::<group>,m::<mask>,o::r-x.
func acl(group, mask uint16, extra ...aclEntry) []byte {
	ents := []aclEntry{{aclUserObj, 7, undef}}
	ents = append(ents, extra...)
	ents = append(ents, aclEntry{aclGroupObj, group, undef}, aclEntry{aclMask, mask, undef}, aclEntry{aclOther, 5, undef})
	// The kernel takes the entries in tag order only (EINVAL otherwise).
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].tag < ents[j].tag })
	return aclXattr(ents...)
}

func TestParseACLWriters(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		gid  uint32
		want string
	}{
		{"named user with write", acl(5, 7, aclEntry{aclUser, 7, 1000}), 0, "user:1000"},
		{"named user, write masked off", acl(5, 5, aclEntry{aclUser, 7, 1000}), 0, ""},
		{"named user read-only", acl(5, 7, aclEntry{aclUser, 5, 1000}), 0, ""},
		{"named root user", acl(5, 7, aclEntry{aclUser, 7, 0}), 0, ""},
		{"named group with write", acl(5, 7, aclEntry{aclGroup, 2, 50}), 0, "group:50"},
		{"root's group with write", acl(5, 7, aclEntry{aclGroup, 7, 0}), 0, ""},
		{"owning group root's with write", acl(7, 7), 0, ""},
		{"owning group not root's with write", acl(7, 7), 100, "group:100 (the owning group)"},
		{"owning group not root's, masked", acl(7, 5), 100, ""},
		{"two writers", acl(5, 7, aclEntry{aclUser, 7, 1000}, aclEntry{aclGroup, 7, 1001}), 0, "user:1000, group:1001"},
		{"no mask: nothing masked", aclXattr(aclEntry{aclUserObj, 7, undef}, aclEntry{aclUser, 2, 7}, aclEntry{aclGroupObj, 5, undef}, aclEntry{aclOther, 5, undef}), 0, "user:7"},
	} {
		got, err := ParseACLWriters(tc.b, tc.gid)
		if err != nil || got != tc.want {
			t.Errorf("%s: ParseACLWriters = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"version 1":     append(binary.LittleEndian.AppendUint32(nil, 1), acl(5, 5)[4:]...),
		"truncated":     acl(5, 5)[:13],
		"unknown tag":   aclXattr(aclEntry{0x40, 7, 0}),
		"header only 3": {2, 0, 0},
	} {
		if got, err := ParseACLWriters(b, 0); err == nil {
			t.Errorf("%s: ParseACLWriters accepted a malformed ACL (%q)", name, got)
		}
	}
}

// TestOpenDirACL: a root:root directory whose access ACL lets uid 1000
// write was accepted (the mode's group bits are the ACL's mask); as the
// swapfile's directory, or as a directory on the way that holds a link.
func TestOpenDirACL(t *testing.T) {
	needRoot(t)
	setACL := func(t *testing.T, p string, b []byte) {
		t.Helper()
		if err := unix.Setxattr(p, "system.posix_acl_access", b, 0); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				t.Skipf("skipped: no POSIX ACLs on this filesystem: %v", err)
			}
			t.Fatal(err)
		}
	}
	t.Run("final directory", func(t *testing.T) {
		r := tree(t, "data/ransomeye")
		setACL(t, r.Path("/data/ransomeye"), acl(5, 7, aclEntry{aclUser, 7, 1000}))
		d, err := OpenDir(r, "/data/ransomeye", Options{RootOnly: true})
		if err == nil {
			d.Close()
			t.Fatal("OpenDir accepted a directory uid 1000 can write through its ACL")
		}
		if !strings.Contains(err.Error(), "POSIX ACL (user:1000)") || !strings.Contains(err.Error(), "setfacl -b") {
			t.Errorf("error %q does not name the ACL entry and the remedy", err)
		}
	})
	t.Run("ancestor", func(t *testing.T) {
		r := tree(t, "data/ransomeye")
		setACL(t, r.Path("/data"), acl(5, 7, aclEntry{aclGroup, 7, 1000}))
		if d, err := OpenDir(r, "/data/ransomeye", Options{RootOnly: true}); err == nil {
			d.Close()
			t.Fatal("OpenDir accepted a path through a directory group 1000 can write through its ACL")
		}
	})
	t.Run("directory holding a link", func(t *testing.T) {
		r := tree(t, "data/ransomeye", "data/links")
		symlink(t, r, "/data/ransomeye", "/data/links/rs", 0)
		setACL(t, r.Path("/data/links"), acl(5, 7, aclEntry{aclUser, 7, 1000}))
		if d, err := OpenDir(r, "/data/links/rs", Options{}); err == nil {
			d.Close()
			t.Fatal("OpenDir followed a link in a directory uid 1000 can write through its ACL")
		}
	})
	t.Run("write masked off", func(t *testing.T) {
		r := tree(t, "data/ransomeye")
		setACL(t, r.Path("/data/ransomeye"), acl(5, 5, aclEntry{aclUser, 7, 1000}))
		d, err := OpenDir(r, "/data/ransomeye", Options{RootOnly: true})
		if err != nil {
			t.Fatalf("OpenDir refused an ACL whose mask takes write away: %v", err)
		}
		d.Close()
	})
	t.Run("read-only entry", func(t *testing.T) {
		r := tree(t, "data/ransomeye")
		setACL(t, r.Path("/data/ransomeye"), acl(5, 5, aclEntry{aclUser, 5, 1000}))
		if fi, err := os.Stat(r.Path("/data/ransomeye")); err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("mode after setting the ACL: %v %v", fi.Mode(), err)
		}
		d, err := OpenDir(r, "/data/ransomeye", Options{RootOnly: true})
		if err != nil {
			t.Fatalf("OpenDir refused a read-only ACL entry: %v", err)
		}
		d.Close()
	})
}
