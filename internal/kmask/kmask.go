// Package kmask reads and writes the kernel's CPU files: hex masks
// (/proc/irq/default_smp_affinity, the workqueue cpumask files) and lists
// (smp_affinity_list), under the root prefix.
//
// A write goes only to a file that exists and is a regular file (proc and
// sysfs files are), never through a link and never creating anything, and
// every mask write is read back: the kernel may apply something else
// (an isolcpus= housekeeping mask, a CPU gone offline).
package kmask

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
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
	if err := WriteFile(root.Path(hostPath), set.Mask()); err != nil {
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

// WriteFile writes value and a newline to the kernel file p (a path
// already under the root): it must exist and be a regular file (no link is
// followed, nothing is created). O_TRUNC is a no-op for proc and sysfs and
// keeps a fake tree's file whole.
func WriteFile(p, value string) error {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%q: %w", p, fs.ErrNotExist)
		}
		return fmt.Errorf("open %q: %w", p, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %q: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%q is not a kernel file (not a regular file): refusing it", p)
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
