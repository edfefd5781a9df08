package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

var planCmd = command{
	name:    "plan",
	summary: "show what the generator and activate would do here, changing nothing",
	help: `Prints what ransomeye-tuner-generator and ransomeye-tuner activate would do on this
machine: the CPU topology seen, the CPU sets or why there are none, the swap
target and what would happen to the swapfile (create, keep, replace or refuse,
with the filesystem check), the sysctls to set, and every unit and drop-in the
generator would write, with its content. Writes nothing and runs no swapon;
works without root (what cannot be read is said).`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		return plan(e)
	},
}

func plan(e *env) int {
	w := e.stdout
	in := generate.Gather(e.root, e.log)
	out := generate.Render(in)
	fmt.Fprintf(w, "ransomeye-tuner plan for %s (nothing is changed)\n\n", e.root)
	if in.CmdlineErr == nil && !in.Enabled {
		fmt.Fprintf(w, "%s=0 on the kernel command line: the generator writes no units, activate only logs a warning, and ransomeye-core starts without guaranteed resources.\n", names.CmdlineSwitch)
		return ExitOK
	}
	if in.ConfigErr != nil {
		fmt.Fprintf(w, "configuration is INVALID: %v\nThe generator would write no units (except the gate of a renamed core whose name is known) and activate would fail closed with this reason.\n\n", in.ConfigErr)
		fmt.Fprint(w, generate.Describe(in, out))
		return ExitOK
	}
	cfg := in.Config

	fmt.Fprintf(w, "== swap\n")
	mem, err := procfs.ReadMeminfo(e.root)
	if err != nil {
		fmt.Fprintf(w, "memory size unknown: %v\n", err)
	}
	target := swapfile.Target(cfg.MinSize, mem.MemTotal, os.Getpagesize())
	fmt.Fprintf(w, "target: %s = max(MinSize %s, MemTotal %s), provided by %s alone (unit %s)\n",
		fsinfo.Human(target), fsinfo.Human(cfg.MinSize), fsinfo.Human(mem.MemTotal), cfg.SwapPath, names.SwapUnitName(cfg.SwapPath))
	swaps, err := procfs.ReadSwaps(e.root)
	if err != nil {
		fmt.Fprintf(w, "active swap unknown: %v\n", err)
	}
	_, active := status.ActiveSwap(e.root, swaps, cfg.SwapPath)
	for _, s := range swaps {
		if s.Filename != cfg.SwapPath {
			fmt.Fprintf(w, "other active swap: %s (%s, %s): reported, not counted\n", s.Filename, s.Type, fsinfo.Human(s.Size))
		}
	}
	path := e.root.Path(cfg.SwapPath)
	dir := filepath.Dir(path)
	fsi, fsErr := status.StatNearest(dir)
	if fsErr != nil {
		fmt.Fprintf(w, "filesystem: cannot check: %v\n", fsErr)
	} else {
		verdict := "ok"
		if err := fsi.CheckUsable(); err != nil {
			verdict = "REFUSED: " + err.Error()
		} else if fsi.Support == fsinfo.NeedsNoCOW {
			verdict = "ok with no-copy-on-write set on the empty file"
		}
		fmt.Fprintf(w, "filesystem: %s at %s, %s free of %s: %s\n", fsi.Name, fsi.Dir, fsinfo.Human(fsi.Free), fsinfo.Human(fsi.Size), verdict)
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			fmt.Fprintf(w, "directory %s does not exist: activate would create it (0755)\n", filepath.Dir(cfg.SwapPath))
		}
	}
	ex, err := swapfile.Inspect(path, os.Getpagesize())
	if err != nil {
		fmt.Fprintf(w, "swapfile: cannot inspect: %v (run as root to see it)\n", err)
	} else {
		ex.Path = cfg.SwapPath
		d := swapfile.Decide(ex, target, active, fsErr == nil && fsi.Support == fsinfo.NeedsNoCOW, names.SwapLabel)
		action, reason := d.Action, d.Reason
		if (action == swapfile.ActCreate || action == swapfile.ActReplace) && fsErr == nil {
			if err := fsi.CheckUsable(); err != nil {
				action, reason = swapfile.ActRefuse, err.Error()
			} else if err := fsi.CheckSpace(target, cfg.Reserve); err != nil {
				action, reason = swapfile.ActRefuse, err.Error()
			}
		}
		fmt.Fprintf(w, "swapfile: %s: %s\n", action, reason)
		if action == swapfile.ActRefuse {
			fmt.Fprintf(w, "  => activate would fail closed: marker %s, ransomeye-core would not start\n", names.MarkerPath)
		}
	}

	fmt.Fprintf(w, "\n== sysctls\n")
	for _, s := range status.Sysctls(cfg) {
		cur, err := sysctl.Read(e.root, s.Key)
		if err != nil {
			cur = "unreadable (" + err.Error() + ")"
		}
		change := "set"
		if cur == s.Value {
			change = "already set"
		}
		fmt.Fprintf(w, "%s = %s (now %s): %s, then read back\n", s.Key, s.Value, cur, change)
	}

	fmt.Fprintf(w, "\n== generator (CPU plan and units)\n")
	fmt.Fprint(w, generate.Describe(in, out))
	return ExitOK
}
