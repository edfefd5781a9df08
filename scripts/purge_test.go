package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// purgeRoot is a fake root for the purge functions of maint/common.sh
// (RT_ROOT): root's, with /ransomeye -> data/ransomeye (root's link), a
// swapfile of the tuner's at /data/ransomeye/swap, a FAKE /proc/swaps (the
// kernel's file cannot be faked otherwise; no swap is turned on here) and a
// FAKE swapoff first in PATH, which logs its argument and drops the file's
// line from the fake /proc/swaps, or fails when the file "swapoff-fails"
// is in the root's parent (as swapoff fails when memory cannot take the
// swapped pages back).
type purgeRoot struct{ dir, root, bin string }

func newPurgeRoot(t *testing.T) purgeRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the purge removes only root's files from root's directories: run as root")
	}
	for _, c := range []string{"mkswap", "blkid"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed", c)
		}
	}
	dir := t.TempDir()
	p := purgeRoot{dir: dir, root: filepath.Join(dir, "root"), bin: filepath.Join(dir, "bin")}
	for _, d := range []string{p.bin, p.root + "/data/ransomeye", p.root + "/proc", p.root + "/var/lib/ransomeye-tuner"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data/ransomeye", p.root+"/ransomeye"); err != nil {
		t.Fatal(err)
	}
	p.swapfile(t, "/data/ransomeye/swap", names.SwapLabel)
	p.swaps(t)
	fake := `#!/bin/sh
# FAKE swapoff (scripts/purge_test.go): logs, drops the line, or fails.
[ "$1" = -- ] && shift
echo "$1" >>` + dir + `/swapoff.log
[ -e ` + dir + `/swapoff-fails ] && { echo "swapoff: $1: Cannot allocate memory" >&2; exit 255; }
awk -v f="$1" -v root="` + p.root + `" 'NR > 1 { n = $1; gsub(/\\040/, " ", n); if (n == f || root n == f) next } { print }' ` + p.root + `/proc/swaps >` + dir + `/swaps.new
mv ` + dir + `/swaps.new ` + p.root + `/proc/swaps
`
	if err := os.WriteFile(filepath.Join(p.bin, "swapoff"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// swapfile makes a 1 MiB swap area labelled label at p (a host path in the
// root), root's, mode 0600.
func (p purgeRoot) swapfile(t *testing.T, path, label string) {
	t.Helper()
	f := p.root + path
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkswap", "-q", "-L", label, f).CombinedOutput(); err != nil {
		t.Fatalf("mkswap %s: %v\n%s", f, err, out)
	}
}

// swaps writes the fake /proc/swaps listing names as the kernel does: the
// resolved path, a space written \040.
func (p purgeRoot) swaps(t *testing.T, names ...string) {
	t.Helper()
	s := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	for _, n := range names {
		s += strings.ReplaceAll(n, " ", `\040`) + "\tfile\t\t1020\t\t0\t\t-2\n"
	}
	if err := os.WriteFile(p.root+"/proc/swaps", []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (p purgeRoot) record(t *testing.T, paths ...string) {
	t.Helper()
	text := "# test\n" + strings.Join(paths, "\n") + "\n"
	if err := os.WriteFile(p.root+"/var/lib/ransomeye-tuner/swapfiles", []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// purge runs rt_purge_swapfiles CONFIGURED against the root and returns
// its exit code, its stderr and what the fake swapoff was asked.
func (p purgeRoot) purge(t *testing.T, configured string) (int, string, string) {
	t.Helper()
	os.Remove(filepath.Join(p.dir, "swapoff.log"))
	cmd := exec.Command("sh", "-c", `. ./maint/common.sh
RT_ROOT=$1 RT_AGAIN="dpkg --purge ransomeye-tuner"
PATH=$2:$PATH
rt_purge_swapfiles "$3"`, "sh", p.root, p.bin, configured)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(p.dir, "swapoff.log"))
	return code, stderr.String(), strings.TrimSpace(strings.ReplaceAll(string(log), p.root, ""))
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// TestPurgeSwapfileThroughLink: the tuner's swapfile in a directory reached
// through root's link (/ransomeye -> data/ransomeye) is active under the
// name the kernel resolved, /data/ransomeye/swap. The purge finds it by the
// record activate keeps (resolved paths), recognises it active by device
// and inode, turns it off and removes it. The configured path, through the
// link, is not followed: without the record the file stays, and the purge
// says which file and what to do.
func TestPurgeSwapfileThroughLink(t *testing.T) {
	p := newPurgeRoot(t)
	p.swaps(t, "/data/ransomeye/swap")
	p.record(t, "/data/ransomeye/swap")
	code, stderr, swapoff := p.purge(t, "/ransomeye/swap")
	if code != 0 || swapoff != "/data/ransomeye/swap" || exists(p.root+"/data/ransomeye/swap") {
		t.Errorf("purge: exit %d, swapoff %q, file left %v\n%s", code, swapoff, exists(p.root+"/data/ransomeye/swap"), stderr)
	}
	if exists(p.root + "/var/lib/ransomeye-tuner/swapfiles") {
		t.Error("the record is still there after a complete purge")
	}

	p = newPurgeRoot(t)
	p.swaps(t, "/data/ransomeye/swap")
	code, stderr, swapoff = p.purge(t, "/ransomeye/swap")
	if code != 0 || swapoff != "" || !exists(p.root+"/data/ransomeye/swap") {
		t.Errorf("no record: exit %d, swapoff %q, file kept %v", code, swapoff, exists(p.root+"/data/ransomeye/swap"))
	}
	if !strings.Contains(stderr, "not removing /ransomeye/swap: /ransomeye is a symbolic link") || !strings.Contains(stderr, "swapoff '/ransomeye/swap'; rm '/ransomeye/swap'") {
		t.Errorf("no record: the purge does not say which file and what to do:\n%s", stderr)
	}
}

// TestPurgeEarlierSwapfiles: after [Swap] Path= changes the record lists
// each file the tuner made; the purge removes each one still its own,
// active or not, and leaves a file at a recorded path that is no longer its
// own (another label) alone. Active is decided by device and inode, also
// for a file the kernel names otherwise (by the full host path, with \040
// for a space).
func TestPurgeEarlierSwapfiles(t *testing.T) {
	p := newPurgeRoot(t)
	p.swapfile(t, "/data/moved here/swap", names.SwapLabel)
	p.swapfile(t, "/data/old/swap", "someone-else")
	// The kernel may name a file by its full host path, the root prefix
	// and all (a purge run in a chroot sees another name than the kernel
	// printed for the host): the same file, by device and inode.
	p.swaps(t, "/data/ransomeye/swap", p.root+"/data/moved here/swap")
	p.record(t, "/data/old/swap", "/data/ransomeye/swap", "/data/moved here/swap")
	code, stderr, swapoff := p.purge(t, "/data/moved here/swap")
	if code != 0 || swapoff != "/data/ransomeye/swap\n/data/moved here/swap" {
		t.Errorf("purge: exit %d, swapoff %q\n%s", code, swapoff, stderr)
	}
	for f, want := range map[string]bool{"/data/ransomeye/swap": false, "/data/moved here/swap": false, "/data/old/swap": true} {
		if exists(p.root+f) != want {
			t.Errorf("%s there after the purge: %v, want %v", f, !want, want)
		}
	}
	if !strings.Contains(stderr, "leaving /data/old/swap alone") {
		t.Errorf("the purge does not say it left the foreign file:\n%s", stderr)
	}
}

// TestPurgeRefusedKeepsRecord: a swapfile swapoff cannot turn off fails
// the purge with an error on stderr that names it and the command that
// finishes the work; the record keeps that file (and only it), so that the
// next purge tries it again: a purge that exits 0 forgot it for good.
func TestPurgeRefusedKeepsRecord(t *testing.T) {
	p := newPurgeRoot(t)
	p.swapfile(t, "/data/moved/swap", names.SwapLabel)
	p.swaps(t, "/data/ransomeye/swap")
	p.record(t, "/data/ransomeye/swap", "/data/moved/swap")
	if err := os.WriteFile(filepath.Join(p.dir, "swapoff-fails"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr, _ := p.purge(t, "/data/moved/swap")
	if code == 0 {
		t.Errorf("purge with swapoff failing: exit 0\n%s", stderr)
	}
	if !strings.Contains(stderr, "error: the swapfile /data/ransomeye/swap is still active swap") || !strings.Contains(stderr, "then: dpkg --purge ransomeye-tuner") {
		t.Errorf("the error does not name the file and the remedy:\n%s", stderr)
	}
	if !exists(p.root+"/data/ransomeye/swap") || exists(p.root+"/data/moved/swap") {
		t.Errorf("active file kept %v, inactive one removed %v", exists(p.root+"/data/ransomeye/swap"), !exists(p.root+"/data/moved/swap"))
	}
	b, _ := os.ReadFile(p.root + "/var/lib/ransomeye-tuner/swapfiles")
	if got := strings.TrimSpace(shell(t, `grep -v '^#' "$1"`, p.root+"/var/lib/ransomeye-tuner/swapfiles")); got != "/data/ransomeye/swap" {
		t.Errorf("record after the refused purge: %q, want the file left:\n%s", got, b)
	}
	os.Remove(filepath.Join(p.dir, "swapoff-fails"))
	if code, stderr, _ := p.purge(t, "/data/moved/swap"); code != 0 || exists(p.root+"/data/ransomeye/swap") {
		t.Errorf("the next purge: exit %d, file left %v\n%s", code, exists(p.root+"/data/ransomeye/swap"), stderr)
	}
}

// TestPurgeDirCheck: the purge removes a file only from directories that
// only root can change, reached without a link: what activate requires of
// the swapfile's directory, checked again at the purge.
func TestPurgeDirCheck(t *testing.T) {
	p := newPurgeRoot(t)
	mk := func(d string, mode os.FileMode, uid int) {
		t.Helper()
		if err := os.MkdirAll(p.root+d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(p.root+d, uint32(mode)); err != nil { // os.Chmod drops the sticky bit
			t.Fatal(err)
		}
		if err := os.Chown(p.root+d, uid, 0); err != nil {
			t.Fatal(err)
		}
	}
	mk("/tmp", 0o1777, 0)
	mk("/tmp/rootsdir", 0o755, 0)
	mk("/srv/alice", 0o755, 1000)
	mk("/srv/group", 0o775, 0)
	cases := map[string]string{
		"/":                   "",
		"/data/ransomeye":     "",
		"/tmp/rootsdir":       "",
		"/tmp":                "/tmp is writable by users other than root",
		"/ransomeye":          "/ransomeye is a symbolic link",
		"/srv/alice":          "/srv/alice is not owned by root",
		"/srv/group":          "/srv/group is writable by users other than root",
		"/data/../etc":        "holds '..'",
		"/data/ransomeye/nox": "/data/ransomeye/nox is a symbolic link or not a directory",
	}
	for dir, want := range cases {
		got := shell(t, `RT_ROOT=$1; rt_dir_check "$2" || true`, p.root, dir)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("rt_dir_check %s = %q, want %q", dir, got, want)
		}
	}
}

// TestPurgeRemovesSwapfileHoldingHibernationImage: activate takes a
// swapfile of its own (label, root 0600) that holds a stale hibernation
// image (S1SUSPEND where SWAPSPACE2 was) as its own. blkid calls such a
// file TYPE="swsuspend", not "swap", and the purge took it for someone
// else's: the file (RAM-sized, with a memory image in it) stayed on disk,
// the purge exited 0 and dropped it from the record, so no later purge
// found it. Now it is removed; one labelled by someone else is left.
func TestPurgeRemovesSwapfileHoldingHibernationImage(t *testing.T) {
	for _, label := range []string{names.SwapLabel, "theirs"} {
		t.Run(label, func(t *testing.T) {
			p := newPurgeRoot(t)
			f := p.root + "/data/ransomeye/swap"
			p.swapfile(t, "/data/ransomeye/swap", label)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ps := os.Getpagesize()
			copy(b[ps-20:ps-10], b[ps-10:ps])
			copy(b[ps-10:ps], "S1SUSPEND\x00")
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			p.record(t, "/data/ransomeye/swap")
			code, stderr, _ := p.purge(t, "/data/ransomeye/swap")
			if label != names.SwapLabel {
				if !exists(f) || code != 0 || !strings.Contains(stderr, "leaving /data/ransomeye/swap alone") {
					t.Errorf("someone else's hibernation image: exit %d, still there %v:\n%s", code, exists(f), stderr)
				}
				return
			}
			if exists(f) {
				t.Errorf("the tuner's swapfile (label %s, root 0600, stale hibernation image) is left after the purge (exit %d):\n%s", names.SwapLabel, code, stderr)
			}
			if code != 0 || !strings.Contains(stderr, "removed the swapfile /data/ransomeye/swap") {
				t.Errorf("exit %d:\n%s", code, stderr)
			}
		})
	}
}
