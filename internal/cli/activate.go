package cli

import (
	"flag"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
)

var activateCmd = command{
	name:    "activate",
	summary: "provide the swapfile, apply the sysctls, check the CPU plan (what ransomeye-tuner.service runs)",
	help: `Makes this machine's resources what the RansomEye core needs, or records why not:
  - swapfile of max([Swap] MinSize=, MemTotal) at [Swap] Path=: kept when usable,
    created (or replaced when a smaller, inactive swap area is there) otherwise;
    anything that is not a swap area is left untouched and refused;
  - vm.swappiness and vm.vfs_cache_pressure written and read back (a
    vm.vfs_cache_pressure_denom other than 100 fails); on the cgroup v1
    memory hierarchy memory.swappiness of the core's slice (and of the core's
    memory cgroup while it runs) set too, each change logged; the core's
    memory cgroup checked as the gate checks it (a MemorySwapMax= below the
    swap target on its path fails);
  - the CPU drop-ins the generator wrote compared with a fresh plan.
On any failure the reason goes to /var/lock/ransomeye-resource-fail (which keeps
ransomeye-core.service from starting), to the journal at priority CRIT, and to
systemd (STATUS=); the exit code is 1. On success an earlier marker is removed.
With ransomeye.tuner=0 on the kernel command line it only logs a warning.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		if !apply.Activate(e.root, e.log, notify) {
			return ExitFail
		}
		return ExitOK
	},
}

// notify sends a status line to systemd when run as a service; outside a
// service it does nothing.
func notify(state string) {
	_, _ = daemon.SdNotify(false, state)
}
