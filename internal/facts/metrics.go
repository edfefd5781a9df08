package facts

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
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
	// Written is the file's modification time (zero: there is no file,
	// or it is not the tuner's).
	Written time.Time
	// NotOurs: something the tuner did not write is at the path, so
	// metrics cannot write there; NotOursErr when it could not even be
	// opened (a link).
	NotOurs    bool
	NotOursErr error
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
	// Opened as the writer opens it, and the file judged by the same
	// header: what is at the path and is not the tuner's (a directory, a
	// link, another program's file) is what metrics refuses to replace, so
	// it was not written by it.
	d, err := safefs.OpenDir(f.Root, path.Dir(m.Path), safefs.Options{})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.DirMissing = true
	case err != nil:
		m.Err = err
	default:
		defer d.Close()
		name := path.Base(m.Path)
		switch err := d.StartsWith(name, names.MetricsHeader); {
		case errors.Is(err, safefs.ErrNotOurs):
			m.NotOurs = true
		case errors.Is(err, unix.ELOOP):
			m.NotOurs, m.NotOursErr = true, err
		case err != nil:
			m.Err = fmt.Errorf("%q: %w", m.Path, err)
		default:
			if st, err := d.Lstat(name); err == nil {
				m.Written = time.Unix(st.Mtim.Unix())
			}
		}
	}
	f.Metrics = m
}
