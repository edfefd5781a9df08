package cli

import (
	"flag"
	"io"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
)

var statusCmd = command{
	name:    "status",
	summary: "show whether the guarantees hold now (exit 0 compliant, 1 not, 3 disabled, 4 unknown)",
	help: `Shows the swap target and the swapfile (size, mode, owner, whether it is active),
other active swap, the sysctls wanted and current, the CPU plan and whether the
drop-ins in effect match it, the placement and the capture interface (both
reported, never gated), and the failure marker with its reason. Changes
nothing on the machine: the Prometheus textfile is written by the metrics
command (ransomeye-tuner-metrics.timer, every minute), or here only with
--write-metrics. --json prints the versioned document described in
ransomeye-tuner(8), JSON OUTPUT. Exit code 0 when compliant, 1 when not
(a guarantee fails, or the failure marker keeps the core down), 3 when
disabled by ransomeye.tuner=0, 4 when it cannot determine (the configuration
cannot be read, the report cannot be written, or, run by a user other than
root, what the verdict needs could not be read: each "not read" row says what
and that root is needed, and no verdict is made from it); 2 for a usage error.
--quiet prints nothing: only the exit code says.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		asJSON := fs.Bool("json", false, "print JSON instead of a table")
		writeMetrics := fs.Bool("write-metrics", false, "also write the Prometheus textfile, as the metrics command does")
		// Kept for scripts of when status wrote the textfile by default.
		fs.Bool("no-metrics", false, "do not write the Prometheus textfile (the default; accepted for old scripts)")
		quiet := fs.Bool("quiet", false, "print nothing (no report, no warnings): only the exit code says")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		if *quiet {
			e.stdout = io.Discard
			e.log = priolog.New(io.Discard, "")
		}
		start := time.Now()
		f, p, r := judge(e.root, facts.Status)
		defer f.Close()
		rep := report.Build(f, p, r)
		var err error
		if *asJSON {
			err = rep.WriteJSON(e.stdout)
		} else {
			err = rep.WriteText(e.stdout)
		}
		if err != nil {
			e.log.Errorf("write the report: %v", err)
			return ExitUnknown
		}
		if *writeMetrics {
			if err := apply.WriteMetrics(f, rep.Metrics(report.Run{Start: start, Duration: time.Since(start)})); err != nil {
				e.log.Warnf("metrics: %v", err)
			}
		}
		return statusCode(r)
	},
}

// statusCode is status's exit code, one per state, so a script tells "not
// compliant" from "off on purpose" and from "cannot say".
func statusCode(r check.Result) int {
	switch r.State() {
	case check.StateCompliant:
		return ExitOK
	case check.StateDisabled:
		return ExitDisabled
	case check.StateUnknown:
		return ExitUnknown
	}
	return ExitFail
}
