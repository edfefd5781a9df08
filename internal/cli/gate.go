package cli

import (
	"flag"
	"fmt"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"

	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
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
			e.log.Errorf("gate: %v", p)
		}
		if !blocked {
			if !enabled(e) {
				return ExitOK // ransomeye.tuner=0: the documented escape hatch
			}
			ok, why := marker.CheckOK(e.root, marker.BootID(e.root))
			if !ok {
				fmt.Fprintf(e.stdout, "%s may not start: %s has not succeeded in this boot (%s); see journalctl -b -u %s\n", names.CoreService, names.ActivatorUnit, why, names.ActivatorUnit)
			} else if why, ok := swapInEffect(e); !ok {
				fmt.Fprintf(e.stdout, "%s may not start: %s\n", names.CoreService, why)
			} else {
				return ExitOK
			}
		}
		for _, st := range states {
			if st.Err != nil {
				fmt.Fprintf(e.stdout, "%s: cannot examine %s (%v): not starting it (fail closed)\n", names.CoreService, st.Path, st.Err)
			}
			for _, r := range st.Reasons() {
				fmt.Fprintf(e.stdout, "%s may not start: %s: %s\n", names.CoreService, st.Path, r)
			}
		}
		fmt.Fprintf(e.stdout, "fix the cause, then: systemctl restart %s (a successful run removes the marker)\n", names.ActivatorUnit)
		return ExitFail
	},
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
