// Package kmask reads and writes the kernel's CPU files: hex masks
// (/proc/irq/default_smp_affinity, the workqueue cpumask files) and lists
// (smp_affinity_list), under the root prefix.
//
// A write goes only to a file that exists and is a regular file (proc and
// sysfs files are), never through a link in any component of its path and
// never creating anything, and every mask write is read back: the kernel
// may apply something else (an isolcpus= housekeeping mask, a CPU gone
// offline).
package kmask

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// Read reads a hex CPU mask file under root.
func Read(root hostroot.Root, p string) (cpuset.Set, error) {
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("read %q: %w", p, err)
	}
	s, err := cpuset.ParseMask(strings.TrimSpace(string(b)))
	if err != nil {
		return cpuset.Set{}, fmt.Errorf("%q: %w", p, err)
	}
	return s, nil
}

// Write writes set as a hex mask to a kernel mask file under root
// (default_smp_affinity, a workqueue cpumask) and reads it back.
func Write(root hostroot.Root, hostPath string, set cpuset.Set) error {
	if err := WriteFile(root, hostPath, set.Mask()); err != nil {
		return fmt.Errorf("set %q to %s (%s): %w", hostPath, set.Mask(), set, err)
	}
	got, err := Read(root, hostPath)
	if err != nil {
		return fmt.Errorf("set %q: read back: %w", hostPath, err)
	}
	if !got.Equal(set) {
		return fmt.Errorf("set %q to %s (%s): the kernel applies %s (%s) instead", hostPath, set.Mask(), set, got.Mask(), got)
	}
	return nil
}

// WriteFile writes value and a newline to the kernel file hostPath under
// root: it must exist and be a regular file, reached with no link in any
// component of its path (kernfile.Open); nothing is created. It is
// truncated only once it is known to be such a file: truncating is a no-op
// for proc and sysfs, which take a write at offset 0 as the whole value,
// and keeps a fake tree's file whole. Why: O_TRUNC at open, with
// O_NOFOLLOW on the last component only, would cut a file reached through
// a linked directory before anything was checked.
func WriteFile(root hostroot.Root, hostPath, value string) error {
	fd, err := kernfile.Open(root, hostPath, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	p := root.Path(hostPath)
	if err := unix.Ftruncate(fd, 0); err != nil {
		return fmt.Errorf("truncate %q: %w", p, err)
	}
	data := []byte(value + "\n")
	n, err := unix.Write(fd, data)
	if err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	if n != len(data) {
		return fmt.Errorf("short write to %q (%d of %d bytes)", p, n, len(data))
	}
	return nil
}
