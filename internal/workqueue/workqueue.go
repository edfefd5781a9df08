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
	// Before is what the file held (empty when unreadable).
	Before cpuset.Set
	// Changed is true when the file was written; Err when that failed or
	// read back differently; Missing when the kernel has no such file
	// (writeback without WQ_SYSFS, a kernel without the global mask).
	Changed bool
	Err     error
	Missing bool
}

// Apply sets every file of Paths to set, reading each back; a file that
// already holds set is left as it is.
func Apply(root hostroot.Root, set cpuset.Set) []Result {
	return ApplyEach(root, func(string) cpuset.Set { return set })
}

// ApplyEach is Apply with a set per path (nil or empty: left as it is).
func ApplyEach(root hostroot.Root, want func(path string) cpuset.Set) []Result {
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
			r.Before = cur
			w := want(p)
			if w.IsEmpty() || cur.Equal(w) {
				break
			}
			r.Changed = true
			r.Err = kmask.Write(root, p, w)
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
