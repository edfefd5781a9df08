package cli

import (
	"flag"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/metrics"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

var statusCmd = command{
	name:    "status",
	summary: "show whether the guarantees hold now (exit 0 compliant, 1 not)",
	usage:   "[--json]",
	help: `Shows the swap target and the swapfile (size, mode, owner, whether it is active),
other active swap, the sysctls wanted and current, the CPU plan and whether the
drop-ins in effect match it, and the failure marker with its reason. Changes
nothing on the machine (it refreshes the Prometheus textfile when its directory
exists). Exit code 0 when compliant, 1 when not (or disabled by ransomeye.tuner=0).`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		asJSON := fs.Bool("json", false, "print JSON instead of a table")
		noMetrics := fs.Bool("no-metrics", false, "do not write the Prometheus textfile")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		start := time.Now()
		r := status.Gather(e.root, e.log)
		var err error
		if *asJSON {
			err = r.WriteJSON(e.stdout)
		} else {
			err = r.WriteText(e.stdout)
		}
		if err != nil {
			e.log.Errorf("write the report: %v", err)
			return ExitFail
		}
		if !*noMetrics {
			path := config.Default().MetricsPath
			if cfg, _, cerr := config.Load(e.root); cerr == nil {
				path = cfg.MetricsPath
			}
			writeSnapshot(e.log, e.root, path, Snapshot(r, start, time.Since(start)))
		}
		if r.Compliant {
			return ExitOK
		}
		return ExitFail
	},
}

// Snapshot turns a status report into the metrics snapshot.
func Snapshot(r status.Report, start time.Time, d time.Duration) metrics.Snapshot {
	return metrics.Snapshot{
		Version:             version.Version,
		TargetSwapBytes:     r.Swap.Target,
		ActiveSwapBytes:     r.Swap.ActiveBytes + r.Swap.OthersBytes,
		SwapfileActiveBytes: r.Swap.ActiveBytes,
		Compliant:           r.Compliant,
		MarkerPresent:       r.Marker.Present,
		Disabled:            r.Disabled,
		ReservedCPUs:        r.CPU.Counts,
		LastRun:             start,
		Duration:            d,
	}
}
