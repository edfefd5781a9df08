package cli

import (
	"flag"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
)

var uninstallCmd = command{
	name:    "uninstall",
	summary: "give back what activate changed in the running system (the package's removal runs it)",
	help: `What the package's removal runs (Debian prerm, RPM %preun on erase) while
this binary is still installed. It gives back what activate changed in the
running system and the removal of the package's files does not:
  - the interrupts and unbound kernel work it placed (as place --undo);
  - each sysctl still at the value activate set in this boot gets what
    sysctl --system sets without the package's files, else the value it had
    before activate first set it; with neither, it keeps its value until the
    next boot (the kernel keeps a value until something sets it);
  - /run/sysctl.d/60-ransomeye-tuner.conf is removed (only when activate wrote
    it), so that a later sysctl --system no longer applies the tuner's values.
It also adds the swapfile now configured, by its resolved path, to the record
of swapfiles a purge removes (/var/lib/ransomeye-tuner/swapfiles). It waits for
an activation in progress first, and after it place places nothing until the
next activation (/run/ransomeye-tuner/withdrawn). It removes no swapfile (a
purge does) and stops nothing; run by hand, the next activation applies
everything again.
Exit code 0 when done, 1 when something could not be given back (said above).`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		if !apply.Uninstall(e.root, e.log) {
			return ExitFail
		}
		return ExitOK
	},
}
