package config

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
)

// TestTyposWarnWithWhatWasMeant: a section or key the file does not take
// is a warning (the configuration stays valid), and the warning names what
// was probably meant: the section in another letter case, the tuner's name
// for a sysctl key, a key of another section, a key one typo away. Before,
// "[swap]" gave "unknown section [swap], ignoring it" and nothing else, and
// its settings vanished without a word.
func TestTyposWarnWithWhatWasMeant(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"[swap]\nMinSize=32G\nReserve=2G\n", `tuner.conf:1: unknown section [swap] (did you mean [Swap]?), ignoring it and the settings under it: MinSize=, Reserve=`},
		{"[sysctl]\nSwappiness=5\n", `(did you mean [Sysctl]?)`},
		{"[Sysctl]\nvm.swappiness=10\n", `tuner.conf:2: unknown key "vm.swappiness" in [Sysctl], ignoring it (did you mean Swappiness=?); this file names the tuner's settings, not sysctl keys`},
		{"[Sysctl]\nvm.vfs_cache_pressure=50\n", `(did you mean VFSCachePressure=?)`},
		{"[Swap]\nMinSie=32G\n", `unknown key "MinSie" in [Swap], ignoring it (did you mean MinSize=?)`},
		{"[Swap]\nminsize=32G\n", `(did you mean MinSize=?)`},
		{"[Swap]\nSwappiness=5\n", `unknown key "Swappiness" in [Swap], ignoring it: Swappiness= is a setting of [Sysctl]; move it there`},
		{"[Swap]\nswappiness=5\n", `(did you mean [Sysctl] Swappiness=?)`},
		{"[CPU]\nDpiCpus=4-5\n", `(did you mean DPICPUs=?)`},
		{"[Future]\nKey=1\n", `unknown section [Future], ignoring it and the settings under it: Key=`},
	} {
		cfg, w, err := parse("/etc/ransomeye/tuner.conf", c.text)
		if err != nil {
			t.Errorf("%q: %v, want a valid configuration with a warning", c.text, err)
			continue
		}
		if len(w) != 1 || !strings.Contains(w[0].String(), c.want) {
			t.Errorf("%q: warnings %v, want one containing %q", c.text, w, c.want)
		}
		if cfg.MinSize != Default().MinSize || cfg.Swappiness != Default().Swappiness {
			t.Errorf("%q: a setting that is warned about was used: %+v", c.text, cfg)
		}
	}
	// No suggestion for a name close to nothing.
	_, w, _ := parse("f", "[Swap]\nColour=blue\n")
	if len(w) != 1 || strings.Contains(w[0].Message, "did you mean") {
		t.Errorf("Colour=: %v, want a warning without a suggestion", w)
	}
}

// TestQuotesAndTrailingCommentsSayWhy: quotes around a value and a comment
// after it are what the value holds, as in systemd's files; a value refused
// for them says so (remove the quotes; comments go on their own line), and
// one accepted with what looks like a comment is warned about. Before,
// Path="/data/swap" was "relative" and MinSize=32G # comment "not a size".
func TestQuotesAndTrailingCommentsSayWhy(t *testing.T) {
	for _, c := range []struct{ text, wantErr, wantWarn string }{
		{"[Swap]\nPath=\"/data/swap\"\n", `tuner.conf:2: Path="/data/swap": remove the quotes (Path=/data/swap)`, ""},
		{"[Swap]\nPath='/data/swap'\n", `remove the quotes (Path=/data/swap)`, ""},
		{"[CPU]\nDPIInterface=\"ens1f0\"\n", `remove the quotes (DPIInterface=ens1f0)`, ""},
		{"[Swap]\nMinSize=32G # comment\n", `MinSize=32G # comment: "32G # comment" is not a size`, ""},
		{"[Swap]\nMinSize=32G ; comment\n", `comments go on their own line: "; comment" is part of the value`, ""},
		{"[Swap]\nMinSize=32G # comment\n", `comments go on their own line: "# comment" is part of the value`, ""},
		{"[Swap]\nPath=/data/swap # mine\n", "", `Path=/data/swap # mine is taken whole; comments go on their own line`},
	} {
		_, w, err := parse("/etc/ransomeye/tuner.conf", c.text)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: %v, want an error containing %q", c.text, err, c.wantErr)
		case c.wantErr == "" && err != nil:
			t.Errorf("%q: %v, want it accepted", c.text, err)
		case c.wantWarn != "" && (len(w) != 1 || !strings.Contains(w[0].Message, c.wantWarn)):
			t.Errorf("%q: warnings %v, want one containing %q", c.text, w, c.wantWarn)
		}
	}
}

// TestPrintedSizesParseBack: every size the tool prints (fsinfo.Human:
// "16.0 GiB", "512 B") is a valid size setting, within the rounding of its
// one decimal. Before, "16.0 GiB" from status was "not a size" in MinSize=,
// and the whole configuration invalid.
func TestPrintedSizesParseBack(t *testing.T) {
	for _, n := range []int64{0, 1, 512, 1023, 1024, 1536, 1 << 20, 16 << 30, 16<<30 + 123456789, 3 << 39, 64 << 40, 4096 * 4194303} {
		printed := fsinfo.Human(n)
		got, err := ParseSize(printed)
		if err != nil {
			t.Errorf("ParseSize(%q) (printed for %d): %v", printed, n, err)
			continue
		}
		// One decimal of the unit the value is printed in.
		unit := int64(1)
		for unit*1024 <= n {
			unit *= 1024
		}
		if d := got - n; d > unit/20+1 || d < -unit/20-1 {
			t.Errorf("ParseSize(%q) = %d, printed for %d: off by %d", printed, got, n, d)
		}
		cfg, _, err := parse("f", "[Swap]\nReserve="+printed+"\n")
		if err != nil || cfg.Reserve != got {
			t.Errorf("Reserve=%s: %v, Reserve %d, want %d", printed, err, cfg.Reserve, got)
		}
	}
}

// TestCPUKeys: [CPU] DPICPUs= and TrainingCPUs= name the roles' CPUs (a
// CPU list, commas or blanks between its parts; empty: the plan chooses);
// CPU 0, a list that does not parse and a CPU named for two roles are
// errors naming the line; outside [CPU] they are unknown keys.
func TestCPUKeys(t *testing.T) {
	cfg, w, err := parse("f", "[CPU]\nDPICPUs=4-5,12-13\nTrainingCPUs=6 7\n")
	if err != nil || len(w) != 0 || cfg.CPUs["dpi"].String() != "4-5,12-13" || cfg.CPUs["training"].String() != "6-7" {
		t.Fatalf("%v %v %v", cfg.CPUs, w, err)
	}
	if at := cfg.CPUsAt["dpi"].Where(); at != "f:2" {
		t.Errorf("DPICPUs= set at %q, want f:2", at)
	}
	roles := cfg.Roles()
	if roles[1].CPUs.String() != "4-5,12-13" || !roles[0].CPUs.IsEmpty() {
		t.Errorf("Roles() = %+v", roles)
	}
	if cfg, _, err := parse("f", "[CPU]\nDPICPUs=4-5\nDPICPUs=\n"); err != nil || len(cfg.CPUs) != 0 {
		t.Errorf("an empty DPICPUs= resets it: %v %v", cfg.CPUs, err)
	}
	for _, c := range []struct{ text, want string }{
		{"[CPU]\nDPICPUs=0-1\n", "f:2: DPICPUs=0-1: CPU 0 stays with the core service (CoreService=)"},
		{"[CPU]\nTrainingCPUs=7-4\n", "f:2: TrainingCPUs=7-4: not a CPU list"},
		{"[CPU]\nDPICPUs=4-6\nTrainingCPUs=6-7\n", "f:3: TrainingCPUs=6-7 and DPICPUs=4-6 (f:2) both name CPU 6: each CPU goes to one role"},
	} {
		if _, _, err := parse("f", c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	if _, w, err := parse("f", "[Swap]\nDPICPUs=4-5\n"); err != nil || len(w) != 1 || !strings.Contains(w[0].Message, "DPICPUs= is a setting of [CPU]") {
		t.Errorf("DPICPUs= under [Swap]: %v %v", w, err)
	}
}
