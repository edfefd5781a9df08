package integration

import (
	"strings"
	"testing"
)

func TestCheckBootLogs(t *testing.T) {
	tests := []struct {
		name, console, journal string
		want                   []string // substrings, one per expected problem
	}{
		{"clean", "[  OK  ] Reached target Multi-User System.\n", "systemd[1]: Started ransomeye-core.service\n", nil},
		{"ordering cycle", "", "systemd[1]: swap.target: Found ordering cycle on ransomeye-swap.swap/start\n", []string{"ordering cycle in journal"}},
		{"failed generator", "", "systemd[1]: /usr/lib/systemd/system-generators/ransomeye-tuner-generator failed with exit status 1.\n", []string{"failed generator in journal"}},
		{"generator killed", "", "systemd[1]: /usr/lib/systemd/system-generators/ransomeye-tuner-generator terminated by signal ABRT.\n", []string{"failed generator"}},
		{"emergency", "You are in emergency mode. After logging in, type \"journalctl -xb\"\r\n", "", []string{"emergency shell in console"}},
		{"kernel panic", "[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n", "", []string{"kernel panic in console"}},
		{"go panic", "", "ransomeye-tuner[301]: panic: runtime error: index out of range [3] with length 3\nransomeye-tuner[301]: goroutine 1 [running]:\n", []string{"Go panic", "Go panic"}},
		{"word panic in prose is fine", "", "ransomeye-tuner[1]: no panic here: all good\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckBootLogs(tc.console, tc.journal)
			if len(got) != len(tc.want) {
				t.Fatalf("CheckBootLogs = %q, want %d problems like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"0-3", "0-3", false},
		{"0-3,8,10-11\n", "0-3,8,10-11", false},
		{"3,2,1,0", "0-3", false},
		{"", "", false},
		{"6-4", "", true},
		{"1--3", "", true},
		{"0,,1", "", true},
		{"x", "", true},
	}
	for _, tc := range tests {
		got, err := ParseCPUList(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseCPUList(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && FormatCPUList(got) != tc.want {
			t.Errorf("ParseCPUList(%q) = %v, formatted %q, want %q", tc.in, got, FormatCPUList(got), tc.want)
		}
	}
}

func TestExpectedSets(t *testing.T) {
	seq := func(a, b int) []int {
		var s []int
		for i := a; i <= b; i++ {
			s = append(s, i)
		}
		return s
	}
	tests := []struct {
		name  string
		nodes [][]int
		want  CPUSets
		ok    bool
	}{
		{"8 cpus one node", [][]int{seq(0, 7)}, CPUSets{Core: "0-3", DPI: "4-5", Training: "6-7"}, true},
		{"4 cpus", [][]int{seq(0, 3)}, CPUSets{}, false},
		{"2 nodes x 8", [][]int{seq(0, 7), seq(8, 15)}, CPUSets{Core: "0-5,8-13", DPI: "6-7", Training: "14-15"}, true},
		{"16 cpus one node", [][]int{seq(0, 15)}, CPUSets{Core: "0-11", DPI: "12-13", Training: "14-15"}, true},
	}
	for _, tc := range tests {
		got, ok := ExpectedSets(tc.nodes)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: ExpectedSets = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
