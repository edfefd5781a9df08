package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/guarantee"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
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
Last, every guarantee status checks must hold, from the same code: the
configured swapfile active with at least the target size (a swap unit that was
skipped or failed without a marker keeps the core down too), each sysctl at its
value (one changed since the activation, by a later sysctl --system, keeps it
down), a CPU topology that can be trusted, the CPU drop-ins matching a fresh
plan, with a CPU reservation the CPUs the core gets (its own affinity,
measured in its cgroup) equal to the plan's core set, and the core's memory
cgroup letting the swappiness and the swap reach it (cgroup v1: its
memory.swappiness; cgroup v2: no memory.swap.max below the swap target on its
path). Each failing one is printed with its remedy.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		blocked, states, res := marker.Gate(e.root)
		alertPlanted(e.log, res.Planted)
		for _, p := range res.Problems {
			e.log.Event(msgid.GateProblem, priolog.Err, "gate: %v", p)
		}
		var out []string // why the core may not start, one line each
		if !blocked {
			if !enabled(e) {
				return ExitOK // ransomeye.tuner=0: the documented escape hatch
			}
			ok, why := marker.CheckOK(e.root, marker.BootID(e.root))
			if !ok {
				out = append(out, fmt.Sprintf("%s may not start: %s has not succeeded in this boot (%s); see journalctl -b -u %s", names.CoreService, names.ActivatorUnit, why, names.ActivatorUnit))
			} else if core, failed := failingGuarantees(e); len(failed) > 0 {
				for _, g := range failed {
					out = append(out, fmt.Sprintf("%s may not start: %s: %s", core, g.Name, g.Problem()))
				}
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
		e.log.Event(msgid.GateRefused, priolog.Err, "%s", first)
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

// failingGuarantees evaluates every guarantee the core depends on, with
// the code status shows them with (internal/guarantee), and returns the
// core's name and the guarantees that fail. Why all of them, not only the
// marker and the swap: a sysctl or CPU set changed after a good activation
// (a later sysctl --system, an administrator's drop-in) would otherwise
// leave the gate open while status says NOT COMPLIANT. An invalid
// configuration fails.
func failingGuarantees(e *env) (string, []guarantee.Entry) {
	in := generate.Gather(e.root, e.log)
	if in.ConfigErr != nil {
		core := names.CoreService
		if ce := (*config.Error)(nil); errors.As(in.ConfigErr, &ce) && ce.CoreService != "" {
			core = ce.CoreService
		}
		return core, []guarantee.Entry{{Name: guarantee.NameConfig, Reason: in.ConfigErr.Error()}}
	}
	out := generate.Render(in)
	swap := swapplan.Make(swapplan.Inputs{Root: e.root, Config: in.Config})
	defer swap.Close()
	return in.Config.CoreService, guarantee.Failures(guarantee.Evaluate(e.root, in, out, swap, guarantee.Systemd(e.root)))
}
