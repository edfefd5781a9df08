package cli

import (
	"flag"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
)

var placeCmd = command{
	name:    "place",
	summary: "place interrupts and unbound kernel work again, or undo that (--undo)",
	help: `Does what activate does after its checks for interrupts and kernel work, and
nothing else: movable interrupts and default_smp_affinity onto the core's CPUs,
the capture interface's queue interrupts onto the DPI CPUs (its channel count
first, with [CPU] DPIChannels=, while the DPI service is stopped), the unbound
workqueue masks onto the core's CPUs, and the plan file; without a reservation
it undoes an earlier placement. ransomeye-tuner-place.service runs it after
network-online.target, because drivers such as ixgbe and i40e request their
queue interrupts only when the link comes up; ransomeye-tuner-netdev.service
runs it (on reload) when the package's udev rule sees a network device
appear, be renamed or change its queue count. Run it after a link reset,
which requests them anew without a uevent. One placement runs at a time.
With --undo, restores what earlier activations placed (each value still the one
written, the capture interface's channel count too) and drops that record from
the plan file: the package runs it before
removal. An invalid configuration is an error (nothing is changed).
Exit code 0 when done (problems placing single interrupts are warnings), 1 when
the configuration is invalid, 2 on a usage error.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		undo := fs.Bool("undo", false, "restore what earlier activations placed, and drop the record")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		if !apply.Place(e.root, e.log, *undo) {
			return ExitFail
		}
		return ExitOK
	},
}
