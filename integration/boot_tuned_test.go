//go:build vmtest

package integration

import (
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// tunedRootFiles make tuned run virtual-guest, the profile RHEL's installer
// picks in a VM (include=throughput-performance; vm.swappiness = 30), and
// apply it after the core has started. Why the order is pinned: tuned and
// ransomeye-tuner.service start side by side; when tuned comes first,
// activate sets the sysctls after it and nothing drifts until tuned applies
// again, so only this order shows the conflict, the one the boots of
// machines with tuned can take.
func tunedRootFiles(extra map[string]string) map[string]string {
	files := map[string]string{
		"/etc/tuned/active_profile": "virtual-guest\n",
		"/etc/tuned/profile_mode":   "manual\n",
		"/etc/systemd/system/tuned.service.d/50-after-ransomeye-core.conf": "# boot suite: tuned applies its profile after the core started\n" +
			"[Unit]\nAfter=ransomeye-core.service\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

// wantTunedApplied checks that tuned ran virtual-guest after the core had
// started (so the case shows what it claims).
func wantTunedApplied(t *testing.T, r Report, reapply string) {
	t.Helper()
	wantEq(t, r, "case.tuned_applied", "yes")
	wantEq(t, r, "case.tuned_state", "active")
	wantEq(t, r, "case.tuned_profile", "virtual-guest")
	wantEq(t, r, "case.tuned_main_reapply_sysctl", reapply)
	core, _ := r.Int("case.core_started_us")
	tuned, _ := r.Int("case.tuned_started_us")
	if core == 0 || tuned <= core {
		t.Errorf("tuned started at %d µs, the core at %d µs: want tuned after the core", tuned, core)
	}
}

// tunedCases boot the layer "tuned" (Layers): Debian 12's tuned 2.20 and
// what it depends on (dbus, polkitd, python3), installed as in an image
// build, enabled by its package.
func tunedCases() []bootCase {
	return []bootCase{
		// tuned's default (reapply_sysctl = 1): after its profile it
		// applies the sysctl.d files again, /run/sysctl.d/60-ransomeye-tuner.conf
		// (activate writes it) among them, so the core's value wins.
		{name: "43_tuned_reapply_sysctl", shows: "tuned 2.20 running virtual-guest (vm.swappiness = 30) with its default reapply_sysctl = 1: the tuner's sysctls stay",
			mem: 4096, cpus: 4, disk: 20 * gib, layer: "tuned", timeout: 10 * time.Minute,
			rootFiles: tunedRootFiles(nil),
			slow:      "on demand (make integration CASES=43_): tuned's default, where nothing drifts; case 44 boots the same layer in CI",
			check: func(t *testing.T, s *suite, r Report) {
				wantTunedApplied(t, r, "1")
				if n, _ := r.Int("case.tuned_reapplied_sysctl"); n == 0 {
					t.Errorf("tuned's log never says it re-applied the system sysctls:\n%s", r.Text("case-tuned-log"))
				}
				wantEq(t, r, "case.swappiness_after_tuned", "10")
				wantHealthy(t, r, "/ransomeye/swap", "ransomeye-swap.swap")
				wantEq(t, r, "case.core_restart_rc", "0")
				wantEq(t, r, "case.core_state_after_restart", "active")
			}},
		// reapply_sysctl = 0 (tuned-main.conf(5)): the profile's 30 wins
		// after the core started. The guarantee no longer holds: status
		// says NOT COMPLIANT, and the next start of the core is gated.
		{name: "44_tuned_no_reapply_sysctl", shows: "tuned 2.20 running virtual-guest with reapply_sysctl = 0: vm.swappiness 30 after the core started, status NOT COMPLIANT, the next start gated",
			mem: 4096, cpus: 4, disk: 20 * gib, layer: "tuned", timeout: 10 * time.Minute,
			rootFiles: tunedRootFiles(map[string]string{
				"/etc/tuned/tuned-main.conf": "# boot suite case 44: tuned's profile sysctls are not followed by the system's\n" +
					"daemon = 1\ndynamic_tuning = 0\nreapply_sysctl = 0\n",
			}),
			check: func(t *testing.T, s *suite, r Report) {
				wantTunedApplied(t, r, "0")
				if n, _ := r.Int("case.tuned_reapplied_sysctl"); n != 0 {
					t.Errorf("tuned re-applied the system sysctls with reapply_sysctl = 0:\n%s", r.Text("case-tuned-log"))
				}
				wantEq(t, r, "case.swappiness_after_tuned", "30")
				// The boot itself went well: the core started with its
				// guarantees, and the swap stays.
				wantEq(t, r, "unit.ransomeye-tuner.service.Result", "success")
				wantEq(t, r, "unit.ransomeye-swap.swap.ActiveState", "active")
				// Then tuned's value: not compliant, and the gate keeps
				// the next start of the core down.
				st := r.Blocks["case-status-before-restart"]
				if st.RC != 1 {
					t.Errorf("status after tuned exited %d, want 1 (not compliant):\n%s", st.RC, st.Text)
				}
				wantMatch(t, "status after tuned", st.Text, `NOT COMPLIANT`)
				wantMatch(t, "status after tuned", st.Text, `vm\.swappiness`)
				wantEq(t, r, "case.core_state_after_restart", "inactive")
				wantEq(t, r, "case.core_result_after_restart", "exec-condition")
				wantMatch(t, "systemctl status ransomeye-core after the restart", r.Text("case-core-status"), `vm\.swappiness`)
				// The cause named where the operator looks: status and the
				// gate's line (systemctl status of the core) name tuned,
				// its profile and reapply_sysctl, and status gives
				// ransomeye-tuner(8)'s TUNED remedy word for word.
				cause := `tuned is running and its profile virtual-guest sets vm\.swappiness = 30; with reapply_sysctl = 0 in /etc/tuned/tuned-main\.conf`
				wantMatch(t, "status after tuned", st.Text, cause)
				wantMatch(t, "systemctl status ransomeye-core after the restart", r.Text("case-core-status"), cause)
				wantEq(t, r, "case.status_remedy", check.RemedyTuned("vm.swappiness", "10", "virtual-guest"))
				wantEq(t, r, "case.status_remedy_command", names.RecoverCommand)

				// The remedy followed word for word: ransomeye-tuner(8)'s
				// profile that includes virtual-guest and sets the tuner's
				// values, then the command status printed after "then: ";
				// the core starts, status is compliant.
				wantEq(t, r, "case.remedy_profile_rc", "0")
				if b := r.Blocks["case-remedy-command"]; b.RC != 0 {
					t.Errorf("the printed command %q exited %d:\n%s", r.Get("case.status_remedy_command"), b.RC, b.Text)
				}
				wantEq(t, r, "case.remedy_tuned_profile", "ransomeye")
				wantEq(t, r, "case.swappiness_after_remedy", "10")
				wantEq(t, r, "case.core_state_after_remedy", "active")
				wantHealthy(t, r, "/ransomeye/swap", "ransomeye-swap.swap")
			}},
	}
}
