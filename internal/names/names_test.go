package names

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCheckPathSystemdCannotLoad: paths whose swap unit systemd cannot load
// were accepted, and the unit then never loaded ("not active" was the only
// hint). Each is refused with the reason.
func TestCheckPathSystemdCannotLoad(t *testing.T) {
	long := "/" + strings.Repeat("x", 249) + "/swap" // unit name of 259 bytes
	for _, c := range []struct{ path, want string }{
		{long, "259 bytes"},
		{"/" + strings.Repeat("-", 70), "at most 255"}, // 1 byte in the path, 4 in the name
		{"/" + strings.Repeat("y", 256), "component of 256 bytes"},
		{"/data/\xff\xfeswap", "not valid UTF-8"},
		{"/data/swap\\", "ends in a backslash"},
		{"/data\\", "ends in a backslash"},
	} {
		err := CheckPath(c.path)
		if err == nil {
			t.Errorf("CheckPath(%q) accepted", c.path)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "swap path") {
			t.Errorf("CheckPath(%q) = %v, want it to say %q", c.path, err, c.want)
		}
	}
	for _, ok := range []string{"/" + strings.Repeat("x", 240) + "/swap", "/a\\b/swap", "/ä/swap"} {
		if err := CheckPath(ok); err != nil {
			t.Errorf("CheckPath(%q) = %v", ok, err)
		}
	}
}

// TestCheckPathLengthMatchesSystemd: around the 255-byte limit, CheckPath
// accepts a path exactly when the name systemd-escape gives it fits.
func TestCheckPathLengthMatchesSystemd(t *testing.T) {
	bin, err := exec.LookPath("systemd-escape")
	if err != nil {
		t.Skip("systemd-escape not installed: cannot compare unit names with systemd's")
	}
	for n := 240; n <= 252; n++ {
		for _, p := range []string{"/" + strings.Repeat("x", n) + "/swap", "/" + strings.Repeat("x", n-60) + "/" + strings.Repeat("-", 20)} {
			out, err := exec.Command(bin, "--path", "--suffix=swap", p).Output()
			if err != nil {
				t.Fatalf("systemd-escape %q: %v", p, err)
			}
			name := strings.TrimSpace(string(out))
			if got := SwapUnitName(p); got != name {
				t.Fatalf("SwapUnitName(%q) = %q, systemd-escape says %q", p, got, name)
			}
			fits := len(name) <= UnitNameMax
			if err := CheckPath(p); (err == nil) != fits {
				t.Errorf("path of %d bytes, unit name of %d: CheckPath = %v", len(p), len(name), err)
			}
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, ok := range []string{"/ransomeye/swap", "/swapfile", "/a b/c", "/ä/x", "/a%b"} {
		if err := CheckPath(ok); err != nil {
			t.Errorf("CheckPath(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "swap", "./swap", "/a/../b", "/a/", "/", "//a", "/a\nb", "/a\x7fb", "/" + strings.Repeat("x", 4001)} {
		if err := CheckPath(bad); err == nil {
			t.Errorf("CheckPath(%q) accepted", bad)
		} else if bad != "" && !strings.Contains(err.Error(), "swap path") {
			t.Errorf("CheckPath(%q) error %q does not name the setting", bad, err)
		}
	}
}

// TestSwapUnitNameMatchesSystemdEscape checks go-systemd's escaper against
// systemd's own: systemd refuses a .swap whose name is not its escaped What=.
func TestSwapUnitNameMatchesSystemdEscape(t *testing.T) {
	bin, err := exec.LookPath("systemd-escape")
	if err != nil {
		t.Skip("systemd-escape not installed: cannot compare unit names with systemd's")
	}
	paths := []string{
		"/ransomeye/swap", "/swapfile", "/a b/x-y", "/ä/x.y", "/data/swap.1", `/a/\x`, "/.hidden/swap",
		"/a/.b", "/a:b/c", "/a@b/c_d", "/a%b", "/-x/y",
	}
	for _, p := range paths {
		if err := CheckPath(p); err != nil {
			t.Fatalf("test path %q invalid: %v", p, err)
		}
		out, err := exec.Command(bin, "--path", "--suffix=swap", p).Output()
		if err != nil {
			t.Fatalf("systemd-escape %q: %v", p, err)
		}
		want := strings.TrimSpace(string(out))
		if got := SwapUnitName(p); got != want {
			t.Errorf("SwapUnitName(%q) = %q, systemd-escape says %q", p, got, want)
		}
	}
	if got := SwapUnitName(DefaultSwapPath); got != "ransomeye-swap.swap" {
		t.Errorf("default unit %q, want ransomeye-swap.swap (the contract in docs/design.md)", got)
	}
}

func TestCheckServiceName(t *testing.T) {
	for _, ok := range []string{"ransomeye-core.service", "a@b.service", "x_y:z.service", `a\x2db.service`} {
		if err := CheckServiceName(ok); err != nil {
			t.Errorf("CheckServiceName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".service", "core", "core.socket", "a b.service", "a%i.service", "a\n.service", "a/b.service", "a$x.service"} {
		if err := CheckServiceName(bad); err == nil {
			t.Errorf("CheckServiceName(%q) accepted", bad)
		}
	}
}

// TestMountUnitNameMatchesSystemdEscape: the mount unit named in hints is
// systemd's own name for the directory, "/" and odd bytes included.
func TestMountUnitNameMatchesSystemdEscape(t *testing.T) {
	bin, err := exec.LookPath("systemd-escape")
	if err != nil {
		t.Skip("systemd-escape not installed: cannot compare unit names with systemd's")
	}
	for _, p := range []string{"/", "/data", "/data disk", "/srv/a-b", "/ä/x", `/a\b`, "/.hidden", "/a:b_c.d", "/tab\there", "/100%"} {
		out, err := exec.Command(bin, "--path", "--suffix=mount", p).Output()
		if err != nil {
			t.Fatalf("systemd-escape %q: %v", p, err)
		}
		if got, want := MountUnitName(p), strings.TrimSpace(string(out)); got != want {
			t.Errorf("MountUnitName(%q) = %q, systemd-escape says %q", p, got, want)
		}
	}
}

// TestCheckPathTempName: a swapfile named like activate's temporary files
// was removed by every other activate as "left by an interrupted run".
func TestCheckPathTempName(t *testing.T) {
	for _, bad := range []string{"/ransomeye/.ransomeye-swap.tmp.1", "/x/.ransomeye-swap.tmp.123456"} {
		err := CheckPath(bad)
		if err == nil || !strings.Contains(err.Error(), "temporary") || !strings.Contains(err.Error(), "another name") {
			t.Errorf("CheckPath(%q) = %v; want a refusal naming the temporary-file form and the remedy", bad, err)
		}
	}
	for _, ok := range []string{"/ransomeye/.ransomeye-swap.tmp.", "/ransomeye/.ransomeye-swap.tmp.1a", "/ransomeye/ransomeye-swap.tmp.1", "/.ransomeye-swap.tmp.1/swap"} {
		if err := CheckPath(ok); err != nil {
			t.Errorf("CheckPath(%q) = %v", ok, err)
		}
	}
	if !IsSwapTempName(SwapTempPrefix+"42") || IsSwapTempName(SwapTempPrefix) || IsSwapTempName("x"+SwapTempPrefix+"42") {
		t.Error("IsSwapTempName does not match exactly the prefix and digits")
	}
}

// TestSlicePath: a dash is a level ("\x2d" is an escaped dash, not one);
// the root slice is the cgroup root; and a component systemd's cg_escape()
// prefixes with "_" (one that starts with "_" or ".", or is named like a
// controller's file, "cpu.slice") is found under that name, not missed
// and taken for "no restriction".
func TestSlicePath(t *testing.T) {
	for in, want := range map[string]string{"system.slice": "system.slice", "ransomeye-dpi.slice": "ransomeye.slice/ransomeye-dpi.slice",
		"a-b-c.slice": "a.slice/a-b.slice/a-b-c.slice", `a\x2db.slice`: `a\x2db.slice`, `x-a\x2db.slice`: `x.slice/x-a\x2db.slice`,
		"-.slice": "", "cpu.slice": "_cpu.slice", "io-db.slice": "_io.slice/io-db.slice", "memory.slice": "_memory.slice",
		"_x.slice": "__x.slice", "cpux.slice": "cpux.slice", "cgroup.slice": "_cgroup.slice"} {
		if got := SlicePath(in); got != want {
			t.Errorf("SlicePath(%q) = %q, want %q", in, got, want)
		}
	}
}
