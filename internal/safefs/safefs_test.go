package safefs

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tests chown files to other users")
	}
}

// tree makes a root prefix with the given directories (mode 0755, root's)
// and returns it.
func tree(t *testing.T, dirs ...string) hostroot.Root {
	t.Helper()
	r := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(r)
}

func symlink(t *testing.T, r hostroot.Root, target, link string, uid int) {
	t.Helper()
	p := r.Path(link)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, r hostroot.Root, p string, uid int, mode os.FileMode) {
	t.Helper()
	if err := os.Chown(r.Path(p), uid, uid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(r.Path(p), mode); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirFollowsRootsLinks(t *testing.T) {
	needRoot(t)
	r := tree(t, "data/ransomeye")
	symlink(t, r, "/data/ransomeye", "/ransomeye", 0)
	symlink(t, r, "../data", "/rel", 0)
	for _, tc := range []struct{ in, want string }{
		{"/ransomeye", "/data/ransomeye"},
		{"/rel/ransomeye", "/data/ransomeye"},
		{"/data/../data/ransomeye", "/data/ransomeye"},
		{"/../../data/ransomeye", "/data/ransomeye"}, // ".." never climbs above the root
	} {
		d, err := OpenDir(r, tc.in, Options{RootOnly: true})
		if err != nil {
			t.Errorf("OpenDir(%q): %v", tc.in, err)
			continue
		}
		if d.Host != tc.want || d.Path != r.Path(tc.want) {
			t.Errorf("OpenDir(%q) = %q (%q), want %q", tc.in, d.Host, d.Path, tc.want)
		}
		var st, want unix.Stat_t
		if err := unix.Fstat(d.Fd(), &st); err != nil {
			t.Fatal(err)
		}
		if err := unix.Stat(r.Path(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		if st.Ino != want.Ino || st.Dev != want.Dev {
			t.Errorf("OpenDir(%q) opened inode %d, want %d", tc.in, st.Ino, want.Ino)
		}
		d.Close()
	}
}

// TestOpenDirLinkTargetStaysUnderRoot: an absolute target is resolved under
// the root prefix, not on the host.
func TestOpenDirLinkTargetStaysUnderRoot(t *testing.T) {
	needRoot(t)
	r := tree(t, "etc")
	symlink(t, r, "/etc", "/x", 0)
	d, err := OpenDir(r, "/x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Path != r.Path("/etc") {
		t.Errorf("resolved to %q, want %q", d.Path, r.Path("/etc"))
	}
}

func TestOpenDirRefuses(t *testing.T) {
	needRoot(t)
	cases := []struct {
		name  string
		setup func(t *testing.T, r hostroot.Root)
		path  string
		opt   Options
		want  string
	}{
		{"link owned by a user", func(t *testing.T, r hostroot.Root) {
			symlink(t, r, "/data/ransomeye", "/ransomeye", 1000)
		}, "/ransomeye", Options{}, "owned by uid 1000"},
		{"root's link in a user's directory", func(t *testing.T, r hostroot.Root) {
			chown(t, r, "/data/alice", 1000, 0o755)
			symlink(t, r, "/data/ransomeye", "/data/alice/rs", 0)
		}, "/data/alice/rs", Options{}, "which users other than root can change"},
		{"root's link in a world-writable directory without sticky", func(t *testing.T, r hostroot.Root) {
			chown(t, r, "/data/alice", 0, 0o777)
			symlink(t, r, "/data/ransomeye", "/data/alice/rs", 0)
		}, "/data/alice/rs", Options{}, "which users other than root can change"},
		{"resolved path crosses a user's directory", func(t *testing.T, r hostroot.Root) {
			chown(t, r, "/data/alice", 1000, 0o755)
			if err := os.Mkdir(r.Path("/data/alice/rs"), 0o755); err != nil {
				t.Fatal(err)
			}
			symlink(t, r, "/data/alice/rs", "/ransomeye", 0)
		}, "/ransomeye", Options{RootOnly: true}, `"/data/alice" is owned by uid 1000`},
		{"final directory group-writable", func(t *testing.T, r hostroot.Root) {
			if err := os.Chown(r.Path("/data/ransomeye"), 0, 100); err != nil {
				t.Fatal(err)
			}
			os.Chmod(r.Path("/data/ransomeye"), 0o775)
		}, "/data/ransomeye", Options{RootOnly: true}, "writable by other users"},
		{"final directory sticky and world-writable", func(t *testing.T, r hostroot.Root) {
			unix.Chmod(r.Path("/data/ransomeye"), 0o1777)
		}, "/data/ransomeye", Options{RootOnly: true}, "writable by other users"},
		{"a file on the way", func(t *testing.T, r hostroot.Root) {
			os.WriteFile(r.Path("/data/f"), nil, 0o644)
		}, "/data/f/x", Options{}, "not a directory"},
		{"link loop", func(t *testing.T, r hostroot.Root) {
			symlink(t, r, "/b", "/a", 0)
			symlink(t, r, "/a", "/b", 0)
		}, "/a", Options{}, "symbolic links"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tree(t, "data/ransomeye", "data/alice")
			tc.setup(t, r)
			d, err := OpenDir(r, tc.path, tc.opt)
			if err == nil {
				d.Close()
				t.Fatalf("OpenDir(%q) succeeded (resolved to %q), want an error with %q", tc.path, d.Host, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenDir(%q) = %v, want %q in it", tc.path, err, tc.want)
			}
		})
	}
}

func TestOpenDirStickyAncestorAllowed(t *testing.T) {
	needRoot(t)
	r := tree(t, "tmp/x")
	unix.Chmod(r.Path("/tmp"), 0o1777)
	d, err := OpenDir(r, "/tmp/x", Options{RootOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestOpenDirCreate(t *testing.T) {
	needRoot(t)
	r := tree(t)
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	if _, err := OpenDir(r, "/a/b", Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("without Create: %v, want fs.ErrNotExist", err)
	}
	d, err := OpenDir(r, "/a/b", Options{Create: 0o755, RootOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.Created) != 2 || d.Created[0] != "/a" || d.Created[1] != "/a/b" {
		t.Errorf("Created = %q", d.Created)
	}
	fi, err := os.Stat(r.Path("/a/b"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("new directory: %v, mode %v, want 0755 despite the umask", err, fi.Mode())
	}
}

func TestWriteFileReplacesALinkWithoutFollowingIt(t *testing.T) {
	needRoot(t)
	r := tree(t, "m", "victim")
	victim := r.Path("/victim/file")
	os.WriteFile(victim, []byte("keep"), 0o600)
	symlink(t, r, victim, "/m/out.prom", 1000)
	d, err := OpenDir(r, "/m", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WriteFile("out.prom", []byte("new\n"), 0o644, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
	fi, err := os.Lstat(r.Path("/m/out.prom"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("out.prom: %v %v, want a regular file 0644", err, fi)
	}
	if b, _ := os.ReadFile(r.Path("/m/out.prom")); string(b) != "new\n" {
		t.Errorf("content %q", b)
	}
	ents, _ := os.ReadDir(r.Path("/m"))
	if len(ents) != 1 {
		t.Errorf("entries left: %v", ents)
	}
}

func TestWriteFileOptions(t *testing.T) {
	needRoot(t)
	r := tree(t, "m/planted")
	d, err := OpenDir(r, "/m", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WriteFile("planted", []byte("x"), 0o644, WriteOptions{}); err == nil {
		t.Error("a directory at the name was replaced without MoveAsideDir")
	}
	if err := d.WriteFile("planted", []byte("x"), 0o644, WriteOptions{MoveAsideDir: true}); err != nil {
		t.Fatalf("MoveAsideDir: %v", err)
	}
	if err := d.WriteFile("planted", []byte("y"), 0o644, WriteOptions{NoReplace: true}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NoReplace over a file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(r.Path("/m/planted")); string(b) != "x" {
		t.Errorf("content %q after a refused NoReplace", b)
	}
	ents, _ := os.ReadDir(r.Path("/m"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), TempPrefix("planted")) {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if err := d.WriteFile("a/b", nil, 0o644, WriteOptions{}); err == nil {
		t.Error("a name with a slash was accepted")
	}
}

// TestOpenDirProbe: with Probe, nothing is created; the directory Create
// would make is named (through root's links, lexically past the first
// missing one) and the descriptor is its existing parent's, checked as an
// ancestor.
func TestOpenDirProbe(t *testing.T) {
	needRoot(t)
	r := tree(t, "data")
	symlink(t, r, "/data/ransomeye", "/ransomeye", 0)
	d, err := OpenDir(r, "/ransomeye/sub", Options{Create: 0o755, RootOnly: true, Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Host != "/data/ransomeye/sub" || d.Missing != "/data/ransomeye" {
		t.Errorf("Host %q, Missing %q", d.Host, d.Missing)
	}
	var st, want unix.Stat_t
	if err := unix.Fstat(d.Fd(), &st); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(r.Path("/data"), &want); err != nil {
		t.Fatal(err)
	}
	if st.Ino != want.Ino {
		t.Error("the descriptor is not the existing parent's")
	}
	if _, err := os.Lstat(r.Path("/data/ransomeye")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Probe created a directory: %v", err)
	}
	// The existing parent is checked: another user's is refused.
	chown(t, r, "/data", 1000, 0o755)
	if _, err := OpenDir(r, "/ransomeye/sub", Options{Create: 0o755, RootOnly: true, Probe: true}); err == nil || !strings.Contains(err.Error(), "owned by uid 1000") {
		t.Errorf("Probe under uid 1000's directory: %v", err)
	}
}

// TestOpenDirCreateSyncsParent: a directory OpenDir makes is durable: its
// parent is fsynced (seen with strace, in a child process running only
// OpenDir). Before: fsync ran on the parent's O_PATH descriptor, failed with
// EBADF, and the error was ignored.
func TestOpenDirCreateSyncsParent(t *testing.T) {
	if dir := os.Getenv("SAFEFS_TEST_CREATE_UNDER"); dir != "" {
		d, err := OpenDir(hostroot.Root(dir), "/new", Options{Create: 0o755})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		return
	}
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace is not installed")
	}
	r := t.TempDir()
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command("strace", "-f", "-y", "-e", "trace=fsync", "-o", trace, os.Args[0], "-test.run=^TestOpenDirCreateSyncsParent$")
	cmd.Env = append(os.Environ(), "SAFEFS_TEST_CREATE_UNDER="+r)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "new")); err != nil {
		t.Fatalf("the directory was not made: %v", err)
	}
	if !syncedOK(string(b), r) {
		t.Errorf("no successful fsync of the parent %q:\n%s", r, b)
	}
}

// syncedOK reports whether an strace -f -y log shows fsync of dir
// returning 0, also when strace split the call into "<unfinished ...>" and
// "<... fsync resumed>" lines because another thread ran in between.
func syncedOK(log, dir string) bool {
	call := "fsync(" // followed by the descriptor and "<dir>"
	pending := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		pid, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.HasPrefix(rest, call) && strings.Contains(rest, "<"+dir+">"):
			if strings.HasSuffix(rest, ") = 0") {
				return true
			}
			if strings.HasSuffix(rest, "<unfinished ...>") {
				pending[pid] = true
			}
		case strings.HasPrefix(rest, "<... fsync resumed>") && pending[pid]:
			if strings.HasSuffix(rest, "= 0") {
				return true
			}
			delete(pending, pid)
		}
	}
	return false
}

func TestSyncedOK(t *testing.T) {
	for _, tc := range []struct {
		log  string
		want bool
	}{
		{"12 fsync(7</d>) = 0\n", true},
		{"12 fsync(7</d>) = -1 EBADF (Bad file descriptor)\n", false},
		{"12 fsync(7</d> <unfinished ...>\n9 --- SIGURG ---\n12 <... fsync resumed>)              = 0\n", true},
		{"12 fsync(7</d> <unfinished ...>\n12 <... fsync resumed>) = -1 EBADF (Bad file descriptor)\n", false},
		{"12 fsync(7</other>) = 0\n", false},
	} {
		if got := syncedOK(tc.log, "/d"); got != tc.want {
			t.Errorf("syncedOK(%q) = %v, want %v", tc.log, got, tc.want)
		}
	}
}

// TestPathOnly: with PathOnly the directory is opened O_PATH (no read of
// it, which SELinux checks and denied the generator), and resolves the same.
func TestPathOnly(t *testing.T) {
	dir := t.TempDir()
	root := hostroot.Root(dir)
	if err := os.MkdirAll(filepath.Join(dir, "a/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, pathOnly := range []bool{false, true} {
		d, err := OpenDir(root, "/a/b", Options{Create: 0o755, Probe: true, PathOnly: pathOnly})
		if err != nil {
			t.Fatal(err)
		}
		fl, err := unix.FcntlInt(uintptr(d.Fd()), unix.F_GETFL, 0)
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := fl&unix.O_PATH != 0; got != pathOnly || d.Host != "/a/b" {
			t.Errorf("PathOnly %v: O_PATH %v, host %q", pathOnly, got, d.Host)
		}
	}
}
