package scripts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// TestMaintConfigReaderByteOrderMark: ransomeye-tuner reads a tuner.conf
// (or a drop-in) saved with a UTF-8 byte order mark as without it, so its
// [Swap] Path= and [Metrics] TextfilePath= are the ones in use. The
// maintainer scripts' reader must find the same paths: else the purge (and
// an RPM erase) looks for the swapfile and the metrics file at the
// defaults, and leaves the configured metrics file for node_exporter to
// export after the package is gone, and the prerm records the wrong
// swapfile for the purge.
func TestMaintConfigReaderByteOrderMark(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"main file": {"tuner.conf": "\ufeff[Swap]\nPath=/data/swap\n[Metrics]\nTextfilePath=/srv/textfiles/t.prom\n"},
		"drop-in":   {"tuner.conf": "[Swap]\n", "tuner.conf.d/50-site.conf": "\ufeff[Swap]\nPath=/data/swap\n[Metrics]\nTextfilePath=/srv/textfiles/t.prom\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for n, text := range files {
				p := filepath.Join(root, "etc/ransomeye", n)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg, _, err := config.Load(hostroot.Root(root))
			if err != nil || cfg.SwapPath != "/data/swap" {
				t.Fatalf("premise: ransomeye-tuner reads Path=%q (%v)", cfg.SwapPath, err)
			}
			if swap := shell(t, `rt_swap_path "$1"`, root); swap != cfg.SwapPath {
				t.Errorf("maintainer scripts read Path=%q, ransomeye-tuner reads %q", swap, cfg.SwapPath)
			}
			if metrics := shell(t, `rt_metrics_path "$1"`, root); metrics != cfg.MetricsPath {
				t.Errorf("maintainer scripts read TextfilePath=%q, ransomeye-tuner reads %q", metrics, cfg.MetricsPath)
			}
		})
	}
}
