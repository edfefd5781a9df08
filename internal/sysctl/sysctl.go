// Package sysctl sets kernel parameters under /proc/sys and reads them
// back, keeps them for a later `sysctl --system` (dropin.go), and gives
// them back at the package's removal (giveback.go).
package sysctl

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
)

// Setting is one kernel parameter and the value it must have.
type Setting struct {
	Key   string // dotted name, "vm.swappiness"
	Value string
}

// Path returns the host path of a key under /proc/sys.
func Path(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

// checkKey refuses keys that could walk out of /proc/sys.
func checkKey(key string) error {
	if key == "" || strings.Contains(key, "/") || strings.Contains(key, "..") || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") {
		return fmt.Errorf("sysctl key %q is not a dotted kernel parameter name", key)
	}
	return nil
}

// Read returns the value of key, trimmed; it never blocks.
func Read(root hostroot.Root, key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	v, err := kernfile.Read(root, Path(key))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// Apply writes s.Value to s.Key and reads it back; errors name the key.
func Apply(root hostroot.Root, s Setting) error {
	if err := checkKey(s.Key); err != nil {
		return err
	}
	p := root.Path(Path(s.Key))
	// No O_TRUNC: /proc/sys takes a write at offset 0 as the whole value.
	fd, err := kernfile.Open(root, Path(s.Key), unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("set %s=%s: %w", s.Key, s.Value, err)
	}
	data := []byte(s.Value + "\n")
	n, werr := unix.Write(fd, data)
	cerr := unix.Close(fd)
	switch {
	case werr != nil:
		return fmt.Errorf("set %s=%s: the kernel refused the write to %q: %w", s.Key, s.Value, p, werr)
	case n != len(data):
		return fmt.Errorf("set %s=%s: short write to %q (%d of %d bytes)", s.Key, s.Value, p, n, len(data))
	case cerr != nil:
		return fmt.Errorf("set %s=%s: close %q: %w", s.Key, s.Value, p, cerr)
	}
	got, err := Read(root, s.Key)
	if err != nil {
		return fmt.Errorf("set %s=%s: read back: %w", s.Key, s.Value, err)
	}
	if got != s.Value {
		return fmt.Errorf("set %s=%s: read back %q instead: something else changes it (a sysctl.d file, a container runtime, a read-only /proc/sys); find it with grep -r %s /etc/sysctl.d /usr/lib/sysctl.d", s.Key, s.Value, got, s.Key)
	}
	return nil
}

// The kernel's dentry and inode reclaim ratio: vm.vfs_cache_pressure over
// vm.vfs_cache_pressure_denom (Linux 6.16; 100 by default and before).
const (
	VFSCachePressure      = "vm.vfs_cache_pressure"
	VFSCachePressureDenom = "vm.vfs_cache_pressure_denom"
)

// Wanted returns the kernel parameters cfg asks for.
func Wanted(cfg config.Config) []Setting {
	return []Setting{
		{Key: "vm.swappiness", Value: strconv.Itoa(cfg.Swappiness)},
		{Key: VFSCachePressure, Value: strconv.Itoa(cfg.VFSCachePressure)},
	}
}
