package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/guarantee"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
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
plan, and, with a CPU reservation, the CPUs the core gets (its own affinity,
measured in its cgroup) equal to the plan's core set. Each failing one is
printed with its remedy.`,
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
			} else if core, failed := failingGuarantees(e); len(failed) > 0 {
				for _, g := range failed {
					fmt.Fprintf(e.stdout, "%s may not start: %s: %s\n", core, g.Name, g.Problem())
				}
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

// failingGuarantees evaluates every guarantee the core depends on, with
// the code status shows them with (internal/guarantee), and returns the
// core's name and the guarantees that fail. Why all of them, not only the
// marker and the swap: a sysctl changed after a good activation left the
// gate open while status said NOT COMPLIANT (FAULTS.md, finding 13). An
// invalid configuration fails.
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
	return in.Config.CoreService, guarantee.Failures(guarantee.Evaluate(e.root, in, out, guarantee.Systemd(e.root)))
}

// swapInEffect reports whether the configured swapfile is active now with
// at least the target size. It is the gate's positive evidence that the swap
// unit did its part: the marker only records failures that were seen.
func swapInEffect(e *env) (string, bool) {
	cfg, _, err := config.Load(e.root)
	if err != nil {
		return err.Error(), false
	}
	mem, err := procfs.ReadMeminfo(e.root)
	if err != nil {
		return err.Error(), false
	}
	swaps, err := procfs.ReadSwaps(e.root)
	if err != nil {
		return err.Error(), false
	}
	target := swapfile.Target(cfg.MinSize, mem.MemTotal, os.Getpagesize())
	unit := names.SwapUnitName(cfg.SwapPath)
	a, ok := status.ActiveSwap(e.root, swaps, cfg.SwapPath)
	if !ok {
		return fmt.Sprintf("swapfile %q is not active (see systemctl status %s); fix the cause, then: systemctl restart %s %s", cfg.SwapPath, unit, names.ActivatorUnit, unit), false
	}
	if !status.SwapSatisfies(a.Size, target) {
		return fmt.Sprintf("swapfile %q is active with %s, less than the target %s; fix the cause, then: systemctl restart %s and reboot", cfg.SwapPath, fsinfo.Human(a.Size), fsinfo.Human(target), names.ActivatorUnit), false
	}
	return "", true
}
