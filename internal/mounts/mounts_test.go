package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func write(t *testing.T, root hostroot.Root, p, s string) {
	t.Helper()
	full := root.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

const fstab = `# comment /ransomeye
UUID=1 / ext4 defaults 0 1
LABEL=ransomeye /ransomeye ext4 nofail 0 2
LABEL=deep /ransomeye/deep xfs nofail 0 2
/swapfile none swap sw 0 0
LABEL=sp /data\040disk ext4 nofail 0 2
`

const mountinfo = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 259:1 / /data\040disk rw,relatime shared:5 - ext4 /dev/nvme1n1 rw
`

// checkErr runs Check on dir and wants no error when wantErr is empty, else
// an error that contains wantErr.
func checkErr(t *testing.T, root hostroot.Root, dir, wantErr string) {
	t.Helper()
	err := Check(root, dir)
	if wantErr == "" {
		if err != nil {
			t.Errorf("Check(%q) = %v, want nil", dir, err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("Check(%q) = %v, want an error with %q", dir, err, wantErr)
	}
}

func TestCheck(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	write(t, root, "/etc/fstab", fstab)
	write(t, root, "/proc/self/mountinfo", mountinfo)
	for _, tc := range []struct {
		dir     string
		wantErr string
	}{
		{"/ransomeye", `"/ransomeye" in /etc/fstab) is not mounted`},
		{"/ransomeye/sub", `"/ransomeye" in /etc/fstab`},
		{"/ransomeye/deep/x", `"/ransomeye/deep" in /etc/fstab`},
		{"/ransomeyex", ""}, // not under /ransomeye
		{"/data disk", ""},  // mounted (octal escapes on both sides)
		{"/", ""},
		{"/var", ""},
	} {
		checkErr(t, root, tc.dir, tc.wantErr)
	}
}

func TestCheckCannotTell(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := Check(root, "/ransomeye"); err != nil {
		t.Errorf("no fstab: %v", err)
	}
	write(t, root, "/etc/fstab", fstab)
	if err := Check(root, "/ransomeye"); err != nil {
		t.Errorf("no mountinfo (a fake root): %v, want nil (cannot tell)", err)
	}
}

// TestMountedHost reads this machine's real mountinfo: "/" is mounted.
func TestMountedHost(t *testing.T) {
	if _, err := os.Stat("/proc/self/mountinfo"); err != nil {
		t.Skip("no /proc/self/mountinfo here")
	}
	if m, err := Mounted("/", "/"); err != nil || !m {
		t.Errorf("Mounted(/) = %v, %v", m, err)
	}
	if m, _ := Mounted("/", "/no/such/mount/point"); m {
		t.Error("a directory that is no mount point counts as mounted")
	}
}

// TestCheckBigOrUnreadable: a mountinfo past the old 4 MiB read bound was
// taken for "cannot tell" and the data-disk check was skipped (fail-open).
// A big one (many mounts) is now read whole; one past the bound, or one
// that cannot be read, or an fstab that cannot be read, fails closed.
func TestCheckBigOrUnreadable(t *testing.T) {
	var many strings.Builder
	for i := 0; many.Len() < 5<<20; i++ {
		fmt.Fprintf(&many, "%d 22 0:%d / /var/lib/containers/storage/overlay/%064d/merged rw,relatime shared:%d - overlay overlay rw\n", 100+i, 50+i, i, i)
	}
	t.Run("5 MiB mountinfo without the mount", func(t *testing.T) {
		root := hostroot.Root(t.TempDir())
		write(t, root, "/etc/fstab", fstab)
		write(t, root, "/proc/self/mountinfo", mountinfo+many.String())
		if err := Check(root, "/ransomeye"); err == nil || !strings.Contains(err.Error(), "is not mounted") {
			t.Errorf("Check = %v, want \"is not mounted\"", err)
		}
	})
	t.Run("5 MiB mountinfo with the mount last", func(t *testing.T) {
		root := hostroot.Root(t.TempDir())
		write(t, root, "/etc/fstab", fstab)
		write(t, root, "/proc/self/mountinfo", mountinfo+many.String()+"900 22 8:1 / /ransomeye rw - ext4 /dev/sdb1 rw\n")
		if err := Check(root, "/ransomeye"); err != nil {
			t.Errorf("Check = %v, want nil", err)
		}
	})
	t.Run("mountinfo past the bound", func(t *testing.T) {
		root := hostroot.Root(t.TempDir())
		write(t, root, "/etc/fstab", fstab)
		write(t, root, "/proc/self/mountinfo", mountinfo)
		if err := os.Truncate(root.Path("/proc/self/mountinfo"), maxMountinfo+1); err != nil {
			t.Fatal(err)
		}
		if err := Check(root, "/ransomeye"); err == nil || !strings.Contains(err.Error(), "cannot tell whether") || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("Check = %v, want it to fail closed naming the size", err)
		}
	})
	t.Run("mountinfo not a regular file", func(t *testing.T) {
		root := hostroot.Root(t.TempDir())
		write(t, root, "/etc/fstab", fstab)
		if err := os.MkdirAll(root.Path("/proc/self/mountinfo"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := Check(root, "/ransomeye"); err == nil || !strings.Contains(err.Error(), "cannot tell whether") {
			t.Errorf("Check = %v, want it to fail closed", err)
		}
	})
	t.Run("fstab past the bound", func(t *testing.T) {
		root := hostroot.Root(t.TempDir())
		write(t, root, "/etc/fstab", fstab)
		write(t, root, "/proc/self/mountinfo", mountinfo)
		if err := os.Truncate(root.Path("/etc/fstab"), maxFstab+1); err != nil {
			t.Fatal(err)
		}
		if err := Check(root, "/ransomeye"); err == nil || !strings.Contains(err.Error(), "cannot tell which filesystem") {
			t.Errorf("Check = %v, want it to fail closed", err)
		}
	})
}

// TestCheckNamesMountUnit: the hint names the mount unit as systemd does
// (the hand-made name got a path with a space wrong).
func TestCheckNamesMountUnit(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	write(t, root, "/etc/fstab", "LABEL=sp /srv/data\\040disk ext4 nofail 0 2\nLABEL=x /srv/a-b ext4 nofail 0 2\n")
	write(t, root, "/proc/self/mountinfo", mountinfo)
	for dir, want := range map[string]string{"/srv/data disk/swap": `srv-data\x20disk.mount`, "/srv/a-b": `srv-a\x2db.mount`} {
		if err := Check(root, dir); err == nil || !strings.Contains(err.Error(), "systemctl status "+want+")") {
			t.Errorf("Check(%q) = %v, want it to name %s", dir, err, want)
		}
	}
}

// TestCheckMountUnits: a data disk described by a native mount unit, not
// by /etc/fstab, was not checked: the swapfile went to the root filesystem.
func TestCheckMountUnits(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	write(t, root, "/etc/fstab", "UUID=1 / ext4 defaults 0 1\n")
	write(t, root, "/proc/self/mountinfo", mountinfo)
	write(t, root, "/etc/systemd/system/data.mount", "[Mount]\nWhat=LABEL=data\nWhere=/data\n")
	write(t, root, "/usr/lib/systemd/system/srv.mount", "[Mount]\nWhat=LABEL=srv\nWhere=/srv\n")
	write(t, root, "/lib/systemd/system/opt-x.mount", "[Mount]\nWhat=LABEL=x\nWhere=/opt/x\n")
	write(t, root, "/usr/lib/systemd/system/masked.mount", "[Mount]\nWhat=LABEL=m\nWhere=/masked\n")
	if err := os.Symlink("/dev/null", root.Path("/etc/systemd/system/masked.mount")); err != nil {
		t.Fatal(err)
	}
	write(t, root, "/run/systemd/system/empty.mount", "")
	write(t, root, "/etc/systemd/system/data\\x20disk.mount", "[Mount]\nWhat=LABEL=sp\nWhere=/data disk\n")
	for _, tc := range []struct {
		dir     string
		wantErr string
	}{
		{"/data/ransomeye", `"/data" the mount unit /etc/systemd/system/data.mount) is not mounted`},
		{"/data", "systemctl status data.mount)"},
		{"/srv/a/b", "/usr/lib/systemd/system/srv.mount"},
		{"/opt/x/swapdir", "/lib/systemd/system/opt-x.mount"},
		{"/datax", ""},       // not under /data
		{"/masked/x", ""},    // masked in /etc: no mount
		{"/empty/x", ""},     // an empty unit file masks it too
		{"/data disk/x", ""}, // mounted
		{"/ransomeye", ""},   // no unit, no fstab entry
	} {
		checkErr(t, root, tc.dir, tc.wantErr)
	}
	// Mounted: no error.
	write(t, root, "/proc/self/mountinfo", mountinfo+"31 22 259:2 / /data rw - xfs /dev/vdb rw\n")
	if err := Check(root, "/data/ransomeye"); err != nil {
		t.Errorf("Check with /data mounted = %v", err)
	}
}
