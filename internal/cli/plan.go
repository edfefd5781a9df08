package cli

import (
	"flag"
	"io"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

var planCmd = command{
	name:    "plan",
	summary: "show what the generator and activate would do here, changing nothing",
	help: `Prints what ransomeye-tuner-generator and ransomeye-tuner activate would do on this
machine: the CPU topology seen, the CPU sets or why there are none, the capture
interface (present or not, its queues and channels, and what would be done to
its channel count), the swap
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
		scope := facts.Plan
		if *asJSON {
			scope = facts.Generator
		}
		f := facts.Gather(e.root, scope)
		defer f.Close()
		p := plan.Decide(f)
		var out string
		if *asJSON {
			out = string(p.Doc(f).JSON())
		} else {
			out = p.Text(f)
		}
		if _, err := io.WriteString(e.stdout, out); err != nil {
			e.log.Errorf("write the plan: %v", err)
			return ExitFail
		}
		return ExitOK
	},
}
