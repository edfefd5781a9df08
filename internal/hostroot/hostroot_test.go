package hostroot

import "testing"

func TestPath(t *testing.T) {
	tests := []struct {
		root Root
		in   string
		want string
	}{
		{"/", "/proc/meminfo", "/proc/meminfo"},
		{"", "/proc/meminfo", "/proc/meminfo"},
		{"/", "proc/x", "/proc/x"},
		{"/tmp/r", "/proc/meminfo", "/tmp/r/proc/meminfo"},
		{"/tmp/r", "proc/meminfo", "/tmp/r/proc/meminfo"},
		{"/tmp/r", "/", "/tmp/r"},
		{"/tmp/r", "/../../etc/passwd", "/tmp/r/etc/passwd"},
	}
	for _, tt := range tests {
		if got := tt.root.Path(tt.in); got != tt.want {
			t.Errorf("Root(%q).Path(%q) = %q, want %q", tt.root, tt.in, got, tt.want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvVar, "")
	if r := FromEnv(); !r.IsHost() || r.String() != "/" {
		t.Errorf("unset: %q", r)
	}
	t.Setenv(EnvVar, "/tmp/x/")
	if r := FromEnv(); r != "/tmp/x" || r.IsHost() {
		t.Errorf("set: %q", r)
	}
}
