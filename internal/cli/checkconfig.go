package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

var checkConfigCmd = command{
	name:    "check-config",
	summary: "check the configuration: exit 0 valid, 1 invalid (for CI and configuration management)",
	usage:   "[FILE...]",
	help: `Checks the configuration and prints each problem on a line of its own, as
FILE:LINE: error: ... or FILE:LINE: warning: ..., then the verdict. Exit code 0
when it is valid (warnings allowed), 1 when it is not (with --strict, also when
there are warnings), 2 for a usage error. Needs no root; changes nothing.
Without FILE, checks the installed configuration as the generator reads it
(/etc/ransomeye/tuner.conf, then tuner.conf.d/*.conf, under --root), and the
CPUs it names ([CPU] DPICPUs=, TrainingCPUs=) against this machine's CPUs.
With FILE, reads those files instead, in the order given, the first as
tuner.conf and the others as its drop-ins: a file not installed yet, in a CI
pipeline or a configuration management run (Ansible's validate:, for one),
on any machine; the CPUs named are then checked only as far as the machine
does not matter. A warning is a setting that is not used (an unknown section
or key, a drop-in not named *.conf): the built-in default applies instead;
without FILE, also [Memory] MemoryMin= settings that add up to more than half
of this machine's RAM.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		strict := fs.Bool("strict", false, "fail (exit 1) on warnings too")
		quiet := fs.Bool("quiet", false, "print nothing: only the exit code says")
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if *quiet {
			e.stdout = io.Discard
		}
		var cfg config.Config
		var warnings []config.Problem
		var err error
		var machine []config.Problem
		if fs.NArg() > 0 {
			cfg, warnings, err = config.LoadFiles(fs.Args())
		} else {
			f := facts.Gather(e.root, facts.CheckConfig)
			defer f.Close()
			cfg, warnings, err = f.Config, f.ConfigWarnings, f.ConfigErr
			if err == nil {
				p := plan.Decide(f)
				machine = machineProblems(f, p)
				for _, w := range p.Memory.Warnings {
					warnings = append(warnings, config.Problem{Message: "on this machine: " + w})
				}
			}
		}
		var errs []config.Problem
		if ce, ok := err.(*config.Error); ok {
			errs = ce.Problems
		} else if err != nil {
			errs = []config.Problem{{Message: err.Error()}}
		}
		for _, p := range append(errs, machine...) {
			fmt.Fprintln(e.stdout, located(p, "error"))
		}
		for _, w := range warnings {
			fmt.Fprintln(e.stdout, located(w, "warning"))
		}
		files := "no configuration file (built-in defaults)"
		switch read := verdictFiles(cfg.Files, errs); {
		case fs.NArg() > 0:
			files = strings.Join(fs.Args(), ", ")
		case len(read) > 0:
			files = strings.Join(read, ", ")
		}
		counts := fmt.Sprintf("%s, %s", plural(len(errs)+len(machine), "error"), plural(len(warnings), "warning"))
		switch {
		case len(errs) > 0:
			fmt.Fprintf(e.stdout, "INVALID: %s: %s; the generator writes no units and activate fails closed: ransomeye-core would not start\n", files, counts)
			return ExitFail
		case len(machine) > 0:
			fmt.Fprintf(e.stdout, "INVALID on this machine: %s: %s; activate fails closed on the CPU plan: ransomeye-core would not start\n", files, counts)
			return ExitFail
		case *strict && len(warnings) > 0:
			fmt.Fprintf(e.stdout, "FAILED (--strict: warnings fail): %s: %s\n", files, counts)
			return ExitFail
		}
		fmt.Fprintf(e.stdout, "valid: %s: %s\n", files, counts)
		return ExitOK
	},
}

// verdictFiles are the files the verdict names: those read, and each one
// that is there but could not be read (a link to nothing, a directory),
// with why: the configuration is then not the built-in defaults, whose
// settings that file was meant to change.
func verdictFiles(read []string, errs []config.Problem) []string {
	out := slices.Clone(read)
	for _, p := range errs {
		if p.Line == 0 && p.File != "" && !slices.Contains(read, p.File) {
			why, _, _ := strings.Cut(p.Message, "; ")
			out = append(out, fmt.Sprintf("%s (not read: %s)", p.File, why))
		}
	}
	return out
}

// located is p as "FILE:LINE: severity: message" ("FILE: severity: ..."
// for a whole file; "severity: ..." for none).
func located(p config.Problem, severity string) string {
	if p.File == "" {
		return severity + ": " + p.Message
	}
	return config.Problem{File: p.File, Line: p.Line, Message: severity + ": " + p.Message}.String()
}

// machineProblems are the problems of a valid configuration on this
// machine: the CPUs it names that cannot be used here, or that cannot be
// checked (the topology cannot be read), located at the setting.
func machineProblems(f *facts.Facts, p plan.Plan) []config.Problem {
	var named []string
	var at config.Problem
	for _, r := range f.Config.Roles() {
		if r.CPUs.IsEmpty() {
			continue
		}
		named = append(named, r.CPUsKey+"=")
		if at.File == "" || strings.HasPrefix(p.CPU.Refused, r.CPUsKey+"=") {
			at = f.Config.CPUsAt[r.Name]
		}
	}
	switch {
	case len(named) == 0:
		return nil
	case f.TopologyRead && f.TopologyErr != nil:
		at.Message = fmt.Sprintf("the CPUs %s names cannot be checked here: the CPU topology cannot be trusted (%v), and activate fails closed on it", strings.Join(named, ", "), f.TopologyErr)
	case p.CPU.Refused != "":
		at.Message = "on this machine: " + p.CPU.Refused
	default:
		return nil
	}
	return []config.Problem{at}
}

// plural is "1 error", "2 errors".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
