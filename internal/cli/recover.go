package cli

import (
	"flag"
	"fmt"
	"os"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

var recoverCmd = command{
	name:    "recover",
	summary: "after fixing a cause: reload, activate again, start the swap unit and the core the gate kept down",
	help: `What every remedy says to run once its cause is fixed. In order, each step
waited for and printed:
  1. systemctl daemon-reload: the generator runs again, with the configuration
     and the CPUs as they are now (after a configuration change, or an
     invalid configuration, the units it writes must change first);
  2. systemctl restart ransomeye-tuner.service: activate checks everything
     again; on success it removes the failure marker;
  3. systemctl start of the swap unit (ransomeye-swap.swap for the default
     path): a swap unit skipped or failed while activate failed stays down
     otherwise;
  4. when the gate now lets the core start: systemctl start of the core
     ([CPU] CoreService=, every loaded instance of a template), only when the
     gate refused its last start (its Result is exec-condition); a core that
     runs, or that someone stopped after a start that ran, is left as it is.
     A stop after the gate's refusal changes nothing systemd records, so
     that core is started too: to keep a core down on purpose, mask it
     (systemctl mask); a disabled core is started all the same.
A step that fails ends these steps, printing why (the gate's reasons, the
marker's first) and nothing after it is done.
  5. last, whatever the steps above did: systemctl start of the tuner's own
     units that are stopped (ransomeye-tuner-metrics.timer,
     ransomeye-tuner-netdev.service: a refused package removal stops them)
     unless they are masked. The package enables them by static links,
     which systemd reports as static or disabled: to keep one off, mask it
     (systemctl mask ransomeye-tuner-metrics.timer). A start that fails is a
     warning naming the unit and journalctl -u UNIT; it changes neither the
     core's steps nor the exit code.
The core is never stopped or restarted.
Needs root and the running systemd (not under --root).
Exit code 0 when every step 1-4 succeeded, 1 when one failed (said above), 2
for a usage error or when it cannot act (not root, a root prefix, no systemd).`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		cannot := func(why string) int {
			fmt.Fprintf(e.stderr, "%s: %s; it acts on this machine's running systemd\n", names.RecoverCommand, why)
			return ExitUsage
		}
		switch {
		case !e.root.IsHost():
			return cannot(fmt.Sprintf("not under a root prefix (%q)", e.root.String()))
		case os.Geteuid() != 0:
			return cannot("needs root")
		}
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return cannot("systemd is not running")
		}
		m, err := apply.NewSystemdManager()
		if err != nil {
			e.log.Errorf("%v", err)
			return ExitFail
		}
		defer m.Close()
		if !apply.Recover(e.root, m, e.stdout) {
			return ExitFail
		}
		return ExitOK
	},
}
