package blackbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// BootID is the boot id of every fake root: markers and success records
// carry it.
const BootID = "5c0f7a0e-6c3b-4a8e-9f3e-0123456789ab"

// swapsHeader is the first line of /proc/swaps.
const swapsHeader = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

// Root is a temporary root prefix (RANSOMEYE_TUNER_ROOT) with fake /proc
// files.
type Root string

// NewRoot makes a fake root in a new temporary directory with memTotal
// bytes of RAM (see Populate).
func NewRoot(t *testing.T, memTotal int64) Root {
	t.Helper()
	return Populate(t, t.TempDir(), memTotal)
}

// Populate makes dir (which may already be a mount point) a fake root: the
// host's /sys as sys (read-only use: the real CPU topology), a copy of the
// host's /proc/cpuinfo, and what Fill writes.
func Populate(t *testing.T, dir string, memTotal int64) Root {
	t.Helper()
	r := Root(dir)
	if err := os.Symlink("/sys", r.Path("sys")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		r.Write(t, "proc/cpuinfo", string(b))
	}
	r.Fill(t, memTotal)
	return r
}

// Path returns the host path of p inside the root.
func (r Root) Path(p string) string { return filepath.Join(string(r), p) }

// Write writes content to p inside the root, making its directories.
func (r Root) Write(t *testing.T, p, content string) {
	t.Helper()
	full := r.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Fill writes the fake /proc files (memTotal bytes of RAM, no active swap,
// default sysctls, a plain kernel command line, BootID) and the lock
// directories as on Debian: run/lock 1777 and var/lock -> ../run/lock.
func (r Root) Fill(t *testing.T, memTotal int64) {
	t.Helper()
	r.SetMem(t, memTotal)
	r.SetSwaps(t)
	r.Write(t, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet\n")
	r.Write(t, "proc/sys/vm/swappiness", "60\n")
	r.Write(t, "proc/sys/vm/vfs_cache_pressure", "100\n")
	r.Write(t, "proc/sys/kernel/random/boot_id", BootID+"\n")
	if err := os.MkdirAll(r.Path("run/lock"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(r.Path("run/lock"), 0o1777); err != nil { // os.Chmod drops the sticky bit
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.Path("var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/lock", r.Path("var/lock")); err != nil {
		t.Fatal(err)
	}
}

// SetMem writes a fake /proc/meminfo with memTotal bytes of RAM.
func (r Root) SetMem(t *testing.T, memTotal int64) {
	t.Helper()
	r.Write(t, "proc/meminfo", fmt.Sprintf("MemTotal:       %d kB\nMemFree:        1024 kB\nSwapTotal:      0 kB\nSwapFree:       0 kB\n", memTotal/1024))
}

// SetSwaps writes a fake /proc/swaps; each entry is "path size-in-bytes".
func (r Root) SetSwaps(t *testing.T, entries ...string) {
	t.Helper()
	s := swapsHeader
	for _, e := range entries {
		f := strings.Fields(e)
		n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			t.Fatalf("SetSwaps %q: %v", e, err)
		}
		s += fmt.Sprintf("%s\tfile\t\t%d\t\t0\t\t-2\n", strings.Join(f[:len(f)-1], " "), n/1024)
	}
	r.Write(t, "proc/swaps", s)
}

// SetKernelSwaps writes a fake /proc/swaps holding lines as the kernel
// wrote them (from a real /proc/swaps).
func (r Root) SetKernelSwaps(t *testing.T, lines ...string) {
	t.Helper()
	r.Write(t, "proc/swaps", swapsHeader+strings.Join(lines, "\n")+"\n")
}

// Sysctl returns the value of vm.key in the fake /proc/sys.
func (r Root) Sysctl(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(r.Path("proc/sys/vm/" + key))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Marker is the host path of the failure marker in the root.
func (r Root) Marker() string { return r.Path("run/lock/ransomeye-resource-fail") }

// FakeSwapon stands in for the swap unit, which does not run in these tests
// (a fake: no systemd here): it adds the configured swapfile to the fake
// /proc/swaps with the size the kernel shows for it (the file less its
// header page), as systemd's swapon would after a successful activate. The
// gate needs it: it opens only while the swapfile is active. The returned
// function puts the earlier /proc/swaps back (the next simulated boot starts
// without it).
func (r Root) FakeSwapon(t *testing.T) (restore func()) {
	t.Helper()
	cfg, _, err := config.Load(hostroot.Root(r.Path("")))
	if err != nil {
		t.Fatalf("fakeSwapon: %v", err)
	}
	p := r.Path(cfg.SwapPath)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatalf("fakeSwapon: %v", err)
	}
	b, _ := os.ReadFile(r.Path("proc/swaps"))
	restore = func() { r.Write(t, "proc/swaps", string(b)) }
	s := string(b)
	if s == "" {
		s = swapsHeader
	}
	s += fmt.Sprintf("%s\tfile\t\t%d\t\t0\t\t-2\n", p, (st.Size()-int64(os.Getpagesize()))/1024)
	r.Write(t, "proc/swaps", s)
	return restore
}
