package procfs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

func TestSplitCmdline(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"root=/dev/sda1 ro quiet\n", []string{"root=/dev/sda1", "ro", "quiet"}},
		{`a="b c" d`, []string{"a=b c", "d"}},
		{"ransomeye.tuner=0 -- --init-arg ransomeye.tuner=1", []string{"ransomeye.tuner=0"}},
		{"", nil},
		{"  \t ", nil},
	}
	for _, tt := range tests {
		if got := SplitCmdline(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCmdline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		cmdline string
		want    bool
		err     bool
	}{
		{"quiet", true, false},
		{"ransomeye.tuner=0", false, false},
		{"ransomeye.tuner=off", false, false},
		{"ransomeye.tuner=1", true, false},
		{"ransomeye.tuner", true, false},
		{"ransomeye.tuner=0 ransomeye.tuner=1", true, false}, // the last one wins
		{"ransomeye.tuner=maybe", true, true},
		{"xransomeye.tuner=0", true, false},
		{"-- ransomeye.tuner=0", true, false}, // after "--": init's, not ours
	}
	for _, tt := range tests {
		got, err := Enabled(SplitCmdline(tt.cmdline))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Enabled(%q) = %v, %v; want %v, err=%v", tt.cmdline, got, err, tt.want, tt.err)
		}
	}
}

const meminfo = `MemTotal:        4028152 kB
MemFree:          201316 kB
SwapTotal:       2097148 kB
SwapFree:        2097148 kB
HugePages_Total:       0
`

func TestParseMeminfo(t *testing.T) {
	m, err := ParseMeminfo(meminfo)
	if err != nil {
		t.Fatal(err)
	}
	if m.MemTotal != 4028152*1024 || m.SwapTotal != 2097148*1024 || m.SwapFree != 2097148*1024 {
		t.Errorf("got %+v", m)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: x kB\n", "MemTotal: 1 MB\n", "MemTotal: -5 kB\n", "MemTotal: 0 kB\n", "MemTotal:\n", "MemTotal: 99999999999999999999 kB\n"} {
		if _, err := ParseMeminfo(bad); err == nil {
			t.Errorf("ParseMeminfo(%q) accepted", bad)
		}
	}
}

const swaps = `Filename				Type		Size		Used		Priority
/swapfile                               file		2097148		0		-2
/dev/nvme0n1p3                          partition	8388604		1024		-3
/data/my\040swap                         file		1024		0		5
`

func TestParseSwaps(t *testing.T) {
	s, err := ParseSwaps(swaps)
	if err != nil {
		t.Fatal(err)
	}
	want := []Swap{
		{"/swapfile", "file", 2097148 * 1024, 0, -2},
		{"/dev/nvme0n1p3", "partition", 8388604 * 1024, 1024 * 1024, -3},
		{"/data/my swap", "file", 1024 * 1024, 0, 5},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if s, err := ParseSwaps("Filename Type Size Used Priority\n"); err != nil || len(s) != 0 {
		t.Errorf("header only: %v %v", s, err)
	}
	for _, bad := range []string{"h\n/a file 1 0\n", "h\n/a file x 0 1\n", "h\n/a file 1 0 p\n", "h\n/a file -1 0 1\n"} {
		if _, err := ParseSwaps(bad); err == nil {
			t.Errorf("ParseSwaps(%q) accepted", bad)
		}
	}
}

func TestReadUnderRoot(t *testing.T) {
	dir := t.TempDir()
	root := hostroot.Root(dir)
	if err := os.MkdirAll(filepath.Join(dir, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"meminfo": meminfo, "swaps": swaps, "cmdline": "ransomeye.tuner=0\n"} {
		if err := os.WriteFile(filepath.Join(dir, "proc", name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := ReadMeminfo(root); err != nil || m.MemTotal != 4028152*1024 {
		t.Errorf("ReadMeminfo: %+v %v", m, err)
	}
	if s, err := ReadSwaps(root); err != nil || len(s) != 3 {
		t.Errorf("ReadSwaps: %+v %v", s, err)
	}
	if w, err := ReadCmdline(root); err != nil || !reflect.DeepEqual(w, []string{"ransomeye.tuner=0"}) {
		t.Errorf("ReadCmdline: %q %v", w, err)
	}
	if _, err := ReadMeminfo(hostroot.Root(filepath.Join(dir, "missing"))); err == nil {
		t.Error("ReadMeminfo of a missing file succeeded")
	}
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add(meminfo)
	f.Add("MemTotal: 1 kB\nSwapTotal: 2\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMeminfo(s)
		if err == nil && (m.MemTotal <= 0 || m.SwapTotal < 0 || m.SwapFree < 0) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

func FuzzParseSwaps(f *testing.F) {
	f.Add(swaps)
	f.Add("h\n/a\\134b file 1 0 -1\n")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseSwaps(s)
		if err != nil {
			return
		}
		for _, sw := range out {
			if sw.Size < 0 || sw.Used < 0 || sw.Filename == "" {
				t.Fatalf("accepted %+v", sw)
			}
		}
	})
}

func FuzzSplitCmdline(f *testing.F) {
	f.Add(`a="b c" ransomeye.tuner=0 -- x`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range SplitCmdline(s) {
			if w == "--" {
				t.Fatalf("%q kept the init separator", s)
			}
		}
	})
}
