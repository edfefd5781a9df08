package cli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

var failClosedCmd = command{
	name:    "fail-closed",
	summary: "write the failure marker (run by the units when something failed)",
	help: `Writes /var/lock/ransomeye-resource-fail so that ransomeye-core.service does not
start. An existing genuine marker keeps its reasons; this one is appended.
Without --reason the reason comes from $MONITOR_UNIT, $MONITOR_SERVICE_RESULT,
$MONITOR_EXIT_CODE and $MONITOR_EXIT_STATUS, which systemd sets for OnFailure=
units (ransomeye-tuner-fail-closed.service).
With --if-failed (ExecStopPost= of ransomeye-tuner.service) the marker is written
only when $SERVICE_RESULT is not "success" (a crash, kill or timeout of activate).
On "success" the unit is being stopped (shutdown, soft-reboot, a restart): the
record of this boot's success, /run/ransomeye-tuner/ok, is removed, so that the
gate opens only while ransomeye-tuner.service is active.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		reason := fs.String("reason", "", "the `TEXT` to record as the reason (one line)")
		ifFailed := fs.Bool("if-failed", false, "write only when $SERVICE_RESULT says the service failed")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		reasonSet := false
		fs.Visit(func(f *flag.Flag) { reasonSet = reasonSet || f.Name == "reason" })
		if reasonSet && strings.TrimSpace(*reason) == "" {
			fmt.Fprintf(e.stderr, "%s fail-closed: --reason is empty: give the reason to record\n", names.ActivatorName)
			return ExitUsage
		}
		if *ifFailed {
			result := e.getenv("SERVICE_RESULT")
			if result == "success" {
				if !apply.RemoveSuccessRecord(e.root, e.log) {
					return ExitFail
				}
				return ExitOK
			}
			if result == "" {
				result = "unknown ($SERVICE_RESULT not set)"
			}
			if *reason == "" {
				*reason = fmt.Sprintf("%s did not succeed: result %s%s", names.ActivatorUnit, result, exitDetail(e.getenv("EXIT_CODE"), e.getenv("EXIT_STATUS")))
			}
		}
		if *reason == "" {
			*reason = monitorReason(e.getenv)
		}
		f := facts.Gather(e.root, facts.FailClosed)
		defer f.Close()
		if e.getenv("MONITOR_UNIT") == "" && !reasonSet && !*ifFailed {
			*reason += "; " + swapFacts(f)
		}
		e.log.Event(msgid.FailClosed, priolog.Crit, "%s", *reason)
		if written, _ := apply.WriteMarker(e.root, e.log, marker.Entry{Reason: *reason, Source: "fail-closed", Core: f.CoreName()}); !written {
			return ExitFail
		}
		notify("STATUS=failure recorded: " + strings.SplitN(*reason, "\n", 2)[0])
		return ExitOK
	},
}

// swapFacts says what is seen of the swap now, when systemd gave no reason.
func swapFacts(f *facts.Facts) string {
	if f.ConfigErr != nil {
		return fmt.Sprintf("%v; see journalctl -b -u %s", f.ConfigErr, names.ActivatorUnit)
	}
	return f.Swap.Describe(plan.Decide(f).Swap).Summary
}

func exitDetail(code, status string) string {
	switch {
	case code != "" && status != "":
		return fmt.Sprintf(" (%s, status %s)", code, status)
	case code != "":
		return fmt.Sprintf(" (%s)", code)
	}
	return ""
}

// monitorReason builds the reason from an OnFailure= unit's variables.
func monitorReason(getenv func(string) string) string {
	u := getenv("MONITOR_UNIT")
	if u == "" {
		// systemd sets $MONITOR_* only when one unit triggered the job,
		// and ours is shared by two.
		return fmt.Sprintf("a unit with OnFailure=%s failed (%s or the swap unit; systemd did not say which)", names.FailClosedUnit, names.ActivatorUnit)
	}
	r := getenv("MONITOR_SERVICE_RESULT")
	if r == "" {
		r = "failed"
	}
	return fmt.Sprintf("%s failed: result %s%s", u, r, exitDetail(getenv("MONITOR_EXIT_CODE"), getenv("MONITOR_EXIT_STATUS")))
}
