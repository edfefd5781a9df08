package units

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
)

func TestQuotePath(t *testing.T) {
	for in, want := range map[string]string{
		"/ransomeye": "/ransomeye",
		"/a b":       `"/a b"`,
		"/a%b":       "/a%%b",
		`/a"b c`:     `"/a\"b c"`,
		`/a\b`:       `"/a\\b"`,
		"/tab\there": "\"/tab\there\"",
	} {
		if got := QuotePath(in); got != want {
			t.Errorf("QuotePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSourcePath: SourcePath= names the first configuration file read, and
// is left out when none was (systemctl status would call a unit whose
// source is missing "changed on disk") or when the name holds a control
// character.
func TestSourcePath(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{nil, ""},
		{[]string{"/etc/ransomeye/tuner.conf", "/etc/ransomeye/tuner.conf.d/a.conf"}, "/etc/ransomeye/tuner.conf"},
		{[]string{"/etc/ransomeye/tuner.conf.d/50%x.conf"}, "/etc/ransomeye/tuner.conf.d/50%%x.conf"},
		{[]string{"/etc/ransomeye/tuner.conf.d/a\nExecStart=/bin/sh.conf"}, ""},
	} {
		cfg := config.Default()
		cfg.Files = tc.files
		o := SourcePath(cfg)
		got := ""
		if o != nil {
			got = o.Value
		}
		if got != tc.want {
			t.Errorf("SourcePath(%q) = %q, want %q", tc.files, got, tc.want)
		}
		content := string(Serialize(SourcePath(cfg), Opt("Swap", "What", "/x")))
		if strings.Contains(content, "ExecStart") {
			t.Errorf("a file name injected a line:\n%s", content)
		}
	}
}
