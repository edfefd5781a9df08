package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// smallRoot makes a fake root with 32 MiB of RAM and a 1 GiB ext4 loop
// filesystem at /ransomeye, configured for a 64 MiB swapfile (the fault
// paths do not depend on the size; the full-size cases are elsewhere).
func smallRoot(t *testing.T) fakeRoot {
	t.Helper()
	r := fillRoot(t, t.TempDir(), 32*mib)
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=16M\n")
	return r
}

// mkswapWrapper writes a directory holding an "mkswap" that SIGKILLs its
// parent (the activator) -- after running the real mkswap when realFirst --
// so that the kill lands at a known step. It returns the environment that
// names it to the activator (the test-only override: $PATH is not searched).
func mkswapWrapper(t *testing.T, realFirst bool) []string {
	t.Helper()
	real, err := exec.LookPath("mkswap")
	if err != nil {
		t.Skip("mkswap is not installed")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n# fault injection: kill the activator at this step\n"
	if realFirst {
		script += fmt.Sprintf("%q \"$@\" >/dev/null 2>&1 || exit 1\n", real)
	}
	script += "kill -KILL \"$PPID\"\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "mkswap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"RANSOMEYE_TUNER_TEST_MKSWAP=" + filepath.Join(dir, "mkswap")}
}

// TestFaultKillEachStep is fault-matrix row 13 on a loop device: the
// activator is killed with SIGKILL at each step of creating the swapfile
// (after the temporary file is created, after fallocate, after mkswap,
// before the rename), for a new file and for the replacement of a smaller
// one. Each time: nothing half-made sits at the swapfile's path (a new file:
// nothing; a replacement: the old file, same inode, still a valid swap
// area), any temporary is root 0600 under the temporary name, the unit's
// ExecStopPost (fail-closed --if-failed with systemd's variables for a kill)
// writes the marker and the gate keeps the core down; and the next boot (a
// fresh /run/lock, an activate without faults) removes the leftover and
// makes a complete swapfile that the real swapon accepts.
//
// How the kill is placed: "after create" and "before rename" are strace
// SIGKILL injections at the entry of fallocate(2) and renameat2(2), each
// made once per run; "after fallocate" and "after mkswap" are an mkswap
// wrapper (named by the test-only RANSOMEYE_TUNER_TEST_MKSWAP) that kills
// its parent, before or after running the real mkswap.
func TestFaultKillEachStep(t *testing.T) {
	needRoot(t)
	needStrace(t)
	type step struct {
		name   string
		strace []string // strace prefix, or nil
		wrap   int      // 0 none, 1 kill before the real mkswap, 2 after it
	}
	steps := []step{
		{"after create", []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fallocate", "-e", "inject=fallocate:signal=SIGKILL"}, 0},
		{"after fallocate", nil, 1},
		{"after mkswap", nil, 2},
		{"before rename", []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2", "-e", "inject=renameat2:signal=SIGKILL"}, 0},
	}
	for _, replace := range []bool{false, true} {
		for _, s := range steps {
			name := "new/" + s.name
			if replace {
				name = "replace/" + s.name
			}
			t.Run(name, func(t *testing.T) {
				r := smallRoot(t)
				sw := r.path("ransomeye/swap")
				var old unix.Stat_t
				if replace {
					// A 32 MiB swapfile of ours from an earlier boot with less RAM.
					r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=16M\n")
					succeeded(t, r, runAct(t, r, nil, nil, "activate"))
					checkSwapfile(t, sw, 32*mib)
					old = statOf(t, sw)
					r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=16M\n")
				}
				var env []string
				if s.wrap > 0 {
					env = mkswapWrapper(t, s.wrap == 2)
				}
				res := runAct(t, r, env, s.strace, "activate")
				if res.signal != "killed" {
					t.Fatalf("the activator was not killed at %s: exit %d signal %q\n%s", s.name, res.code, res.signal, res.stderr)
				}
				// Nothing half-made at the path.
				if replace {
					now := statOf(t, sw)
					if now.Ino != old.Ino || now.Size != old.Size {
						t.Errorf("killed %s: the old swapfile was replaced or changed (inode %d -> %d, size %d -> %d)", s.name, old.Ino, now.Ino, old.Size, now.Size)
					}
					checkSwapfile(t, sw, 32*mib)
				} else if _, err := os.Lstat(sw); !os.IsNotExist(err) {
					t.Errorf("killed %s: an entry sits at the swapfile's path (%v)", s.name, err)
				}
				temps := tempEntries(r.path("ransomeye"))
				for _, tmp := range temps {
					st := statOf(t, r.path("ransomeye/"+tmp))
					if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o7777 != 0o600 || st.Uid != 0 {
						t.Errorf("killed %s: leftover %s has mode %o owner %d: readable by others", s.name, tmp, st.Mode, st.Uid)
					}
				}
				// The kill landed where intended: the one temporary is in
				// the state of that step.
				if len(temps) != 1 {
					t.Fatalf("killed %s: %d temporaries %q, want the one the kill interrupted", s.name, len(temps), temps)
				}
				tmpSt := statOf(t, r.path("ransomeye/"+temps[0]))
				wantSize, wantSig := int64(64*mib), s.name != "after fallocate"
				if s.name == "after create" {
					wantSize, wantSig = 0, false
				}
				if sig := hasSignature(t, r.path("ransomeye/"+temps[0])); tmpSt.Size != wantSize || sig != wantSig {
					t.Errorf("killed %s: temporary has %d bytes (want %d), signature %v (want %v)", s.name, tmpSt.Size, wantSize, sig, wantSig)
				}
				// What the unit does after the kill: ExecStopPost.
				post := runAct(t, r, []string{"SERVICE_RESULT=signal", "EXIT_CODE=killed", "EXIT_STATUS=KILL"}, nil, "fail-closed", "--if-failed")
				if post.code != 0 {
					t.Errorf("fail-closed --if-failed: exit %d\n%s", post.code, post.stderr)
				}
				b, err := os.ReadFile(r.marker())
				if err != nil || !bytes.Contains(b, []byte("signal")) {
					t.Errorf("no marker naming the kill after %s: %v %q", s.name, err, b)
				}
				if g := runAct(t, r, nil, nil, "gate"); g.code != 1 {
					t.Errorf("gate after the kill: exit %d, want 1", g.code)
				}
				// The next boot: /run/lock is a fresh tmpfs, no fault.
				if err := os.Remove(r.marker()); err != nil {
					t.Fatal(err)
				}
				next := runAct(t, r, nil, nil, "activate")
				succeeded(t, r, next)
				checkSwapfile(t, sw, 64*mib)
				if left := tempEntries(r.path("ransomeye")); len(left) != 0 {
					t.Errorf("next boot left temporaries %q", left)
				}
				if len(temps) > 0 && !strings.Contains(next.stderr, "left by an interrupted run") {
					t.Errorf("next boot did not say it removed the leftover:\n%s", next.stderr)
				}
				swaponOff(t, sw)
			})
		}
	}
}

// hasSignature reports whether the file at p has the swap signature.
func hasSignature(t *testing.T, p string) bool {
	t.Helper()
	page := make([]byte, os.Getpagesize())
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _ := f.ReadAt(page, 0)
	return n == len(page) && string(page[len(page)-10:]) == "SWAPSPACE2"
}

// TestFaultENOSPCDuringFallocate is fault-matrix row 8 (during allocation,
// fallocate path): statfs says the space is there, fallocate(2) still fails
// with ENOSPC (injected with strace; the zero-fill path's real ENOSPC is
// activator's TestActivateENOSPCMidway). The temporary file is removed,
// nothing is at the path, the marker names the cause, CRIT, exit 1.
func TestFaultENOSPCDuringFallocate(t *testing.T) {
	needRoot(t)
	needStrace(t)
	r := smallRoot(t)
	res := runAct(t, r, nil, []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fallocate", "-e", "inject=fallocate:error=ENOSPC"}, "activate")
	failedClosed(t, r, res, "cannot create the swapfile", "no space left on device", "ext4")
	if _, err := os.Lstat(r.path("ransomeye/swap")); !os.IsNotExist(err) {
		t.Errorf("an entry is at the swapfile's path after ENOSPC: %v", err)
	}
	if left := tempEntries(r.path("ransomeye")); len(left) != 0 {
		t.Errorf("partial file left: %q", left)
	}
}

// TestFaultENOSPCGrowingSmallBlocks: on ext4 with 1 KiB blocks the new
// swapfile loses pages to extents off page boundaries and is grown to make
// up for them; when that growth runs out of space (a fragmented filesystem;
// ENOSPC injected here into the second fallocate(2)) the marker said only
// "no space left on device", with the space free again once the temporary
// file was removed. It must name the lost pages and the block size.
func TestFaultENOSPCGrowingSmallBlocks(t *testing.T) {
	needRoot(t)
	needStrace(t)
	// strace counts a syscall's invocations per thread: when the Go runtime
	// makes the growing fallocate(2) on another thread than the first, "the
	// second call" is that thread's first and nothing is injected. So try
	// a few fresh filesystems until the injection lands.
	for attempt := 1; attempt <= 6; attempt++ {
		var r fakeRoot
		var res result
		ok := t.Run(fmt.Sprintf("attempt %d", attempt), func(t *testing.T) {
			r = fillRoot(t, t.TempDir(), 32*mib)
			loopFS(t, "ext4", "300M", r.path("ransomeye"), "-b", "1024")
			r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n")
			res = runAct(t, r, nil, []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fallocate", "-e", "inject=fallocate:error=ENOSPC:when=2+"}, "activate")
			if !strings.Contains(res.stderr, "growing it by") {
				t.Skipf("the new file lost no pages on this filesystem (no growth): nothing to show\n%s", res.stderr)
			}
			if res.code == 0 {
				t.Skipf("the injection missed the growing fallocate (another thread made it)")
			}
			failedClosed(t, r, res, "no space left on device", "off page boundaries", "block size of at least the page size")
			if left := tempEntries(r.path("ransomeye")); len(left) != 0 {
				t.Errorf("partial file left: %q", left)
			}
		})
		if !ok || res.code != 0 {
			return
		}
	}
	t.Skip("the injection missed the growing fallocate in every attempt")
}

// TestFaultUnsupportedFilesystems is fault-matrix row 10 for what
// TestActivateUnsupportedFS (tmpfs, overlayfs) does not mount: on btrfs
// where the no-copy-on-write attribute cannot be set
// (FS_IOC_GETFLAGS/SETFLAGS fail: injected with strace, as no real btrfs
// refuses it on an empty file) the swapfile is refused, the empty temporary
// removed, nothing allocated. (nfs, cifs, zfs, fuse: refused by statfs
// magic, fsinfo's TestClassify; no server for a real mount here.)
func TestFaultUnsupportedFilesystems(t *testing.T) {
	needRoot(t)
	t.Run("btrfs no-CoW cannot be set", func(t *testing.T) {
		needStrace(t)
		r := fillRoot(t, t.TempDir(), 32*mib)
		r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=16M\n")
		mnt := r.path("ransomeye")
		loopFS(t, "btrfs", "1G", mnt)
		var before unix.Statfs_t
		unix.Statfs(mnt, &before)
		res := runAct(t, r, nil, []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=ioctl", "-e", "inject=ioctl:error=EOPNOTSUPP"}, "activate")
		failedClosed(t, r, res, "no-copy-on-write", "btrfs")
		if _, err := os.Lstat(r.path("ransomeye/swap")); !os.IsNotExist(err) {
			t.Errorf("an entry is at the swapfile's path: %v", err)
		}
		if left := tempEntries(mnt); len(left) != 0 {
			t.Errorf("temporary left: %q", left)
		}
		exec.Command("sync", "-f", mnt).Run()
		var after unix.Statfs_t
		unix.Statfs(mnt, &after)
		if used := (int64(before.Bavail) - int64(after.Bavail)) * before.Bsize; used > 16*mib {
			t.Errorf("%d bytes allocated before the refusal", used)
		}
	})
}

// TestFaultDistroSwapfile is fault-matrix row 15 at the row's sizes: an
// Ubuntu-style 2 GiB /swapfile (mkswap without a label, root 0600), active
// from fstab, on the root filesystem (a 24 GiB ext4 loop device mounted as
// the fake root).
//   - default Path=: /swapfile is left alone (same inode, mtime, first
//     page) and reported; /ransomeye/swap alone provides the 16 GiB target.
//   - Path=/swapfile while it is active: it cannot be grown under the
//     kernel: refused, untouched, the marker gives the reason and remedy.
//   - Path=/swapfile after swapoff (next boot, not active): grown safely,
//     i.e. replaced atomically by a complete 16 GiB swapfile.
func TestFaultDistroSwapfile(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	loopFS(t, "ext4", "24G", dir)
	r := fillRoot(t, dir, 4*gib)
	distro := r.path("swapfile")
	makeSwapArea(t, distro, "2G", nil)
	firstPage := func() []byte {
		b := make([]byte, os.Getpagesize())
		f, err := os.Open(distro)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.ReadAt(b, 0)
		return b
	}
	orig, origPage := statOf(t, distro), firstPage()
	untouched := func(what string) {
		t.Helper()
		now := statOf(t, distro)
		if now.Ino != orig.Ino || now.Size != orig.Size || now.Mtim != orig.Mtim || now.Mode != orig.Mode || !bytes.Equal(firstPage(), origPage) {
			t.Errorf("%s: the distribution's /swapfile was changed", what)
		}
	}
	r.setSwaps(t, "/swapfile "+strconv.FormatInt(2*gib-4096, 10))

	t.Run("default path", func(t *testing.T) {
		res := runAct(t, r, nil, nil, "activate")
		succeeded(t, r, res)
		checkSwapfile(t, r.path("ransomeye/swap"), 16*gib)
		untouched("default path")
		if !strings.Contains(res.stderr, `other active swap "/swapfile"`) || !strings.Contains(res.stderr, "not counted") {
			t.Errorf("the distribution's swap is not reported:\n%s", res.stderr)
		}
		os.Remove(r.path("ransomeye/swap"))
	})
	t.Run("Path=/swapfile active", func(t *testing.T) {
		r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nPath=/swapfile\n")
		failedClosed(t, r, runAct(t, r, nil, nil, "activate"), "/swapfile", "is active swap", "swapoff")
		untouched("Path=/swapfile active")
		os.Remove(r.marker())
	})
	t.Run("Path=/swapfile inactive", func(t *testing.T) {
		r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nPath=/swapfile\n")
		r.setSwaps(t)
		res := runAct(t, r, nil, nil, "activate")
		succeeded(t, r, res)
		checkSwapfile(t, distro, 16*gib)
		if statOf(t, distro).Ino == orig.Ino {
			t.Errorf("/swapfile grown in place, not replaced atomically")
		}
		if !strings.Contains(res.stderr, "smaller than the target") {
			t.Errorf("the replacement is not explained:\n%s", res.stderr)
		}
		if left := tempEntries(dir); len(left) != 0 {
			t.Errorf("temporaries left: %q", left)
		}
	})
}

// TestFaultPathIsBlockDevice is fault-matrix row 11 for a device node at the
// path itself ([Swap] Path=/dev/... or a node left there; the activator's
// own tests cover a symlink to a device): the node of a real loop device is
// refused, nothing is written to the device (its first MiB is unchanged:
// no mkswap, no zeroing), and the marker says why.
func TestFaultPathIsBlockDevice(t *testing.T) {
	needRoot(t)
	r := smallRoot(t)
	img := filepath.Join(t.TempDir(), "victim.img")
	// A whole number of 512-byte sectors: otherwise losetup warns, and the
	// warning (sh combines stderr) was taken for the device name, which
	// left the loop device attached after the test.
	victim := bytes.Repeat([]byte("someone's disk "), 65536)
	if err := os.WriteFile(img, victim, 0o600); err != nil {
		t.Fatal(err)
	}
	dev := sh(t, "losetup", "-f", "--show", img)
	if !strings.HasPrefix(dev, "/dev/loop") || strings.Contains(dev, "\n") {
		t.Fatalf("losetup printed %q, not a device name", dev)
	}
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	// The device number from sysfs: this container's /dev may lack the node.
	mm, err := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/dev")
	if err != nil {
		t.Fatal(err)
	}
	var major, minor uint32
	if _, err := fmt.Sscanf(string(mm), "%d:%d", &major, &minor); err != nil {
		t.Fatal(err)
	}
	node := r.path("ransomeye/swap")
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))); err != nil {
		t.Fatal(err)
	}
	failedClosed(t, r, runAct(t, r, nil, nil, "activate"), "is a device, not a swapfile", "left untouched")
	exec.Command("blockdev", "--flushbufs", dev).Run()
	now, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(now, victim) {
		t.Errorf("the block device's content changed")
	}
	if fi, err := os.Lstat(node); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Errorf("the device node at the path was replaced: %v", err)
	}
}

// TestFaultRunFullMarkerUnwritable is fault-matrix rows 9 and 18 (fixed in
// 3f11471 by a success record the gate requires): a local user
// fills the /run tmpfs through the world-writable /run/lock, so neither the
// marker nor its root-only fallback (also on /run) can be written. An
// activation that fails then leaves no marker, and the core's gate lets the
// core start: fail-open. It must not. Here <root>/run is a real 64 KiB tmpfs; a healthy
// activation runs first (the boot, /run fresh), then uid 1000 (setpriv)
// fills it, then an activation fails (an invalid config, as after a
// configuration change and a restart of ransomeye-tuner.service).
func TestFaultRunFullMarkerUnwritable(t *testing.T) {
	needRoot(t, "setpriv")
	// Not t.TempDir(): its parent is 0700, and mallory must reach run/lock.
	dir, err := os.MkdirTemp("", "faults-run-full")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := fakeRoot{dir: dir}
	os.MkdirAll(r.path("run"), 0o755)
	sh(t, "mount", "-t", "tmpfs", "-o", "size=64k,mode=755", "tmpfs", r.path("run"))
	t.Cleanup(func() { exec.Command("umount", r.path("run")).Run() })
	fillRoot(t, dir, 32*mib)
	// The boot: a healthy activation while /run is fresh.
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=16M\n")
	succeeded(t, r, runAct(t, r, nil, nil, "activate"))
	// Later: mallory fills /run; then the configuration changes and the
	// restarted activator fails.
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=lots\n")
	out, _ := exec.Command("setpriv", "--reuid=1000", "--regid=1000", "--clear-groups",
		"dd", "if=/dev/zero", "of="+r.path("run/lock/mallory"), "bs=4k").CombinedOutput()
	if !strings.Contains(string(out), "No space left") {
		t.Fatalf("mallory could not fill /run: %s", out)
	}
	res := runAct(t, r, nil, nil, "activate")
	if res.code == 0 {
		t.Fatalf("activate succeeded with an invalid config")
	}
	if g := runAct(t, r, nil, nil, "gate"); g.code != 1 {
		t.Errorf("activate failed (%s), no marker could be written, and the gate lets the core start (exit %d)", strings.TrimSpace(res.stderr), g.code)
	}
}

// TestFaultSwapUnitSkippedByPlantedMarker is fault-matrix row 18 (fixed in
// 3479c7c): a marker planted by a local user between a successful
// activation and swapon makes the swap unit skip itself (its
// ConditionPathExists=! is false: a skip, not a failure, so no OnFailure and
// no marker of ours), and the core's gate removed the planted file and let
// the core start without swap. Here the swap unit's start is not run (no
// systemd: the fake /proc/swaps lacks the file, as after the skip): the gate
// removes the planted marker with an ALERT and still keeps the core down,
// naming the swapfile; once the file is active (as swapon would make it)
// the gate opens.
func TestFaultSwapUnitSkippedByPlantedMarker(t *testing.T) {
	needRoot(t)
	r := smallRoot(t)
	res := runAct(t, r, nil, nil, "activate")
	if res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	if err := os.WriteFile(r.marker(), []byte("reason: planted by mallory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.marker(), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	g := runAct(t, r, nil, nil, "gate")
	if g.code != 1 || !strings.Contains(g.stdout, "/ransomeye/swap") {
		t.Errorf("gate with the swapfile inactive after a planted marker: exit %d, want 1 naming the swapfile\n%s%s", g.code, g.stdout, g.stderr)
	}
	if !strings.Contains(g.stderr, "alert: ") {
		t.Errorf("planted marker not logged at ALERT:\n%s", g.stderr)
	}
	if _, err := os.Lstat(r.marker()); !os.IsNotExist(err) {
		t.Errorf("planted marker not removed: %v", err)
	}
	defer r.fakeSwapon(t)()
	if g := runAct(t, r, nil, nil, "gate"); g.code != 0 {
		t.Errorf("gate with the swapfile active: exit %d\n%s%s", g.code, g.stdout, g.stderr)
	}
}

// kernelSwapSize swaps the file at p on for real, reads the size the
// kernel gives it in the host's /proc/swaps (bytes), and swaps it off.
func kernelSwapSize(t *testing.T, p string) int64 {
	t.Helper()
	t.Cleanup(func() { exec.Command("swapoff", p).Run() })
	sh(t, "swapon", p)
	b, _ := os.ReadFile("/proc/swaps")
	sh(t, "swapoff", p)
	for _, line := range strings.Split(string(b), "\n") {
		var name, typ string
		var kib int64
		if n, _ := fmt.Sscan(line, &name, &typ, &kib); n == 3 && name == p {
			return kib * 1024
		}
	}
	t.Fatalf("%s not in /proc/swaps after swapon:\n%s", p, b)
	return 0
}

// TestFaultSwapActiveButInsufficient is fault-matrix row 16 (swap active but
// insufficient after the swap unit ran), black-box with the kernel's own
// accounting: a 64 MiB file of ours whose swap header covers only 16 MiB
// (mkswap with a size) passes every check on the file, and swapon accepts
// it, but the kernel gives it 16 MiB. With the size the real swapon reports
// in the fake /proc/swaps, the core's gate says no, naming the swapfile.
func TestFaultSwapActiveButInsufficient(t *testing.T) {
	needRoot(t)
	r := smallRoot(t)
	sw := r.path("ransomeye/swap")
	makeSwapArea(t, sw, "64M", []string{"-L", "ransomeye-swap"}, "16384")
	got := kernelSwapSize(t, sw)
	if got >= 64*mib-int64(os.Getpagesize()) {
		t.Fatalf("the kernel gives the short swap area %d bytes: the fixture is wrong", got)
	}
	res := runAct(t, r, nil, nil, "activate")
	if res.code == 0 {
		// What the swap unit then does: swapon succeeds, with got bytes.
		r.setSwaps(t, sw+" "+strconv.FormatInt(got, 10))
		g := runAct(t, r, nil, nil, "gate")
		if g.code != 1 || !strings.Contains(g.stdout, "/ransomeye/swap") {
			t.Errorf("swapfile active with %d of %d bytes: gate exit %d, want 1 naming the swapfile\n%s", got, 64*mib, g.code, g.stdout)
		}
		if testing.Verbose() {
			t.Logf("gate: exit %d\n%s", g.code, g.stdout)
		}
	}
	if testing.Verbose() {
		t.Logf("activate: exit %d\n%s", res.code, res.stderr)
	}
}
