package scripts

import (
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSystemdFloor: every "systemd N or later" in the README is the
// floor the packages declare (nfpm.yaml's depends), for the .deb and the
// .rpm alike.
func TestReadmeSystemdFloor(t *testing.T) {
	nfpm := mustRead(t, "nfpm.yaml")
	floors := regexp.MustCompile(`systemd \(?>= (\d+)\)?`).FindAllStringSubmatch(nfpm, -1)
	if len(floors) == 0 {
		t.Fatal("nfpm.yaml declares no systemd version")
	}
	floor := floors[0][1]
	for _, f := range floors {
		if f[1] != floor {
			t.Errorf("nfpm.yaml declares systemd %s and %s", floor, f[1])
		}
	}
	readme := mustRead(t, "../README.md")
	said := regexp.MustCompile(`systemd\s+(\d+)\s+or\s+later`).FindAllStringSubmatch(readme, -1)
	if len(said) == 0 {
		t.Fatal(`the README never says "systemd N or later"`)
	}
	for _, s := range said {
		if s[1] != floor {
			t.Errorf("the README says %q; the packages declare systemd >= %s", s[0], floor)
		}
	}
}

// TestReadmeSaysHowToGetGo: the README names the Go release go.mod asks
// for and says how to get it on Debian 12, whose own golang-go is older.
func TestReadmeSaysHowToGetGo(t *testing.T) {
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(mustRead(t, "../go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	readme := mustRead(t, "../README.md")
	_, req, ok := strings.Cut(readme, "Requirements:")
	if !ok {
		t.Fatal("the README has no Requirements paragraph")
	}
	req, _, _ = strings.Cut(req, "\n\n")
	req = strings.Join(strings.Fields(req), " ")
	for _, want := range []string{"Go " + m[1], "Debian 12", "bookworm-backports", "GOTOOLCHAIN", "tarball"} {
		if !strings.Contains(req, want) {
			t.Errorf("the README's requirements do not mention %q:\n%s", want, req)
		}
	}
}
