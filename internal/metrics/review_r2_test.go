package metrics

import (
	"bytes"
	"os"
	"strings"
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

// TestWriteRefusesForeignProm: another exporter's .prom at TextfilePath=
// (a name that passes the suffix check) is left as it is, with an error
// naming the file and the remedy; a file Write wrote is replaced
// (FAULTS.md, finding 42).
func TestWriteRefusesForeignProm(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	const dir = "/var/lib/prometheus/node-exporter"
	if err := os.MkdirAll(root.Path(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	const foreign = "# HELP node_custom_thing Another exporter's metric.\nnode_custom_thing 1\n"
	for _, content := range []string{foreign, "", "# HELP ransomeye_tuner_build_infoX x\n"} {
		p := dir + "/other.prom"
		if err := os.WriteFile(root.Path(p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		ok, err := Write(root, p, healthy())
		if b, _ := os.ReadFile(root.Path(p)); ok || string(b) != content {
			t.Errorf("%q: Write replaced it (ok %v, err %v)", content, ok, err)
		}
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "TextfilePath=") {
			t.Errorf("%q: err %v, want one naming %s and the remedy", content, err, p)
		}
	}
	// A symbolic link at the name is not followed, nor replaced.
	p := dir + "/link.prom"
	if err := os.Symlink("other.prom", root.Path(p)); err != nil {
		t.Fatal(err)
	}
	if ok, err := Write(root, p, healthy()); ok || err == nil {
		t.Errorf("Write over a symbolic link = %v, %v; want an error", ok, err)
	}
	// Ours (a previous run's) is replaced.
	p = dir + "/ransomeye_tuner.prom"
	if err := os.WriteFile(root.Path(p), Render(Snapshot{Version: "0.0.1"}), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := Write(root, p, healthy()); !ok || err != nil {
		t.Fatalf("Write over its own file = %v, %v", ok, err)
	}
	if b, _ := os.ReadFile(root.Path(p)); !bytes.Equal(b, Render(healthy())) {
		t.Errorf("its own file was not replaced")
	}
	// A name not ending in ".prom" is refused before anything is read.
	if _, err := Write(root, dir+"/x.txt", healthy()); err == nil || !strings.Contains(err.Error(), ".prom") {
		t.Errorf("Write to x.txt: err %v, want one naming .prom", err)
	}
}
