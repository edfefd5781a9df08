package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// checkOurs refuses a file at path (its name in d) that Write did not
// write: it must be a regular file whose content starts with header. Why:
// [Metrics] TextfilePath=/etc/passwd, or another exporter's .prom, was
// replaced as root by every run (FAULTS.md, finding 42).
func checkOurs(d *safefs.Dir, path string) error {
	fd, err := unix.Openat(d.Fd(), filepath.Base(path), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics file %q is there and cannot be read (%v): not ransomeye-tuner's, left as it is; remove it, or set [Metrics] TextfilePath= to another file", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	buf := make([]byte, len(report.MetricsHeader))
	n, _ := unix.Read(fd, buf)
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || string(buf[:max(n, 0)]) != report.MetricsHeader {
		return fmt.Errorf("metrics file %q is there and was not written by ransomeye-tuner: left as it is; remove it, or set [Metrics] TextfilePath= to another file", path)
	}
	return nil
}

// WriteMetrics writes text, the metrics of a report, to the textfile the
// configuration of f names (the default when it cannot be read: the
// metrics then say why the core is down); nothing when metrics are off or
// the default path's directory does not exist (no node_exporter here). A
// configured path whose directory does not exist is an error: monitoring
// would go silent with every run saying nothing.
func WriteMetrics(f *facts.Facts, text []byte) error {
	path := config.Default().MetricsPath
	if f.Enabled && f.ConfigErr == nil {
		path = f.Config.MetricsPath
	}
	written, err := writeTextfile(f.Root, path, text)
	if err == nil && !written && path != "" && path != names.DefaultMetricsPath {
		return errors.New(check.MetricsDirMissing(path))
	}
	return err
}

// writeTextfile replaces the file at the host path path (under root) with
// text, atomically, mode 0644, when the file there is one the tuner wrote
// (or there is none); a file it did not write is an error. When path is
// empty (metrics turned off) or its directory does not exist, it writes
// nothing and returns false, nil.
//
// The directory is reached through safefs: no symbolic link is followed
// unless root made it in a directory only root can change. The textfile
// directory's parent belongs to the prometheus user, who could make
// node-exporter/ a link and have root create or replace the file in any
// directory.
func writeTextfile(root hostroot.Root, path string, text []byte) (written bool, err error) {
	if path == "" {
		return false, nil
	}
	if !filepath.IsAbs(path) || strings.HasSuffix(path, "/") || !strings.HasSuffix(path, ".prom") {
		return false, fmt.Errorf("metrics file %q is not an absolute path of a *.prom file: set [Metrics] TextfilePath= to one, or to \"off\"", path)
	}
	d, err := safefs.OpenDir(root, filepath.Dir(path), safefs.Options{})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("metrics directory of %q: %w; nothing written (fix the directory, or set [Metrics] TextfilePath= elsewhere or to \"off\")", path, err)
	}
	defer d.Close()
	if err := checkOurs(d, path); err != nil {
		return false, err
	}
	// The temporary's name does not end in ".prom": node_exporter never
	// collects a file left by a crash.
	if err := d.WriteFile(filepath.Base(path), text, 0o644, safefs.WriteOptions{}); err != nil {
		return false, fmt.Errorf("metrics file %q: %w", path, err)
	}
	return true, nil
}
