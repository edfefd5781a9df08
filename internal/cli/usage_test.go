package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestUsageLineNamesEachFlagOnce: a command's usage line names each of its
// flags once ("plan [--json]", not "plan [--json] [--json]").
func TestUsageLineNamesEachFlagOnce(t *testing.T) {
	for _, c := range commands {
		_, out, _ := runMain("help", c.name)
		usage, _, _ := strings.Cut(out, "\n")
		for _, f := range definedFlags(t, c) {
			if n := strings.Count(usage, "[--"+f+"]") + strings.Count(usage, "[--"+f+" "); n != 1 {
				t.Errorf("help %s: usage line %q names --%s %d times, want once", c.name, usage, f, n)
			}
		}
	}
}

// TestHelpHelp: help is a command (the completion offers it after help),
// so "help help" explains it instead of calling it unknown.
func TestHelpHelp(t *testing.T) {
	code, out, errs := runMain("help", "help")
	if code != ExitOK || errs != "" || !strings.HasPrefix(out, "Usage: ransomeye-tuner help [COMMAND]\n") {
		t.Errorf("help help: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestUnknownOptionIsOneLine: an unknown option is one line on stderr
// naming it in the --name form and where the help is, not the whole help.
func TestUnknownOptionIsOneLine(t *testing.T) {
	for _, c := range commands {
		code, out, errs := runMain(c.name, "--bogus")
		want := "ransomeye-tuner " + c.name + ": unknown option --bogus (see 'ransomeye-tuner help " + c.name + "')\n"
		if code != ExitUsage || out != "" || errs != want {
			t.Errorf("%s --bogus: exit %d, stdout %q, stderr %q; want exit %d and stderr %q", c.name, code, out, errs, ExitUsage, want)
		}
	}
	// The flag package's other errors, in the same form.
	code, _, errs := runMain("fail-closed", "--reason")
	if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "--reason") || regexp.MustCompile(`[^-]-reason`).MatchString(errs) {
		t.Errorf("fail-closed --reason without a value: exit %d, stderr %q", code, errs)
	}
	// Asked-for help is still the whole help, on stdout.
	if code, out, errs := runMain("status", "--help"); code != ExitOK || errs != "" || !strings.Contains(out, "Options:") {
		t.Errorf("status --help: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestMisspeltNamesGetASuggestion: a command, a help topic or an option one
// typo away from a real one is named in the error; a word far from every
// name gets none.
func TestMisspeltNamesGetASuggestion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stauts"}, `(did you mean "status"?)`},
		{[]string{"metric"}, `(did you mean "metrics"?)`},
		{[]string{"gat"}, `(did you mean "gate"?)`},
		{[]string{"fail-close"}, `(did you mean "fail-closed"?)`},
		{[]string{"help", "stauts"}, `(did you mean "status"?)`},
		{[]string{"status", "--jsn"}, `(did you mean "--json"?)`},
		{[]string{"place", "--undoo"}, `(did you mean "--undo"?)`},
		{[]string{"--roo", "/", "status"}, `(did you mean "--root"?)`},
	} {
		code, _, errs := runMain(tc.args...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want one line with %s", tc.args, code, errs, tc.want)
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"status", "--frobnicate"}, {"xy"}} {
		if _, _, errs := runMain(args...); strings.Contains(errs, "did you mean") {
			t.Errorf("%q: a suggestion for a word far from every name: %q", args, errs)
		}
	}
}
