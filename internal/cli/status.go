package cli

import (
	"flag"
	"io"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/metrics"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

var statusCmd = command{
	name:    "status",
	summary: "show whether the guarantees hold now (exit 0 compliant, 1 not, 3 disabled, 4 unknown)",
	help: `Shows the swap target and the swapfile (size, mode, owner, whether it is active),
other active swap, the sysctls wanted and current, the CPU plan and whether the
drop-ins in effect match it, and the failure marker with its reason. Changes
nothing on the machine: the Prometheus textfile is written by the metrics
command (ransomeye-tuner-metrics.timer, every minute), or here only with
--write-metrics. --json prints the versioned document described in
ransomeye-tuner(8), JSON OUTPUT. Exit code 0 when compliant, 1 when not
(a guarantee fails, or the failure marker keeps the core down), 3 when
disabled by ransomeye.tuner=0, 4 when it cannot determine (the configuration
cannot be read, or the report cannot be written); 2 for a usage error.
--quiet prints nothing: only the exit code says.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		asJSON := fs.Bool("json", false, "print JSON instead of a table")
		writeMetrics := fs.Bool("write-metrics", false, "also write the Prometheus textfile, as the metrics command does")
		// Why kept: scripts written when status wrote the textfile by default.
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
		r := status.Gather(e.root, e.log)
		var err error
		if *asJSON {
			err = r.WriteJSON(e.stdout)
		} else {
			err = r.WriteText(e.stdout)
		}
		if err != nil {
			e.log.Errorf("write the report: %v", err)
			return ExitUnknown
		}
		if *writeMetrics {
			writeSnapshot(e.log, e.root, metricsPath(e), Snapshot(r, start, time.Since(start)))
		}
		return statusCode(r)
	},
}

// statusCode is status's exit code for r: one per state, so that a script
// tells "not compliant" from "turned off on purpose" and from "cannot say".
func statusCode(r status.Report) int {
	switch r.State() {
	case status.StateCompliant:
		return ExitOK
	case status.StateDisabled:
		return ExitDisabled
	case status.StateUnknown:
		return ExitUnknown
	}
	return ExitFail
}

// metricsPath is the configured textfile, or the default when the
// configuration cannot be read (the metrics then say why the core is down).
func metricsPath(e *env) string {
	path := config.Default().MetricsPath
	if cfg, _, err := config.Load(e.root); err == nil {
		path = cfg.MetricsPath
	}
	return path
}

// Snapshot turns a status report into the metrics snapshot: the one code
// behind the textfile of activate, metrics and status --write-metrics.
func Snapshot(r status.Report, start time.Time, d time.Duration) metrics.Snapshot {
	s := metrics.Snapshot{
		Version:             version.Version,
		TargetSwapBytes:     r.Swap.Target,
		ActiveSwapBytes:     r.Swap.ActiveBytes + r.Swap.OthersBytes,
		SwapfileActiveBytes: r.Swap.ActiveBytes,
		SwapNotMeasured:     r.Disabled || r.ConfigErr != "",
		Compliant:           r.Compliant,
		MarkerPresent:       r.Marker.Present,
		Disabled:            r.Disabled,
		CoreGated:           r.CoreGated(),
		PlantedMarkers:      len(r.Marker.Planted),
		ReservedCPUs:        r.CPU.Counts,
		Placement:           placementMetrics(r.Placement),
		LastRun:             start,
		Duration:            d,
	}
	for _, g := range r.Guarantees {
		if !g.NotMeasured {
			s.Guarantees = append(s.Guarantees, metrics.Guarantee{Name: g.Name, OK: g.OK})
		}
	}
	if !s.SwapNotMeasured {
		s.Plan = &metrics.Plan{Isolation: r.CPU.Isolation, Mode: r.CPU.Mode, Reserved: r.CPU.Reserved}
	}
	return s
}

// placementMetrics counts what escapes the partition (nil without a
// reservation).
func placementMetrics(p *status.Placement) *metrics.Placement {
	if p == nil {
		return nil
	}
	irqs, threads, services := p.Escapes()
	unmovable, pending := p.IRQsLeft()
	return &metrics.Placement{IRQsOnReserved: irqs, IRQsUnmovable: unmovable, IRQsMovePending: pending, ThreadsOnReserved: threads, ServiceCPUsOutsidePlan: services,
		IsolationDegraded: p.Isolation.Degraded()}
}
