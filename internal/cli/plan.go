package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"
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
works without root (what cannot be read is said).
With --json, prints only the CPU plan as machines read it (the document of
/run/ransomeye-tuner/plan.json without its "applied" section; "version": 1).`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		asJSON := fs.Bool("json", false, "print the CPU plan document (JSON) only")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		if *asJSON {
			in := generate.Gather(e.root, e.log)
			_, err := e.stdout.Write(generate.Doc(in, generate.Render(in)).JSON())
			if err != nil {
				e.log.Errorf("write the plan: %v", err)
				return ExitFail
			}
			return ExitOK
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
	p := swapplan.Make(swapplan.Inputs{Root: e.root, Config: cfg})
	defer p.Close()
	writeSwapPlan(w, p)

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

// writeSwapPlan prints the swapfile plan: what activate would do and why.
func writeSwapPlan(w io.Writer, p *swapplan.Plan) {
	fmt.Fprintf(w, "target: %s = max(MinSize %s, MemTotal %s), provided by %s alone (unit %s)\n",
		fsinfo.Human(p.Target), fsinfo.Human(p.MinSize), fsinfo.Human(p.MemTotal), p.Path, p.Unit)
	for _, s := range p.Others {
		fmt.Fprintf(w, "other active swap: %s (%s, %s): reported, not counted\n", s.Filename, s.Type, fsinfo.Human(s.Size))
	}
	if p.Ours != nil {
		fmt.Fprintf(w, "active: %s as %s (%s)\n", p.Path, p.Ours.Filename, fsinfo.Human(p.Ours.Size))
	}
	if p.Resolved != p.Dir {
		fmt.Fprintf(w, "directory: %s is %s (%s)\n", p.Dir, p.Resolved, strings.Join(p.Links, ", "))
	}
	if p.DirMissing {
		fmt.Fprintf(w, "directory %s does not exist: activate would create it (%04o)\n", p.Resolved, swapplan.DirMode)
	}
	if p.FSKnown {
		fmt.Fprintf(w, "filesystem: %s at %s, %s free of %s\n", p.FS.Name, p.FS.Dir, fsinfo.Human(p.FS.Free), fsinfo.Human(p.FS.Size))
	}
	for _, l := range p.Leftovers {
		if l.Ours {
			fmt.Fprintf(w, "leftover %s (%s): activate would remove it\n", l.Path, fsinfo.Human(l.Bytes))
		}
	}
	if p.SELinux.Enabled {
		switch {
		case p.SELinux.Err != nil:
			fmt.Fprintf(w, "SELinux: %s; %v\n", p.SELinux.Mode(), p.SELinux.Err)
		case p.File.Kind == swapfile.Regular:
			have := p.File.Context
			if have == "" {
				have = "no context"
			}
			fmt.Fprintf(w, "SELinux: %s; the swapfile has %s, swapon needs %s\n", p.SELinux.Mode(), have, p.SELinux.SwapContext)
		default:
			fmt.Fprintf(w, "SELinux: %s; activate would label the swapfile %s from its creation\n", p.SELinux.Mode(), p.SELinux.SwapContext)
		}
	}
	if p.InspectErr != "" && p.Reason == p.InspectErr && os.Geteuid() != 0 {
		// Root reads what an unprivileged plan cannot: no verdict.
		fmt.Fprintf(w, "swapfile: cannot inspect: %s (run as root to see what activate would do)\n", p.Reason)
		return
	}
	fmt.Fprintf(w, "swapfile: %s: %s\n", p.Action, p.Reason)
	if p.Action == swapfile.ActRefuse {
		fmt.Fprintf(w, "  => activate would fail closed: marker %s, ransomeye-core would not start\n", names.MarkerPath)
	}
	if p.InEffect {
		fmt.Fprintf(w, "swap guarantee: in effect\n")
	} else {
		fmt.Fprintf(w, "swap guarantee: not in effect now: %s\n", p.NotInEffect)
	}
}
