package cli

import (
	"flag"
	"fmt"

	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

var gateCmd = command{
	name:    "gate",
	summary: "decide whether ransomeye-core may start (its ExecCondition=)",
	help: `Exit 0: the core may start. Exit 1: a genuine failure marker (a regular file owned
by root) is present; its reasons are printed, and systemd skips the core.
A marker that is a symlink, not owned by root, or a hard link is planted: it is
removed (never followed), logged at ALERT as a security event, and does not keep
the core down. A marker location that cannot be examined keeps the core down.`,
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
			return ExitOK
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
