package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// selinuxRoot is loopRoot with a fake selinuxfs (a fake: this host runs no
// SELinux; its enforce, mls and context nodes are plain files, the context
// node taking any write as the kernel's takes a valid context). The loop
// ext4 holds security.selinux attributes as it is given them, as a disk
// does before a policy is loaded, so what the real binary labels is read
// back from the real filesystem.
func selinuxRoot(t *testing.T) fakeRoot {
	t.Helper()
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	// sys links to the host's /sys: make it a tree of links to the host's
	// entries, with sys/fs/selinux the fake's own directory.
	if err := os.Remove(r.path("sys")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"/sys", "/sys/fs"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(r.path(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() == "fs" && dir == "/sys" || e.Name() == "selinux" {
				continue
			}
			if err := os.Symlink(filepath.Join(dir, e.Name()), r.path(filepath.Join(dir, e.Name()))); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.write(t, "sys/fs/selinux/enforce", "1\n")
	r.write(t, "sys/fs/selinux/mls", "1\n")
	r.write(t, "sys/fs/selinux/context", "")
	return r
}

func xattrContext(t *testing.T, p string) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, "security.selinux", buf)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(buf[:n]), "\x00")
}

func setContext(t *testing.T, p, ctx string) {
	t.Helper()
	if err := unix.Lsetxattr(p, "security.selinux", append([]byte(ctx), 0), 0); err != nil {
		t.Skipf("cannot set security.selinux on the loop filesystem: %v", err)
	}
}

// TestSELinuxSwapfileLabel: with SELinux on, activate makes the swapfile
// swapfile_t from its creation (on a host without SELinux mkswap labels
// nothing, so the label can only be the activator's), status and plan show
// it; our swapfile relabelled by someone is relabelled by the next activate
// and, active, is not in effect until then (status, the gate's answer);
// someone else's swap area of another type is refused and left as it is.
func TestSELinuxSwapfileLabel(t *testing.T) {
	r := selinuxRoot(t)
	sw := r.path("ransomeye/swap")
	res := activate(t, r)
	succeeded(t, r, res)
	const want = "system_u:object_r:swapfile_t:s0"
	if got := xattrContext(t, sw); got != want {
		t.Fatalf("swapfile context %q, want %q\n%s", got, want, res.stderr)
	}
	checkSwapfile(t, sw, 64<<20)
	noTemp(t, r.path("ransomeye"))
	if !strings.Contains(res.stderr, "SELinux is enforcing: the swapfile is labelled "+want) {
		t.Errorf("activate did not log the SELinux label:\n%s", res.stderr)
	}
	active := "/ransomeye/swap " + strconv.FormatInt(64<<20-4096, 10)
	r.setSwaps(t, active)
	if s := run(t, r, nil, "status"); s.code != 0 || !strings.Contains(s.stdout, want+" (SELinux enforcing)") {
		t.Errorf("status of a labelled active swapfile: exit %d\n%s%s", s.code, s.stdout, s.stderr)
	}
	s := run(t, r, nil, "status", "--json")
	var doc struct {
		Version int `json:"version"`
		Swap    struct {
			File struct {
				Context string `json:"selinux_context"`
			} `json:"file"`
			SELinux struct {
				Mode string `json:"mode"`
				Want string `json:"want_context"`
			} `json:"selinux"`
		} `json:"swap"`
	}
	if err := json.Unmarshal([]byte(s.stdout), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, s.stdout)
	}
	if doc.Version != 1 || doc.Swap.File.Context != want || doc.Swap.SELinux.Mode != "enforcing" || doc.Swap.SELinux.Want != want {
		t.Errorf("status --json: %+v", doc)
	}
	if p := run(t, r, nil, "plan"); !strings.Contains(p.stdout, "SELinux: enforcing; the swapfile has "+want+", swapon needs "+want) {
		t.Errorf("plan does not show the label:\n%s", p.stdout)
	}

	// Ours, relabelled (a restorecon with a policy that does not know the
	// path, a copy): not in effect while active, relabelled by activate.
	setContext(t, sw, "system_u:object_r:unlabeled_t:s0")
	ino := inode(t, sw)
	if s := run(t, r, nil, "status"); s.code == 0 || !strings.Contains(s.stdout, "want type swapfile_t") {
		t.Errorf("status of an active swapfile of the wrong type: exit %d, want non-zero\n%s", s.code, s.stdout)
	}
	if p := run(t, r, nil, "plan"); !strings.Contains(p.stdout, "relabel it "+want) {
		t.Errorf("plan does not say it relabels:\n%s", p.stdout)
	}
	res = activate(t, r)
	succeeded(t, r, res)
	if got := xattrContext(t, sw); got != want || inode(t, sw) != ino {
		t.Errorf("after activate: context %q (want %q), inode %d (want %d, kept)", got, want, inode(t, sw), ino)
	}
	if !strings.Contains(res.stderr, "relabelled") {
		t.Errorf("the relabel was not logged:\n%s", res.stderr)
	}

	// Someone else's swap area (not our label) of another type: refused,
	// untouched.
	r.setSwaps(t)
	os.Remove(sw)
	makeSwapArea(t, sw, "64M", []string{"-L", "theirs"})
	setContext(t, sw, "system_u:object_r:unlabeled_t:s0")
	failedClosed(t, r, activate(t, r), "swapfile_t", "left untouched", "restorecon")
	if got := xattrContext(t, sw); got != "system_u:object_r:unlabeled_t:s0" {
		t.Errorf("someone else's swap area was relabelled: %q", got)
	}
}
