package mounts

import (
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
		err := Check(root, tc.dir)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v, want nil", tc.dir, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Check(%q) = %v, want an error with %q", tc.dir, err, tc.wantErr)
		}
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
	if m, known := Mounted("/", "/"); !known || !m {
		t.Errorf("Mounted(/) = %v, %v", m, known)
	}
	if m, _ := Mounted("/", "/no/such/mount/point"); m {
		t.Error("a directory that is no mount point counts as mounted")
	}
}
