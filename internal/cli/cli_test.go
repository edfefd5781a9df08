package cli

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/testkit/journaltest"
)

// runMain runs the command line in-process with buffers for stdout and stderr.
func runMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

// definedFlags returns the flags command c defines, found by running it
// with --help on a flag set of our own (not by reading its help text).
func definedFlags(t *testing.T, c command) []string {
	t.Helper()
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e := &env{root: hostroot.Root(t.TempDir()), stdout: io.Discard, stderr: io.Discard, log: priolog.New(io.Discard, ""), getenv: func(string) string { return "" }}
	c.run(e, fs, []string{"--help"})
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// TestHelpListsEveryFlag: each command's --help names every flag it
// defines, in the usage line and under Options, in the --name form.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, c := range commands {
		code, out, errs := runMain(c.name, "--help")
		if code != ExitOK || errs != "" {
			t.Errorf("%s --help: exit %d, stderr %q", c.name, code, errs)
		}
		usage, _, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(usage, "Usage: ransomeye-tuner "+c.name) {
			t.Errorf("%s --help starts %q", c.name, usage)
		}
		for _, f := range definedFlags(t, c) {
			if !strings.Contains(usage, "[--"+f) {
				t.Errorf("%s --help: usage line %q lacks --%s", c.name, usage, f)
			}
			if !regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(f) + `\b`).MatchString(out) {
				t.Errorf("%s --help: options lack --%s:\n%s", c.name, f, out)
			}
		}
		if m := regexp.MustCompile(`(?m)^\s+-[a-z]`).FindString(out); m != "" {
			t.Errorf("%s --help prints a flag with one dash (%q):\n%s", c.name, m, out)
		}
	}
	// The flags the status help once left out or will need.
	_, out, _ := runMain("status", "--help")
	for _, f := range []string{"--json", "--no-metrics", "--write-metrics"} {
		if !strings.Contains(out, f) {
			t.Errorf("status --help lacks %s:\n%s", f, out)
		}
	}
}

// TestHelpCommand: "help status" is "status --help"; "help" alone is the
// overview; an unknown name is a usage error naming every command.
func TestHelpCommand(t *testing.T) {
	code, out, _ := runMain("help", "status")
	_, want, _ := runMain("status", "--help")
	if code != ExitOK || out != want || !strings.Contains(out, "Usage: ransomeye-tuner status") {
		t.Errorf("help status: exit %d\n%s\nwant\n%s", code, out, want)
	}
	if code, out, _ := runMain("help"); code != ExitOK || !strings.Contains(out, "Commands:") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	code, _, errs := runMain("help", "frobnicate")
	if code != ExitUsage || !strings.Contains(errs, `"frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, %q", code, errs)
	}
	if code, _, _ := runMain("help", "status", "gate"); code != ExitUsage {
		t.Errorf("help with two commands: exit %d", code)
	}
}

// TestUnknownCommandNamesEveryCommand: the message is built from the
// command table, so it names version (left out of a literal list before).
func TestUnknownCommandNamesEveryCommand(t *testing.T) {
	code, _, errs := runMain("frobnicate")
	if code != ExitUsage || !strings.Contains(errs, `"frobnicate"`) {
		t.Errorf("exit %d, %q", code, errs)
	}
	for _, c := range commands {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(c.name) + `\b`).MatchString(errs) {
			t.Errorf("unknown-command message lacks %q: %s", c.name, errs)
		}
	}
	for _, c := range []string{"version", "metrics"} {
		if !strings.Contains(errs, c) {
			t.Errorf("unknown-command message lacks %q: %s", c, errs)
		}
	}
}

func writeFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPrefixOnlyOnTheJournal: the same failure (a metrics directory that is
// a file) reads "error: metrics: …" for a person and "<3>metrics: …" when
// stderr is the journal stream.
func TestPrefixOnlyOnTheJournal(t *testing.T) {
	root := t.TempDir()
	t.Setenv(hostroot.EnvVar, root)
	writeFile(t, filepath.Join(root, "etc/ransomeye/tuner.conf"), "[Metrics]\nTextfilePath=/var/lib/x/t.prom\n")
	writeFile(t, filepath.Join(root, "var/lib/x"), "a file, not a directory\n")

	f, js := journaltest.Stream(t)
	t.Setenv("JOURNAL_STREAM", "")
	if code := Main([]string{"metrics"}, io.Discard, f); code != ExitFail {
		t.Errorf("metrics into a file: exit %d, want %d", code, ExitFail)
	}
	b, _ := os.ReadFile(f.Name())
	if !regexp.MustCompile(`(?m)^error: metrics: `).Match(b) || bytes.Contains(b, []byte("<3>")) {
		t.Errorf("on a terminal (no $JOURNAL_STREAM):\n%s", b)
	}

	f2, js2 := journaltest.Stream(t)
	t.Setenv("JOURNAL_STREAM", js) // another stream's: inherited, not ours
	Main([]string{"metrics"}, io.Discard, f2)
	if b, _ := os.ReadFile(f2.Name()); !regexp.MustCompile(`(?m)^error: metrics: `).Match(b) {
		t.Errorf("with another stream's $JOURNAL_STREAM:\n%s", b)
	}

	t.Setenv("JOURNAL_STREAM", js2)
	if _, err := f2.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := f2.Truncate(0); err != nil {
		t.Fatal(err)
	}
	Main([]string{"metrics"}, io.Discard, f2)
	if b, _ := os.ReadFile(f2.Name()); !regexp.MustCompile(`(?m)^<3>metrics: `).Match(b) || bytes.Contains(b, []byte("error: ")) {
		t.Errorf("on the journal stream:\n%s", b)
	}
}

// TestStatusWritesNoTextfile: status only reads; the metrics command (and
// status --write-metrics) write the textfile.
func TestStatusWritesNoTextfile(t *testing.T) {
	root := t.TempDir()
	t.Setenv(hostroot.EnvVar, root)
	prom := filepath.Join(root, "var/lib/prometheus/node-exporter/ransomeye_tuner.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	runMain("status")
	runMain("status", "--json")
	if _, err := os.Lstat(prom); !os.IsNotExist(err) {
		t.Fatalf("status wrote the textfile (%v)", err)
	}
	if code, out, errs := runMain("metrics"); code != ExitOK || out != "" {
		t.Errorf("metrics: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	b, err := os.ReadFile(prom)
	if err != nil || !strings.HasPrefix(string(b), "# HELP ransomeye_tuner_") {
		t.Fatalf("metrics wrote %q (%v)", b, err)
	}
	os.Remove(prom)
	runMain("status", "--write-metrics")
	if _, err := os.Lstat(prom); err != nil {
		t.Errorf("status --write-metrics wrote no textfile: %v", err)
	}
}

// TestGateFirstLine: the first line of a refusal is the reason and the
// remedy, on one line: systemctl status ransomeye-core shows it.
func TestGateFirstLine(t *testing.T) {
	root := t.TempDir()
	t.Setenv(hostroot.EnvVar, root)
	t.Setenv("JOURNAL_STREAM", "")
	code, out, _ := runMain("gate")
	first, _, _ := strings.Cut(out, "\n")
	if code != ExitFail || !strings.HasPrefix(first, "ransomeye-core.service may not start: ransomeye-tuner.service has not succeeded in this boot") ||
		!strings.Contains(first, "fix the cause, then: ransomeye-tuner recover") {
		t.Errorf("gate: exit %d, first line %q", code, first)
	}
	if journal.Enabled() {
		t.Skip("journald is running here: the gate's event would go to this machine's journal")
	}
	// On the journal stream, with no journald socket, the event falls back
	// to the stream with its priority.
	f, js := journaltest.Stream(t)
	t.Setenv("JOURNAL_STREAM", js)
	var o bytes.Buffer
	Main([]string{"gate"}, &o, f)
	b, _ := os.ReadFile(f.Name())
	if !strings.HasPrefix(string(b), "<3>ransomeye-core.service may not start: ") || o.Len() != 0 {
		t.Errorf("gate on the journal: stderr %q, stdout %q", b, o.String())
	}
}
