package cli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/klog"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"
)

// enabled reads the kernel command line: false only with ransomeye.tuner=0
// (an unreadable command line counts as on).
func enabled(e *env) bool {
	words, err := procfs.ReadCmdline(e.root)
	if err != nil {
		return true
	}
	on, _ := procfs.Enabled(words)
	return on
}

var gateCmd = command{
	name:    "gate",
	summary: "decide whether ransomeye-core may start (its ExecCondition=)",
	help: `Exit 0: the core may start. Exit 1: a genuine failure marker (a regular file owned
by root) is present, or ransomeye-tuner.service has not succeeded in this boot
(no /run/ransomeye-tuner/ok for the running boot id: a failure that could not
even write the marker, a full /run, still keeps the core down); the reasons are
printed, and systemd skips the core. With ransomeye.tuner=0 only the marker counts.
A marker that is a symlink, not owned by root, or a hard link is planted: it is
removed (never followed), logged at ALERT as a security event, and does not keep
the core down. A marker location that cannot be examined keeps the core down.
Last, the configured swapfile must be active with at least the target size:
a swap unit that was skipped or failed without a marker (a marker planted
between the activator and swapon makes the swap unit skip itself) keeps the
core down too.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		blocked, states, res := marker.Gate(e.root)
		alertPlanted(e.log, res.Planted)
		for _, p := range res.Problems {
			e.log.Event(msgid.GateProblem, klog.Err, "gate: %v", p)
		}
		var out []string // why the core may not start, one line each
		if !blocked {
			if !enabled(e) {
				return ExitOK // ransomeye.tuner=0: the documented escape hatch
			}
			ok, why := marker.CheckOK(e.root, marker.BootID(e.root))
			if !ok {
				out = append(out, fmt.Sprintf("%s may not start: %s has not succeeded in this boot (%s); see journalctl -b -u %s", names.CoreService, names.ActivatorUnit, why, names.ActivatorUnit))
			} else if why, ok := swapInEffect(e); !ok {
				out = append(out, fmt.Sprintf("%s may not start: %s", names.CoreService, why))
			} else {
				return ExitOK
			}
		}
		for _, st := range states {
			if st.Err != nil {
				out = append(out, fmt.Sprintf("%s: cannot examine %s (%v): not starting it (fail closed)", names.CoreService, st.Path, st.Err))
			}
			for _, r := range st.Reasons() {
				out = append(out, fmt.Sprintf("%s may not start: %s: %s", names.CoreService, st.Path, r))
			}
		}
		refuse(e, out)
		return ExitFail
	},
}

// gateRemedy is what to do once the cause of a refusal is fixed.
var gateRemedy = fmt.Sprintf("fix the cause, then: systemctl restart %s (a successful run removes the marker)", names.ActivatorUnit)

// refuse prints why the core may not start. The first line is the whole
// story on one line, reason and remedy: the gate's output is the core's
// journal (ExecCondition=), and `systemctl status ransomeye-core` shows only
// its last lines. On the journal it is an event with its MESSAGE_ID.
func refuse(e *env, out []string) {
	if len(out) == 0 {
		out = []string{fmt.Sprintf("%s may not start: a failure marker is present", names.CoreService)}
	}
	first := out[0]
	if !strings.Contains(first, "fix the cause") {
		first += "; " + gateRemedy
	}
	if len(out) > 1 {
		first += fmt.Sprintf(" (%d more reasons follow)", len(out)-1)
	}
	if e.log.Journal() {
		e.log.Event(msgid.GateRefused, klog.Err, "%s", first)
	} else {
		fmt.Fprintln(e.stdout, first)
	}
	if len(out) > 1 {
		for _, l := range out[1:] {
			fmt.Fprintln(e.stdout, l)
		}
		fmt.Fprintln(e.stdout, gateRemedy)
	}
}

// swapInEffect reports whether the configured swapfile is active now with
// at least the target size. It is the gate's positive evidence that the swap
// unit did its part: the marker only records failures that were seen.
func swapInEffect(e *env) (string, bool) {
	cfg, _, err := config.Load(e.root)
	if err != nil {
		return err.Error(), false
	}
	p := swapplan.Make(swapplan.Inputs{Root: e.root, Config: cfg})
	defer p.Close()
	return p.NotInEffect, p.InEffect
}
