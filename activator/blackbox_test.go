package main_test

// Black-box tests of the real ransomeye-tuner binary, built once in
// TestMain, run as root against a fake root (RANSOMEYE_TUNER_ROOT) whose
// /ransomeye is a real filesystem on a loop device the test creates and
// removes. The fake root holds a fake proc/meminfo, proc/swaps, proc/cmdline
// and proc/sys (a fake: this host's own memory, swap and sysctls must not be
// touched); /sys is the host's, read-only.
//
// Test names map to the fault matrix (FAULTS.md) rows in their comments.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// TestActivateProvisions: 16 GiB swapfile on ext4, xfs and btrfs (no-CoW),
// usable by the real swapon; a second run keeps it (same inode); status is
// compliant once the file is active.
func TestActivateProvisions(t *testing.T) {
	needRoot(t)
	for _, fstype := range []string{"ext4", "xfs", "btrfs"} {
		t.Run(fstype, func(t *testing.T) {
			r := newRoot(t, 4*gib)
			loopFS(t, fstype, "20G", r.path("ransomeye"))
			res := activate(t, r)
			succeeded(t, r, res)
			sw := r.path("ransomeye/swap")
			checkSwapfile(t, sw, 16*gib)
			noTemp(t, r.path("ransomeye"))
			if fstype == "btrfs" {
				attrs := sh(t, "lsattr", sw)
				if flags := strings.Fields(attrs)[0]; !strings.Contains(flags, "C") {
					t.Errorf("btrfs swapfile lacks the no-CoW attribute: %s", attrs)
				}
			}
			swaponOff(t, sw)
			ino := inode(t, sw)
			// Every-boot case: nothing to do, the file is kept.
			succeeded(t, r, activate(t, r))
			if inode(t, sw) != ino {
				t.Error("second activate replaced a good swapfile")
			}
			// Status: not active yet => not compliant; active => compliant.
			if s := run(t, r, nil, "status"); s.code != 1 || !strings.Contains(s.stdout, "NOT COMPLIANT") {
				t.Errorf("status with the swapfile inactive: exit %d\n%s", s.code, s.stdout)
			}
			r.setSwaps(t, "/ransomeye/swap "+strconv.FormatInt(16*gib-4096, 10))
			if s := run(t, r, nil, "status"); s.code != 0 || !strings.Contains(s.stdout, "COMPLIANT") {
				t.Errorf("status with the swapfile active: exit %d\n%s%s", s.code, s.stdout, s.stderr)
			}
		})
	}
}

// TestActivateTargets: MemTotal 4 GiB gives a 16 GiB file, 32 GiB gives
// 32 GiB; other active swap (a distribution's /swapfile, row 15) is
// reported, not counted.
func TestActivateTargets(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 4*gib)
	loopFS(t, "ext4", "52G", r.path("ransomeye"))
	for i, tc := range []struct {
		mem, want int64
	}{{4 * gib, 16 * gib}, {32 * gib, 32 * gib}} {
		r.setMem(t, tc.mem)
		r.setSwaps(t, "/swapfile "+strconv.FormatInt(2*gib, 10))
		p := fmt.Sprintf("/ransomeye/t%d/swap", i)
		r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nPath="+p+"\n")
		res := activate(t, r)
		succeeded(t, r, res)
		checkSwapfile(t, r.path(p), tc.want)
		if !strings.Contains(res.stderr, `other active swap "/swapfile"`) {
			t.Errorf("other swap not reported:\n%s", res.stderr)
		}
		os.Remove(r.path(p)) // room for the next case
	}
}

// TestActivateRAMGrownShrunk (row 14, scaled down: MinSize=1G): RAM grows
// from 2 to 3 GiB => the smaller inactive file is replaced; RAM shrinks to
// 1.5 GiB => the larger file is kept. A too-small file that is active is
// refused with the remedy.
func TestActivateRAMGrownShrunk(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 2*gib)
	loopFS(t, "ext4", "6G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=1G\nReserve=100M\n")
	sw := r.path("ransomeye/swap")
	succeeded(t, r, activate(t, r))
	checkSwapfile(t, sw, 2*gib)
	ino := inode(t, sw)
	r.setMem(t, 3*gib)
	res := activate(t, r)
	succeeded(t, r, res)
	checkSwapfile(t, sw, 3*gib)
	if inode(t, sw) == ino {
		t.Error("the smaller swapfile was not replaced")
	}
	ino = inode(t, sw)
	r.setMem(t, 3*gib/2)
	succeeded(t, r, activate(t, r))
	checkSwapfile(t, sw, 3*gib)
	if inode(t, sw) != ino {
		t.Error("the larger swapfile was replaced when RAM shrank")
	}
	// Grown again while the file is active: cannot replace it under the kernel.
	r.setMem(t, 4*gib)
	r.setSwaps(t, "/ransomeye/swap "+strconv.FormatInt(3*gib-4096, 10))
	failedClosed(t, r, activate(t, r), "is active swap", "swapoff")
	if inode(t, sw) != ino {
		t.Error("an active swapfile was replaced")
	}
}

// TestActivateUnsupportedFS (row 10): tmpfs and overlayfs are refused
// before allocating, naming the filesystem.
func TestActivateUnsupportedFS(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name  string
		mount func(t *testing.T, mnt string)
		want  string
	}{
		{"tmpfs", func(t *testing.T, mnt string) {
			sh(t, "mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt)
		}, "tmpfs, which cannot hold a swapfile"},
		{"overlayfs", func(t *testing.T, mnt string) {
			base := t.TempDir()
			for _, d := range []string{"lower", "upper", "work"} {
				os.MkdirAll(filepath.Join(base, d), 0o755)
			}
			sh(t, "mount", "-t", "overlay", "overlay", "-o",
				"lowerdir="+base+"/lower,upperdir="+base+"/upper,workdir="+base+"/work", mnt)
		}, "overlayfs, which cannot hold a swapfile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRoot(t, 4*gib)
			mnt := r.path("ransomeye")
			os.MkdirAll(mnt, 0o755)
			tc.mount(t, mnt)
			t.Cleanup(func() { exec.Command("umount", mnt).Run() })
			failedClosed(t, r, activate(t, r), tc.want)
			if ents, _ := os.ReadDir(mnt); len(ents) != 0 {
				t.Errorf("%s holds %d entries after the refusal", tc.name, len(ents))
			}
		})
	}
}

// TestActivateDiskTooSmall (row 8, before allocation): a 2 GiB filesystem
// is refused; the marker names the filesystem, its free space and the need.
func TestActivateDiskTooSmall(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 4*gib)
	loopFS(t, "ext4", "2G", r.path("ransomeye"))
	// systemd's notify socket, to see the STATUS= line.
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res := run(t, r, []string{"NOTIFY_SOCKET=" + sock}, "activate")
	failedClosed(t, r, res, "not enough space on the ext4 filesystem", "GiB free", "17.0 GiB needed")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "STATUS=failed: not enough space on the ext4 filesystem") {
		t.Errorf("sd_notify: %q, %v", buf[:n], err)
	}
	if _, err := os.Lstat(r.path("ransomeye/swap")); !os.IsNotExist(err) {
		t.Errorf("swapfile exists after the refusal: %v", err)
	}
	noTemp(t, r.path("ransomeye"))
	// Row 19: once the cause is fixed (smaller target), success clears it.
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=1G\nReserve=0\n")
	r.setMem(t, gib)
	res = activate(t, r)
	succeeded(t, r, res)
	if !strings.Contains(res.stderr, "removed the failure marker") {
		t.Errorf("success did not say it removed the marker:\n%s", res.stderr)
	}
}

// TestActivateENOSPCMidway (row 8, during allocation): ext3 without
// extents has no fallocate, so the file is zero-filled; with exactly the
// free space statfs reports and Reserve=0, the indirect blocks run the
// filesystem out of space near the end. The partial file is removed.
func TestActivateENOSPCMidway(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	mnt := r.path("ransomeye")
	loopFS(t, "ext3", "96M", mnt, "-m", "0", "-b", "4096")
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	free -= free % int64(os.Getpagesize())
	r.write(t, "etc/ransomeye/tuner.conf", fmt.Sprintf("[Swap]\nMinSize=%d\nReserve=0\n", free))
	res := activate(t, r)
	out := failedClosed(t, r, res, "cannot create the swapfile", "no space left on device", "ext4 filesystem")
	if !strings.Contains(res.stderr, "writing") || !strings.Contains(res.stderr, "zero-filling") {
		t.Errorf("no zero-fill progress in the log:\n%s", res.stderr)
	}
	_ = out
	if _, err := os.Lstat(r.path("ransomeye/swap")); !os.IsNotExist(err) {
		t.Errorf("swapfile exists after ENOSPC: %v", err)
	}
	noTemp(t, mnt)
}

// TestActivateRefusesPath (row 11): a symlink (to a file, to a device), a
// directory, a FIFO or someone's data at the path: nothing followed,
// nothing overwritten, fail closed.
func TestActivateRefusesPath(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	victim := r.path("ransomeye/victim")
	os.WriteFile(victim, []byte("someone's data"), 0o644)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(victim, old, old)
	for _, tc := range []struct {
		name  string
		make  func(p string) error
		check string
	}{
		{"data", func(p string) error { return os.WriteFile(p, bytes.Repeat([]byte("data"), 4096), 0o600) }, "not a swap area"},
		{"symlink to file", func(p string) error { return os.Symlink(victim, p) }, "symbolic link"},
		{"symlink to device", func(p string) error { return os.Symlink("/dev/null", p) }, "symbolic link"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "directory"},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "FIFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(r.marker())
			dir := "/ransomeye/" + strings.ReplaceAll(tc.name, " ", "-")
			os.MkdirAll(r.path(dir), 0o755)
			p := r.path(dir + "/swap")
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			var before unix.Stat_t
			unix.Lstat(p, &before)
			var content []byte
			if before.Mode&unix.S_IFMT == unix.S_IFREG {
				content, _ = os.ReadFile(p)
			}
			r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nPath="+dir+"/swap\nMinSize=16M\nReserve=0\n")
			failedClosed(t, r, activate(t, r), tc.check, "left untouched")
			var after unix.Stat_t
			unix.Lstat(p, &after)
			if after.Ino != before.Ino || after.Mtim != before.Mtim || after.Mode != before.Mode {
				t.Errorf("the entry at the path changed")
			}
			if before.Mode&unix.S_IFMT == unix.S_IFREG {
				if now, _ := os.ReadFile(p); !bytes.Equal(now, content) {
					t.Errorf("content changed")
				}
			}
			if b, _ := os.ReadFile(victim); string(b) != "someone's data" {
				t.Errorf("symlink target changed: %q", b)
			}
			if fi, _ := os.Stat(victim); !fi.ModTime().Equal(old) {
				t.Errorf("symlink target touched: mtime %v", fi.ModTime())
			}
			noTemp(t, r.path(dir))
		})
	}
}

// TestActivateTempNamedPathDoesNotFlipFlop: a [Swap] Path= whose name has
// the form of activate's temporary files is refused, naming Path=, or else
// a second activate succeeds too. Accepted, such a swapfile was removed by
// the next activate as "left by an interrupted run", which then failed
// closed, and made again by the one after.
func TestActivateTempNamedPathDoesNotFlipFlop(t *testing.T) {
	r := newRoot(t, 64<<20)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nPath=/ransomeye/.ransomeye-swap.tmp.1\nMinSize=32M\nReserve=0\n")
	first := activate(t, r)
	if first.code != 0 {
		if !strings.Contains(first.stderr, "Path=") {
			t.Errorf("refused without naming Path=:\n%s", first.stderr)
		}
		return
	}
	if second := activate(t, r); second.code != 0 {
		t.Errorf("second activate of the same configuration: exit %d\n%s", second.code, second.stderr)
	}
}

// TestActivatePermissions (row 12): our swapfile world-readable or owned by
// another user is fixed and said so; someone else's swap area with a wrong
// mode is refused, untouched.
func TestActivatePermissions(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	sw := r.path("ransomeye/swap")
	succeeded(t, r, activate(t, r))
	os.Chmod(sw, 0o644)
	os.Chown(sw, 1000, 1000)
	res := activate(t, r)
	succeeded(t, r, res)
	checkSwapfile(t, sw, 64<<20) // max(MinSize 32M, MemTotal 64M)
	if !strings.Contains(res.stderr, "set owner root:root and mode 0600") {
		t.Errorf("the fix was not logged:\n%s", res.stderr)
	}
	// Someone else's swap area (no label of ours), world-readable.
	os.Remove(sw)
	sh(t, "truncate", "-s", "40M", sw)
	sh(t, "mkswap", "-L", "theirs", sw)
	os.Chmod(sw, 0o644)
	failedClosed(t, r, activate(t, r), "root:root 0600", "left untouched")
	if fi, _ := os.Stat(sw); fi.Mode().Perm() != 0o644 {
		t.Errorf("someone else's swap area was changed: %v", fi.Mode())
	}
}

// TestActivateReplacesSnapshotSharedSwapfile: the swapfile is on btrfs, and
// a snapshot of its subvolume is taken (what snapper or timeshift do): its
// extents become shared and the kernel refuses swapon ("swapfile must not
// be copy-on-write", EINVAL). activate must not keep it with exit 0: when
// it succeeds, the real swapon takes the file it leaves, and status says it
// would keep that one. Keeping the shared file said "resources guaranteed"
// while the kernel would take 0 pages of it.
func TestActivateReplacesSnapshotSharedSwapfile(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("btrfs"); err != nil {
		t.Skip("skipped: btrfs not installed")
	}
	r := newRoot(t, 64<<20)
	dir := r.path("ransomeye")
	loopFS(t, "btrfs", "400M", dir)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	snap := filepath.Join(dir, "snap")
	sh(t, "btrfs", "-q", "subvolume", "snapshot", dir, snap)
	t.Cleanup(func() { exec.Command("btrfs", "-q", "subvolume", "delete", snap).Run() })
	p := filepath.Join(dir, "swap")
	if err := exec.Command("swapon", p).Run(); err == nil {
		exec.Command("swapoff", p).Run()
		t.Skip("skipped: this kernel swaps on a snapshotted btrfs file")
	}
	res := activate(t, r)
	if res.code == 0 && strings.Contains(res.stderr, "keep it") {
		t.Errorf("the kernel refuses swapon of %s (shared extents after a snapshot), activate keeps it and exits 0:\n%s", p, res.stderr)
	}
	if res.code == 0 {
		// Whatever activate did, the kernel must now take the file.
		if out, err := exec.Command("swapon", p).CombinedOutput(); err != nil {
			t.Errorf("activate exits 0, but swapon %s fails: %v %s\n%s", p, err, out, res.stderr)
		} else {
			exec.Command("swapoff", p).Run()
		}
	}
	if st := run(t, r, nil, "status", "--no-metrics"); res.code == 0 && !strings.Contains(st.stdout, "keep") {
		t.Errorf("after activate replaced the shared file, status does not say it would keep the new one:\n%s", st.stdout)
	}
}

// TestActivateLeftovers (row 13, simulated kill -9): a temporary file with
// our pattern, root-owned, is removed by the next run; one owned by another
// user, or a symlink, is left alone.
func TestActivateLeftovers(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	ours := r.path("ransomeye/.ransomeye-swap.tmp.4242")
	sh(t, "fallocate", "-l", "20M", ours)
	theirs := r.path("ransomeye/.ransomeye-swap.tmp.77")
	os.WriteFile(theirs, []byte("x"), 0o600)
	os.Chown(theirs, 1000, 1000)
	res := activate(t, r)
	succeeded(t, r, res)
	if _, err := os.Lstat(ours); !os.IsNotExist(err) {
		t.Errorf("leftover not removed: %v", err)
	}
	if _, err := os.Lstat(theirs); err != nil {
		t.Errorf("someone else's file removed: %v", err)
	}
	if !strings.Contains(res.stderr, "left by an interrupted run") {
		t.Errorf("removal not logged:\n%s", res.stderr)
	}
}

// TestActivateReadOnly (row 9): a read-only filesystem for the swapfile
// fails closed; a read-only /var/lock still keeps the core down (fallback
// marker, gate exit 1).
func TestActivateReadOnly(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	mnt := r.path("ransomeye")
	sh(t, "mount", "-o", "remount,ro", mnt)
	failedClosed(t, r, activate(t, r), "mounted read-only")

	lock := r.path("run/lock")
	os.Remove(r.marker())
	sh(t, "mount", "--bind", lock, lock)
	t.Cleanup(func() { exec.Command("umount", lock).Run() })
	sh(t, "mount", "-o", "remount,bind,ro", lock)
	res := activate(t, r)
	if res.code != 1 || !strings.Contains(res.stderr, "/run/ransomeye-tuner/resource-fail") {
		t.Errorf("read-only /var/lock: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	g := run(t, r, nil, "gate")
	if g.code != 1 || !strings.Contains(g.stdout, "mounted read-only") {
		t.Errorf("gate with the fallback marker: exit %d\n%s", g.code, g.stdout)
	}
}

// TestActivateSysctlRefused (row 17): a parameter the kernel refuses, or
// that reads back different, fails closed naming the key.
func TestActivateSysctlRefused(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nMinSize=32M\nReserve=0\n")
	p := r.path("proc/sys/vm/swappiness")
	os.Remove(p)
	syscall.Mkfifo(p, 0o644)
	failedClosed(t, r, activate(t, r), "vm.swappiness")
	os.Remove(p)
	r.write(t, "proc/sys/vm/swappiness", "60\n")
	// A plain file longer than the value keeps its tail: it reads back different.
	r.write(t, "proc/sys/vm/vfs_cache_pressure", "100000\n")
	failedClosed(t, r, activate(t, r), "vm.vfs_cache_pressure=50: read back")
}

// TestMarkerPlanted (row 18): a symlink or a foreign file planted at the
// marker's name neither keeps the core down (gate removes it, ALERT) nor
// redirects root's write (activate replaces the link, target untouched).
func TestMarkerPlanted(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	// A healthy machine: activate succeeded in this boot.
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	succeeded(t, r, activate(t, r))
	defer r.fakeSwapon(t)() // the swap unit turned the file on
	victim := r.path("etc/important")
	r.write(t, "etc/important", "keep me\n")
	os.Symlink(victim, r.marker())
	g := run(t, r, nil, "gate")
	if g.code != 0 || !strings.Contains(g.stderr, "alert: security: a marker not written by root") {
		t.Errorf("gate with a planted symlink: exit %d\n%s", g.code, g.stderr)
	}
	if _, err := os.Lstat(r.marker()); !os.IsNotExist(err) {
		t.Errorf("planted symlink not removed")
	}
	os.WriteFile(r.marker(), []byte("reason: gotcha\n"), 0o644)
	os.Chown(r.marker(), 65534, 65534)
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate with a foreign marker: exit %d", g.code)
	}
	// activate failing (no filesystem of ours: /ransomeye on the fake root's
	// tmp dir is fine, so force a failure with an invalid config).
	os.Symlink(victim, r.marker())
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=lots\n")
	res := activate(t, r)
	failedClosed(t, r, res, "invalid configuration", "MinSize=lots")
	if !strings.Contains(res.stderr, "alert: security: a marker not written by root was planted") {
		t.Errorf("activate did not log the planted symlink at ALERT:\n%s", res.stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("root wrote through the planted symlink: %q", b)
	}
}

// TestDisabled: ransomeye.tuner=0 => activate warns, exits 0, writes
// nothing; status says disabled and exits 3.
func TestDisabled(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	r.write(t, "proc/cmdline", "root=/dev/vda ransomeye.tuner=0\n")
	res := activate(t, r)
	if res.code != 0 || !strings.Contains(res.stderr, "warning: disabled by kernel command line; resources not guaranteed") {
		t.Errorf("activate disabled: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Lstat(r.path("ransomeye")); !os.IsNotExist(err) {
		t.Errorf("disabled activate created the swapfile directory")
	}
	if _, err := os.Lstat(r.marker()); !os.IsNotExist(err) {
		t.Errorf("disabled activate wrote a marker")
	}
	if r.sysctl(t, "swappiness") != "60" {
		t.Errorf("disabled activate changed a sysctl")
	}
	s := run(t, r, nil, "status")
	if s.code != 3 || !strings.Contains(s.stdout, "DISABLED") {
		t.Errorf("status disabled: exit %d\n%s", s.code, s.stdout)
	}
}

// TestFailClosed: --if-failed writes only on failure; OnFailure reasons come
// from $MONITOR_*; an existing genuine marker's reason is kept.
func TestFailClosed(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	if res := run(t, r, []string{"SERVICE_RESULT=success", "EXIT_CODE=exited", "EXIT_STATUS=0"}, "fail-closed", "--if-failed"); res.code != 0 {
		t.Errorf("fail-closed --if-failed on success: exit %d", res.code)
	}
	if _, err := os.Lstat(r.marker()); !os.IsNotExist(err) {
		t.Fatal("fail-closed --if-failed wrote a marker after a success")
	}
	res := run(t, r, []string{"SERVICE_RESULT=signal", "EXIT_CODE=killed", "EXIT_STATUS=KILL"}, "fail-closed", "--if-failed")
	if res.code != 0 || !strings.Contains(res.stderr, "critical: ") {
		t.Errorf("fail-closed --if-failed on a kill: exit %d\n%s", res.code, res.stderr)
	}
	res = run(t, r, []string{"MONITOR_UNIT=ransomeye-swap.swap", "MONITOR_SERVICE_RESULT=exit-code", "MONITOR_EXIT_CODE=exited", "MONITOR_EXIT_STATUS=255"}, "fail-closed")
	if res.code != 0 {
		t.Errorf("fail-closed as OnFailure: exit %d", res.code)
	}
	b, _ := os.ReadFile(r.marker())
	first := strings.Index(string(b), "ransomeye-tuner.service did not succeed: result signal (killed, status KILL)")
	second := strings.Index(string(b), "ransomeye-swap.swap failed: result exit-code (exited, status 255)")
	if first < 0 || second < first {
		t.Errorf("marker does not keep the first reason and append the second:\n%s", b)
	}
	// As seen in boots: systemd passes no $MONITOR_* when several units
	// share the OnFailure= unit; the reason then says what can be seen.
	run(t, r, nil, "fail-closed")
	b, _ = os.ReadFile(r.marker())
	if !strings.Contains(string(b), `systemd did not say which); swapfile "/ransomeye/swap" does not exist (is its filesystem mounted?); see journalctl -b -u ransomeye-tuner.service -u ransomeye-swap.swap`) {
		t.Errorf("reason without $MONITOR_UNIT:\n%s", b)
	}
	if res := run(t, r, nil, "fail-closed", "--reason", ""); res.code != 2 {
		t.Errorf("empty --reason: exit %d, want 2", res.code)
	}
	g := run(t, r, nil, "gate")
	if g.code != 1 || !strings.Contains(g.stdout, "result signal") {
		t.Errorf("gate: exit %d\n%s", g.code, g.stdout)
	}
}

// TestUsage: --help for each command (exit 0), unknown commands and flags
// (exit 2, naming the input).
func TestUsage(t *testing.T) {
	r := fakeRoot{dir: t.TempDir()}
	for _, c := range []string{"activate", "status", "plan", "fail-closed", "gate", "version"} {
		res := run(t, r, nil, c, "--help")
		if res.code != 0 || !strings.Contains(res.stdout, "Usage: ransomeye-tuner "+c) {
			t.Errorf("%s --help: exit %d\n%s%s", c, res.code, res.stdout, res.stderr)
		}
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"status", "--bogus"}, {"gate", "extra"}} {
		res := run(t, r, nil, args...)
		if res.code != 2 {
			t.Errorf("%q: exit %d, want 2", args, res.code)
		}
		if len(args) > 0 && !strings.Contains(res.stderr, strings.TrimPrefix(args[len(args)-1], "--")) {
			t.Errorf("%q: error does not name the input:\n%s", args, res.stderr)
		}
	}
}

// TestPlanChangesNothing: plan on a fake root prints the swap decision, the
// sysctls and the units, exits 0, and writes nothing.
func TestPlanChangesNothing(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 4*gib)
	before := sh(t, "find", r.dir, "-printf", "%p %s %T@\n")
	res := run(t, r, nil, "plan")
	if res.code != 0 {
		t.Fatalf("plan: exit %d\n%s", res.code, res.stderr)
	}
	for _, w := range []string{"target: 16.0 GiB", "swapfile: create", "vm.swappiness = 10 (now 60)", "late/ransomeye-swap.swap", "What=/ransomeye/swap"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("plan lacks %q:\n%s", w, res.stdout)
		}
	}
	if after := sh(t, "find", r.dir, "-printf", "%p %s %T@\n"); after != before {
		t.Errorf("plan changed the root:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestActivateCPUPlan: on a fake 8-core machine (fakesys: a fake of CPUs this
// host does not have), activate fails closed until the real generator has
// written the CPU drop-ins under <root>/run/systemd/generator; after that it
// succeeds; a topology change without a daemon-reload fails closed again
// with the remedy.
func TestActivateCPUPlan(t *testing.T) {
	needRoot(t)
	r := fakeRoot{dir: t.TempDir()}
	if err := (fakesys.Machine{CoresPerNode: 8}).Write(r.dir); err != nil {
		t.Fatal(err)
	}
	r.fill(t, 64<<20)
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	failedClosed(t, r, rawRun(t, r, nil, nil, "activate"), "ransomeye-core.service.d/cpu-isolation.conf\" is missing", "daemon-reload", "then: ransomeye-tuner recover")

	gen := func() {
		dirs := []string{r.path("run/systemd/generator"), r.path("run/systemd/generator.early"), r.path("run/systemd/generator.late")}
		for _, d := range dirs {
			os.RemoveAll(d)
			os.MkdirAll(d, 0o755)
		}
		cmd := exec.Command(generatorBin, dirs...)
		cmd.Env = []string{"RANSOMEYE_TUNER_ROOT=" + r.dir}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("generator: %v\n%s", err, out)
		}
	}
	gen()
	res := activate(t, r)
	succeeded(t, r, res)
	if !strings.Contains(res.stderr, "CPU plan in effect (allowed-cpus): ransomeye-core.service 0-3, ransomeye-dpi.service 4-5, ransomeye-training.service 6-7") {
		t.Errorf("CPU plan not reported:\n%s", res.stderr)
	}
	s := run(t, r, nil, "status")
	if !strings.Contains(s.stdout, "match the current topology") {
		t.Errorf("status does not show the drop-ins matching:\n%s", s.stdout)
	}
	// 10 cores now, drop-ins from the 8-core boot: stale.
	if err := (fakesys.Machine{CoresPerNode: 10}).Write(r.dir); err != nil {
		t.Fatal(err)
	}
	r.setMem(t, 64<<20)
	failedClosed(t, r, rawRun(t, r, nil, nil, "activate"), "differs from what the current topology and configuration give", "systemctl daemon-reload", "then: ransomeye-tuner recover")
	gen()
	succeeded(t, r, rawRun(t, r, nil, nil, "activate"))
}

// TestActivateTopologyUnreadable: a CPU topology that cannot be trusted
// (here a malformed nohz_full, as a kernel printing "  (null)" once showed
// in a boot) fails closed only where a reservation could be made: 8 cores
// block the core, 4 CPUs only log a warning.
func TestActivateTopologyUnreadable(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		cores int
		fails bool
	}{{4, false}, {8, true}} {
		t.Run(fmt.Sprintf("%d_cores", tc.cores), func(t *testing.T) {
			r := fakeRoot{dir: t.TempDir()}
			m := fakesys.Machine{CoresPerNode: tc.cores, Override: map[string]string{"/sys/devices/system/cpu/nohz_full": "1--3\n"}}
			if err := m.Write(r.dir); err != nil {
				t.Fatal(err)
			}
			r.fill(t, 64<<20)
			loopFS(t, "ext4", "1G", r.path("ransomeye"))
			r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
			res := activate(t, r)
			if tc.fails {
				failedClosed(t, r, res, "the CPU topology cannot be trusted", "nohz_full")
				return
			}
			succeeded(t, r, res)
			if !strings.Contains(res.stderr, "warning: the CPU topology cannot be read") {
				t.Errorf("no warning:\n%s", res.stderr)
			}
		})
	}
}

// TestGateNeedsSuccess: the gate opens only after a successful activate in
// this boot (the record /run/ransomeye-tuner/ok with the running boot id),
// so a failure that cannot write the marker still keeps the core down;
// with ransomeye.tuner=0 only a marker counts.
func TestGateNeedsSuccess(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 64<<20)
	g := run(t, r, nil, "gate")
	if g.code != 1 || !strings.Contains(g.stdout, "has not succeeded in this boot") {
		t.Errorf("gate before any activation: exit %d\n%s", g.code, g.stdout)
	}
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	succeeded(t, r, activate(t, r))
	// Another boot: the record is stale.
	r.write(t, "proc/sys/kernel/random/boot_id", "11111111-2222-3333-4444-555555555555\n")
	if g := run(t, r, nil, "gate"); g.code != 1 || !strings.Contains(g.stdout, "from another boot") {
		t.Errorf("gate with a record from another boot: exit %d\n%s", g.code, g.stdout)
	}
	succeeded(t, r, activate(t, r))
	// A full /run (a local user can fill it through /run/lock): the marker
	// cannot be written, but removing the record needs no space, so the
	// gate stays closed.
	r2 := newRoot(t, 64<<20)
	os.RemoveAll(r2.path("run"))
	os.MkdirAll(r2.path("run"), 0o755)
	sh(t, "mount", "-t", "tmpfs", "-o", "size=64k,mode=755", "tmpfs", r2.path("run"))
	t.Cleanup(func() { exec.Command("umount", r2.path("run")).Run() })
	os.MkdirAll(r2.path("run/lock"), 0o755)
	syscall.Chmod(r2.path("run/lock"), 0o1777)
	exec.Command("dd", "if=/dev/zero", "of="+r2.path("run/lock/filler"), "bs=4k").Run()
	r2.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=lots\n")
	res := activate(t, r2)
	if res.code != 1 || !strings.Contains(res.stderr, "cannot write the failure marker") {
		t.Errorf("activate with a full /run: exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	if g := run(t, r2, nil, "gate"); g.code != 1 || !strings.Contains(g.stdout, "has not succeeded in this boot") {
		t.Errorf("gate after a failure with a full /run: exit %d\nstdout:\n%s\nstderr:\n%s", g.code, g.stdout, g.stderr)
	}
	// ransomeye.tuner=0: only a marker counts.
	os.RemoveAll(r.path("run/ransomeye-tuner"))
	os.Remove(r.marker())
	r.write(t, "proc/cmdline", "ransomeye.tuner=0\n")
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate with ransomeye.tuner=0 and no marker: exit %d\n%s", g.code, g.stdout)
	}
}

// TestActivateUnsafeDir: a swapfile directory that others can write, or an
// ancestor they can write without the sticky bit, is refused up front,
// naming it; a sticky world-writable ancestor is fine.
func TestActivateUnsafeDir(t *testing.T) {
	r := loopRoot(t, 64<<20, "[Swap]\nPath=/ransomeye/shared/swap\nMinSize=32M\nReserve=0\n")
	shared := r.path("ransomeye/shared")
	os.Mkdir(shared, 0o755)
	for _, tc := range []struct {
		shared, parent uint32
		want           string // "" = success
	}{
		{0o777, 0o755, `"/ransomeye/shared" is writable by other users`},
		{0o1777, 0o755, `"/ransomeye/shared" is writable by other users`},
		{0o755, 0o777, `"/ransomeye" is writable by other users`},
		{0o755, 0o1777, ""},
	} {
		syscall.Chmod(shared, tc.shared)
		syscall.Chmod(r.path("ransomeye"), tc.parent)
		os.Remove(r.marker())
		res := activate(t, r)
		if tc.want == "" {
			succeeded(t, r, res)
			continue
		}
		failedClosed(t, r, res, tc.want, "chmod go-w")
		if _, err := os.Lstat(r.path("ransomeye/shared/swap")); !os.IsNotExist(err) {
			t.Errorf("mode %o/%o: swapfile made in an unsafe directory", tc.shared, tc.parent)
		}
	}
	syscall.Chmod(r.path("ransomeye"), 0o755)
}
