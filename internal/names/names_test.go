package names

import (
	"os/exec"
	"strings"
	"testing"
)

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
