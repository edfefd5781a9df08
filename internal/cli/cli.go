// Package cli is the ransomeye-tuner command line, one file per
// subcommand: Main parses the subcommand and its flags and returns the exit
// code (ransomeye-tuner(8), EXIT STATUS).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/suggest"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
	// ExitDisabled is status's code for ransomeye.tuner=0.
	ExitDisabled = 3
	// ExitUnknown is status's when it cannot say (configuration or report).
	ExitUnknown = 4
)

// env is what a subcommand runs with.
type env struct {
	root   hostroot.Root
	stdout io.Writer
	stderr io.Writer
	log    *priolog.Logger // to stderr, with syslog priority prefixes
	getenv func(string) string
}

type command struct {
	name    string
	summary string
	usage   string // arguments after the options, if any
	help    string
	run     func(e *env, fs *flag.FlagSet, args []string) int
}

var commands []command

func init() {
	commands = []command{activateCmd, statusCmd, recoverCmd, metricsCmd, planCmd, checkConfigCmd, placeCmd, uninstallCmd, failClosedCmd, gateCmd, versionCmd}
}

// commandNames lists the commands ("activate", "status", …).
func commandNames() []string {
	var n []string
	for _, c := range commands {
		n = append(n, c.name)
	}
	return n
}

// flagUsage returns "[--name VALUE] …" for every flag of fs.
func flagUsage(fs *flag.FlagSet) string {
	var parts []string
	fs.VisitAll(func(f *flag.Flag) {
		name, _ := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		parts = append(parts, "[--"+f.Name+name+"]")
	})
	return strings.Join(parts, " ")
}

// printFlags lists every flag as "--name VALUE", the GNU form the help
// documents (the flag package prints "-name").
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" {
			usage += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(w, "  %-20s %s\n", left, usage)
	})
}

func mainUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [--root DIR] COMMAND [OPTIONS]\n\n", names.ActivatorName)
	fmt.Fprintf(w, "Guarantees the resources ransomeye-core.service needs (swapfile, sysctls, CPU plan),\nand keeps it from starting when they cannot be guaranteed.\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nOptions (before COMMAND):\n  --root DIR   read and write host paths under DIR; overrides $%s\n", hostroot.EnvVar)
	fmt.Fprintf(w, "\nRun '%s help COMMAND' or '%s COMMAND --help' for a command's options.\nHost paths are read under --root, else $%s, else /.\n", names.ActivatorName, names.ActivatorName, hostroot.EnvVar)
}

// rootOption takes the global --root DIR off the front of args: the units
// run "--root=/ gate", as $RANSOMEYE_TUNER_ROOT in the core's environment
// (which its owner may set) could point the gate at a tree made to open
// it. ok is false on a usage error.
func rootOption(args []string, stderr io.Writer) (root hostroot.Root, set bool, rest []string, ok bool) {
	rest = args
	for len(rest) > 0 {
		a := rest[0]
		var v string
		switch {
		case a == "--root" || a == "-root":
			if len(rest) < 2 {
				fmt.Fprintf(stderr, "%s: %s needs a directory (see %s --help)\n", names.ActivatorName, a, names.ActivatorName)
				return "", false, nil, false
			}
			v, rest = rest[1], rest[2:]
		case strings.HasPrefix(a, "--root=") || strings.HasPrefix(a, "-root="):
			_, v, _ = strings.Cut(a, "=")
			rest = rest[1:]
		default:
			return root, set, rest, true
		}
		if !filepath.IsAbs(v) {
			fmt.Fprintf(stderr, "%s: --root %q: give an absolute directory (\"/\" for the host)\n", names.ActivatorName, v)
			return "", false, nil, false
		}
		if fi, err := os.Stat(v); err != nil || !fi.IsDir() {
			// Or "--root /nonexistent gate" blames the activator.
			why := "not a directory"
			if err != nil {
				why = err.Error()
			}
			fmt.Fprintf(stderr, "%s: --root %q: %s: give an existing directory (\"/\" for the host)\n", names.ActivatorName, v, why)
			return "", false, nil, false
		}
		root, set = hostroot.Root(filepath.Clean(v)), true
	}
	return root, set, rest, true
}

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	// "<N>" prefixes only when stderr is the journal, not for a person.
	e := &env{root: hostroot.FromEnv(), stdout: stdout, stderr: stderr, log: priolog.ForStderr(stderr, os.Getenv("JOURNAL_STREAM"), names.ActivatorName), getenv: os.Getenv}
	root, set, args, ok := rootOption(args, stderr)
	if !ok {
		return ExitUsage
	}
	if set {
		e.root = root
	}
	if len(args) == 0 {
		mainUsage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "help":
		if len(args) > 1 { // "help status" is "status --help"
			if len(args) > 2 {
				fmt.Fprintf(stderr, "%s help: unexpected argument %q: give one command (one of %s)\n", names.ActivatorName, args[2], strings.Join(commandNames(), ", "))
				return ExitUsage
			}
			if args[1] == "help" {
				// The completion offers help after help: it is a command too.
				helpUsage(stdout)
				return ExitOK
			}
			if !slices.Contains(commandNames(), args[1]) {
				fmt.Fprintf(stderr, "%s help: unknown command %q%s: use one of %s\n", names.ActivatorName, args[1], hint(suggest.Closest(args[1], append(commandNames(), "help")), ""), strings.Join(commandNames(), ", "))
				return ExitUsage
			}
			return Main([]string{args[1], "--help"}, stdout, stderr)
		}
		mainUsage(stdout)
		return ExitOK
	case "-h", "--help":
		mainUsage(stdout)
		return ExitOK
	case "--version", "-version":
		fmt.Fprintln(stdout, version.Version)
		return ExitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		// Errors to stderr in one line (parse); the help only when asked,
		// to stdout, exit 0.
		fs.SetOutput(stderr)
		fs.Usage = func() {
			line := strings.Join(strings.Fields(names.ActivatorName+" "+c.name+" "+flagUsage(fs)+" "+c.usage), " ")
			fmt.Fprintf(stdout, "Usage: %s\n\n%s\n", line, strings.TrimSpace(c.help))
			fmt.Fprintf(stdout, "\nOptions:\n")
			printFlags(stdout, fs)
			fmt.Fprintf(stdout, "  %-20s %s\n", "--help", "show this help")
		}
		if c.name != "activate" {
			// Operator commands: debug lines are noise.
			e.log.SetMaxPriority(priolog.Info)
		}
		return c.run(e, fs, args[1:])
	}
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "%s: unknown option %q%s (see %s --help)\n", names.ActivatorName, args[0], hint(suggest.Closest(strings.TrimLeft(args[0], "-"), []string{"root", "help", "version"}), "--"), names.ActivatorName)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "%s: unknown command %q%s: use one of %s (see %s --help)\n", names.ActivatorName, args[0], hint(suggest.Closest(args[0], append(commandNames(), "help")), ""), strings.Join(commandNames(), ", "), names.ActivatorName)
	return ExitUsage
}

// helpUsage is the help of the help command.
func helpUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s help [COMMAND]\n\nWithout COMMAND, prints the overview of the commands; with it, the command's\nhelp (the same as '%s COMMAND --help').\n", names.ActivatorName, names.ActivatorName)
}

// hint is ` (did you mean "--x"?)` for the suggestion x with prefix "--",
// "" without one.
func hint(suggestion, prefix string) string {
	if suggestion == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", prefix+suggestion)
}

// parse parses flags; ok is false when the command must return code. A
// mistake is one line naming it and where the help is, --help the whole
// help on stdout.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if code, ok := parseFlags(fs, args); !ok {
		return code, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s %s: unexpected argument %q: this command takes no arguments (see '%s help %s')\n", names.ActivatorName, fs.Name(), fs.Arg(0), names.ActivatorName, fs.Name())
		return ExitUsage, false
	}
	return 0, true
}

// parseFlags is parse for a command that takes arguments after its
// options (fs.Args()).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	out, usage := fs.Output(), fs.Usage
	// The flag package's own message and usage are silenced: said below.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return ExitOK, false
	}
	if err != nil {
		fmt.Fprintf(out, "%s %s: %s (see '%s help %s')\n", names.ActivatorName, fs.Name(), flagError(fs, err), names.ActivatorName, fs.Name())
		return ExitUsage, false
	}
	return 0, true
}

// singleDash is a flag name as the flag package's errors write it ("-x").
// Compiled on first use: only a mistaken command line needs it, and every
// run (the gate at each start of the core, activate at every boot) would
// otherwise compile it at start.
var singleDash = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(^|[\s:])-([a-z][a-z-]*)`) })

// flagError words a flag package error in the --name form, with a "did you
// mean" for an unknown option.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, found := strings.CutPrefix(msg, "flag provided but not defined: "); found {
		name = strings.TrimLeft(name, "-")
		var defined []string
		fs.VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })
		return "unknown option --" + name + hint(suggest.Closest(name, append(defined, "help")), "--")
	}
	return singleDash().ReplaceAllString(msg, "$1--$2")
}

var versionCmd = command{
	name:    "version",
	summary: "print the version",
	help:    "Prints the version of ransomeye-tuner.",
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		fmt.Fprintln(e.stdout, version.Version)
		return ExitOK
	},
}
