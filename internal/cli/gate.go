package cli

import (
	"flag"
	"fmt"
	"os"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

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
		// Planted markers go first: they are removed, never believed.
		apply.RemovePlanted(e.root, e.log)
		f, _, r := judge(e.root, facts.Gate)
		defer f.Close()
		// Its lines go to the journal of the unit it runs for.
		r.GateUnit = f.SelfUnit
		if out := r.GateLines(); len(out) > 0 {
			unit := r.GateUnit
			if unit == "" {
				unit = r.Core
			}
			refuse(e, unit, out)
			return ExitFail
		}
		return ExitOK
	},
}

// refuse prints why the core may not start (unit, the one it runs for),
// each line a reason with its check's remedy, the first the whole story:
// `systemctl status` shows only the core's last lines. With more than one
// reason each line starts with its count ("1 of 2: "), so the first says
// more follow; the end of every line stays its remedy's command, copied
// from `systemctl status` as it is. On the journal each line is a native
// record naming unit, the first with its MESSAGE_ID.
func refuse(e *env, unit string, out []string) {
	if len(out) > 1 {
		for i := range out {
			out[i] = fmt.Sprintf("%d of %d: %s", i+1, len(out), out[i])
		}
	}
	if !e.log.Journal() {
		for _, l := range out {
			fmt.Fprintln(e.stdout, l)
		}
		return
	}
	if os.Geteuid() != 0 {
		// An administrator's ExecCondition= without the "+": systemctl
		// status matches OBJECT_SYSTEMD_UNIT= only in root's records, so
		// the stream, attributed by its cgroup, is the better chance.
		for _, l := range out {
			e.log.Printf(priolog.Err, "%s", l)
		}
		return
	}
	// Every line natively, naming the unit the gate runs for: the gate
	// exits within milliseconds, often before journald has read its
	// cgroup, and only a record naming the unit then reaches `systemctl
	// status` of the core (priolog.About).
	for i, l := range out {
		id := msgid.GateRefused
		if i > 0 {
			id = ""
		}
		e.log.About(unit, id, priolog.Err, "%s", l)
	}
}
