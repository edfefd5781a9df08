package metrics

import (
	"os"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// TestReviewR2WriteReplacesForeignFile: [Metrics] TextfilePath= accepts any
// absolute clean path (config.go), and Write renames its file over whatever
// is at that name: TextfilePath=/etc/passwd (or another exporter's .prom,
// or a file the prometheus user keeps in its own textfile directory) is
// replaced as root, by activate, status --write-metrics and the metrics
// timer every minute. The project's rule is that root never overwrites a
// file the tool did not create; sysctld.WriteRun keeps to it by checking
// the file's header first, Write does not. Expected: an error naming the
// path and the remedy, the file untouched.
func TestReviewR2WriteReplacesForeignFile(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	const foreign = "root:x:0:0:root:/root:/bin/bash\n"
	if err := os.WriteFile(root.Path("/etc/passwd"), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Write(root, "/etc/passwd", healthy())
	b, _ := os.ReadFile(root.Path("/etc/passwd"))
	if string(b) != foreign {
		t.Errorf("Write replaced a file the tool did not write (err %v); it now starts %q", err, string(b[:min(len(b), 60)]))
	}
	if err == nil {
		t.Error("Write gave no error for a file at TextfilePath= that it did not write")
	}
}
