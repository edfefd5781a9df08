package marker

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/rundir"
)

func TestFormatParse(t *testing.T) {
	when := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	in := []Entry{
		{Reason: "not enough space on the ext4 filesystem", Time: when, BootID: "b1", Source: "activate", Core: "db.service", Step: StepSwap},
		{Reason: "forged\nreason: all good", Time: when, BootID: "b1", Source: "fail-closed"},
	}
	text := Format(in)
	if !strings.HasPrefix(text, "# ransomeye-tuner") {
		t.Errorf("marker does not start with the header: %q", text)
	}
	out := Parse(text)
	if len(out) != 2 {
		t.Fatalf("Parse gave %d entries, want 2 (a newline in a reason must not forge an entry): %q", len(out), text)
	}
	if out[0].Reason != in[0].Reason || !out[0].Time.Equal(when) || out[0].BootID != "b1" || out[0].Source != "activate" || out[0].Core != "db.service" || out[0].Step != StepSwap {
		t.Errorf("entry 0 = %+v", out[0])
	}
	if out[1].Reason != "forged reason: all good" {
		t.Errorf("entry 1 reason = %q", out[1].Reason)
	}
	if got := Parse("disk died\n"); len(got) != 1 || got[0].Reason != "disk died" {
		t.Errorf("hand-written marker parsed as %+v", got)
	}
	if got := Parse(""); len(got) != 0 {
		t.Errorf("empty marker parsed as %+v", got)
	}
}

func TestTrim(t *testing.T) {
	var es []Entry
	for i := range 50 {
		es = append(es, Entry{Reason: string(rune('a' + i%26))})
	}
	got := trim(es)
	if len(got) != maxEntries || got[0].Reason != "a" || got[len(got)-1].Reason != es[49].Reason {
		t.Errorf("trim kept %d entries, first %q, last %q", len(got), got[0].Reason, got[len(got)-1].Reason)
	}
}

// newRoot makes a fake root whose /var/lock is a symlink to ../run/lock, as
// on Debian, with /run/lock world-writable and sticky.
func newRoot(t *testing.T) hostroot.Root {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: markers count only when owned by root")
	}
	dir := t.TempDir()
	for _, d := range []string{"var", "run/lock", "proc/sys/kernel/random"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Chmod(filepath.Join(dir, "run/lock"), 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/lock", filepath.Join(dir, "var/lock")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "proc/sys/kernel/random/boot_id"), []byte("0f6c1c9e-aaaa-bbbb-cccc-123456789abc\n"), 0o644)
	return hostroot.Root(dir)
}

func markerFile(root hostroot.Root) string { return root.Path("/run/lock/ransomeye-resource-fail") }

func TestWriteAppendClear(t *testing.T) {
	root := newRoot(t)
	if BootID(root) != "0f6c1c9e-aaaa-bbbb-cccc-123456789abc" {
		t.Errorf("BootID = %q", BootID(root))
	}
	res, err := Write(root, Entry{Reason: "first cause", Time: time.Now(), BootID: BootID(root), Source: "activate"})
	if err != nil || res.Written != "/var/lock/ransomeye-resource-fail" {
		t.Fatalf("Write = %+v, %v", res, err)
	}
	fi, err := os.Lstat(markerFile(root))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("marker through /var/lock -> ../run/lock: %v %v", fi, err)
	}
	if _, err := Write(root, Entry{Reason: "second cause", Time: time.Now(), Source: "fail-closed"}); err != nil {
		t.Fatal(err)
	}
	blocked, states, _ := gate(root)
	if !blocked || len(states) == 0 || !states[0].Genuine {
		t.Fatalf("Gate = %v %+v", blocked, states)
	}
	r := states[0].Reasons()
	if len(r) != 2 || r[0] != "first cause" || r[1] != "second cause" {
		t.Errorf("reasons = %q, want the first kept and the second appended", r)
	}
	ents, _ := os.ReadDir(root.Path("/run/lock"))
	if len(ents) != 1 {
		t.Errorf("lock dir holds %d entries, want only the marker (no temp files)", len(ents))
	}
	cres, err := Clear(root)
	if err != nil || len(cres.Removed) != 1 {
		t.Errorf("Clear = %+v, %v", cres, err)
	}
	if blocked, _, _ := gate(root); blocked {
		t.Error("Gate blocked after Clear")
	}
}

// Fault row 18: a symlink planted at the marker's name is never written
// through: Write replaces the link, the gate removes a planted link.
func TestPlantedSymlink(t *testing.T) {
	root := newRoot(t)
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	if err := os.Symlink(victim, markerFile(root)); err != nil {
		t.Fatal(err)
	}
	blocked, _, res := gate(root)
	if blocked || len(res.Planted) != 1 || !strings.Contains(res.Planted[0], "symbolic link") {
		t.Errorf("Gate with a planted symlink: blocked=%v %+v", blocked, res)
	}
	if _, err := os.Lstat(markerFile(root)); !os.IsNotExist(err) {
		t.Errorf("planted symlink still there: %v", err)
	}
	os.Symlink(victim, markerFile(root))
	res, err := Write(root, Entry{Reason: "real failure", Time: time.Now()})
	if err != nil || len(res.Planted) != 1 {
		t.Fatalf("Write over a planted symlink = %+v, %v", res, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("symlink target changed to %q", b)
	}
	fi, _ := os.Lstat(markerFile(root))
	if fi == nil || !fi.Mode().IsRegular() {
		t.Errorf("marker is not a regular file after Write: %v", fi)
	}
	if blocked, _, _ := gate(root); !blocked {
		t.Error("genuine marker written over a planted link does not block")
	}
}

// Fault row 18: a marker planted by an unprivileged user (or a hard link to
// a root file) cannot keep the core down: removed, reported.
func TestPlantedFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, p string)
		why   string
	}{
		{"foreign file", func(t *testing.T, p string) {
			os.WriteFile(p, []byte("reason: gotcha\n"), 0o644)
			os.Chown(p, 65534, 65534)
		}, "uid 65534"},
		{"hard link", func(t *testing.T, p string) {
			other := filepath.Join(filepath.Dir(p), "rootfile")
			os.WriteFile(other, []byte("x"), 0o644)
			if err := os.Link(other, p); err != nil {
				t.Fatal(err)
			}
		}, "hard link"},
		{"foreign directory", func(t *testing.T, p string) {
			os.MkdirAll(filepath.Join(p, "sub"), 0o755)
			os.Chown(p, 65534, 65534)
		}, "uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := newRoot(t)
			tc.plant(t, markerFile(root))
			blocked, _, res := gate(root)
			if blocked || len(res.Planted) != 1 || !strings.Contains(res.Planted[0], tc.why) {
				t.Errorf("Gate: blocked=%v %+v", blocked, res)
			}
			if _, err := os.Lstat(markerFile(root)); !os.IsNotExist(err) {
				t.Errorf("planted entry still at the marker's name: %v", err)
			}
			tc.plant(t, markerFile(root))
			if _, err := Write(root, Entry{Reason: "real"}); err != nil {
				t.Fatalf("Write over a planted entry: %v", err)
			}
			_, states, _ := gate(root)
			if r := states[0].Reasons(); len(r) != 1 || r[0] != "real" {
				t.Errorf("reasons after Write over a planted entry: %q (planted content must not be kept)", r)
			}
		})
	}
}

// Fault row 9: with a read-only /var/lock the marker goes to the root-only
// fallback, and the gate still blocks.
func TestReadOnlyLockDir(t *testing.T) {
	root := newRoot(t)
	lock := root.Path("/run/lock")
	if err := syscall.Mount(lock, lock, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	defer syscall.Unmount(lock, syscall.MNT_DETACH)
	if err := syscall.Mount("", lock, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	res, err := Write(root, Entry{Reason: "disk full"})
	if err != nil || res.Written != FallbackPath || len(res.Problems) != 1 {
		t.Fatalf("Write = %+v, %v; want the fallback", res, err)
	}
	fi, err := os.Stat(root.Path(rundir.Path))
	if err != nil || fi.Mode().Perm() != rundir.Mode {
		t.Errorf("fallback dir: %v %v, want mode %v", fi, err, rundir.Mode)
	}
	blocked, states, _ := gate(root)
	if !blocked || states[1].Reasons()[0] != "disk full" {
		t.Errorf("Gate with the fallback marker: %v %+v", blocked, states)
	}
	if _, err := Clear(root); err != nil {
		t.Errorf("Clear: %v", err)
	}
	if blocked, _, _ := gate(root); blocked {
		t.Error("still blocked after Clear")
	}
}

// /var/lock as a symlink owned by someone else is not followed; the lock
// directory made when missing is root's.
func TestLockDirResolution(t *testing.T) {
	root := newRoot(t)
	os.Remove(root.Path("/var/lock"))
	evil := t.TempDir()
	os.Symlink(evil, root.Path("/var/lock"))
	os.Lchown(root.Path("/var/lock"), 65534, 65534)
	res, err := Write(root, Entry{Reason: "x"})
	if err != nil || res.Written != FallbackPath {
		t.Errorf("Write with a foreign /var/lock symlink = %+v, %v; want the fallback", res, err)
	}
	if ents, _ := os.ReadDir(evil); len(ents) != 0 {
		t.Errorf("wrote through a foreign symlink: %v", ents)
	}
	// /var/lock -> /run/lock with /run/lock missing: created.
	root = newRoot(t)
	os.Remove(root.Path("/var/lock"))
	os.Symlink("/run/lock", root.Path("/var/lock"))
	os.RemoveAll(root.Path("/run/lock"))
	res, err = Write(root, Entry{Reason: "y"})
	if err != nil || res.Written != "/var/lock/ransomeye-resource-fail" {
		t.Fatalf("Write with /run/lock missing = %+v, %v", res, err)
	}
	if _, err := os.Stat(markerFile(root)); err != nil {
		t.Errorf("marker not in the created /run/lock: %v", err)
	}
	// /var/lock missing (a /var not mounted yet): the marker goes to
	// /run/lock, and no /var/lock directory is made that a mount would hide.
	root = newRoot(t)
	os.Remove(root.Path("/var/lock"))
	res, err = Write(root, Entry{Reason: "z"})
	if err != nil || res.Written != "/var/lock/ransomeye-resource-fail" {
		t.Fatalf("Write with /var/lock missing = %+v, %v", res, err)
	}
	if _, err := os.Stat(markerFile(root)); err != nil {
		t.Errorf("marker not in /run/lock: %v", err)
	}
	if _, err := os.Lstat(root.Path("/var/lock")); !os.IsNotExist(err) {
		t.Errorf("/var/lock was created: %v", err)
	}
	if blocked, _, _ := gate(root); !blocked {
		t.Error("gate does not see the marker in /run/lock")
	}
}

// The success record: written for this boot, refused from another boot or
// when not root's, removed without needing space.
func TestOKRecord(t *testing.T) {
	root := newRoot(t)
	if ok, why := CheckOK(root, "b1"); ok || !strings.Contains(why, "has not succeeded") {
		t.Errorf("CheckOK before any write: %v %q", ok, why)
	}
	if err := RemoveOK(root); err != nil {
		t.Errorf("RemoveOK with nothing there: %v", err)
	}
	if err := WriteOK(root, "b1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, why := CheckOK(root, "b1"); !ok {
		t.Errorf("CheckOK after WriteOK: %q", why)
	}
	if ok, why := CheckOK(root, "b2"); ok || !strings.Contains(why, "another boot") {
		t.Errorf("CheckOK for another boot: %v %q", ok, why)
	}
	fi, err := os.Stat(root.Path(rundir.Path))
	if err != nil || fi.Mode().Perm() != rundir.Mode {
		t.Errorf("record directory: %v %v, want mode %v", fi, err, rundir.Mode)
	}
	p := root.Path(OKPath)
	os.Chown(p, 1000, 1000)
	if ok, _ := CheckOK(root, "b1"); ok {
		t.Error("a record owned by another user counts")
	}
	if err := RemoveOK(root); err != nil {
		t.Fatal(err)
	}
	if ok, _ := CheckOK(root, "b1"); ok {
		t.Error("record still counts after RemoveOK")
	}
	WriteOK(root, "b1", time.Now())
	os.Chmod(root.Path("/run/ransomeye-tuner"), 0o777)
	if ok, why := CheckOK(root, "b1"); ok || !strings.Contains(why, "writable by other users") {
		t.Errorf("record in a world-writable directory: %v %q", ok, why)
	}
}

// gate is the gate's marker rule over RemovePlanted and Inspect: the core
// is kept down by a genuine marker or a location that cannot be examined.
func gate(root hostroot.Root) (blocked bool, states []State, res Result) {
	res = RemovePlanted(root)
	states = Inspect(root)
	for _, st := range states {
		blocked = blocked || st.Genuine || st.Err != nil
	}
	return blocked, states, res
}
