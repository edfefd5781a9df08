package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
)

// WriteMetrics writes text to the textfile f's configuration names, also
// when another of its settings is invalid (the metrics then say why the
// core is down, where node_exporter reads them); nothing when metrics are
// off or the default path has no node_exporter directory. A configured
// path's missing directory, or an invalid TextfilePath=, is an error, else
// monitoring goes silent unnoticed.
func WriteMetrics(f *facts.Facts, text []byte) error {
	path := config.Default().MetricsPath
	if f.Enabled {
		p, err := config.MetricsPath(f.Config, f.ConfigErr)
		if err != nil {
			return err
		}
		path = p
	}
	written, err := writeTextfile(f.Root, path, text)
	if err == nil && !written && path != "" && path != names.DefaultMetricsPath {
		return errors.New(check.MetricsDirMissing(path))
	}
	return err
}

// writeTextfile replaces the file at path with text (0644) when the file
// there is the tuner's or there is none; nothing (false, nil) for "" or a
// missing directory. The directory is reached through safefs: its parent
// is the prometheus user's, who could make it a link.
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
	// Never replace another's file ([Metrics] TextfilePath=/etc/passwd).
	switch err := d.StartsWith(filepath.Base(path), names.MetricsHeader); {
	case errors.Is(err, safefs.ErrNotOurs):
		return false, errors.New(check.MetricsNotOurs(path, nil))
	case err != nil:
		return false, errors.New(check.MetricsNotOurs(path, err))
	}
	// A crash's temporary never ends in ".prom", so is never collected.
	if err := d.WriteFile(filepath.Base(path), text, 0o644, safefs.WriteOptions{}); err != nil {
		return false, fmt.Errorf("metrics file %q: %w", path, err)
	}
	return true, nil
}
