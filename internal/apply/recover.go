package apply

import (
	"fmt"
	"io"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// Manager is what recover asks of the service manager: systemd over D-Bus
// (SystemdManager), or a test's fake.
type Manager interface {
	// Reload is systemctl daemon-reload: the generators run again.
	Reload() error
	// Run starts unit, or restarts it with restart, and waits for the
	// job: its result ("done", "failed", "dependency", "skipped", ...).
	Run(unit string, restart bool) (string, error)
	// State is the unit's LoadState, ActiveState and (for a service) its
	// Result.
	State(unit string) (UnitState, error)
	// Instances are the loaded instances of a template ("x@.service").
	Instances(template string) ([]string, error)
}

// UnitState is what recover reads of a unit: LoadState, ActiveState,
// Result (a service's) and UnitFileState ("enabled", "disabled",
// "masked", ...).
type UnitState struct{ Load, Active, Result, File string }

// OwnUnits are the tuner's own units that the package's removal stops (the
// preremove) and recover starts again unless they are masked: without them
// the metrics stop (every alert blind) and a network device event no longer
// places interrupts. The package enables them by links under
// /usr/lib/systemd/system/*.wants/, which systemd reports as "static" or
// "disabled", never "enabled": so masking, not the unit file state, is how
// an administrator keeps one off. Never the core: only the gate's rule
// starts it.
var OwnUnits = []string{names.MetricsTimer, names.NetdevUnit}

// GateRefused is the Result systemd gives a service whose ExecCondition=
// said no (SERVICE_SKIP_CONDITION): the last start of the core was the
// gate's refusal, not a stop by someone.
const GateRefused = "exec-condition"

// running reports whether an ActiveState is one of a started unit.
func running(active string) bool {
	return active == "active" || active == "activating" || active == "reloading"
}

// Recover is what every remedy runs once the cause is fixed, in the order
// the units need: systemd reloaded (the generator runs again, with the
// configuration as it is now: after an invalid one no CPU drop-in had been
// written, and a restart alone then failed on "CPU drop-ins do not match"),
// the activator restarted and waited for, the swap unit started (a swap
// unit skipped or failed while the activator failed stays down otherwise),
// then, when the gate lets the core start, the core started if the gate
// refused its last start: a core an administrator stopped is left alone.
// Last, whatever those steps did, the tuner's own units that are not
// masked are started when stopped (OwnUnits): they are reported on, never
// gated, so a failure there is a warning and never keeps the core down.
// Each step is printed to out; a core step that fails ends those steps with
// why (the gate's lines, which the marker's reasons lead). It reports
// whether the guarantees hold and nothing the gate kept down is left down:
// the core's steps only.
func Recover(root hostroot.Root, m Manager, out io.Writer) bool {
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	ok := recoverCore(root, m, say)
	for _, u := range OwnUnits {
		startOwn(m, u, say)
	}
	return ok
}

// recoverCore is recover's steps up to the core's start, which its result
// reports on.
func recoverCore(root hostroot.Root, m Manager, say func(string, ...any)) bool {
	// Why after a failure: the gate's lines (the marker's reasons first)
	// and what to run again.
	why := func() bool {
		f, p := judgeNow(root)
		defer f.Close()
		for _, l := range check.Run(f, p).GateLines() {
			say("  %s", l)
		}
		say("fix the cause, then run again: %s", names.RecoverCommand)
		return false
	}
	if err := m.Reload(); err != nil {
		say("systemctl daemon-reload: %v", err)
		return false
	}
	say("systemd reloaded: the generator ran with the configuration as it is now")
	if res, err := m.Run(names.ActivatorUnit, true); err != nil || res != "done" {
		say("%s: restart %s%s; the core stays down:", names.ActivatorUnit, res, errText(err))
		return why()
	}
	say("%s: restarted, succeeded", names.ActivatorUnit)
	f, p := judgeNow(root)
	core, enabled := f.Config.CoreService(), f.Enabled
	swapUnit := ""
	if f.Swap != nil {
		swapUnit = f.Swap.SwapUnit()
	}
	f.Close()
	if enabled && swapUnit != "" {
		if res, err := m.Run(swapUnit, false); err != nil || res != "done" {
			say("%s: start %s%s; the core stays down:", swapUnit, res, errText(err))
			return why()
		}
		say("%s: started (active)", swapUnit)
	}
	f, p = judgeNow(root)
	r := check.Run(f, p)
	f.Close()
	if lines := r.GateLines(); len(lines) > 0 {
		say("the gate keeps %s down:", core)
		for _, l := range lines {
			say("  %s", l)
		}
		say("fix the cause, then run again: %s", names.RecoverCommand)
		return false
	}
	units := []string{core}
	if strings.HasSuffix(core, "@.service") {
		var err error
		if units, err = m.Instances(core); err != nil {
			say("%s: cannot list its instances: %v", core, err)
			return false
		}
		if len(units) == 0 {
			say("%s: no instance is loaded: nothing to start", core)
		}
	}
	ok := true
	for _, u := range units {
		ok = startIfRefused(m, u, say) && ok
	}
	return ok
}

// startIfRefused starts the core unit u when the gate refused its last
// start, and says what it did.
func startIfRefused(m Manager, u string, say func(string, ...any)) bool {
	st, err := m.State(u)
	switch {
	case err != nil:
		say("%s: cannot ask systemd: %v", u, err)
		return false
	case st.Load != "loaded":
		say("%s: not loaded (%s): nothing to start", u, st.Load)
		return true
	case running(st.Active):
		say("%s: already %s", u, st.Active)
		return true
	case st.Result != GateRefused:
		say("%s: %s, and its last start was not refused by the gate (result %s): left as it is; start it with: systemctl start %s", u, st.Active, st.Result, u)
		return true
	}
	res, err := m.Run(u, false)
	after, _ := m.State(u)
	if err != nil || res != "done" || !running(after.Active) {
		say("%s: the gate refused its last start; start %s%s: now %s (result %s); see: systemctl status %s", u, res, errText(err), after.Active, after.Result, u)
		return false
	}
	say("%s: the gate refused its last start: started (%s)", u, after.Active)
	return true
}

// startOwn starts the tuner's own unit u when it is loaded, not masked and
// not running (a refused removal stopped it), and says what it did; a
// failure is a warning line that names the unit and where to read why.
func startOwn(m Manager, u string, say func(string, ...any)) {
	st, err := m.State(u)
	switch {
	case err != nil:
		say("warning: %s: cannot ask systemd: %v; see: journalctl -u %s", u, err, u)
		return
	case st.Load != "loaded" || masked(st.File) || running(st.Active):
		return
	}
	if res, err := m.Run(u, false); err != nil || res != "done" {
		say("warning: %s: start %s%s; the core is not affected; see: journalctl -u %s", u, res, errText(err), u)
		return
	}
	say("%s: stopped: started", u)
}

// masked reports whether a UnitFileState is a mask, which is how an
// administrator keeps one of the tuner's own units off (systemctl mask).
func masked(file string) bool {
	return file == "masked" || file == "masked-runtime"
}

// judgeNow gathers what the gate judges, now, and decides on it.
func judgeNow(root hostroot.Root) (*facts.Facts, plan.Plan) {
	f := facts.Gather(root, facts.Gate)
	return f, plan.Decide(f)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf(" (%v)", err)
}
