//go:build vmtest

package integration

import (
	"strings"
	"testing"
)

// selinuxArgs turn SELinux on in the guest's kernel (Debian's kernels build
// it in, off unless asked): permissive logs every denial and denies nothing,
// enforcing denies.
var (
	selinuxPermissive = []string{"security=selinux", "selinux=1", "enforcing=0"}
	selinuxEnforcing  = []string{"security=selinux", "selinux=1", "enforcing=1"}
)

// selinuxCases run only on SUITE=bookworm-selinux (image/build-selinux.sh):
// a healthy boot permissive and enforcing, a failed one permissive.
func selinuxCases() []bootCase {
	return []bootCase{
		{name: "40_selinux_healthy", selinux: true, shows: "SELinux permissive: swapfile_t from creation, no denial involving the tuner",
			mem: 4096, cpus: 4, disk: 20 * gib, args: selinuxPermissive,
			check: func(t *testing.T, s *suite, r Report) {
				wantEq(t, r, "case.selinux_enforce", "0")
				wantSELinuxHealthy(t, s, r)
			}},
		{name: "41_selinux_small_disk", selinux: true, shows: "SELinux permissive, 2 GiB disk: fails closed, no denial involving the tuner",
			mem: 4096, cpus: 4, disk: 2 * gib, args: selinuxPermissive,
			check: func(t *testing.T, s *suite, r Report) {
				wantEq(t, r, "case.selinux_enforce", "0")
				wantFailClosed(t, r, `(?i)(free|space)`)
				wantEq(t, r, "case.temporaries", "0")
				wantNoTunerAVC(t, s)
			}},
		{name: "42_selinux_enforcing_healthy", selinux: true, shows: "SELinux enforcing: healthy, no denial involving the tuner",
			mem: 4096, cpus: 4, disk: 20 * gib, args: selinuxEnforcing,
			check: func(t *testing.T, s *suite, r Report) {
				wantEq(t, r, "case.selinux_enforce", "1")
				wantSELinuxHealthy(t, s, r)
			}},
	}
}

// wantSELinuxHealthy checks a healthy boot with SELinux on: what case 1
// checks of swap, sysctls and the core, the swapfile's type swapfile_t, no
// temporary file left, status and plan naming the label, and no denial
// involving the tuner.
func wantSELinuxHealthy(t *testing.T, s *suite, r Report) {
	t.Helper()
	wantHealthy(t, r, "/ransomeye/swap", "ransomeye-swap.swap")
	wantMatch(t, "swapfile's context (stat -c %C)", r.Get("case.context_swapfile"), `^system_u:object_r:swapfile_t(:s0)?$`)
	wantEq(t, r, "case.temporaries", "0")
	wantMatch(t, "status", r.Text("status"), `swapfile_t`)
	wantMatch(t, "status --json", r.Text("status-json"), `"selinux_context": *"system_u:object_r:swapfile_t`)
	wantMatch(t, "plan", r.Text("plan"), `swapfile_t`)
	wantNoTunerAVC(t, s)
}

// wantNoTunerAVC prints every AVC denial of the boot's journal and fails on
// those that involve the tuner (AVCDenials).
func wantNoTunerAVC(t *testing.T, s *suite) {
	t.Helper()
	all, tuner := AVCDenials(s.journal(t))
	t.Logf("AVC denials in the journal: %d distinct, %d involving the tuner\n%s", len(all), len(tuner), strings.Join(all, "\n"))
	if len(tuner) > 0 {
		t.Errorf("%d AVC denials involve the tuner:\n%s", len(tuner), strings.Join(tuner, "\n"))
	}
}
