// Package fakeroot builds whole fake machine roots for tests of status,
// plan and the exit codes: a fakesys CPU tree plus the /proc files, the
// configuration, a real swapfile made by mkswap on the test's own
// filesystem, the generator's drop-ins and the activation record. It is a
// test fixture: /proc/swaps and the sysctls are fake files (this machine's
// own swap and sysctls are never touched), the swapfile and drop-ins are
// real.
//
// Test-only, like everything under testkit/: only _test.go files import
// it, and the shipped binaries never link it.
package fakeroot

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// BootID is the fake running boot's id.
const BootID = "5c0f7a0e-6c3b-4a8e-9f3e-0123456789ab"

// Case names a fake machine state.
type Case string

// The states the golden tests pin.
const (
	// Healthy: 8 cores (a CPU reservation), a 1 MiB swapfile active at its
	// target, the sysctls at their values, the drop-ins of the plan and a
	// successful activation in this boot.
	Healthy Case = "healthy"
	// Failed: Healthy after activate failed: a genuine failure marker, no
	// activation record, the swapfile not active, vm.swappiness drifted.
	Failed Case = "failed"
	// Disabled: ransomeye.tuner=0 on the kernel command line.
	Disabled Case = "disabled"
	// Invalid: a configuration that cannot be parsed.
	Invalid Case = "invalid-config"
	// NoReservation: Healthy on 4 cores, too few for a CPU reservation.
	NoReservation Case = "no-reservation"
	// Capture: Healthy with [CPU] DPIInterface=ens1f0, an ice NIC with
	// two queues whose interrupts are placed (queue 0 on CPU 4, queue 1
	// on 5, its misc interrupt on 0-3), and DPIChannels=auto.
	Capture Case = "capture"
)

// Cases lists every Case.
var Cases = []Case{Healthy, Failed, Disabled, Invalid, NoReservation, Capture}

// Make writes the machine of case c into dir (an empty directory on a
// filesystem that takes swapfiles: ext4, xfs, btrfs). It needs root (the
// swapfile must be owned by root) and mkswap.
func Make(dir string, c Case) error {
	cores := 8
	if c == NoReservation {
		cores = 4
	}
	m := fakesys.Machine{Nodes: 1, CoresPerNode: cores, MemTotalKiB: 1024}
	if c == Disabled {
		m.Cmdline = "root=/dev/vda ro " + names.CmdlineSwitch + "=0"
	}
	if err := m.Write(dir); err != nil {
		return err
	}
	root := hostroot.Root(dir)
	conf := "[Swap]\nMinSize=1M\nReserve=0\n"
	if c == Invalid {
		conf = "[Swap]\nMinSize=huge\n"
	}
	if c == Capture {
		conf += "[CPU]\nDPIInterface=ens1f0\nDPIChannels=auto\n"
		if err := captureNIC(root); err != nil {
			return err
		}
	}
	swappiness := "10\n"
	if c == Failed {
		swappiness = "60\n"
	}
	swaps := "Filename\tType\tSize\tUsed\tPriority\n/ransomeye/swap\tfile\t1020\t0\t-2\n"
	if c == Failed {
		swaps = "Filename\tType\tSize\tUsed\tPriority\n"
	}
	for p, s := range map[string]string{
		"etc/ransomeye/tuner.conf":       conf,
		"proc/sys/vm/swappiness":         swappiness,
		"proc/sys/vm/vfs_cache_pressure": "50\n",
		"proc/sys/kernel/random/boot_id": BootID + "\n",
		"proc/swaps":                     swaps,
	} {
		if err := write(root.Path(p), s); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(root.Path("/run/lock"), 0o755); err != nil {
		return err
	}
	if err := os.Chmod(root.Path("/run/lock"), os.ModeSticky|0o777); err != nil {
		return err
	}
	if err := os.MkdirAll(root.Path("/var"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("../run/lock", root.Path("/var/lock")); err != nil {
		return err
	}
	if c == Disabled || c == Invalid {
		return nil
	}
	if err := swapfile(root.Path("/ransomeye/swap")); err != nil {
		return err
	}
	apply.Generator(root, apply.Dirs{Normal: root.Path(units.NormalDir), Late: root.Path(units.LateDir)}, priolog.New(io.Discard, ""))
	// The services run, with what systemd makes of the memory drop-ins.
	running := fakesys.Systemd{Running: []string{names.CoreService, names.DPIService, names.TrainingService}}
	if err := running.Write(dir, root.Path(units.NormalDir)); err != nil {
		return err
	}
	if c == Failed {
		_, err := marker.Write(root, marker.Entry{Reason: "swapon /ransomeye/swap failed: invalid argument", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), BootID: BootID, Source: "activate"})
		return err
	}
	return marker.WriteOK(root, BootID, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// swapfile makes a 1 MiB swap area at path, root:root 0600, labelled as
// activate labels its swapfile, every block allocated.
func swapfile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		return err
	}
	if out, err := exec.Command("mkswap", "-L", names.SwapLabel, path).CombinedOutput(); err != nil {
		return fmt.Errorf("mkswap %q: %w: %s", path, err, out)
	}
	return os.Chmod(path, 0o600)
}

func write(path, s string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// captureNIC writes the fake of an ice NIC ens1f0 (NUMA node 0) with two
// queues, its interrupts placed as activate places them, and
// /proc/interrupts listing them.
func captureNIC(root hostroot.Root) error {
	n := fakesys.IceNIC(0, 2, "0-3", "4", "5")
	n.Effective = true
	if err := write(root.Path("/proc/interrupts"), "           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n"+n.Interrupts()); err != nil {
		return err
	}
	if err := write(root.Path("/proc/irq/default_smp_affinity"), "0f\n"); err != nil {
		return err
	}
	return n.Write(root.String())
}
