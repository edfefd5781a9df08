package swapfile

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
)

const mib = int64(1) << 20

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: links and directories must be root's to be trusted")
	}
}

// fakeRoot is a root prefix with a fake /proc (meminfo, swaps).
type fakeRoot struct {
	hostroot.Root
	t *testing.T
}

func newRoot(t *testing.T, memTotal int64) fakeRoot {
	t.Helper()
	r := fakeRoot{hostroot.Root(t.TempDir()), t}
	r.write("/proc/meminfo", fmt.Sprintf("MemTotal: %d kB\n", memTotal/1024))
	r.swaps()
	return r
}

func (r fakeRoot) write(p, content string) {
	r.t.Helper()
	full := r.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// swaps writes /proc/swaps; each entry is a name as the kernel prints it
// (octal escapes included) and its size as /proc/swaps counts it.
func (r fakeRoot) swaps(entries ...string) {
	s := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	for i := 0; i+1 < len(entries); i += 2 {
		s += fmt.Sprintf("%s\tfile\t\t%s\t\t0\t\t-2\n", entries[i], entries[i+1])
	}
	r.write("/proc/swaps", s)
}

func (r fakeRoot) symlink(target, link string) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(r.Path(link)), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Symlink(target, r.Path(link)); err != nil {
		r.t.Fatal(err)
	}
}

// swapArea writes a fully allocated file of size bytes holding a swap
// header (label ransomeye-swap) at host path p, mode 0600.
func (r fakeRoot) swapArea(p string, size int64) {
	r.t.Helper()
	ps := os.Getpagesize()
	page := make([]byte, ps)
	binary.LittleEndian.PutUint32(page[1024:], 1)
	binary.LittleEndian.PutUint32(page[1028:], uint32(size/int64(ps)-1))
	copy(page[1052:], "ransomeye-swap")
	copy(page[ps-10:], Signature)
	full := r.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	f, err := os.OpenFile(full, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(page); err != nil {
		r.t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, size-int64(ps))); err != nil {
		r.t.Fatal(err)
	}
}

func cfg(path string, minSize int64) config.Config {
	c := config.Default()
	c.SwapPath, c.MinSize, c.Reserve = path, minSize, 0
	return c
}

// planned is a swapfile inspected and decided, as activate and the gate
// see it.
type planned struct {
	*Swapfile
	swap.Decision
	fixes
}

func make1(t *testing.T, r fakeRoot, c config.Config) planned {
	t.Helper()
	ps := os.Getpagesize()
	swaps, err := procfs.ReadSwaps(r.Root)
	mem, merr := procfs.ReadMeminfo(r.Root)
	s := Inspect(r.Root, c, false, true, swaps, err, ps)
	t.Cleanup(func() { s.Close() })
	d := s.Decide(swap.NewTarget(c.MinSize, mem, merr, ps))
	fx, _ := d.Detail.(fixes)
	return planned{s, d, fx}
}

// TestActiveByInode: the kernel names the file by its real path; through
// a symlinked directory that differs from the configured one, and our swap
// area is still recognised by device and inode (it was "not active" for
// status and the gate, and a rerun took it for other swap and tried to
// replace it).
func TestActiveByInode(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 16*mib)
	r.symlink("/data/ransomeye", "/ransomeye")
	r.swapArea("/data/ransomeye/swap", 32*mib)
	real := r.Path("/data/ransomeye/swap")
	r.swaps(real, fmt.Sprint((32*mib-int64(os.Getpagesize()))/1024))
	p := make1(t, r, cfg("/ransomeye/swap", 32*mib))
	if p.Ours == nil || !p.InEffect || len(p.Others) != 0 {
		t.Fatalf("ours %v, in effect %v (%s), others %v", p.Ours, p.InEffect, p.NotInEffect, p.Others)
	}
	if p.Resolved != "/data/ransomeye" || p.Action != swap.Keep {
		t.Errorf("resolved %q, action %s: %s", p.Resolved, p.Action, p.Reason)
	}
	// MinSize raised while active: our own file, too small, refused with
	// the real remedy (not taken for other swap and replaced).
	p = make1(t, r, cfg("/ransomeye/swap", 64*mib))
	if p.Ours == nil || p.InEffect || p.Action != swap.Refuse || !strings.Contains(p.Reason, "swapoff") || !strings.Contains(p.Reason, "reboot") {
		t.Errorf("raised MinSize: ours %v, in effect %v, %s: %s", p.Ours, p.InEffect, p.Action, p.Reason)
	}
	// The size the kernel gives counts, as /proc/swaps says it.
	r.swaps(real, fmt.Sprint((32*mib-2*int64(os.Getpagesize()))/1024))
	p = make1(t, r, cfg("/ransomeye/swap", 32*mib))
	if p.Ours == nil || p.InEffect || !strings.Contains(p.NotInEffect, "less than the target") {
		t.Errorf("a page short: in effect %v: %s", p.InEffect, p.NotInEffect)
	}
}

// TestIdentify: names as /proc/swaps prints them.
func TestIdentify(t *testing.T) {
	r := newRoot(t, 16*mib)
	r.write("/dir with space/swap", "x")
	r.write("/real/swap", "x")
	r.symlink("/real", "/link")
	for name, want := range map[string]bool{
		r.Path("/dir with space/swap"):           true,
		"/dir with space/swap":                   true, // a host path under the prefix
		r.Path("/real/swap") + " (deleted)":      false,
		r.Path("/link/swap"):                     false, // a link on the way: not followed
		r.Path("/real"):                          false, // not a regular file
		r.Path("/real/swap"):                     true,
		string(r.Root) + "/real/../real/swap":    false, // never climbs
		r.Path("/nonexistent"):                   false,
		string(r.Root) + "/real/swap (deleted)x": false,
	} {
		if _, ok := Identify(r.Root, name); ok != want {
			t.Errorf("Identify(%q) = %v, want %v", name, ok, want)
		}
	}
}

// TestUnsafeResolvedDir: the resolved path counts. /ransomeye ->
// /data/alice/rs with /data/alice owned by uid 1000 was accepted (only the
// lexical ancestors were checked), and alice could swing rs anywhere.
func TestUnsafeResolvedDir(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 16*mib)
	if err := os.MkdirAll(r.Path("/data/alice/rs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.Path("/data/alice"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	r.symlink("/data/alice/rs", "/ransomeye")
	p := make1(t, r, cfg("/ransomeye/swap", 32*mib))
	if p.Action != swap.Refuse || !strings.Contains(p.Reason, `"/data/alice" is owned by uid 1000`) || !strings.Contains(p.Reason, "chown root:root") {
		t.Errorf("%s: %s", p.Action, p.Reason)
	}
	if p.dir != nil {
		t.Error("a refused directory is handed out for the effects")
	}
}

// TestDataDiskNotMountedThroughLink: fstab has /data, only / is mounted,
// /ransomeye -> /data/ransomeye: refused naming /data (the check ran on the
// configured, lexical, directory only).
func TestDataDiskNotMountedThroughLink(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 16*mib)
	r.write("/etc/fstab", "LABEL=data /data ext4 defaults 0 2\n")
	r.write("/proc/self/mountinfo", "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
	if err := os.MkdirAll(r.Path("/data"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.symlink("/data/ransomeye", "/ransomeye")
	p := make1(t, r, cfg("/ransomeye/swap", 32*mib))
	if p.Action != swap.Refuse || !strings.Contains(p.Reason, `"/data" in /etc/fstab) is not mounted`) {
		t.Errorf("%s: %s", p.Action, p.Reason)
	}
	if !p.DirMissing || p.Resolved != "/data/ransomeye" {
		t.Errorf("resolved %q, missing %v", p.Resolved, p.DirMissing)
	}
	if _, err := os.Lstat(r.Path("/data/ransomeye")); !os.IsNotExist(err) {
		t.Errorf("Make created the directory: %v", err)
	}
}

// TestInEffectNeedsWhatActivateKeeps: the swap guarantee held for any
// active file of the right device, inode and size: the gate opened on a
// swapfile whose directory had become uid 1000's, and on a swap area owned
// by uid 1000, both of which activate refuses.
func TestInEffectNeedsWhatActivateKeeps(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 16*mib)
	r.swapArea("/ransomeye/swap", 32*mib)
	r.swaps(r.Path("/ransomeye/swap"), fmt.Sprint((32*mib-int64(os.Getpagesize()))/1024))
	c := cfg("/ransomeye/swap", 32*mib)
	if p := make1(t, r, c); !p.InEffect {
		t.Fatalf("healthy: not in effect: %s", p.NotInEffect)
	}
	for _, tc := range []struct {
		name   string
		change func() error
		want   string
	}{
		{"directory owned by uid 1000", func() error { return os.Chown(r.Path("/ransomeye"), 1000, 0) }, "owned by uid 1000"},
		{"directory mode 0777", func() error { return os.Chmod(r.Path("/ransomeye"), 0o777) }, "writable by other users"},
		{"file owned by uid 1000", func() error { return os.Chown(r.Path("/ransomeye/swap"), 1000, 1000) }, "root:root 0600"},
		{"file mode 0644", func() error { return os.Chmod(r.Path("/ransomeye/swap"), 0o644) }, "root:root 0600"},
	} {
		if err := tc.change(); err != nil {
			t.Fatal(err)
		}
		p := make1(t, r, c)
		if p.Ours == nil || p.InEffect || !strings.Contains(p.NotInEffect, tc.want) || !strings.Contains(p.NotInEffect, "is active, but") {
			t.Errorf("%s: ours %v, in effect %v: %q, want it not in effect with %q", tc.name, p.Ours != nil, p.InEffect, p.NotInEffect, tc.want)
		}
		os.Chown(r.Path("/ransomeye"), 0, 0)
		os.Chmod(r.Path("/ransomeye"), 0o755)
		os.Chown(r.Path("/ransomeye/swap"), 0, 0)
		os.Chmod(r.Path("/ransomeye/swap"), 0o600)
	}
}

// TestInEffectWrongTypeCannotAsk: under SELinux, our active swapfile of
// another type than swapfile_t is not in effect (activate relabels it
// first), also for a caller that cannot write /sys/fs/selinux/context to
// validate the context (a read-only /sys: the metrics service's
// ProtectKernelTunables=; here the node is a directory, a fake of it).
// Why: such a caller took it for "SELinux cannot label" and checked no
// type, so the metrics said the swap guarantee held while status and the
// gate said it did not.
func TestInEffectWrongTypeCannotAsk(t *testing.T) {
	needRoot(t)
	r := newRoot(t, 16*mib)
	r.write("/sys/fs/selinux/enforce", "1\n")
	r.write("/sys/fs/selinux/mls", "1\n")
	if err := os.MkdirAll(r.Path("/sys/fs/selinux/context"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.swapArea("/ransomeye/swap", 32*mib)
	if err := unix.Lsetxattr(r.Path("/ransomeye/swap"), "security.selinux", []byte("system_u:object_r:default_t:s0\x00"), 0); err != nil {
		t.Skipf("cannot set security.selinux here: %v", err)
	}
	r.swaps(r.Path("/ransomeye/swap"), fmt.Sprint((32*mib-int64(os.Getpagesize()))/1024))
	p := make1(t, r, cfg("/ransomeye/swap", 32*mib))
	if p.Ours == nil || p.InEffect || !p.context || !strings.Contains(p.NotInEffect, "swapfile_t") {
		t.Errorf("ours %v, in effect %v, relabel %v: %q; want it not in effect until relabelled swapfile_t", p.Ours != nil, p.InEffect, p.context, p.NotInEffect)
	}
}
