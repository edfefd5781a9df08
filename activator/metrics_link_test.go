package main_test

import (
	"os"
	"strings"
	"testing"
)

// TestMetricsDirLinkNotFollowed: the prometheus user (uid 1000 here) owns
// /var/lib/prometheus and makes node-exporter/ a symlink to a directory of
// root's. status and activate, as root, must not create or replace
// ransomeye_tuner.prom there; they warn, naming the link and the remedy.
// Before: metrics.Write followed the link.
func TestMetricsDirLinkNotFollowed(t *testing.T) {
	needUID0(t) // chown to uid 1000
	r := newRoot(t, 64<<20)
	// Small, so that activate's swapfile costs 32 MiB of this machine's disk.
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	victim := r.path("etc/victim")
	if err := os.MkdirAll(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	owned := r.path("var/lib/prometheus")
	if err := os.MkdirAll(owned, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(owned, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	link := owned + "/node-exporter"
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"metrics"}, {"status", "--write-metrics"}, {"activate"}} {
		res := run(t, r, nil, args...)
		entries, _ := os.ReadDir(victim)
		if len(entries) != 0 {
			t.Errorf("%s wrote through the link into %s: %v", args[0], victim, entries)
		}
		for _, w := range []string{`"/var/lib/prometheus/node-exporter" is a symbolic link`, "owned by uid 1000", "refusing to follow it", "TextfilePath="} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: the warning lacks %q:\n%s", args[0], w, res.stderr)
			}
		}
	}
}
