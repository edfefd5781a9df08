package main_test

// Black-box tests of the swapfile's directory (reached through a symbolic
// link, writable through an ACL), and of the pages the kernel takes from a
// swapfile: the real binary on fake roots with real loop filesystems.

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// kernelSwapLine swaps the file at p on (the real swapon: p is on a loop
// filesystem this test made), returns the /proc/swaps line the kernel wrote
// for it and the size it gives in bytes, and swaps it off again.
func kernelSwapLine(t *testing.T, p string) (string, int64) {
	t.Helper()
	t.Cleanup(func() { exec.Command("swapoff", p).Run() })
	sh(t, "swapon", p)
	defer sh(t, "swapoff", p)
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) != 5 {
			continue
		}
		var kst unix.Stat_t
		// The kernel's name: the real path, never the link's.
		if unix.Stat(strings.ReplaceAll(f[0], `\040`, " "), &kst) == nil && kst.Dev == st.Dev && kst.Ino == st.Ino {
			kib, _ := strconv.ParseInt(f[2], 10, 64)
			return line, kib * 1024
		}
	}
	t.Fatalf("swapon %s: not in /proc/swaps:\n%s", p, b)
	return "", 0
}

// setKernelSwaps writes the fake /proc/swaps with the kernel's own lines.
func (r fakeRoot) setKernelSwaps(t *testing.T, lines ...string) {
	t.Helper()
	r.h().SetKernelSwaps(t, lines...)
}

// statusSwap runs status --json and returns its swap part.
func statusSwap(t *testing.T, r fakeRoot) map[string]any {
	t.Helper()
	res := run(t, r, nil, "status", "--json", "--no-metrics")
	var rep struct {
		Swap map[string]any `json:"swap"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s%s", err, res.stdout, res.stderr)
	}
	return rep.Swap
}

// TestSwapDirSymlink (row 21): /ransomeye -> data/ransomeye, all root's
// (relative, so that it resolves inside the fake root for any code).
// activate provisions through the link; the kernel lists
// /data/ransomeye/swap; status and the gate must take that for our
// swapfile (compared by device and inode: they compared path strings and
// said "not active" forever). With the swap active and MinSize raised, a
// rerun must recognise its own file and give the real remedy (it took it
// for other swap and tried to replace it).
func TestSwapDirSymlink(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	loopFS(t, "ext4", "512M", r.path("data"))
	if err := os.Mkdir(r.path("data/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data/ransomeye", r.path("ransomeye")); err != nil {
		t.Fatal(err)
	}
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	res := activate(t, r)
	if res.code != 0 {
		t.Fatalf("activate through the link: exit %d\n%s", res.code, res.stderr)
	}
	real := r.path("data/ransomeye/swap")
	checkSwapfile(t, real, 64<<20)
	ino := inode(t, real)
	line, _ := kernelSwapLine(t, real)
	if strings.Contains(line, "/ransomeye/swap") && !strings.Contains(line, "/data/ransomeye/swap") {
		t.Fatalf("the kernel named the link, not the file: %s", line)
	}
	r.setKernelSwaps(t, line)
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate with the swapfile active (as the kernel names it): exit %d\n%s", g.code, g.stdout)
	}
	sw := statusSwap(t, r)
	if sw["active"] != true || sw["in_effect"] != true || sw["resolved_dir"] != "/data/ransomeye" || sw["other_swap_bytes"] != float64(0) {
		t.Errorf("status: active %v, in effect %v, resolved %v, others %v", sw["active"], sw["in_effect"], sw["resolved_dir"], sw["other_swap_bytes"])
	}
	plan := run(t, r, nil, "plan")
	if !strings.Contains(plan.stdout, "swapfile: keep:") || strings.Contains(plan.stdout, "other active swap") {
		t.Errorf("plan with our swapfile active:\n%s", plan.stdout)
	}

	// MinSize raised while active.
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=128M\nReserve=0\n[CPU]\nIsolation=off\n")
	res = activate(t, r)
	m := failedClosed(t, r, res, "is active swap of", "reboot", "swapoff")
	if strings.Contains(m, "rename") {
		t.Errorf("marker names a rename, not the remedy:\n%s", m)
	}
	if inode(t, real) != ino {
		t.Error("the active swapfile was replaced")
	}
}

// TestSwapDirSymlinkToUsersDir (row 21): /ransomeye -> /data/alice/rs with
// /data/alice owned by uid 1000 was accepted (only the lexical ancestors
// were checked), and alice could swing rs to any directory before the next
// activate or swapon. Refused, naming the directory and the remedy.
func TestSwapDirSymlinkToUsersDir(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	loopFS(t, "ext4", "512M", r.path("data"))
	if err := os.MkdirAll(r.path("data/alice/rs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.path("data/alice"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data/alice/rs", r.path("ransomeye")); err != nil {
		t.Fatal(err)
	}
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	res := activate(t, r)
	failedClosed(t, r, res, `"/data/alice" is owned by uid 1000`, `chown root:root "/data/alice"`)
	if ents, _ := os.ReadDir(r.path("data/alice/rs")); len(ents) != 0 {
		t.Errorf("activate wrote into alice's directory: %v", ents)
	}
}

// TestActivateExt4SmallBlocks (row 22): on ext4 with 1 KiB blocks the
// extents start off page boundaries and swapon takes fewer pages than the
// file holds (65512 KiB for a 64 MiB file): the gate refused forever and
// activate kept the file. Activate must make a file the kernel takes in
// full, and replace a file made the old way.
func TestActivateExt4SmallBlocks(t *testing.T) {
	needRoot(t)
	const target = 64 << 20
	ps := int64(os.Getpagesize())
	r := newRoot(t, 32<<20)
	loopFS(t, "ext4", "300M", r.path("ransomeye"), "-b", "1024")
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	// A swapfile made the old way: fallocate, mkswap. Show that the kernel
	// shortens it here, or the test shows nothing.
	old := r.path("ransomeye/swap")
	makeSwapArea(t, old, strconv.Itoa(target), []string{"-L", "ransomeye-swap"})
	if _, got := kernelSwapLine(t, old); got+ps >= target {
		t.Skipf("this kernel/filesystem gives the whole file (%d of %d bytes): nothing to show", got+ps, target)
	} else {
		t.Logf("old way: swapon gives %d KiB for a %d KiB file", got/1024, target/1024)
	}
	oldIno := inode(t, old)
	res := activate(t, r)
	if res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.Contains(l, "growing it by") || strings.Contains(l, "created ") {
			t.Logf("activate: %s", l)
		}
	}
	if inode(t, old) == oldIno {
		t.Errorf("activate kept a file the kernel shortens:\n%s", res.stderr)
	}
	line, got := kernelSwapLine(t, old)
	t.Logf("after activate: %s", line)
	if got+ps < target {
		t.Errorf("swapon gives %d bytes (+ the header page), less than the target %d", got, target)
	}
	// The gate and status agree with activate on the kernel's number.
	r.setKernelSwaps(t, line)
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate: exit %d\n%s", g.code, g.stdout)
	}
	if sw := statusSwap(t, r); sw["in_effect"] != true || sw["decision"] != "keep" {
		t.Errorf("status: in effect %v, decision %v: %v", sw["in_effect"], sw["decision"], sw["reason"])
	}
	// A second run keeps it.
	ino := inode(t, old)
	r.setSwaps(t)
	if res := activate(t, r); res.code != 0 || inode(t, old) != ino {
		t.Errorf("second activate: exit %d, kept %v\n%s", res.code, inode(t, old) == ino, res.stderr)
	}
}

// TestActivateRefusesDirWritableThroughACL: the swapfile's directory is
// root:root 0755 plus a POSIX ACL entry giving uid 1000 rwx (ls shows
// drwxrwxr-x+): activate refuses it, naming the ACL entry. A directory
// check reading only the group bits (the ACL mask) with gid 0 as "root's
// group" accepted it; uid 1000 could then rename the swapfile away and put
// her own in its place before swapon.
func TestActivateRefusesDirWritableThroughACL(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	dir := r.path("ransomeye")
	loopFS(t, "ext4", "200M", dir)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	if err := setUserACL(dir, 1000); err != nil {
		t.Skipf("skipped: cannot set a POSIX ACL: %v", err)
	}
	res := activate(t, r)
	if res.code == 0 {
		t.Errorf("activate accepted %s, which uid 1000 can write through an ACL entry\n%s", dir, res.stderr)
	} else if !strings.Contains(res.stderr, "POSIX ACL (user:1000)") {
		t.Errorf("activate refused without naming the ACL entry:\n%s", res.stderr)
	}
}

// setUserACL sets the access ACL u::rwx,u:uid:rwx,g::r-x,m::rwx,o::r-x on p
// (the xattr setfacl writes).
func setUserACL(p string, uid uint32) error {
	type ent struct {
		tag, perm uint16
		id        uint32
	}
	const undef = 0xffffffff
	ents := []ent{{0x01, 7, undef}, {0x02, 7, uid}, {0x04, 5, undef}, {0x10, 7, undef}, {0x20, 5, undef}}
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range ents {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return unix.Setxattr(p, "system.posix_acl_access", b, 0)
}
