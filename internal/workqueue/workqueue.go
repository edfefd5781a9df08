// Package workqueue places unbound kernel work: the global cpumask of
// unbound workqueues and writeback's own (the workqueue that flushes dirty
// pages, which a write-heavy database keeps busy).
//
// Like interrupt placement it is reported, never gating: the core's
// correctness does not depend on where the kernel runs its unbound work.
package workqueue

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/kmask"
)

// The cpumask files, as host paths. The global one goes first: on undo it
// widens before writeback's does. (/sys/bus/workqueue/devices/writeback is
// a link to the writeback directory here; root writes the real path.)
const (
	CPUMaskPath   = "/sys/devices/virtual/workqueue/cpumask"
	WritebackPath = "/sys/devices/virtual/workqueue/writeback/cpumask"
)

// Paths are the files Apply writes, in order.
var Paths = []string{CPUMaskPath, WritebackPath}

// Result is one file's outcome.
type Result struct {
	Path string
	// Before is what the file held (empty when unreadable); After what
	// Apply wants there (Before when it is already within the set).
	Before, After cpuset.Set
	// Changed is true when the file was written; Err when that failed or
	// read back differently; Missing when the kernel has no such file
	// (writeback without WQ_SYSFS, a kernel without the global mask).
	Changed bool
	Err     error
	Missing bool
}

// Apply keeps every file of Paths within set, reading each write back: a
// mask already inside set is left as it is, one partly inside keeps only
// its CPUs in set, any other becomes set (cpuset.Set.Within). Why not set
// outright: an administrator who narrowed unbound work to 0-1 inside a
// core set of 0-3 kept 2-3 free of it on purpose.
func Apply(root hostroot.Root, set cpuset.Set) []Result {
	var out []Result
	for _, p := range Paths {
		r := Result{Path: p}
		cur, err := kmask.Read(root, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.Missing = true
		case err != nil:
			r.Err = err
		default:
			r.Before, r.After = cur, cur.Within(set)
			if cur.Equal(r.After) {
				break
			}
			r.Changed = true
			r.Err = kmask.Write(root, p, r.After)
		}
		out = append(out, r)
	}
	return out
}

// Read returns each existing file's mask.
func Read(root hostroot.Root) (map[string]cpuset.Set, error) {
	m := map[string]cpuset.Set{}
	var errs []error
	for _, p := range Paths {
		s, err := kmask.Read(root, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			errs = append(errs, err)
		default:
			m[p] = s
		}
	}
	if len(errs) > 0 {
		return m, fmt.Errorf("workqueue masks: %w", errors.Join(errs...))
	}
	return m, nil
}
