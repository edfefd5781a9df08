// Command ransomeye-tuner-generator is the systemd generator of
// ransomeye-tuner (systemd.generator(7), docs/design.md): it writes the
// swap unit, its wiring and the CPU drop-ins, logs to /dev/kmsg under
// systemd and to stderr otherwise (logto.go), and exits 0 after any
// problem but a wrong number of arguments (2).
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

func main() {
	// A run allocates a few MiB at most and lasts milliseconds: garbage
	// collection would only add work to the boot's critical path.
	debug.SetGCPercent(-1)
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	log, closer, toStderr := openLog()
	defer closer.Close()
	log.SetMaxPriority(priolog.Info)
	var dirs apply.Dirs
	switch len(args) {
	case 1:
		dirs = apply.Dirs{Normal: args[0], Late: args[0]}
	case 3:
		dirs = apply.Dirs{Normal: args[0], Late: args[2]}
	default:
		msg := fmt.Sprintf("usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR] (called with %d arguments; systemd passes 1 or 3)", names.GeneratorName, len(args))
		fmt.Fprintln(os.Stderr, msg)
		if !toStderr {
			log.Errorf("%s", msg)
		}
		return 2
	}
	apply.Generator(hostroot.FromEnv(), dirs, log)
	return 0
}
