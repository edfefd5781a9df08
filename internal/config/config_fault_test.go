package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// TestLoadNeverBlocks is fault-matrix row 1 (unreadable config) at the
// package level: entries at a configuration file's name that a plain read
// would block on (a FIFO) or never finish (a symlink to /dev/zero), or that
// are too big, or that lead nowhere (a dangling link), are errors naming the
// file; a symlink to /dev/null reads as an empty file (systemd's masking). Before readFile, the FIFO blocked Load
// forever and /dev/zero ran the process out of memory.
func TestLoadNeverBlocks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		make    func(p string) error
		wantErr string // "" = loads
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a named pipe (FIFO), not a regular file"},
		{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "is a character device, not a regular file"},
		{"too big", func(p string) error {
			return os.WriteFile(p, []byte("[Swap]\n#"+strings.Repeat("x", MaxFileSize)+"\n"), 0o644)
		}, "larger than 1048576 bytes"},
		{"symlink to /dev/null", func(p string) error { return os.Symlink("/dev/null", p) }, ""},
		// The settings a link to nothing should hold are unknown (a renamed
		// core's name among them): an error, as for any file that cannot be
		// read, naming where it points.
		{"dangling symlink", func(p string) error { return os.Symlink("/nonexistent/x.conf", p) }, `is a symbolic link to "/nonexistent/x.conf", which does not exist`},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "cannot read: is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d := filepath.Join(dir, "etc/ransomeye/tuner.conf.d")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "etc/ransomeye/tuner.conf"), []byte("[Swap]\nPath=/data/swap\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(filepath.Join(d, "50-x.conf")); err != nil {
				t.Fatal(err)
			}
			cfg, _, err := Load(hostroot.Root(dir))
			if tc.wantErr == "" {
				if err != nil || cfg.SwapPath != "/data/swap" {
					t.Fatalf("Load: %v, SwapPath %q", err, cfg.SwapPath)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "/etc/ransomeye/tuner.conf.d/50-x.conf") {
				t.Fatalf("Load: %v, want an error naming the file and %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), dir) {
				t.Errorf("error names the root prefix %q: %v", dir, err)
			}
		})
	}
}
