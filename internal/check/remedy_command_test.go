package check

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// TestEveryRemedyCommandIsAShellCommandLine: on-call engineers copy what
// follows "then: " in a remedy into a shell as it is. Every such command
// part in this package, in the string literals of its sources (formats
// with their verbs filled in) and in the remedies its constants and
// functions build, must be a valid shell command line (bash -n), and each
// systemctl in it must be given a verb and units only: "systemctl
// daemon-reload and systemctl restart X" parses, and systemctl refuses it
// ("Too many arguments.").
func TestEveryRemedyCommandIsAShellCommandLine(t *testing.T) {
	remedies := map[string]string{}
	// The literals: every "then: " written in this package's sources,
	// however the remedy around it is put together.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
			}
			if strings.Contains(s, "then: ") {
				remedies[fset.Position(lit.Pos()).String()] = fillVerbs(s)
			}
			return true
		})
	}
	if len(remedies) < 5 {
		t.Fatalf("found %d literals with a command after \"then: \" in the sources (premise: several remedies write one)", len(remedies))
	}
	// The remedies as built: those that end with the shared recover
	// command are literals of another package.
	core := names.CoreService
	swapMax := CoreMemory(core, facts.Memory{Kind: facts.MemoryV2, Cgroup: "/system.slice/" + core,
		Limit: facts.SwapLimit{Bytes: 0, Unit: core, Limited: true}}, 10, 16<<30)
	built := map[string]string{
		"RemedyRestart":                  RemedyRestart,
		"RemedyMarker":                   RemedyMarker,
		"RemedyConfig":                   RemedyConfig,
		"RemedyTopology":                 RemedyTopology,
		"RemedyStaleDropIns":             RemedyStaleDropIns,
		"RemedyNotEnforced":              RemedyNotEnforced,
		"RemedyPlanNotGuaranteed":        RemedyPlanNotGuaranteed,
		"RemedyStaleMemoryDropIns":       RemedyStaleMemoryDropIns,
		"RemedyTuned":                    RemedyTuned("vm.swappiness", "10", "virtual-guest"),
		"remedyCoreGate":                 remedyCoreGate(core),
		"remedyCoreCPUs":                 remedyCoreCPUs(core),
		"remedySysctl, set by something": remedySysctl("vm.swappiness", facts.Sysctl{Value: "60"}),
		"remedySysctl, the package's file": remedySysctl("vm.swappiness", facts.Sysctl{Value: "60", SetterFound: true,
			Setter: sysctl.Setter{File: "/usr/lib/sysctl.d/90-ransomeye-tuner.conf", Value: "60"}}),
		"remedySysctl, another file": remedySysctl("vm.swappiness", facts.Sysctl{Value: "60", SetterFound: true,
			Setter: sysctl.Setter{File: "/etc/sysctl.d/99-local.conf", Value: "60"}}),
		"CoreMemory, MemorySwapMax=0": swapMax.Remedy,
	}
	for name, r := range built {
		if !strings.Contains(r, "then: ") {
			t.Errorf("%s: %q names no command after \"then: \"", name, r)
		}
		remedies[name] = r
	}
	for where, r := range remedies {
		cmd := r[strings.LastIndex(r, "then: ")+len("then: "):]
		for _, problem := range commandProblems(t, cmd) {
			t.Errorf("%s: the command %q of the remedy %q: %s", where, cmd, r, problem)
		}
	}
}

// TestRemedyCommandCheckCatches: the check above refuses the commands
// remedies once held.
func TestRemedyCommandCheckCatches(t *testing.T) {
	for _, cmd := range []string{
		"systemctl daemon-reload and systemctl restart ransomeye-core.service",
		"ransomeye-tuner recover (1 more reasons follow)",
		"systemctl restart",
		"systemctl daemon-reload ransomeye-core.service",
	} {
		if len(commandProblems(t, cmd)) == 0 {
			t.Errorf("%q passes the check", cmd)
		}
	}
	if p := commandProblems(t, "systemctl daemon-reload && systemctl try-restart db@a.service && "+names.RecoverCommand); len(p) > 0 {
		t.Errorf("a valid command line fails the check: %q", p)
	}
}

// verb is a fmt verb in a format string.
var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// fillVerbs puts a value in each verb of a format, as a remedy built from
// it would have one: a unit name for %s and %v (so a unit systemctl is
// given stays one), a quoted path for %q, a number for %d.
func fillVerbs(format string) string {
	return verb.ReplaceAllStringFunc(format, func(v string) string {
		switch v[len(v)-1] {
		case '%':
			return "%"
		case 'd':
			return "1"
		case 'q':
			return `"/etc/x.conf"`
		}
		return "x.service"
	})
}

// unitName is a systemd unit's name.
var unitName = regexp.MustCompile(`^[A-Za-z0-9:_.\\@-]+\.(service|socket|target|timer|slice|scope|swap|mount|automount|path|device)$`)

// systemctlVerbs are systemctl's verbs that take units, and those that
// take nothing.
var (
	systemctlVerbs = map[string]bool{"start": true, "stop": true, "restart": true, "try-restart": true,
		"reload-or-restart": true, "status": true, "cat": true, "edit": true, "show": true,
		"mask": true, "unmask": true, "enable": true, "disable": true, "reset-failed": true}
	systemctlBareVerbs = map[string]bool{"daemon-reload": true, "daemon-reexec": true}
)

// commandProblems says what is wrong with cmd as a command line typed into
// a shell: a syntax error (bash -n), or a systemctl given anything but a
// verb and units (set-property: a unit and its assignments).
func commandProblems(t *testing.T, cmd string) []string {
	t.Helper()
	var out []string
	if bash, err := exec.LookPath("bash"); err == nil {
		if b, err := exec.Command(bash, "-n", "-c", cmd).CombinedOutput(); err != nil {
			out = append(out, "bash -n: "+strings.TrimSpace(string(b)))
		}
	} else {
		t.Log("no bash here: the command lines are not parsed")
	}
	for _, simple := range regexp.MustCompile(`&&|\|\||;|\|`).Split(cmd, -1) {
		w := strings.Fields(simple)
		if len(w) == 0 || w[0] != "systemctl" {
			continue
		}
		args := w[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			args = args[1:]
		}
		switch {
		case len(args) == 0:
			out = append(out, "systemctl without a verb")
		case systemctlBareVerbs[args[0]]:
			if len(args) > 1 {
				out = append(out, fmt.Sprintf("systemctl %s takes no arguments, given %q", args[0], args[1:]))
			}
		case args[0] == "set-property":
			if len(args) < 3 || !unitName.MatchString(args[1]) {
				out = append(out, fmt.Sprintf("systemctl set-property wants a unit and assignments, given %q", args[1:]))
			}
			for _, a := range args[2:] {
				if !strings.Contains(a, "=") {
					out = append(out, fmt.Sprintf("systemctl set-property given %q, not an assignment", a))
				}
			}
		case !systemctlVerbs[args[0]]:
			out = append(out, fmt.Sprintf("systemctl given %q, not a verb", args[0]))
		case len(args) == 1:
			out = append(out, fmt.Sprintf("systemctl %s without a unit", args[0]))
		default:
			for _, a := range args[1:] {
				if !unitName.MatchString(a) && !strings.HasPrefix(a, "-") {
					out = append(out, fmt.Sprintf("systemctl %s given %q, not a unit", args[0], a))
				}
			}
		}
	}
	return out
}
