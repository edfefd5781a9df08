package main_test

// Black-box tests of the swapfile's life after install: a btrfs whose data
// profile the kernel cannot swap to, a RAM upgrade on a disk with room for
// one swapfile, a stale hibernation image in the swapfile, an mkswap in a
// root shell's $PATH, and an /etc/fstab line naming the swapfile through
// its resolved path.

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
)

// TestActivateRefusesBtrfsDataProfile: btrfs swaps only to a file in block
// groups of the single data profile on a single-device filesystem; swapon
// of any other fails with EINVAL. activate said "resources guaranteed" for
// such a file, and status said it would keep it. It must refuse up front,
// naming the profile (and the devices), and the remedy must work as
// written: on one device, the balance it names converts the data and the
// next activate makes a file the real swapon takes.
func TestActivateRefusesBtrfsDataProfile(t *testing.T) {
	needRoot(t, "btrfs")
	for _, tc := range []struct {
		name    string
		devices int
		mkfs    []string
		want    []string // in the marker
		balance bool     // the remedy is the balance, which then works
	}{
		{"dup", 1, []string{"-d", "dup"}, []string{"data profile dup", "btrfs balance start -dconvert=single \"/ransomeye\""}, true},
		{"raid1 on two devices", 2, []string{"-d", "raid1", "-m", "raid1"}, []string{"spans 2 devices (data profile raid1)", "put [Swap] Path= on another filesystem"}, false},
		{"single on two devices", 2, []string{"-d", "single"}, []string{"spans 2 devices (data profile single)", "swapfile must be on one device"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRoot(t, 32*mib)
			mnt := r.path("ransomeye")
			blackbox.LoopFSDevices(t, "btrfs", "512M", mnt, tc.devices, tc.mkfs...)
			r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
			m := failedClosed(t, r, activate(t, r), tc.want...)
			if ents, _ := os.ReadDir(mnt); len(ents) != 0 {
				t.Errorf("activate wrote into the refused filesystem: %v", ents)
			}
			if strings.Contains(m, "balance") != tc.balance {
				t.Errorf("the remedy names the balance: %v, want %v (on more than one device converting is not enough)\n%s", !tc.balance, tc.balance, m)
			}
			sw := statusSwap(t, r)
			if sw["decision"] != "refuse" || !strings.Contains(sw["reason"].(string), tc.want[0]) {
				t.Errorf("status: %v: %v", sw["decision"], sw["reason"])
			}
			if !tc.balance {
				return
			}
			// The remedy as written, on the host path of the fake root.
			cmd := regexp.MustCompile(`btrfs balance start -dconvert=single "([^"]+)"`).FindStringSubmatch(m)
			sh(t, "btrfs", "balance", "start", "-dconvert=single", r.path(cmd[1]))
			os.Remove(r.marker())
			succeeded(t, r, activate(t, r))
			checkSwapfile(t, filepath.Join(mnt, "swap"), 64*mib)
			swaponOff(t, filepath.Join(mnt, "swap"))
		})
	}
}

// TestActivateJudgesBtrfsSwapfileByExtents: the kernel judges a btrfs
// swapfile by the block groups and devices of its own extents
// (btrfs_swap_activate), not by the filesystem. A file activate made on a
// single-device btrfs stays usable after `btrfs device add` (its extents
// stay on the first device) and after a `-dconvert=dup` balance that
// skipped its block groups while it was active: activate and status keep
// it, active or not, and the real swapon takes it. It was refused for the
// filesystem's second device or second profile, and the core stayed down
// at every boot. A file of ours whose extents are in dup block groups is
// refused, naming them, and the balance it names makes it usable.
func TestActivateJudgesBtrfsSwapfileByExtents(t *testing.T) {
	needRoot(t, "btrfs")
	const conf = "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n"
	active := "/ransomeye/swap " + strconv.FormatInt(64*mib-4096, 10)
	keeps := func(t *testing.T, r fakeRoot) {
		t.Helper()
		if sw := statusSwap(t, r); sw["decision"] != "keep" {
			t.Errorf("status: %v: %v (want keep: the kernel takes this file)", sw["decision"], sw["reason"])
		}
		if res := activate(t, r); res.code != 0 {
			t.Errorf("activate refused a swapfile the kernel takes: exit %d\n%s", res.code, res.stderr)
		}
	}
	t.Run("device added", func(t *testing.T) {
		r := newRoot(t, 32*mib)
		mnt := r.path("ransomeye")
		loopFS(t, "btrfs", "512M", mnt)
		r.write(t, "etc/ransomeye/tuner.conf", conf)
		succeeded(t, r, activate(t, r))
		// A second device, as an administrator grows the filesystem: the
		// swapfile's extents stay on the first.
		img := filepath.Join(t.TempDir(), "second.img")
		sh(t, "truncate", "-s", "512M", img)
		dev := sh(t, "losetup", "-f", "--show", img)
		t.Cleanup(func() {
			exec.Command("umount", mnt).Run() // before the device goes
			exec.Command("btrfs", "device", "scan", "--forget", dev).Run()
			exec.Command("losetup", "-d", dev).Run()
		})
		sh(t, "btrfs", "device", "add", "-f", dev, mnt)
		r.setSwaps(t, active) // as at run time: the swap unit turned it on (FAKE /proc/swaps)
		keeps(t, r)
		r.setSwaps(t) // the next boot, before swapon: judged by its extents
		keeps(t, r)
		swaponOff(t, filepath.Join(mnt, "swap"))
		// A new file here could land on either device: refused.
		if err := os.Remove(filepath.Join(mnt, "swap")); err != nil {
			t.Fatal(err)
		}
		failedClosed(t, r, activate(t, r), "spans 2 devices (data profile single)", "a new file's extents may land on any of the devices")
	})
	t.Run("block groups a conversion skipped", func(t *testing.T) {
		r := newRoot(t, 32*mib)
		mnt := r.path("ransomeye")
		loopFS(t, "btrfs", "512M", mnt)
		r.write(t, "etc/ransomeye/tuner.conf", conf)
		succeeded(t, r, activate(t, r))
		sw := filepath.Join(mnt, "swap")
		sh(t, "swapon", sw)
		t.Cleanup(func() { exec.Command("swapoff", sw).Run() })
		sh(t, "btrfs", "balance", "start", "-dconvert=dup", mnt) // skips the active swapfile's block group
		sh(t, "swapoff", sw)
		if df := sh(t, "btrfs", "filesystem", "df", mnt); !strings.Contains(df, "Data, single") || !strings.Contains(df, "Data, DUP") {
			t.Fatalf("the balance did not leave both profiles:\n%s", df)
		}
		keeps(t, r)
		swaponOff(t, sw)
	})
	t.Run("ours in dup block groups", func(t *testing.T) {
		r := newRoot(t, 32*mib)
		mnt := r.path("ransomeye")
		loopFS(t, "btrfs", "512M", mnt, "-d", "dup")
		r.write(t, "etc/ransomeye/tuner.conf", conf)
		sw := filepath.Join(mnt, "swap")
		sh(t, "touch", sw)
		sh(t, "chattr", "+C", sw)
		makeSwapArea(t, sw, "64M", []string{"-L", "ransomeye-swap"})
		want := `the swapfile "/ransomeye/swap" lies in btrfs block groups of the data profile dup`
		if sw := statusSwap(t, r); sw["decision"] != "refuse" || !strings.Contains(sw["reason"].(string), want) {
			t.Errorf("status: %v: %v", sw["decision"], sw["reason"])
		}
		m := failedClosed(t, r, activate(t, r), want, "swapfile must have single data profile")
		cmd := regexp.MustCompile(`btrfs balance start -dconvert=single "([^"]+)"`).FindStringSubmatch(m)
		if cmd == nil {
			t.Fatalf("no balance remedy:\n%s", m)
		}
		sh(t, "btrfs", "balance", "start", "-dconvert=single", r.path(cmd[1]))
		os.Remove(r.marker())
		succeeded(t, r, activate(t, r))
		swaponOff(t, sw)
	})
}

// TestActivateMixedBtrfsBalanceRemedyWorks: on a btrfs with mixed block
// groups (mkfs.btrfs --mixed, dup) the kernel refuses the data conversion
// alone ("mixed groups data and metadata options must be the same"), so
// `btrfs balance start -dconvert=single DIR`, the remedy printed before,
// failed as written. The remedy printed converts both, and works as
// written: then activate makes a file the real swapon takes.
func TestActivateMixedBtrfsBalanceRemedyWorks(t *testing.T) {
	needRoot(t, "btrfs")
	r := newRoot(t, 32*mib)
	mnt := r.path("ransomeye")
	loopFS(t, "btrfs", "512M", mnt, "--mixed", "-d", "dup", "-m", "dup")
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	m := failedClosed(t, r, activate(t, r), "data profile dup")
	cmd := regexp.MustCompile(`btrfs balance start (.*) "([^"]+)"`).FindStringSubmatch(m)
	if cmd == nil {
		t.Fatalf("no balance remedy:\n%s", m)
	}
	args := append([]string{"balance", "start"}, strings.Fields(cmd[1])...)
	out, err := exec.Command("btrfs", append(args, r.path(cmd[2]))...).CombinedOutput()
	if err != nil {
		t.Fatalf("the printed remedy fails as written: btrfs %s %q: %v\n%s", strings.Join(args, " "), cmd[2], err, out)
	}
	os.Remove(r.marker())
	succeeded(t, r, activate(t, r))
	swaponOff(t, filepath.Join(mnt, "swap"))
}

// TestActivateReplacementFitsOnlyWithoutOldFile: after a RAM upgrade the
// target grows, and the filesystem has room for the new swapfile only once
// the old one (ours, inactive) is gone. The replacement was refused for
// want of the space the old file held, and the core stayed down until
// someone removed the tool's own file by hand. Now the old file is removed
// first (the log says so), the new one is made in its place; when that
// creation fails (ENOSPC injected into fallocate), the marker says the old
// file was removed, and the next activate makes the new one.
func TestActivateReplacementFitsOnlyWithoutOldFile(t *testing.T) {
	needRoot(t)
	for _, fail := range []bool{false, true} {
		name := "replaced"
		if fail {
			name = "creation fails after the removal"
		}
		t.Run(name, func(t *testing.T) {
			if fail {
				needStrace(t)
			}
			r := newRoot(t, 48*mib)
			dir := r.path("ransomeye")
			loopFS(t, "ext4", "128M", dir, "-b", "4096") // about 105 MiB free
			r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=16M\nReserve=0\n[CPU]\nIsolation=off\n")
			sw := filepath.Join(dir, "swap")
			succeeded(t, r, activate(t, r))
			checkSwapfile(t, sw, 48*mib)
			old := swapUUID(t, sw) // the inode number may be reused
			r.setMem(t, 64*mib)    // 64 MiB fits in 105, not beside the 48 MiB file

			plan := run(t, r, nil, "plan")
			if !strings.Contains(plan.stdout, "swapfile: replace: ") || !strings.Contains(plan.stdout, "the old file is removed first") {
				t.Errorf("plan does not replace, removing the old file first:\n%s%s", plan.stdout, plan.stderr)
			}
			if fail {
				res := runAct(t, r, nil, []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fallocate", "-e", "inject=fallocate:error=ENOSPC"}, "activate")
				failedClosed(t, r, res, "no space left on device", `the old swapfile "/ransomeye/swap" (48.0 MiB) was removed first to make room for its replacement`)
				if _, err := os.Lstat(sw); !os.IsNotExist(err) {
					t.Errorf("an entry is at the swapfile's path: %v", err)
				}
				noTemp(t, dir)
				os.Remove(r.marker())
			}
			res := activate(t, r)
			succeeded(t, r, res)
			checkSwapfile(t, sw, 64*mib)
			noTemp(t, dir)
			if swapUUID(t, sw) == old {
				t.Error("the old swap area is still there")
			}
			if !fail && !strings.Contains(res.stderr, `the old swapfile "/ransomeye/swap" (48.0 MiB) was removed first to make room for its replacement`) {
				t.Errorf("the log does not say the old file was removed:\n%s", res.stderr)
			}
			swaponOff(t, sw)
		})
	}
	// Active, it cannot be replaced: refused, with a remedy that turns it
	// on again after the replacement (the swap unit is left inactive by the
	// swapoff, and a restart of the activator does not start it).
	t.Run("active", func(t *testing.T) {
		r := newRoot(t, 48*mib)
		loopFS(t, "ext4", "128M", r.path("ransomeye"), "-b", "4096")
		r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=16M\nReserve=0\n[CPU]\nIsolation=off\n")
		succeeded(t, r, activate(t, r))
		sw := r.path("ransomeye/swap")
		old := inode(t, sw)
		r.setMem(t, 64*mib)
		r.setSwaps(t, "/ransomeye/swap "+strconv.FormatInt(48*mib-4096, 10))
		failedClosed(t, r, activate(t, r), "cannot be replaced while in use", `swapoff "/ransomeye/swap" && ransomeye-tuner recover`)
		if inode(t, sw) != old {
			t.Error("an active swapfile was removed or replaced")
		}
	})
}

// TestActivateReplacementFailureFreesSpaceAtOnce: on btrfs, with
// Reserve=0 and a disk sized for one swapfile, the old file is removed
// first and the new one made; its rename fails with ENOSPC (injected with
// strace into the renameat2 in the swapfile's directory). The marker says to
// restart the activator, but btrfs frees the extents of the temporary file
// removed on the failure only when its transaction commits: a restart
// right away said "0 B free" for half a minute. activate commits it
// (syncfs) before it returns, and a restart right away makes the file.
func TestActivateReplacementFailureFreesSpaceAtOnce(t *testing.T) {
	needRoot(t, "btrfs")
	needStrace(t)
	r := newRoot(t, 16*mib)
	mnt := r.path("ransomeye")
	loopFS(t, "btrfs", "300M", mnt)
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=16M\nReserve=0\n[CPU]\nIsolation=off\n")
	avail := func() int64 {
		var st unix.Statfs_t
		if err := unix.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Bavail) * st.Bsize
	}
	old := avail() / 2 / mib * mib
	r.setMem(t, old)
	succeeded(t, r, activate(t, r))
	target := (avail() + old) / mib * mib // fits only without the old file
	r.setMem(t, target)
	// Only in the swapfile's directory (-P, matched through the directory
	// descriptor): the marker's rename must work.
	res := runAct(t, r, nil, []string{"strace", "-f", "-qq", "-o", "/dev/null", "-P", mnt, "-e", "trace=renameat2", "-e", "inject=renameat2:error=ENOSPC"}, "activate")
	failedClosed(t, r, res, "no space left on device", "was removed first to make room for its replacement")
	os.Remove(r.marker())
	succeeded(t, r, activate(t, r))
	checkSwapfile(t, filepath.Join(mnt, "swap"), target)
	swaponOff(t, filepath.Join(mnt, "swap"))
}

// swapUUID returns the UUID mkswap wrote into the swap header at p.
func swapUUID(t *testing.T, p string) string {
	t.Helper()
	b := make([]byte, 1052)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return string(b[1036:1052])
}

// hibernate marks the swap area at p the way the kernel's swsusp does when
// it writes a hibernation image (kernel/power/swap.c, mark_swapfiles): the
// last 10 bytes of the first page (SWAPSPACE2) move to the 10 before them
// (orig_sig), the signature becomes sig, the image's first sector goes in
// front of them; the swap header before them stays as it was.
func hibernate(t *testing.T, p, sig string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps := os.Getpagesize()
	page := make([]byte, ps)
	if _, err := f.ReadAt(page, 0); err != nil {
		t.Fatal(err)
	}
	if string(page[ps-10:]) != "SWAPSPACE2" {
		t.Fatalf("%s is not a swap area", p)
	}
	copy(page[ps-20:ps-10], page[ps-10:])
	copy(page[ps-10:], append([]byte(sig), make([]byte, 10-len(sig))...))
	binary.LittleEndian.PutUint64(page[ps-32:], 1) // image: the first sector after the header
	if _, err := f.WriteAt(page, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestActivateDiscardsStaleHibernationImage: a swapfile holding a
// hibernation image that no boot resumed (the swap signature replaced by
// S1SUSPEND, as swsusp leaves it) was refused as "not a swap area: move it
// away", a remedy that keeps the image at the offset a later resume would
// read after this boot changed the filesystems. swapon(8) discards it by
// writing the swap signature back. activate does the same for its own file
// (label, root 0600): kept, same inode, the signature back, the real swapon
// takes it. Someone else's is refused untouched, naming the image, with a
// remedy that works as written.
func TestActivateDiscardsStaleHibernationImage(t *testing.T) {
	needRoot(t)
	for _, sig := range []string{"S1SUSPEND", "LINHIB0001"} {
		t.Run("ours "+sig, func(t *testing.T) {
			r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
			sw := r.path("ransomeye/swap")
			succeeded(t, r, activate(t, r))
			ino := inode(t, sw)
			hibernate(t, sw, sig)
			if st := run(t, r, nil, "status", "--no-metrics"); !strings.Contains(st.stdout, "hibernation image ("+sig+")") || !strings.Contains(st.stdout, "keep: ") || !strings.Contains(st.stdout, "discard it") {
				t.Errorf("status does not show the image and a keep:\n%s", st.stdout)
			}
			res := activate(t, r)
			succeeded(t, r, res)
			if !strings.Contains(res.stderr, "discarded the stale hibernation image") {
				t.Errorf("the log does not say the image was discarded:\n%s", res.stderr)
			}
			if inode(t, sw) != ino {
				t.Error("the swapfile was replaced, not taken back")
			}
			checkSwapfile(t, sw, 64*mib)
			swaponOff(t, sw)
		})
	}
	t.Run("not ours", func(t *testing.T) {
		r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
		sw := r.path("ransomeye/swap")
		makeSwapArea(t, sw, "64M", []string{"-L", "theirs"})
		hibernate(t, sw, "S1SUSPEND")
		before, _ := os.ReadFile(sw)
		m := failedClosed(t, r, activate(t, r), "hibernation image (signature S1SUSPEND", "left untouched", `swapon "/ransomeye/swap" && swapoff "/ransomeye/swap"`)
		if after, _ := os.ReadFile(sw); string(after) != string(before) {
			t.Error("someone else's file was changed")
		}
		// The remedy as written, on the host path of the fake root; then
		// the file is someone else's swap area, which is kept.
		sh(t, "swapon", sw)
		sh(t, "swapoff", sw)
		if !strings.Contains(m, "then: ransomeye-tuner recover") {
			t.Errorf("the remedy does not say how to clear the marker:\n%s", m)
		}
		os.Remove(r.marker())
		succeeded(t, r, activate(t, r))
	})
}

// TestActivateRunsSystemMkswap: a root shell keeps a user's $PATH (su
// without "-", sudo -E), and activate ran the first mkswap there, as root,
// on the swapfile's descriptor. It must run the system's; an override
// (the tests' fault injection) is taken only for a root-owned file no one
// else can write.
func TestActivateRunsSystemMkswap(t *testing.T) {
	needRoot(t)
	userBin := t.TempDir()
	os.Chmod(userBin, 0o755)
	witness := filepath.Join(userBin, "ran")
	fake := filepath.Join(userBin, "mkswap")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ntouch "+witness+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(fake, 1000, 1000); err != nil { // the user's
		t.Fatal(err)
	}
	t.Run("PATH", func(t *testing.T) {
		r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
		succeeded(t, r, run(t, r, []string{"PATH=" + userBin + ":" + os.Getenv("PATH")}, "activate"))
		if _, err := os.Stat(witness); err == nil {
			t.Error("the user's mkswap in $PATH ran as root")
		}
		checkSwapfile(t, r.path("ransomeye/swap"), 64*mib)
	})
	t.Run("override not root's", func(t *testing.T) {
		r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
		failedClosed(t, r, run(t, r, []string{"RANSOMEYE_TUNER_TEST_MKSWAP=" + fake}, "activate"), "RANSOMEYE_TUNER_TEST_MKSWAP", "not owned by root")
		if _, err := os.Stat(witness); err == nil {
			t.Error("an override owned by a user ran as root")
		}
	})
}

// TestFstabResolvedPathUnitNamed: with /ransomeye -> data/ransomeye and an
// /etc/fstab swap line for /data/ransomeye/swap, the generator wires the
// administrator's data-ransomeye-swap.swap and writes no unit of its own
// (generator's TestFstabNamesResolvedSwapfile). status, and the remedies
// it prints, must name that unit: ransomeye-swap.swap does not exist there.
func TestFstabResolvedPathUnitNamed(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 32*mib)
	loopFS(t, "ext4", "512M", r.path("data"))
	os.Mkdir(r.path("data/ransomeye"), 0o755)
	if err := os.Symlink("data/ransomeye", r.path("ransomeye")); err != nil {
		t.Fatal(err)
	}
	r.write(t, "etc/fstab", "/data/ransomeye/swap none swap sw 0 0\n")
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
	if res := activate(t, r); res.code != 0 {
		t.Fatalf("activate: exit %d\n%s", res.code, res.stderr)
	}
	sw := statusSwap(t, r) // not active: the remedy names the unit
	if sw["unit"] != "data-ransomeye-swap.swap" {
		t.Errorf("status names the unit %v, want data-ransomeye-swap.swap (the fstab line's)", sw["unit"])
	}
	if ni, _ := sw["not_in_effect"].(string); !strings.Contains(ni, "systemctl status data-ransomeye-swap.swap") {
		t.Errorf("the remedy does not name the fstab line's unit: %s", ni)
	}
}
