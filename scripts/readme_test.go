package scripts

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
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

// readmeSection returns the README's section with the heading "## title",
// its words joined by single spaces.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	_, sec, ok := strings.Cut(mustRead(t, "../README.md"), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("the README has no section %q", title)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	// Words only: no Markdown code marks.
	return strings.Join(strings.Fields(strings.ReplaceAll(sec, "`", "")), " ")
}

// TestReadmeSaysWhatInstallDoes: the README's install section names each
// systemd call the postinst makes on a running system and what activate
// then does to the machine; its removal section what removal and purge do
// (rpm -e deleting the swapfile, the CPUs given back); and the building
// section what make test as root does to the host.
func TestReadmeSaysWhatInstallDoes(t *testing.T) {
	sec := readmeSection(t, "Installing it")
	post := mustRead(t, "maint/postinstall.sh")
	calls := regexp.MustCompile(`(?m)^\s*(?:systemctl|rt_invoke) ([a-z-]+) (?:-- )?("?[A-Za-z0-9@._$-]+"?)?`).FindAllStringSubmatch(post, -1)
	if len(calls) < 3 {
		t.Fatalf("found %d systemctl calls in maint/postinstall.sh, want at least 3", len(calls))
	}
	for _, c := range calls {
		unit := strings.Trim(c[2], `"`)
		if unit == "" || strings.HasPrefix(unit, "$") || strings.HasPrefix(unit, "-") {
			unit = "the swap unit"
		}
		if c[1] == "daemon-reload" {
			unit = ""
		}
		if !strings.Contains(sec, strings.TrimSpace(c[1]+" "+unit)) && !strings.Contains(sec, "starts "+unit) && !strings.Contains(sec, "and "+unit) {
			t.Errorf("postinst runs %q; the README's install section does not say so", strings.TrimSpace(c[0]))
		}
	}
	for _, want := range []string{"max(16 GiB, RAM)", "swapped on at once", "vm.swappiness=10", "8 or more physical cores", "the core is neither stopped nor restarted"} {
		if !strings.Contains(strings.ToLower(sec), strings.ToLower(want)) {
			t.Errorf("the README's install section does not say %q", want)
		}
	}
	removal := readmeSection(t, "Removing it")
	for _, want := range []string{"dpkg -r", "dpkg --purge", "rpm -e, which is the purge) also turns off and removes every swapfile", "the slices get every CPU back"} {
		if !strings.Contains(removal, want) {
			t.Errorf("the README's removal section does not say %q", want)
		}
	}
	building := readmeSection(t, "Building and testing")
	for _, want := range []string{"make test as root runs the black-box tests", "loop devices", "unmount and detach everything"} {
		if !strings.Contains(building, want) {
			t.Errorf("the README's building section does not say %q", want)
		}
	}
}

// TestTunedRemedyIsWhatTheBootRuns: ransomeye-tuner(8)'s TUNED remedy is,
// line for line, what boot case 44 runs (so the documented commands are the
// ones booted), and the README says how tuned and the tuner interact.
func TestTunedRemedyIsWhatTheBootRuns(t *testing.T) {
	man := mustRead(t, "../docs/man/ransomeye-tuner.8.md")
	_, sec, ok := strings.Cut(man, "\n# TUNED\n")
	if !ok {
		t.Fatal("ransomeye-tuner(8) has no TUNED section")
	}
	sec, _, _ = strings.Cut(sec, "\n# ")
	// The example: the indented block (blank lines within it) that starts
	// with the profile's directory.
	_, block, ok := strings.Cut(sec, "\n    mkdir -p ")
	if !ok {
		t.Fatal("ransomeye-tuner(8) TUNED has no example that makes a tuned profile")
	}
	doc := []string{}
	for i, line := range strings.Split("    mkdir -p "+block, "\n") {
		if line != "" && !strings.HasPrefix(line, "    ") && i > 0 {
			break
		}
		doc = append(doc, strings.TrimPrefix(line, "    "))
	}
	docText := strings.TrimSpace(strings.Join(doc, "\n"))
	// Its last command is the one status prints after "then: ", which the
	// boot takes from status's own output; the rest the boot runs as the
	// manual shows it.
	docText, ok = strings.CutSuffix(docText, "\n"+names.RecoverCommand)
	if !ok {
		t.Errorf("ransomeye-tuner(8) TUNED's example does not end with %q", names.RecoverCommand)
	}
	script := mustRead(t, "../integration/guest/usr/lib/ransomeye-test/cases/44_tuned_no_reapply_sysctl.sh")
	_, ran, ok := strings.Cut(script, "# remedy begin\n")
	ran, _, ok2 := strings.Cut(ran, "# remedy end\n")
	if !ok || !ok2 {
		t.Fatal("boot case 44's script has no remedy begin/end block")
	}
	if docText == "" || docText != strings.TrimSpace(ran) {
		t.Errorf("the TUNED remedy of ransomeye-tuner(8):\n%s\nis not what boot case 44 runs:\n%s", docText, ran)
	}
	// The remedy status and the gate give, word for word.
	words := strings.Join(strings.Fields(sec), " ")
	if want := check.RemedyTuned("vm.swappiness", "10", "virtual-guest"); !strings.Contains(words, want) {
		t.Errorf("ransomeye-tuner(8) TUNED does not quote the remedy status gives:\n%s", want)
	}
	for _, want := range []string{"virtual-guest", "vm.swappiness = 30", "reapply_sysctl = 1", "reapply_sysctl = 0", "NOT COMPLIANT"} {
		if !strings.Contains(sec, want) {
			t.Errorf("ransomeye-tuner(8) TUNED does not say %q", want)
		}
	}
	readme := readmeSection(t, "tuned (RHEL)")
	for _, want := range []string{"virtual-guest", "vm.swappiness = 30", "reapply_sysctl = 1", "reapply_sysctl = 0", "NOT COMPLIANT", "man ransomeye-tuner, TUNED"} {
		if !strings.Contains(readme, want) {
			t.Errorf("the README's tuned section does not say %q", want)
		}
	}
}
