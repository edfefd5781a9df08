package check

import (
	"fmt"
	"path"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// The remedies the checks name, each worded here once: on-call engineers
// follow them word for word. Every one after which the tuner must check
// again ends with then, the one command that reloads systemd, activates,
// starts the swap unit and the core (a restart of the activator alone
// does none of the rest).
var (
	then = names.ThenRecover
	// RemedyRestart: fix what the reason names, then activate again.
	RemedyRestart = "fix the cause, " + then
	// RemedyMarker: what activate did not get to, after the failure the
	// marker records.
	RemedyMarker = "fix the cause the failure marker names, " + then
	// RemedyConfig: an invalid configuration.
	RemedyConfig = "fix the file and line named, " + then
	// RemedyTopology: a CPU topology that cannot be trusted.
	RemedyTopology = "fix the cause, or set [CPU] Isolation=off, " + then
	// RemedyStaleDropIns: the CPU drop-ins in effect are not the plan's;
	// recover's daemon-reload runs the generator again.
	RemedyStaleDropIns = "the CPU topology or the configuration changed since the generator ran, and it runs again at systemctl daemon-reload, which recover does first: nothing to fix by hand, " + then
	// RemedyNotEnforced, RemedyPlanNotGuaranteed: the core's unit cannot
	// be measured.
	RemedyNotEnforced       = "fix the cause (the core's guarantees are not enforced until then), " + then
	RemedyPlanNotGuaranteed = "fix the cause (the CPU plan is not guaranteed until then), " + then
)

func remedyCoreGate(core string) string {
	return fmt.Sprintf("find the drop-in with: systemctl cat %s, remove its ExecCondition= reset or \"-\" line (or add ExecCondition=+%s --root=/ gate after the reset), then: systemctl daemon-reload", core, GatePath)
}

// remedyCoreCPUs: CPUAffinity= is set when the core's processes start, so
// a running core keeps the CPUs it started with until it restarts:
// try-restart restarts it only if it runs (the gate checks its CPUs as it
// starts), and recover then starts one the gate had kept down (recover
// never restarts a running core).
func remedyCoreCPUs(core string) string {
	return fmt.Sprintf("find the setting with: systemctl cat %s (a drop-in in /etc/systemd/system/%s.d/ that sets AllowedCPUs= or CPUAffinity=), remove it (a running core keeps the CPUs it started with until it restarts), then: systemctl daemon-reload && systemctl try-restart %s && %s", core, core, core, names.RecoverCommand)
}

// remedySysctl says what to do about key drifting from its configured
// value, naming the sysctl.d file `sysctl --system` applies last when that
// file gives the value now.
func remedySysctl(key string, v facts.Sysctl) string {
	set := v.Setter
	switch {
	case !v.SetterFound || set.Value != v.Value:
		return fmt.Sprintf("something set it after %s, and no file that sysctl --system applies gives it that value (a program, or sysctl -w): find it and stop it, %s", names.ActivatorUnit, then)
	case path.Base(set.File) == sysctl.FileName:
		return fmt.Sprintf("a later sysctl --system applied the package's own %s (%s = %s), because %s, which activate writes with the configured values, is missing or out of date: nothing to fix by hand, %s", set.File, key, set.Value, path.Join(sysctl.RunDir, sysctl.FileName), then)
	}
	return fmt.Sprintf("%s sets %s = %s, and a later sysctl --system applied it: remove that line (or set the value in /etc/ransomeye/tuner.conf [Sysctl]), %s", set.File, key, set.Value, then)
}

// reasonTuned says that tuned set key: it runs, and its active profile
// (or one that profile includes) sets the value key has.
func reasonTuned(key, want string, v facts.Sysctl) string {
	t := v.Tuned
	r := fmt.Sprintf("%s is %q, want %q: tuned is running and its profile %s sets %s = %s", key, v.Value, want, t.Active, key, t.Value)
	if t.From != t.Active {
		r += fmt.Sprintf(" (in %s, which it includes)", t.From)
	}
	if !t.Reapply {
		r += fmt.Sprintf("; with reapply_sysctl = 0 in %s it does not apply the system's sysctl files after its profile", sysctl.TunedMainConf)
	}
	return r
}

// RemedyTuned is the remedy when tuned's active profile sets key, worded
// as ransomeye-tuner(8), TUNED, quotes it.
func RemedyTuned(key, want, active string) string {
	return fmt.Sprintf("give tuned a profile that includes %s and sets %s=%s, make it active with tuned-adm profile (ransomeye-tuner(8), TUNED), or set reapply_sysctl = 1 in %s, %s", active, key, want, sysctl.TunedMainConf, then)
}

// MetricsDirMissing says, with the remedy, that the configured textfile's
// directory does not exist (for the default one that means no
// node_exporter here, not an error).
func MetricsDirMissing(textfile string) string {
	return fmt.Sprintf("the directory %q of [Metrics] TextfilePath=%s does not exist: no metrics are written, and every alert on them is blind; create it (node_exporter's --collector.textfile.directory), or set TextfilePath= to a file in that directory, or to off", path.Dir(textfile), textfile)
}

// MetricsNotOurs says, with the remedy, that something the tuner did not
// write is at the textfile's path (a directory, a link, another program's
// file; readErr when it could not even be opened), so the metrics cannot
// be written there.
func MetricsNotOurs(textfile string, readErr error) string {
	if readErr != nil {
		return fmt.Sprintf("metrics file %q is there and cannot be read (%v): not ransomeye-tuner's, left as it is; remove it, or set [Metrics] TextfilePath= to another file", textfile, readErr)
	}
	return fmt.Sprintf("metrics file %q is there and was not written by ransomeye-tuner: left as it is; remove it, or set [Metrics] TextfilePath= to another file", textfile)
}

// NoNodeExporter says why no metrics are written to the default textfile.
const NoNodeExporter = "not written: its directory does not exist, so no node_exporter here (where one runs, set [Metrics] TextfilePath= to a file in its --collector.textfile.directory)"

// remedyIsolation says what an administrator can do for each cause.
func remedyIsolation(causes []string, core cpuset.Set) []string {
	var r []string
	for _, c := range causes {
		switch c {
		case CauseCgroupV1, CauseNoCpuset:
			r = append(r, fmt.Sprintf("set CPUAffinity=%s in a file under %s (as tuned's cpu-partitioning does) and reboot: PID 1 and every process it starts default to the core's CPUs (the three services set their own); the tuner does not write it (a generator runs too late for the current boot's manager, see ransomeye-tuner(8))",
				core, systemConfDropInDir),
				"or boot with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1) so that AllowedCPUs= fences the slices")
		case CauseInitScope:
			// Not CPUAffinity= in system.conf: on systemd 247 it does not
			// hold (a rewrite of init.scope's cpuset resets it).
			r = append(r, "run systemd 252 or later, which applies AllowedCPUs= to init.scope; on this systemd CPUAffinity= in system.conf does not hold either (init.scope's cpuset, rewritten by systemd, resets PID 1's affinity)")
		case CauseThreadsUnread:
			r = append(r, "run status as root (it reads every /proc/PID/task); with more threads than status reads, count those with Cpus_allowed_list on the reserved CPUs by hand")
		case CauseOther:
			r = append(r, "run systemctl show -p AllowedCPUs,CPUAffinity,ControlGroup on each unit named, and remove the setting that widens it or move it under system.slice")
		}
	}
	return r
}
