package check

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// tunedFiles is Debian 12's tuned 2.20 running virtual-guest (which
// includes throughput-performance) with reapply_sysctl = 0, and an
// administrator's sysctl.d file that also sets the value.
var tunedFiles = map[string]string{
	"/proc/sys/vm/swappiness":     "30\n",
	"/run/tuned/tuned.pid":        "812\n",
	"/proc/812/comm":              "tuned\n",
	"/etc/tuned/active_profile":   "virtual-guest\n",
	"/etc/tuned/tuned-main.conf":  "daemon = 1\nreapply_sysctl = 0\n",
	"/etc/sysctl.d/50-admin.conf": "vm.swappiness = 30\n",
	"/usr/lib/tuned/virtual-guest/tuned.conf": "[main]\nsummary=Optimize for running inside a virtual guest\ninclude=throughput-performance\n\n" +
		"[sysctl]\nvm.dirty_ratio = 30\nvm.swappiness = 30\n",
	"/usr/lib/tuned/throughput-performance/tuned.conf": "[main]\nsummary=Broadly applicable tuning\n\n[sysctl]\nvm.swappiness=10\n",
}

// TestSysctlNamesTuned: when tuned runs and its active profile (or one it
// includes) sets the value a sysctl has, the check names tuned, the
// profile and reapply_sysctl, and gives ransomeye-tuner(8)'s TUNED remedy;
// before, it blamed a later sysctl --system and the administrator's file.
// Not when tuned does not run, or its profile sets another value.
func TestSysctlNamesTuned(t *testing.T) {
	s := sysctl.Setting{Key: "vm.swappiness", Value: "10"}
	for _, tc := range []struct {
		name  string
		edit  map[string]string
		tuned bool
		want  []string
	}{
		{"virtual-guest with reapply_sysctl = 0", nil, true,
			[]string{`vm.swappiness is "30", want "10": tuned is running and its profile virtual-guest sets vm.swappiness = 30`, "reapply_sysctl = 0 in /etc/tuned/tuned-main.conf"}},
		{"the value from an included profile", map[string]string{
			"/usr/lib/tuned/virtual-guest/tuned.conf":          "[main]\ninclude=throughput-performance\n",
			"/usr/lib/tuned/throughput-performance/tuned.conf": "[sysctl]\nvm.swappiness=30\n",
			"/etc/tuned/tuned-main.conf":                       "reapply_sysctl = 1\n",
		}, true, []string{"its profile virtual-guest sets vm.swappiness = 30 (in throughput-performance, which it includes)"}},
		{"the administrator's profile under /etc", map[string]string{
			"/etc/tuned/virtual-guest/tuned.conf": "[sysctl]\nvm/swappiness = 30\n",
		}, true, []string{"its profile virtual-guest sets vm.swappiness = 30"}},
		{"tuned not running", map[string]string{"/proc/812/comm": "bash\n"}, false, []string{"50-admin.conf sets vm.swappiness = 30"}},
		{"tuned's profile sets another value", map[string]string{"/proc/sys/vm/swappiness": "60\n"}, false, []string{`vm.swappiness is "60"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := hostroot.Root(t.TempDir())
			writeTree(t, root, tunedFiles)
			writeTree(t, root, tc.edit)
			c := sysctlAt(root, s)
			if c.OK {
				t.Fatalf("holds: %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Reason+" "+c.Remedy, w) {
					t.Errorf("reason %q, remedy %q: lack %q", c.Reason, c.Remedy, w)
				}
			}
			if named := strings.Contains(c.Reason, "tuned"); named != tc.tuned {
				t.Errorf("tuned named: %v, want %v: %q", named, tc.tuned, c.Reason)
			}
			if tc.tuned && c.Remedy != RemedyTuned("vm.swappiness", "10", "virtual-guest") {
				t.Errorf("remedy %q, want the TUNED remedy", c.Remedy)
			}
		})
	}
}
