package guarantee

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// TestSysctlVFSCachePressureDenom: on a kernel with
// vm.vfs_cache_pressure_denom the configured vm.vfs_cache_pressure counts
// per 100, so an administrator's denominator other than 100 changes what
// the value means, and the guarantee fails naming the file that sets it.
// Before, 50 read back as 50 and held with a denominator of 1000 (the
// kernel reclaimed at 5 per 100).
func TestSysctlVFSCachePressureDenom(t *testing.T) {
	s := sysctl.Setting{Key: "vm.vfs_cache_pressure", Value: "50"}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		ok     bool
		actual string
		reason string
		remedy string
	}{
		{"no denominator (before 6.16)", nil, true, "50", "", ""},
		{"denominator 100", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom": "100\n"}, true, "50", "", ""},
		{"administrator's denominator", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom": "1000\n", "/etc/sysctl.d/90-dentries.conf": "vm.vfs_cache_pressure_denom = 1000\n"},
			false, "50 with vm.vfs_cache_pressure_denom=1000: 5 per 100", "reclaim dentries and inodes at 5 per 100, not the configured 50", "/etc/sysctl.d/90-dentries.conf sets vm.vfs_cache_pressure_denom = 1000: remove that line, then: sysctl -w vm.vfs_cache_pressure_denom=100 and systemctl restart ransomeye-tuner.service"},
		{"denominator set by hand", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom": "200\n"},
			false, "50 with vm.vfs_cache_pressure_denom=200: 25 per 100", "at 25 per 100", "sysctl -w vm.vfs_cache_pressure_denom=100"},
		{"unreadable denominator", map[string]string{"/proc/sys/vm/vfs_cache_pressure_denom/x": ""}, false, "50", "cannot be read", "fix the cause"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := hostroot.Root(t.TempDir())
			writeTree(t, root, map[string]string{"/proc/sys/vm/vfs_cache_pressure": "50\n"})
			writeTree(t, root, tc.files)
			e := Sysctl(root, s)
			if e.OK != tc.ok || e.Actual != tc.actual {
				t.Fatalf("ok %v actual %q, want %v %q: %+v", e.OK, e.Actual, tc.ok, tc.actual, e)
			}
			if !strings.Contains(e.Reason, tc.reason) || !strings.Contains(e.Remedy, tc.remedy) {
				t.Errorf("reason %q remedy %q, want %q and %q", e.Reason, e.Remedy, tc.reason, tc.remedy)
			}
		})
	}
	// 0 never reclaims, whatever the denominator.
	root := hostroot.Root(t.TempDir())
	writeTree(t, root, map[string]string{"/proc/sys/vm/vfs_cache_pressure": "0\n", "/proc/sys/vm/vfs_cache_pressure_denom": "1000\n"})
	if e := Sysctl(root, sysctl.Setting{Key: "vm.vfs_cache_pressure", Value: "0"}); !e.OK {
		t.Errorf("0 with a denominator: %+v", e)
	}
}
