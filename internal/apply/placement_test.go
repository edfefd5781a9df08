package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// fakeMachine writes a fake 8-CPU /proc and /sys (fakesys: regular files
// stand for the kernel's) with three IRQs on every CPU.
func fakeMachine(t *testing.T) hostroot.Root {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the plan file goes to a directory only root may own: run as root")
	}
	root := t.TempDir()
	files := map[string]string{
		"/proc/interrupts": "           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n" +
			" 30:  1 0 0 0 0 0 0 0  PCI-MSI 1-edge  ahci\n" +
			" 31:  1 0 0 0 0 0 0 0  PCI-MSI 2-edge  xhci_hcd\n" +
			" 32:  1 0 0 0 0 0 0 0  PCI-MSI 3-edge  i801_smbus\n",
		"/proc/irq/default_smp_affinity":       "ff\n",
		"/proc/irq/30/smp_affinity_list":       "0-7\n",
		"/proc/irq/31/smp_affinity_list":       "0-7\n",
		"/proc/irq/32/smp_affinity_list":       "6\n",
		"/proc/irq/32/effective_affinity_list": "6\n",
		placement.CPUMaskPath:                  "ff\n",
		placement.WritebackPath:                "ff\n",
		"/sys/fs/cgroup/system.slice/ransomeye-core.service/cpuset.cpus.effective":                       "0-3\n",
		"/sys/fs/cgroup/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service/cpuset.cpus.effective": "4-6\n",
	}
	if err := (fakesys.Machine{CoresPerNode: 8, Files: files}).Write(root); err != nil {
		t.Fatal(err)
	}
	return hostroot.Root(root)
}

// machineWithCaptureNIC is fakeMachine with nic's sysfs and its interrupts
// in /proc/interrupts, and conf as tuner.conf.
func machineWithCaptureNIC(t *testing.T, nic fakesys.NIC, conf string) hostroot.Root {
	t.Helper()
	root := fakeMachine(t)
	if err := nic.Write(string(root)); err != nil {
		t.Fatal(err)
	}
	p := root.Path("/proc/interrupts")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, nic.Interrupts()...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root.Path("/etc/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path("/etc/ransomeye/tuner.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// online leaves n of the fake machine's 8 CPUs online (the rest offline),
// its other files as they are: with fewer than 8, no reservation.
func online(t *testing.T, root hostroot.Root, n int) {
	t.Helper()
	m := fakesys.Machine{CoresPerNode: 8}
	for i := n; i < 8; i++ {
		m.Offline = append(m.Offline, i)
	}
	if err := m.Write(string(root)); err != nil {
		t.Fatal(err)
	}
}

// placed and withdrawn are `ransomeye-tuner place` and `place --undo`.
func placed(t *testing.T, root hostroot.Root) placement.Report {
	t.Helper()
	r, err := placeRun(root, false, false)
	if err != nil {
		t.Fatalf("nothing placed: %v", err)
	}
	return r
}

func withdrawn(t *testing.T, root hostroot.Root) placement.Report {
	t.Helper()
	r, _ := placeRun(root, true, false)
	return r
}

// removed is what the package's removal runs of the placement (Uninstall).
func removed(t *testing.T, root hostroot.Root) placement.Report {
	t.Helper()
	r, _ := placeRun(root, true, true)
	return r
}

// ReadFile reads the plan file.
func ReadFile(root hostroot.Root) (planFile, error) {
	var d planFile
	b, err := os.ReadFile(root.Path(placement.Path))
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	return d, err
}

// Observe is the placement status reports.
func Observe(t *testing.T, root hostroot.Root) *check.Placement {
	t.Helper()
	f := facts.Gather(root, facts.Status)
	defer f.Close()
	p := plan.Decide(f)
	r := check.Run(f, p)
	if r.Placement == nil {
		t.Fatalf("no placement reported: %+v", p.CPU)
	}
	return r.Placement
}

func read(t *testing.T, root hostroot.Root, p string) string {
	t.Helper()
	b, err := os.ReadFile(root.Path(p))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// noWarnings fails the test at once when a placement run warned.
func noWarnings(t *testing.T, r placement.Report) {
	t.Helper()
	if len(r.Warnings) != 0 {
		t.Fatalf("warnings: %q", r.Warnings)
	}
}

// wantValues checks that each host file of want holds its value; when
// ("after undo ", "after withdraw " or "") starts each complaint.
func wantValues(t *testing.T, root hostroot.Root, when string, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if got := read(t, root, p); got != w {
			t.Errorf("%s%s = %q, want %q", when, p, got, w)
		}
	}
}

// TestPlaceThenUndo: a reservation moves interrupts and unbound work onto
// the core CPUs 0-3 and records it; a plan without one restores each
// value that is still the one written, and leaves one an administrator
// changed since.
func TestPlaceThenUndo(t *testing.T) {
	root := fakeMachine(t)
	r := placed(t, root)
	noWarnings(t, r)
	wantValues(t, root, "", map[string]string{"/proc/irq/default_smp_affinity": "f", "/proc/irq/30/smp_affinity_list": "0-3",
		"/proc/irq/31/smp_affinity_list": "0-3", "/proc/irq/32/smp_affinity_list": "0-3", placement.CPUMaskPath: "f", placement.WritebackPath: "f"})
	doc, err := ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Reserved || doc.Applied == nil || len(doc.Applied.IRQsMoved) != 3 || doc.Applied.DefaultIRQAffinity != "0-3" ||
		doc.Services[1].Environment["RANSOMEYE_CPUS"] != "4-5" {
		t.Fatalf("plan file: %+v", doc)
	}
	if fi, err := os.Stat(root.Path(placement.Path)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("plan file mode: %v %v", fi, err)
	}

	// The administrator moves IRQ 31 by hand; then the plan loses its
	// reservation (a CPU offline: 7 cores).
	if err := os.WriteFile(root.Path("/proc/irq/31/smp_affinity_list"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	online(t, root, 7)
	r = placed(t, root)
	noWarnings(t, r)
	wantValues(t, root, "after undo ", map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "1", "/proc/irq/32/smp_affinity_list": "6", placement.CPUMaskPath: "ff", placement.WritebackPath: "ff"})
	doc, err = ReadFile(root)
	if err != nil || doc.Reserved || doc.Applied != nil || doc.Services[0].CPUs != "0-6" {
		t.Errorf("plan file after undo: %+v, %v", doc, err)
	}
	// Undo again: nothing recorded, nothing written.
	_ = os.WriteFile(root.Path(placement.CPUMaskPath), []byte("3\n"), 0o644)
	placed(t, root)
	if got := read(t, root, placement.CPUMaskPath); got != "3" {
		t.Errorf("a mask not ours was reset: %q", got)
	}
}

// TestBootDefaults: irqaffinity= and isolated CPUs shape the defaults undo
// restores.
func TestBootDefaults(t *testing.T) {
	root := fakeMachine(t)
	_ = os.WriteFile(root.Path("/proc/cmdline"), []byte("root=/dev/vda1 irqaffinity=0-1\n"), 0o644)
	_ = os.WriteFile(root.Path("/sys/devices/system/cpu/isolated"), []byte("6-7\n"), 0o644)
	words, _ := procfs.ReadCmdline(root)
	irqDef, wq, err := placement.BootDefaults(root, words)
	if err != nil || irqDef.String() != "0-1" || wq.String() != "0-5" {
		t.Errorf("defaults %q %q %v", irqDef, wq, err)
	}
}

// TestObserve: IRQ 32 effectively on CPU 6 (training) and the DPI
// service's cpuset reaching CPU 6 are reported; the workqueue mask read.
// After placement IRQ 32 is asked onto 0-3 but still effective on 6: a
// pending move.
func TestObserve(t *testing.T) {
	root := fakeMachine(t)
	e := Observe(t, root)
	if e.Reserved != "4-7" || len(e.IRQsOnReserved) != 3 || e.IRQsOnReserved[2].IRQ != 32 || e.IRQsOnReserved[2].Source != "effective_affinity_list" {
		t.Errorf("irqs: %+v", e)
	}
	if e.Workqueue[placement.CPUMaskPath] != "0-7" {
		t.Errorf("workqueue: %v", e.Workqueue)
	}
	got := fmt.Sprint(e.Services)
	if len(e.Services) != 3 || e.Services[0].Escapes != "" || e.Services[0].Effective != "0-3" || e.Services[1].Escapes != "6" || e.Services[2].Err == "" {
		t.Errorf("services: %s", got)
	}
	placed(t, root)
	// 32's effective file is the fake's and does not follow the write, as
	// a legacy interrupt's does not until it fires: a pending move, not an
	// escape.
	if e := Observe(t, root); len(e.IRQsOnReserved) != 0 || len(e.IRQsMovePending) != 1 || e.IRQsMovePending[0].IRQ != 32 ||
		e.IRQsMovePending[0].Requested != "0-3" {
		t.Errorf("after placement: escapes %+v, pending %+v", e.IRQsOnReserved, e.IRQsMovePending)
	}
}

// TestRestartKeepsRecord: a second activation in the same boot moves
// nothing (all is in place), yet undo afterwards still restores every
// interrupt and mask the first one set.
func TestRestartKeepsRecord(t *testing.T) {
	root := fakeMachine(t)
	placed(t, root)
	r := placed(t, root)
	noWarnings(t, r)
	doc, err := ReadFile(root)
	if err != nil || len(doc.Applied.IRQsMoved) != 3 || doc.Applied.IRQsMoved[0].From != "0-7" || len(doc.Applied.Workqueue) != 2 || doc.Applied.DefaultIRQAffinity != "0-3" {
		t.Fatalf("record after a restart: %+v, %v", doc.Applied, err)
	}
	online(t, root, 7)
	placed(t, root)
	wantValues(t, root, "after undo ", map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/32/smp_affinity_list": "6", placement.CPUMaskPath: "ff", placement.WritebackPath: "ff"})
}

// TestAlreadyInPlaceNotOurs: masks that already held the core set before
// any activation (set by someone else) are not recorded, so undo leaves
// them.
func TestAlreadyInPlaceNotOurs(t *testing.T) {
	root := fakeMachine(t)
	_ = os.WriteFile(root.Path(placement.CPUMaskPath), []byte("f\n"), 0o644)
	placed(t, root)
	doc, _ := ReadFile(root)
	if _, ok := doc.Applied.Workqueue[placement.CPUMaskPath]; ok {
		t.Errorf("a mask already in place recorded as ours: %v", doc.Applied.Workqueue)
	}
	online(t, root, 7)
	placed(t, root)
	if got := read(t, root, placement.CPUMaskPath); got != "f" {
		t.Errorf("undo reset a mask not ours: %q", got)
	}
}

// span is the CPU set lo-hi.
func span(lo, hi int) cpuset.Set {
	var ids []int
	for i := lo; i <= hi; i++ {
		ids = append(ids, i)
	}
	return cpuset.Of(ids...)
}

// TestWithdraw: what package removal runs. With the reservation still in
// the plan, every value placed is restored and the record dropped, so a
// second run writes nothing; without a plan file nothing is written.
func TestWithdraw(t *testing.T) {
	root := fakeMachine(t)
	noWarnings(t, placed(t, root))
	r := withdrawn(t, root)
	noWarnings(t, r)
	wantValues(t, root, "after withdraw ", map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "0-7", "/proc/irq/32/smp_affinity_list": "6", placement.CPUMaskPath: "ff", placement.WritebackPath: "ff"})
	doc, err := ReadFile(root)
	if err != nil || doc.Applied != nil || !doc.Reserved {
		t.Errorf("plan file after withdraw: %+v, %v", doc, err)
	}
	// The record is gone: a value equal to the one once placed is not
	// touched again.
	_ = os.WriteFile(root.Path(placement.CPUMaskPath), []byte("f\n"), 0o644)
	withdrawn(t, root)
	if got := read(t, root, placement.CPUMaskPath); got != "f" {
		t.Errorf("second withdraw reset a mask: %q", got)
	}

	fresh := fakeMachine(t)
	withdrawn(t, fresh)
	if _, err := os.Stat(fresh.Path(placement.Path)); !os.IsNotExist(err) {
		t.Errorf("withdraw without a plan file wrote one: %v", err)
	}
}

// TestPlaceAfterWithdrawForRemoval: the package's removal withdraws the
// placement; a DPI engine restarted after it ran `place` from its
// ExecStartPost= and put the interrupts back on the core's CPUs, with a
// record no installed binary would undo. After the removal's withdrawal a
// placement places nothing and says why; `place --undo` does not hold it;
// the next activation lifts the hold, and places again.
func TestPlaceAfterWithdrawForRemoval(t *testing.T) {
	root := fakeMachine(t)
	boot := map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "0-7", "/proc/irq/32/smp_affinity_list": "6", placement.CPUMaskPath: "ff", placement.WritebackPath: "ff"}
	onCore := map[string]string{"/proc/irq/default_smp_affinity": "f", "/proc/irq/30/smp_affinity_list": "0-3", placement.CPUMaskPath: "f"}
	noWarnings(t, placed(t, root))
	noWarnings(t, withdrawn(t, root)) // place --undo: no hold
	noWarnings(t, placed(t, root))
	wantValues(t, root, "after place --undo and place ", onCore)

	noWarnings(t, removed(t, root))
	wantValues(t, root, "after the removal's withdrawal ", boot)
	r := placed(t, root)
	noWarnings(t, r)
	wantValues(t, root, "after a place following the removal's withdrawal ", boot)
	if !strings.Contains(strings.Join(r.Infos, "\n"), "nothing placed: the placement was withdrawn for the package's removal") {
		t.Errorf("place does not say why it placed nothing: %q", r.Infos)
	}
	Activate(root, priolog.New(io.Discard, ""), func(string) {}) // lifts the hold, whatever else it finds
	if _, err := os.Lstat(root.Path(placement.Dir + "/" + placement.HoldName)); !os.IsNotExist(err) {
		t.Errorf("the hold is still there after an activation: %v", err)
	}
	noWarnings(t, placed(t, root))
	wantValues(t, root, "after the next activation and place ", onCore)

	// Withdrawn before any placement (no plan file): held all the same.
	fresh := fakeMachine(t)
	noWarnings(t, removed(t, fresh))
	noWarnings(t, placed(t, fresh))
	wantValues(t, fresh, "a place after the removal's withdrawal ", boot)
}

// TestCaptureDeviceRecord: with a capture interface the placement records
// its device directory for irqbalance's policy script; without a
// reservation, and on withdrawal, the record goes.
func TestCaptureDeviceRecord(t *testing.T) {
	root := fakeMachine(t)
	captureNIC(t, root, 25)
	noWarnings(t, placed(t, root))
	rec := placement.Dir + "/" + placement.CaptureDeviceFile
	if got := read(t, root, rec); got != "/sys/devices/pci0000:00/0000:00:03.0" {
		t.Errorf("%s = %q", rec, got)
	}
	withdrawn(t, root)
	if _, err := os.Stat(root.Path(rec)); !os.IsNotExist(err) {
		t.Errorf("%s after withdraw: %v", rec, err)
	}
	placed(t, root)
	online(t, root, 7)
	placed(t, root)
	if _, err := os.Stat(root.Path(rec)); !os.IsNotExist(err) {
		t.Errorf("%s without a reservation: %v", rec, err)
	}
}

// TestObserveUnmovableAndPending: on the fake 8-CPU machine as an 8-vCPU
// boot shows it after activation, an NVMe per-CPU queue (read-only
// smp_affinity_list, on CPU 5) is unmovable, rtc0 and the NVMe admin queue
// (asked onto 0-3, effective still on 4 and 6: the kernel moves them when
// they next fire) are pending moves, and neither kind is an escape; IRQ 30,
// writable and asked onto every CPU, is one.
func TestObserveUnmovableAndPending(t *testing.T) {
	root := fakeMachine(t)
	files := map[string]string{
		"/proc/interrupts": "           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n" +
			"  8:  0 0 0 0 1 0 0 0  IO-APIC 8-edge  rtc0\n" +
			" 25:  0 0 0 0 0 0 9 0  PCI-MSIX-0000:00:04.0 0-edge  nvme0q0\n" +
			" 30:  1 0 0 0 0 0 0 0  PCI-MSI 1-edge  ahci\n" +
			" 39:  0 0 0 0 0 7 0 0  PCI-MSIX-0000:00:04.0 6-edge  nvme0q6\n",
		"/proc/irq/8/smp_affinity_list":        "0-3\n",
		"/proc/irq/8/effective_affinity_list":  "4\n",
		"/proc/irq/25/smp_affinity_list":       "0-3\n",
		"/proc/irq/25/effective_affinity_list": "6\n",
		"/proc/irq/30/effective_affinity_list": "7\n",
		"/proc/irq/39/smp_affinity_list":       "5\n",
		"/proc/irq/39/effective_affinity_list": "5\n",
	}
	for p, c := range files {
		full := root.Path(p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The kernel makes a managed interrupt's affinity file 0444.
	if err := os.Chmod(root.Path("/proc/irq/39/smp_affinity_list"), 0o444); err != nil {
		t.Fatal(err)
	}
	e := Observe(t, root)
	irqs := func(l []check.IRQEffect) string {
		var s []string
		for _, q := range l {
			s = append(s, fmt.Sprintf("%d:%s:%s:%s", q.IRQ, q.Name, q.CPUs, q.Requested))
		}
		return strings.Join(s, " ")
	}
	if got, want := irqs(e.IRQsOnReserved), "30:ahci:7:0-7"; got != want {
		t.Errorf("escapes %q, want %q", got, want)
	}
	if got, want := irqs(e.IRQsUnmovable), "39:nvme0q6:5:5"; got != want {
		t.Errorf("unmovable %q, want %q", got, want)
	}
	if got, want := irqs(e.IRQsMovePending), "8:rtc0:4:0-3 25:nvme0q0:6:0-3"; got != want {
		t.Errorf("move pending %q, want %q", got, want)
	}
	// The Debian 12 cloud kernel leaves a managed interrupt's file
	// writable and refuses the write with EIO: the last placement's record
	// of that refusal makes it unmovable; a record naming another interrupt
	// of that number (a driver reloaded since) does not.
	if err := os.Chmod(root.Path("/proc/irq/39/smp_affinity_list"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e := Observe(t, root); irqs(e.IRQsOnReserved) != "30:ahci:7:0-7 39:nvme0q6:5:5" {
		t.Errorf("writable nvme0q6 without a record: escapes %q", irqs(e.IRQsOnReserved))
	}
	for name, want := range map[string]string{"nvme0q6": "39:nvme0q6:5:5", "eth9-rx-0": ""} {
		rec := planFile{Doc: plan.Doc{Version: placement.Version}, Applied: &placement.Applied{
			IRQsLeft: []irq.Left{{IRQ: 39, Name: name, Reason: "the kernel refuses to move it (EIO)", Unmovable: true}}}}
		b, _ := json.Marshal(rec)
		if err := os.MkdirAll(filepath.Dir(root.Path(placement.Path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root.Path(placement.Path), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if e := Observe(t, root); irqs(e.IRQsUnmovable) != want {
			t.Errorf("record of a refused %s: unmovable %q, want %q", name, irqs(e.IRQsUnmovable), want)
		}
	}
	// Without an effective affinity file nothing shows a move pending:
	// the requested affinity is where the interrupt arrives.
	_ = os.Remove(root.Path("/proc/irq/25/effective_affinity_list"))
	if e := Observe(t, root); irqs(e.IRQsMovePending) != "8:rtc0:4:0-3" {
		t.Errorf("without nvme0q0's effective affinity: pending %q", irqs(e.IRQsMovePending))
	}
}

// captureNIC adds a virtio-net capture interface eth1 with one receive
// queue and the vectors msi to the fake root (its PCI function's msi_irqs),
// and configures DPIInterface=eth1.
func captureNIC(t *testing.T, root hostroot.Root, msi ...int) {
	t.Helper()
	pci := root.Path("/sys/devices/pci0000:00/0000:00:03.0")
	dirs := []string{pci + "/virtio0/net/eth1/queues/rx-0", root.Path("/sys/class/net")}
	for _, n := range msi {
		dirs = append(dirs, fmt.Sprintf("%s/msi_irqs/%d", pci, n))
	}
	for _, p := range dirs {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../../../virtio0", pci+"/virtio0/net/eth1/device"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth1", root.Path("/sys/class/net/eth1")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root.Path("/etc/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path("/etc/ransomeye/tuner.conf"), []byte("[CPU]\nDPIInterface=eth1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// request adds interrupt num named name to the fake /proc/interrupts with
// affinity aff, as a driver requesting it does.
func request(t *testing.T, root hostroot.Root, num int, name, aff string) {
	t.Helper()
	p := root.Path(irq.InterruptsPath)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(" %d:  0 0 0 0 0 0 0 0  PCI-MSI %d-edge  %s\n", num, num, name)
	if err := os.WriteFile(p, append(b, row...), 0o644); err != nil {
		t.Fatal(err)
	}
	f := root.Path(fmt.Sprintf("%s/%d/smp_affinity_list", irq.IRQDir, num))
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(aff+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUndoRequestedDuringPlacement: default_smp_affinity was 0-6 before
// the placement set it to 0-3. Interrupts requested while that was in
// effect got 0-3 (a disk controller loaded later; the capture NIC's queue,
// re-requested after ethtool -L and steered to a DPI CPU by the next
// placement); undo gives each the default_smp_affinity it restores, 0-6,
// which is what the kernel would have given them, not 0-3. An interrupt
// that had 0-3 before the placement (an administrator's), and one
// requested since whose driver put it on CPU 2, keep theirs.
func TestUndoRequestedDuringPlacement(t *testing.T) {
	root := fakeMachine(t)
	_ = os.WriteFile(root.Path(irq.DefaultAffinityPath), []byte("7f\n"), 0o644)
	request(t, root, 35, "admin_kept", "0-3")
	captureNIC(t, root, 40)
	noWarnings(t, placed(t, root))
	request(t, root, 38, "ahci_late", "0-3")
	request(t, root, 39, "eth9-TxRx-0", "2")
	request(t, root, 40, "virtio0-input.0", "0-3")
	r := placed(t, root) // what ransomeye-tuner place runs after ethtool -L
	noWarnings(t, r)
	wantValues(t, root, "after the second placement ", map[string]string{irq.DefaultAffinityPath: "f",
		"/proc/irq/38/smp_affinity_list": "0-3", "/proc/irq/40/smp_affinity_list": "4"})
	r = withdrawn(t, root)
	noWarnings(t, r)
	wantValues(t, root, "after withdraw ", map[string]string{irq.DefaultAffinityPath: "7f",
		"/proc/irq/30/smp_affinity_list": "0-7", "/proc/irq/35/smp_affinity_list": "0-3",
		"/proc/irq/38/smp_affinity_list": "0-6", "/proc/irq/39/smp_affinity_list": "2",
		"/proc/irq/40/smp_affinity_list": "0-6"})
	if !strings.Contains(strings.Join(r.Infos, "\n"), "IRQ 38 (ahci_late), requested while the placement was in effect: 0-3 -> 0-6") {
		t.Errorf("undo does not say what it did with IRQ 38:\n%s", strings.Join(r.Infos, "\n"))
	}
}

// TestPlaceLockFile: placements lock a root-only file of the state
// directory; a link planted at its name is not followed (the placement
// warns and goes on), and its target is left as it was.
func TestPlaceLockFile(t *testing.T) {
	root := fakeMachine(t)
	noWarnings(t, placed(t, root))
	lock := root.Path(placement.Dir + "/place.lock")
	fi, err := os.Lstat(lock)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v; want a regular file, mode 0600", fi, err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(lock)
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	r := placed(t, root)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "placement lock") {
		t.Errorf("warnings with a link at the lock's name: %q", r.Warnings)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep\n" {
		t.Errorf("the link's target: %q, %v", b, err)
	}
}

// TestUndoGivesBackQueuesReprobedWithTheirNumbers: the capture NIC (ice,
// two queues) is placed, then its driver is reloaded while the placement
// is in effect (rmmod/modprobe, an unbind and bind): its interrupts come
// back with the same numbers and names (the kernel hands out the lowest
// free descriptors again) and, ice setting only an affinity hint, on the
// placement's default_smp_affinity 0-3. The netdev unit's placement steers
// the queues again; place --undo must then give them the
// default_smp_affinity it restores (0-7), as for any interrupt requested
// while the placement was in effect. It gave them 0-3: IRQsBefore held the
// same number and name, so undo took the re-requested interrupt for the
// one that existed before and "restored" the placement's own default.
// Both the placement and undo say what they did with each, in counts that
// add up.
func TestUndoGivesBackQueuesReprobedWithTheirNumbers(t *testing.T) {
	root := machineWithCaptureNIC(t, fakesys.IceNIC(0, 2), "[CPU]\nDPIInterface=ens1f0\n")
	noWarnings(t, placed(t, root))
	wantValues(t, root, "after place ", map[string]string{"/proc/irq/59/smp_affinity_list": "0-3",
		"/proc/irq/60/smp_affinity_list": "4", "/proc/irq/61/smp_affinity_list": "5", "/proc/irq/default_smp_affinity": "f"})

	// The driver is reloaded: same IRQ numbers and names, each on the
	// default_smp_affinity in effect.
	for _, n := range []string{"59", "60", "61"} {
		if err := os.WriteFile(root.Path("/proc/irq/"+n+"/smp_affinity_list"), []byte("0-3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	re := placed(t, root) // ransomeye-tuner-netdev.service's reload
	noWarnings(t, re)
	if log := strings.Join(re.Infos, "\n"); !strings.Contains(log, "IRQ 60 (ice-ens1f0-TxRx-0) found on 0-3, the placement's default_smp_affinity, not on 4 where it was placed: requested anew") ||
		!strings.Contains(log, "placed again on 4") {
		t.Errorf("the re-placement does not say it found IRQ 60 re-requested:\n%s", log)
	}
	wantValues(t, root, "after the re-probe's place ", map[string]string{"/proc/irq/60/smp_affinity_list": "4", "/proc/irq/61/smp_affinity_list": "5"})

	r := withdrawn(t, root)
	if log := strings.Join(r.Infos, "\n"); !strings.Contains(log, "undo: 4 of 6 interrupts moved earlier restored to their former CPUs, 2 (requested while the placement was in effect) given the default_smp_affinity restored (0-7)") {
		t.Errorf("undo's count:\n%s", log)
	}
	for _, n := range []string{"60", "61"} {
		if got := read(t, root, "/proc/irq/"+n+"/smp_affinity_list"); got != "0-7" {
			t.Errorf("after undo: IRQ %s (re-requested while the placement was in effect) on %q, want the restored default 0-7\n%s", n, got, strings.Join(r.Infos, "\n"))
		}
	}
}

// TestPlacementSaysWhatSomeoneElseMoved: a capture queue the placement put
// on DPI CPU 4 is found on CPU 6 by the next placement (an administrator's
// echo, or its driver): it is steered again, and the log says so rather
// than fight over it silently; undo gives back the CPU it was found on.
func TestPlacementSaysWhatSomeoneElseMoved(t *testing.T) {
	root := machineWithCaptureNIC(t, fakesys.IceNIC(0, 2), "[CPU]\nDPIInterface=ens1f0\n")
	noWarnings(t, placed(t, root))
	if err := os.WriteFile(root.Path("/proc/irq/60/smp_affinity_list"), []byte("6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := placed(t, root)
	noWarnings(t, r)
	if log := strings.Join(r.Infos, "\n"); !strings.Contains(log, "IRQ 60 (ice-ens1f0-TxRx-0) found on 6, not on 4 where it was placed: moved by someone else (or placed by its driver); placed again on 4, and undo gives it back 6") {
		t.Errorf("the placement does not say it moves IRQ 60 back:\n%s", log)
	}
	withdrawn(t, root)
	wantValues(t, root, "after undo ", map[string]string{"/proc/irq/60/smp_affinity_list": "6", "/proc/irq/61/smp_affinity_list": "0-7"})
}
