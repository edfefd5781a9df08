package swapfile

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	action "github.com/ransomeye/ransomeye-tuner/internal/swap"
)

const gib = int64(1) << 30

func header(pageSize int, sig string, version uint32, label string) []byte {
	p := make([]byte, pageSize)
	binary.LittleEndian.PutUint32(p[1024:], version)
	binary.LittleEndian.PutUint32(p[1028:], 1000)
	copy(p[1052:1068], label)
	copy(p[pageSize-10:], sig)
	return p
}

func TestParseHeader(t *testing.T) {
	h := ParseHeader(header(4096, "SWAPSPACE2", 1, "ransomeye-swap"), 4096)
	if !h.Swap || h.Version != 1 || h.LastPage != 1000 || h.BadPages != 0 || h.Label != "ransomeye-swap" {
		t.Errorf("good header parsed as %+v", h)
	}
	bad := header(4096, "SWAPSPACE2", 1, "")
	binary.LittleEndian.PutUint32(bad[1032:], 3)
	if h := ParseHeader(bad, 4096); h.BadPages != 3 {
		t.Errorf("nr_badpages parsed as %d, want 3", h.BadPages)
	}
	for name, page := range map[string][]byte{
		"old signature":   header(4096, "SWAP-SPACE", 1, ""),
		"wrong page size": header(65536, "SWAPSPACE2", 1, ""),
		"short":           header(4096, "SWAPSPACE2", 1, "")[:4000],
		"zeros":           make([]byte, 4096),
	} {
		if h := ParseHeader(page, 4096); h.Swap {
			t.Errorf("%s: parsed as swap: %+v", name, h)
		}
	}
}

func TestDecide(t *testing.T) {
	const target = 16 * gib
	swap := func(mod func(*Existing)) Existing {
		e := Existing{Path: "/ransomeye/swap", Kind: Regular, Size: target, Allocated: target, Perm: 0o600,
			Header: Header{Swap: true, Version: 1, Label: "ransomeye-swap"}}
		if mod != nil {
			mod(&e)
		}
		if e.Area == 0 && e.Header.Swap {
			e.Area = e.Size // a header that describes the whole file
		}
		return e
	}
	for _, tc := range []struct {
		name      string
		e         Existing
		active    bool
		nocow     bool
		want      string
		fix       bool
		reasonHas string
	}{
		{"missing", Existing{Path: "/ransomeye/swap", Kind: Missing}, false, false, action.Create, false, "create a 16.0 GiB"},
		{"good", swap(nil), false, false, action.Keep, false, "keep"},
		{"good active", swap(nil), true, false, action.Keep, false, "active"},
		{"larger after RAM shrank", swap(func(e *Existing) { e.Size, e.Allocated = 32*gib, 32*gib }), false, false, action.Keep, false, "keep"},
		{"too small inactive", swap(func(e *Existing) { e.Size, e.Allocated = 4*gib, 4*gib }), false, false, action.Replace, false, "smaller than the target"},
		{"too small active", swap(func(e *Existing) { e.Size, e.Allocated = 2*gib, 2*gib }), true, false, action.Refuse, false, "swapoff"},
		{"foreign too small inactive", swap(func(e *Existing) { e.Size, e.Header.Label = 2*gib, "" }), false, false, action.Replace, false, "replace"},
		{"sparse", swap(func(e *Existing) { e.Allocated = gib }), false, false, action.Replace, false, "holes"},
		{"header shorter than the file", swap(func(e *Existing) { e.Area = 4 * gib }), false, false, action.Replace, false, "header is shorter than the file"},
		{"header shorter than the file, active", swap(func(e *Existing) { e.Area = 4 * gib }), true, false, action.Refuse, false, "active swap of 4.0 GiB"},
		{"empty swap area (last_page 0)", swap(func(e *Existing) { e.Area = 4096 }), false, false, action.Replace, false, "replace"},
		{"bad pages listed", swap(func(e *Existing) { e.Header.BadPages = 1 }), false, false, action.Replace, false, "bad pages"},
		{"header longer than the file", swap(func(e *Existing) { e.Area = 32 * gib }), false, false, action.Replace, false, "more than the 16.0 GiB file holds"},
		{"btrfs without nocow", swap(nil), false, true, action.Replace, false, "no-copy-on-write"},
		{"btrfs with nocow", swap(func(e *Existing) { e.NoCOW = true }), false, true, action.Keep, false, "keep"},
		// After a btrfs snapshot the extents are shared and swapon refuses the file.
		{"shared extents inactive", swap(func(e *Existing) { e.NoCOW, e.Shared = true, true }), false, true, action.Replace, false, "shared with a snapshot"},
		{"shared extents active", swap(func(e *Existing) { e.NoCOW, e.Shared = true, true }), true, true, action.Refuse, false, "swapoff"},
		{"ours world-readable", swap(func(e *Existing) { e.Perm = 0o644 }), false, false, action.Keep, true, "0644"},
		{"ours foreign owner", swap(func(e *Existing) { e.UID = 1000 }), false, false, action.Keep, true, "1000:0"},
		{"ours world-readable too small", swap(func(e *Existing) { e.Perm, e.Size = 0o644, gib }), false, false, action.Replace, true, "replace"},
		{"foreign world-readable", swap(func(e *Existing) { e.Perm, e.Header.Label = 0o644, "" }), false, false, action.Refuse, false, "chmod 0600"},
		{"foreign owner unlabelled", swap(func(e *Existing) { e.UID, e.Header.Label = 1000, "other" }), true, false, action.Refuse, false, "left untouched"},
		{"data", swap(func(e *Existing) { e.Header = Header{} }), false, false, action.Refuse, false, "not a swap area"},
		{"empty file", Existing{Path: "/ransomeye/swap", Kind: Regular, Perm: 0o600}, false, false, action.Refuse, false, "not a swap area"},
		{"bad version", swap(func(e *Existing) { e.Header.Version = 7 }), false, false, action.Refuse, false, "version 7"},
		{"symlink", Existing{Path: "/ransomeye/swap", Kind: Symlink}, false, false, action.Refuse, false, "symbolic link"},
		{"directory", Existing{Path: "/ransomeye/swap", Kind: Directory}, false, false, action.Refuse, false, "directory"},
		{"fifo", Existing{Path: "/ransomeye/swap", Kind: FIFO}, false, false, action.Refuse, false, "FIFO"},
		{"device", Existing{Path: "/ransomeye/swap", Kind: Device}, false, false, action.Refuse, false, "device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.e, target, tc.active, tc.nocow, "ransomeye-swap", "ransomeye-swap.swap")
			if d.Action != tc.want || d.FixPerms != tc.fix || !strings.Contains(d.Reason, tc.reasonHas) {
				t.Errorf("Decide = %+v; want action %s, fix %v, reason with %q", d, tc.want, tc.fix, tc.reasonHas)
			}
			if !strings.Contains(d.Reason, `"/ransomeye/swap"`) {
				t.Errorf("reason %q does not name the path", d.Reason)
			}
		})
	}
}

func TestInspectKinds(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(data, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sw := filepath.Join(dir, "swap")
	if err := os.WriteFile(sw, header(os.Getpagesize(), "SWAPSPACE2", 1, "ransomeye-swap"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]Kind{
		data: Regular, link: Symlink, fifo: FIFO, dir: Directory, sw: Regular,
		filepath.Join(dir, "none"): Missing, "/dev/null": Device,
	} {
		e, err := inspect(path)
		if err != nil {
			t.Errorf("Inspect(%q): %v", path, err)
			continue
		}
		if e.Kind != want {
			t.Errorf("Inspect(%q).Kind = %s, want %s", path, e.Kind, want)
		}
		if e.Header.Swap != (path == sw) {
			t.Errorf("Inspect(%q).Header.Swap = %v", path, e.Header.Swap)
		}
	}
}

func TestCleanLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: leftovers are removed only when owned by root")
	}
	dir := t.TempDir()
	ours := filepath.Join(dir, names.SwapTempPrefix+"123")
	notOurs := filepath.Join(dir, names.SwapTempPrefix+"12x")
	other := filepath.Join(dir, "swap")
	foreign := filepath.Join(dir, names.SwapTempPrefix+"77")
	for _, p := range []string{ours, notOurs, other, foreign} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(foreign, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	linkTarget := filepath.Join(dir, "target")
	if err := os.WriteFile(linkTarget, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, names.SwapTempPrefix+"5")
	if err := os.Symlink(linkTarget, link); err != nil {
		t.Fatal(err)
	}
	d := openDir(t, dir)
	removed, skipped, err := CleanLeftoversAt(d.Fd(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != ours {
		t.Errorf("removed %q, want only %q", removed, ours)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %q, want the foreign file and the symlink", skipped)
	}
	for _, p := range []string{notOurs, other, foreign, link, linkTarget} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%q was removed: %v", p, err)
		}
	}
}

func TestCreateSmall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the swapfile is chowned to root")
	}
	mkswap, err := FindMkswap("")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	d := openDir(t, dir)
	path := filepath.Join(dir, "swap")
	const size = 8 << 20
	opt := Options{Mkswap: mkswap, Label: "ransomeye-swap"}
	n, err := Create(d, "swap", size, opt)
	if err != nil {
		t.Fatal(err)
	}
	e, err := inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != e.Size || e.Size < size || e.Allocated < e.Size || e.Perm != 0o600 || e.UID != 0 || !e.Header.Swap || e.Header.Label != "ransomeye-swap" {
		t.Errorf("created %+v (Create said %d bytes)", e, n)
	}
	if !e.UsableKnown || e.Usable < size {
		t.Errorf("created file gives the kernel %d bytes (known %v: %s), want at least %d", e.Usable, e.UsableKnown, e.UsableErr, size)
	}
	if d := Decide(e, size, false, false, "ransomeye-swap", "ransomeye-swap.swap"); d.Action != action.Keep {
		t.Errorf("Decide on the new file: %+v", d)
	}
	// Without Replace an existing entry is never clobbered.
	if _, err := Create(d, "swap", size, opt); err == nil {
		t.Error("Create over an existing file without Replace: no error")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after a failed Create, want 1 (no temp file)", len(ents))
	}
	// A failing mkswap leaves no temporary file behind, and says what it ran.
	_, err = Create(d, "other", size, Options{Mkswap: "/bin/false", Label: "x"})
	if err == nil || !strings.Contains(err.Error(), "/bin/false -L x /proc/self/fd/3") {
		t.Errorf("Create with a failing mkswap: %v", err)
	}
	ents, _ = os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after a failed mkswap, want 1", len(ents))
	}
	if _, err := Create(d, "other", size, Options{Mkswap: "mkswap"}); err == nil {
		t.Error("Create with a relative mkswap: no error")
	}
}

// inspect is InspectAt on a path's parent, for tests.
func inspect(path string) (Existing, error) {
	fd, err := unix.Open(filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Existing{}, err
	}
	defer unix.Close(fd)
	return InspectAt(fd, filepath.Dir(path), filepath.Base(path), os.Getpagesize())
}

func openDir(t *testing.T, dir string) *safefs.Dir {
	t.Helper()
	d, err := safefs.OpenDir(hostroot.Root(dir), "/", safefs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestFindMkswap: the system's mkswap is found whatever $PATH says (it is
// not read); the named test override is taken only when root owns it and
// no one else can write it or its directory.
func TestFindMkswap(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	p, err := FindMkswap("")
	if _, serr := os.Stat("/usr/sbin/mkswap"); serr == nil && (err != nil || p != "/usr/sbin/mkswap") {
		t.Errorf("FindMkswap(\"\") = %q, %v; want /usr/sbin/mkswap", p, err)
	}
	if _, err := FindMkswap("relative/mkswap"); err == nil {
		t.Error("a relative override was taken")
	}
	if os.Geteuid() != 0 {
		return // the override's owner checks need root's files
	}
	dir := t.TempDir() // 0700, root's
	fake := filepath.Join(dir, "mkswap")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := FindMkswap(fake); err != nil || p != fake {
		t.Errorf("FindMkswap(%q) = %q, %v; want it", fake, p, err)
	}
	for _, tc := range []struct {
		name  string
		setup func() error
	}{
		{"owned by a user", func() error { return os.Chown(fake, 1000, 1000) }},
		{"writable by others", func() error { return os.Chmod(fake, 0o757) }},
		{"in a directory others can write", func() error { return os.Chmod(dir, 0o777) }},
	} {
		if err := tc.setup(); err != nil {
			t.Fatal(err)
		}
		if p, err := FindMkswap(fake); err == nil {
			t.Errorf("%s: FindMkswap(%q) = %q, want a refusal", tc.name, fake, p)
		}
		os.Chown(fake, 0, 0)
		os.Chmod(fake, 0o755)
		os.Chmod(dir, 0o700)
	}
}

func TestDecideContext(t *testing.T) {
	const want = "system_u:object_r:swapfile_t:s0"
	ours := Existing{Path: "/ransomeye/swap", Kind: Regular, Header: Header{Swap: true, Version: 1, Label: "ransomeye-swap"}}
	with := func(e Existing, ctx, label string) Existing { e.Context, e.Header.Label = ctx, label; return e }
	for _, tc := range []struct {
		name        string
		e           Existing
		want        string
		fix, refuse bool
	}{
		{"SELinux off", with(ours, "", "ransomeye-swap"), "", false, false},
		{"ours, right type", with(ours, want, "ransomeye-swap"), want, false, false},
		{"ours, right type, other range", with(ours, "system_u:object_r:swapfile_t", "ransomeye-swap"), want, false, false},
		{"ours, no context", with(ours, "", "ransomeye-swap"), want, true, false},
		{"ours, unlabeled_t", with(ours, "system_u:object_r:unlabeled_t:s0", "ransomeye-swap"), want, true, false},
		{"theirs, file_t", with(ours, "system_u:object_r:file_t:s0", "theirs"), want, false, true},
		{"theirs, right type", with(ours, want, "theirs"), want, false, false},
		{"not a swap area", Existing{Path: "/x", Kind: Regular}, want, false, false},
		{"missing", Existing{Path: "/x", Kind: Missing}, want, false, false},
	} {
		d := DecideContext(tc.e, tc.want, "ransomeye-swap")
		if d.Fix != tc.fix || d.Refuse != tc.refuse || (d.Fix || d.Refuse) != (d.Reason != "") {
			t.Errorf("%s: got %+v, want fix %v refuse %v (and a reason exactly when either)", tc.name, d, tc.fix, tc.refuse)
		}
		if d.Refuse && !strings.Contains(d.Reason, "left untouched") {
			t.Errorf("%s: a refusal must say the file was left untouched: %s", tc.name, d.Reason)
		}
	}
}

// TestDecideHibernationImage: a swap area whose signature a hibernation
// image replaced is taken back when it is ours (label, root 0600): kept,
// the image discarded first; not ours, it is refused untouched naming the
// image; too small, the replacement discards it with the file.
func TestDecideHibernationImage(t *testing.T) {
	const target = 16 * gib
	page := header(4096, "S1SUSPEND\x00", 1, "ransomeye-swap")
	h := ParseHeader(page, 4096)
	if h.Swap || h.Hibernation != "S1SUSPEND" || h.Label != "ransomeye-swap" || h.LastPage != 1000 || !h.HasArea() {
		t.Fatalf("hibernation header parsed as %+v", h)
	}
	if h := ParseHeader(header(4096, "\xed\xc3\x02\xe9\x98\x56\xe5\x0c", 1, ""), 4096); h.Hibernation != "edc302e99856e50c" {
		t.Errorf("binary hibernation signature parsed as %+v", h)
	}
	ours := Existing{Path: "/ransomeye/swap", Kind: Regular, Size: target, Allocated: target, Area: target, Perm: 0o600,
		Header: Header{Hibernation: "S1SUSPEND", Version: 1, Label: "ransomeye-swap"}}
	d := Decide(ours, target, false, false, "ransomeye-swap", "ransomeye-swap.swap")
	if d.Action != action.Keep || !d.DiscardImage || !strings.Contains(d.Reason, "stale hibernation image") {
		t.Errorf("ours: %+v", d)
	}
	small := ours
	small.Size, small.Allocated, small.Area = gib, gib, gib
	if d := Decide(small, target, false, false, "ransomeye-swap", "ransomeye-swap.swap"); d.Action != action.Replace || d.DiscardImage || !strings.Contains(d.Reason, "goes with it") {
		t.Errorf("ours, too small: %+v", d)
	}
	for name, e := range map[string]Existing{
		"other label":    func() Existing { e := ours; e.Header.Label = "theirs"; return e }(),
		"world-readable": func() Existing { e := ours; e.Perm = 0o644; return e }(),
	} {
		d := Decide(e, target, false, false, "ransomeye-swap", "ransomeye-swap.swap")
		if d.Action != action.Refuse || d.DiscardImage || !strings.Contains(d.Reason, "hibernation image (signature S1SUSPEND") || !strings.Contains(d.Reason, "left untouched") {
			t.Errorf("%s: %+v", name, d)
		}
	}
}

// TestCreateReadsTheHeaderBackWithoutTouchingTheInode: reading the header
// back after mkswap leaves the file's access time alone, so the inode
// mkswap has just fsynced is not dirtied again and the fsync after it has
// no journal commit of its own to wait for. The mkswap here is the real
// one, then sets the access time to 2000 (older than a day: any read
// without O_NOATIME updates it under relatime and strictatime alike).
func TestCreateReadsTheHeaderBackWithoutTouchingTheInode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the swapfile is chowned to root")
	}
	mkswap, err := FindMkswap("")
	if err != nil {
		t.Skip(err)
	}
	touch, err := exec.LookPath("touch")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	script := filepath.Join(t.TempDir(), "mkswap-then-old-atime")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+mkswap+" \"$@\" || exit 1\nexec "+touch+" -a -d @946684800 /proc/self/fd/3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := openDir(t, dir)
	if _, err := Create(d, "swap", 8<<20, Options{Mkswap: script, Label: "ransomeye-swap"}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "swap"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Atim.Sec != 946684800 {
		t.Errorf("access time %d after Create, want 946684800 (what mkswap left): reading the header back updated it", st.Atim.Sec)
	}
}
