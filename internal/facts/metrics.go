package facts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// Metrics is the textfile the metrics are written to ([Metrics]
// TextfilePath=), as it is now.
type Metrics struct {
	// Path is the host path ("" when metrics are off); Default: it is the
	// default path, in node_exporter's Debian textfile directory.
	Path    string
	Default bool
	// DirMissing: its directory does not exist. At the default path that
	// means no node_exporter here; at a configured path, a mistake.
	DirMissing bool
	// Written is the file's modification time (zero: there is no file).
	Written time.Time
	// Err is why the file or its directory could not be examined.
	Err error
}

// readMetrics examines the configured textfile and its directory.
func (f *Facts) readMetrics() {
	m := Metrics{Path: f.Config.MetricsPath, Default: f.Config.MetricsPath == names.DefaultMetricsPath}
	if m.Path == "" {
		f.Metrics = m
		return
	}
	dir := path.Dir(m.Path)
	switch fi, err := os.Stat(f.Root.Path(dir)); {
	case errors.Is(err, fs.ErrNotExist):
		m.DirMissing = true
	case err != nil:
		m.Err = err
	case !fi.IsDir():
		m.Err = fmt.Errorf("%q is not a directory", dir)
	default:
		switch fi, err := os.Lstat(f.Root.Path(m.Path)); {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			m.Err = err
		default:
			m.Written = fi.ModTime()
		}
	}
	f.Metrics = m
}
