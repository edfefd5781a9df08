package statedir

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// root makes a temporary root with the directories given (mode 0755).
// Records go to a directory only root may own: the tests need root.
func root(t *testing.T, dirs ...string) hostroot.Root {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the records go to a directory only root may own: run as root")
	}
	r := hostroot.Root(t.TempDir())
	if err := os.Chmod(r.String(), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(r.Path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// TestAddSwapfile: each swapfile is recorded once, by its path, in a file
// the maintainer scripts read a line at a time (comments skipped); a path
// with a newline, or one that is not absolute and clean, is refused.
func TestAddSwapfile(t *testing.T) {
	r := root(t, "/var/lib")
	for i, p := range []string{"/data/ransomeye/swap", "/data/moved/swap", "/data/ransomeye/swap"} {
		added, err := AddSwapfile(r, p)
		if err != nil || added != (i < 2) {
			t.Errorf("AddSwapfile(%q) = %v, %v; want %v, nil", p, added, err, i < 2)
		}
	}
	got, err := Read(r, Swapfiles)
	if want := []string{"/data/ransomeye/swap", "/data/moved/swap"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Read = %q, %v; want %q", got, err, want)
	}
	b, err := os.ReadFile(r.Path(Dir + "/" + Swapfiles))
	if err != nil || !strings.HasPrefix(string(b), "# ") {
		t.Errorf("the record starts with a comment that says what it is: %q %v", b, err)
	}
	for _, bad := range []string{"/data/x\n/etc/passwd", "data/x", "/data/../etc/x"} {
		if _, err := AddSwapfile(r, bad); err == nil {
			t.Errorf("AddSwapfile(%q) recorded it", bad)
		}
	}
	if got, _ := Read(r, Swapfiles); len(got) != 2 {
		t.Errorf("a refused path changed the record: %q", got)
	}
}

// TestNotNowCreatesNothing: activate runs before /var is mounted when /var
// is a filesystem of its own. Without /var/lib, or with the fstab's /var
// not mounted, no record is written (ErrNotNow) and nothing is created
// underneath the mount point.
func TestNotNowCreatesNothing(t *testing.T) {
	r := root(t, "/var")
	if _, err := AddSwapfile(r, "/data/swap"); !errors.Is(err, ErrNotNow) {
		t.Errorf("without /var/lib: %v, want ErrNotNow", err)
	}
	if _, err := os.Lstat(r.Path("/var/lib")); !os.IsNotExist(err) {
		t.Errorf("/var/lib was created: %v", err)
	}

	r = root(t, "/var/lib", "/etc", "/proc/self")
	write := func(p, s string) {
		if err := os.WriteFile(r.Path(p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/etc/fstab", "/dev/vdb /var ext4 defaults 0 2\n")
	write("/proc/self/mountinfo", "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n")
	if _, err := AddSwapfile(r, "/data/swap"); !errors.Is(err, ErrNotNow) {
		t.Errorf("/var in fstab, not mounted: %v, want ErrNotNow", err)
	}
	if _, err := os.Lstat(r.Path(Dir)); !os.IsNotExist(err) {
		t.Errorf("%s was created under the unmounted /var: %v", Dir, err)
	}
	write("/proc/self/mountinfo", "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n23 22 254:17 / /var rw shared:2 - ext4 /dev/vdb rw\n")
	if added, err := AddSwapfile(r, "/data/swap"); err != nil || !added {
		t.Errorf("/var mounted: %v, %v", added, err)
	}
}

// TestRecordDirRootOnly: a record directory other users can write is
// refused (they could plant paths a purge then removes).
func TestRecordDirRootOnly(t *testing.T) {
	r := root(t, "/var/lib/ransomeye-tuner")
	if err := os.Chmod(r.Path(Dir), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := AddSwapfile(r, "/data/swap"); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("a world-writable %s: %v", Dir, err)
	}
	if err := os.Chmod(r.Path(Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Dir(r.Path(Dir)), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := AddSwapfile(r, "/data/swap"); err == nil || !strings.Contains(err.Error(), "not root") {
		t.Errorf("/var/lib owned by uid 1000: %v", err)
	}
}
