package cli

import (
	"flag"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
)

var metricsCmd = command{
	name:    "metrics",
	summary: "write the Prometheus textfile from the state now (run by ransomeye-tuner-metrics.timer)",
	help: `Measures what status measures and writes it to the node_exporter textfile
([Metrics] TextfilePath=, default /var/lib/prometheus/node-exporter/ransomeye_tuner.prom),
replacing it atomically. ransomeye-tuner-metrics.timer runs it every minute, so
drift after boot (a sysctl changed, swap turned off) shows up within a minute
and a stale file means the timer stopped. Prints nothing when it succeeds.
Writes nothing when TextfilePath=off, or when the default path's directory
does not exist (no node_exporter here). A TextfilePath= set to a file in a
directory that does not exist is an error, said on standard error (the
journal, at priority ERR, when the timer runs it) with the remedy: the alerts
on the metrics would otherwise be blind with nothing saying why. TextfilePath=
is read also when another setting is invalid (the metrics then say that the
core is kept down); an invalid TextfilePath= is an error. status shows
where the metrics go, when they were last written, or why not. Exit code 0
when written or nothing to write, 1 when the file could not be written.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		// It runs every minute: info lines would flood the journal.
		e.log.SetMaxPriority(priolog.Notice)
		start := time.Now()
		f, p, r := judge(e.root, facts.Textfile)
		defer f.Close()
		if err := apply.WriteMetrics(f, report.Build(f, p, r).Metrics(report.Run{Start: start, Duration: time.Since(start)})); err != nil {
			e.log.Errorf("metrics: %v", err)
			return ExitFail
		}
		return ExitOK
	},
}

// judge gathers, decides and checks: the one judgement status, metrics and
// the gate render. The caller closes the facts.
func judge(root hostroot.Root, scope facts.Scope) (*facts.Facts, plan.Plan, check.Result) {
	f := facts.Gather(root, scope)
	p := plan.Decide(f)
	return f, p, check.Run(f, p)
}
