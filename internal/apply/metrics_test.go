package apply

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
)

// text is a metrics textfile.
func text() []byte {
	return report.Report{}.Metrics(report.Run{Start: time.Unix(1764176400, 0)})
}

func TestWrite(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	const path = "/var/lib/prometheus/node-exporter/ransomeye_tuner.prom"
	dir := root.Path(filepath.Dir(path))

	// No directory: skipped, no error, nothing created.
	ok, err := writeTextfile(root, path, text())
	if err != nil || ok {
		t.Fatalf("Write without the directory = %v, %v; want false, nil", ok, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Write created the directory %q", dir)
	}

	// Metrics off.
	if ok, err := writeTextfile(root, "", text()); ok || err != nil {
		t.Fatalf("Write with an empty path = %v, %v; want false, nil", ok, err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// An old file of ours is replaced, not appended to.
	if err := os.WriteFile(root.Path(path), []byte(names.MetricsHeader+"stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok, err = writeTextfile(root, path, text())
	if err != nil || !ok {
		t.Fatalf("Write = %v, %v; want true, nil", ok, err)
	}
	got, err := os.ReadFile(root.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, text()) {
		t.Errorf("file holds %q, want the rendered snapshot", got)
	}
	st, err := os.Stat(root.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the metrics file (a temporary file was left)", names)
	}
}

func TestWriteErrors(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	// The "directory" is a regular file.
	if err := os.WriteFile(root.Path("/notadir"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := writeTextfile(root, "/notadir/x.prom", text()); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Write under a regular file: err = %v, want one saying it is not a directory", err)
	}
	if _, err := writeTextfile(root, "relative.prom", text()); err == nil || !strings.Contains(err.Error(), "TextfilePath") {
		t.Errorf("Write with a relative path: err = %v, want one naming the setting", err)
	}
	// The target is a directory: rename fails, and the temporary file is gone.
	if err := os.MkdirAll(root.Path("/d/x.prom/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := writeTextfile(root, "/d/x.prom", text()); err == nil {
		t.Errorf("Write over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(root.Path("/d"))
	if len(entries) != 1 {
		t.Errorf("a failed Write left files behind: %d entries in /d", len(entries))
	}
}

// TestWriteRefusesFileItDidNotWrite: Write at a path holding a file it did
// not write (here /etc/passwd) leaves the file untouched and returns an
// error. Root never overwrites a file the tool did not create; renaming
// its file over whatever was at that name, Write replaced such a file as
// root, by activate, status --write-metrics and the metrics timer every
// minute. (/etc/passwd is refused for its name already;
// TestWriteRefusesForeignProm covers a .prom file Write did not write.)
func TestWriteRefusesFileItDidNotWrite(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	const foreign = "root:x:0:0:root:/root:/bin/bash\n"
	if err := os.WriteFile(root.Path("/etc/passwd"), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := writeTextfile(root, "/etc/passwd", text())
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
// naming the file and the remedy; a file Write wrote is replaced.
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
		ok, err := writeTextfile(root, p, text())
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
	if ok, err := writeTextfile(root, p, text()); ok || err == nil {
		t.Errorf("Write over a symbolic link = %v, %v; want an error", ok, err)
	}
	// Ours (a previous run's) is replaced.
	p = dir + "/ransomeye_tuner.prom"
	if err := os.WriteFile(root.Path(p), report.Report{}.Metrics(report.Run{}), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := writeTextfile(root, p, text()); !ok || err != nil {
		t.Fatalf("Write over its own file = %v, %v", ok, err)
	}
	if b, _ := os.ReadFile(root.Path(p)); !bytes.Equal(b, text()) {
		t.Errorf("its own file was not replaced")
	}
	// A name not ending in ".prom" is refused before anything is read.
	if _, err := writeTextfile(root, dir+"/x.txt", text()); err == nil || !strings.Contains(err.Error(), ".prom") {
		t.Errorf("Write to x.txt: err %v, want one naming .prom", err)
	}
}
