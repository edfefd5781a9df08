package placement

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/internal/workqueue"
)

// fakeMachine writes a fake 8-CPU /proc and /sys (regular files stand
// for the kernel's) with three IRQs on every CPU.
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
		"/proc/cmdline":                        "root=/dev/vda1\n",
		"/sys/devices/system/cpu/possible":     "0-7\n",
		"/sys/devices/system/cpu/isolated":     "\n",
		workqueue.CPUMaskPath:                  "ff\n",
		workqueue.WritebackPath:                "ff\n",
		"/sys/fs/cgroup/system.slice/ransomeye-core.service/cpuset.cpus.effective":                       "0-3\n",
		"/sys/fs/cgroup/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service/cpuset.cpus.effective": "4-6\n",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(root)
}

func info(n int) topology.Info {
	t := topology.Info{NICNode: -1, Cgroup: topology.Cgroup{V2: true, Cpuset: true}}
	for i := 0; i < n; i++ {
		t.Cores = append(t.Cores, topology.Core{ID: i, CPUs: cpuset.Of(i)})
	}
	t.Online = span(0, n-1)
	t.RootCpuset = t.Online
	t.Nodes = []topology.Node{{ID: 0, CPUs: t.Online}}
	return t
}

func render(root hostroot.Root, n int) (generate.Input, generate.Output) {
	in := generate.Input{Root: root, Enabled: true, Config: config.Default(), Topology: info(n)}
	return in, generate.Render(in)
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
func noWarnings(t *testing.T, r Report) {
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
	in, out := render(root, 8)
	r := Place(root, in, out)
	noWarnings(t, r)
	wantValues(t, root, "", map[string]string{"/proc/irq/default_smp_affinity": "f", "/proc/irq/30/smp_affinity_list": "0-3",
		"/proc/irq/31/smp_affinity_list": "0-3", "/proc/irq/32/smp_affinity_list": "0-3", workqueue.CPUMaskPath: "f", workqueue.WritebackPath: "f"})
	doc, err := ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Reserved || doc.Applied == nil || len(doc.Applied.IRQsMoved) != 3 || doc.Applied.DefaultIRQAffinity != "0-3" ||
		doc.Services[1].Environment["RANSOMEYE_CPUS"] != "4-5" {
		t.Fatalf("plan file: %+v", doc)
	}
	if fi, err := os.Stat(root.Path(Path)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("plan file mode: %v %v", fi, err)
	}

	// The administrator moves IRQ 31 by hand; then the plan loses its
	// reservation (a CPU offline: 7 cores).
	if err := os.WriteFile(root.Path("/proc/irq/31/smp_affinity_list"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, out = render(root, 7)
	r = Place(root, in, out)
	noWarnings(t, r)
	wantValues(t, root, "after undo ", map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "1", "/proc/irq/32/smp_affinity_list": "6", workqueue.CPUMaskPath: "ff", workqueue.WritebackPath: "ff"})
	doc, err = ReadFile(root)
	if err != nil || doc.Reserved || doc.Applied != nil || doc.Services[0].CPUs != "0-6" {
		t.Errorf("plan file after undo: %+v, %v", doc, err)
	}
	// Undo again: nothing recorded, nothing written.
	_ = os.WriteFile(root.Path(workqueue.CPUMaskPath), []byte("3\n"), 0o644)
	Place(root, in, out)
	if got := read(t, root, workqueue.CPUMaskPath); got != "3" {
		t.Errorf("a mask not ours was reset: %q", got)
	}
}

// TestBootDefaults: irqaffinity= and isolated CPUs shape the defaults undo
// restores.
func TestBootDefaults(t *testing.T) {
	root := fakeMachine(t)
	_ = os.WriteFile(root.Path("/proc/cmdline"), []byte("root=/dev/vda1 irqaffinity=0-1\n"), 0o644)
	_ = os.WriteFile(root.Path("/sys/devices/system/cpu/isolated"), []byte("6-7\n"), 0o644)
	irqDef, wq, err := BootDefaults(root)
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
	in, out := render(root, 8)
	e := Observe(root, in, out)
	if e.Reserved != "4-7" || len(e.IRQsOnReserved) != 3 || e.IRQsOnReserved[2].IRQ != 32 || e.IRQsOnReserved[2].Source != "effective_affinity_list" {
		t.Errorf("irqs: %+v", e)
	}
	if e.Workqueue[workqueue.CPUMaskPath] != "0-7" {
		t.Errorf("workqueue: %v", e.Workqueue)
	}
	got := fmt.Sprint(e.Services)
	if len(e.Services) != 3 || e.Services[0].Escapes != "" || e.Services[0].Effective != "0-3" || e.Services[1].Escapes != "6" || e.Services[2].Err == "" {
		t.Errorf("services: %s", got)
	}
	Place(root, in, out)
	// 32's effective file is the fake's and does not follow the write, as
	// a legacy interrupt's does not until it fires: a pending move, not an
	// escape.
	if e := Observe(root, in, out); len(e.IRQsOnReserved) != 0 || len(e.IRQsMovePending) != 1 || e.IRQsMovePending[0].IRQ != 32 ||
		e.IRQsMovePending[0].Requested != "0-3" {
		t.Errorf("after placement: escapes %+v, pending %+v", e.IRQsOnReserved, e.IRQsMovePending)
	}
}

// TestSlicePath: a dash is a level ("\x2d" is an escaped dash, not one);
// the root slice is the cgroup root; and a component systemd's cg_escape()
// prefixes with "_" (one that starts with "_" or ".", or is named like a
// controller's file, "cpu.slice") is found under that name, not missed
// and taken for "no restriction".
func TestSlicePath(t *testing.T) {
	for in, want := range map[string]string{"system.slice": "system.slice", "ransomeye-dpi.slice": "ransomeye.slice/ransomeye-dpi.slice",
		"a-b-c.slice": "a.slice/a-b.slice/a-b-c.slice", `a\x2db.slice`: `a\x2db.slice`, `x-a\x2db.slice`: `x.slice/x-a\x2db.slice`,
		"-.slice": "", "cpu.slice": "_cpu.slice", "io-db.slice": "_io.slice/io-db.slice", "memory.slice": "_memory.slice",
		"_x.slice": "__x.slice", "cpux.slice": "cpux.slice", "cgroup.slice": "_cgroup.slice"} {
		if got := SlicePath(in); got != want {
			t.Errorf("SlicePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRestartKeepsRecord: a second activation in the same boot moves
// nothing (all is in place), yet undo afterwards still restores every
// interrupt and mask the first one set.
func TestRestartKeepsRecord(t *testing.T) {
	root := fakeMachine(t)
	in, out := render(root, 8)
	Place(root, in, out)
	r := Place(root, in, out)
	noWarnings(t, r)
	doc, err := ReadFile(root)
	if err != nil || len(doc.Applied.IRQsMoved) != 3 || doc.Applied.IRQsMoved[0].From != "0-7" || len(doc.Applied.Workqueue) != 2 || doc.Applied.DefaultIRQAffinity != "0-3" {
		t.Fatalf("record after a restart: %+v, %v", doc.Applied, err)
	}
	in, out = render(root, 7)
	Place(root, in, out)
	wantValues(t, root, "after undo ", map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/32/smp_affinity_list": "6", workqueue.CPUMaskPath: "ff", workqueue.WritebackPath: "ff"})
}

// TestAlreadyInPlaceNotOurs: masks that already held the core set before
// any activation (set by someone else) are not recorded, so undo leaves
// them.
func TestAlreadyInPlaceNotOurs(t *testing.T) {
	root := fakeMachine(t)
	_ = os.WriteFile(root.Path(workqueue.CPUMaskPath), []byte("f\n"), 0o644)
	in, out := render(root, 8)
	Place(root, in, out)
	doc, _ := ReadFile(root)
	if _, ok := doc.Applied.Workqueue[workqueue.CPUMaskPath]; ok {
		t.Errorf("a mask already in place recorded as ours: %v", doc.Applied.Workqueue)
	}
	in, out = render(root, 7)
	Place(root, in, out)
	if got := read(t, root, workqueue.CPUMaskPath); got != "f" {
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
	in, out := render(root, 8)
	noWarnings(t, Place(root, in, out))
	r := Withdraw(root, in, out)
	noWarnings(t, r)
	wantValues(t, root, "after withdraw ", map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "0-7", "/proc/irq/32/smp_affinity_list": "6", workqueue.CPUMaskPath: "ff", workqueue.WritebackPath: "ff"})
	doc, err := ReadFile(root)
	if err != nil || doc.Applied != nil || !doc.Reserved {
		t.Errorf("plan file after withdraw: %+v, %v", doc, err)
	}
	// The record is gone: a value equal to the one once placed is not
	// touched again.
	_ = os.WriteFile(root.Path(workqueue.CPUMaskPath), []byte("f\n"), 0o644)
	Withdraw(root, in, out)
	if got := read(t, root, workqueue.CPUMaskPath); got != "f" {
		t.Errorf("second withdraw reset a mask: %q", got)
	}

	fresh := fakeMachine(t)
	Withdraw(fresh, in, out)
	if _, err := os.Stat(fresh.Path(Path)); !os.IsNotExist(err) {
		t.Errorf("withdraw without a plan file wrote one: %v", err)
	}
}

// TestPlaceAfterWithdrawForRemoval: the package's removal withdraws the
// placement; a DPI engine restarted after it ran `place` from its
// ExecStartPost= and put the interrupts back on the core's CPUs, with a
// record no installed binary would undo. After WithdrawForRemoval a
// placement places nothing and says why; `place --undo` does not hold it;
// the next activation (Activate's place) lifts the hold and places again.
func TestPlaceAfterWithdrawForRemoval(t *testing.T) {
	root := fakeMachine(t)
	in, out := render(root, 8)
	boot := map[string]string{"/proc/irq/default_smp_affinity": "ff", "/proc/irq/30/smp_affinity_list": "0-7",
		"/proc/irq/31/smp_affinity_list": "0-7", "/proc/irq/32/smp_affinity_list": "6", workqueue.CPUMaskPath: "ff", workqueue.WritebackPath: "ff"}
	placed := map[string]string{"/proc/irq/default_smp_affinity": "f", "/proc/irq/30/smp_affinity_list": "0-3", workqueue.CPUMaskPath: "f"}
	noWarnings(t, Place(root, in, out))
	noWarnings(t, Withdraw(root, in, out)) // place --undo: no hold
	noWarnings(t, Place(root, in, out))
	wantValues(t, root, "after place --undo and place ", placed)

	noWarnings(t, WithdrawForRemoval(root, in, out))
	wantValues(t, root, "after withdraw ", boot)
	r := Place(root, in, out)
	noWarnings(t, r)
	wantValues(t, root, "after a place following the removal's withdraw ", boot)
	if !strings.Contains(strings.Join(r.Infos, "\n"), "nothing placed: the placement was withdrawn for the package's removal") {
		t.Errorf("place does not say why it placed nothing: %q", r.Infos)
	}
	noWarnings(t, place(root, in, out, true))
	wantValues(t, root, "after the next activation ", placed)
	if _, err := os.Lstat(root.Path(Dir + "/" + HoldName)); !os.IsNotExist(err) {
		t.Errorf("the hold is still there after an activation: %v", err)
	}

	// Withdrawn before any placement (no plan file): held all the same.
	fresh := fakeMachine(t)
	noWarnings(t, WithdrawForRemoval(fresh, in, out))
	noWarnings(t, Place(fresh, in, out))
	wantValues(t, fresh, "a place after the removal's withdraw ", boot)
}

// TestCaptureDeviceRecord: with a capture interface the placement records
// its device directory for irqbalance's policy script; without a
// reservation, and on withdrawal, the record goes.
func TestCaptureDeviceRecord(t *testing.T) {
	root := fakeMachine(t)
	in, out := captureNIC(t, root, 25)
	noWarnings(t, Place(root, in, out))
	rec := Dir + "/" + CaptureDeviceFile
	if got := read(t, root, rec); got != "/sys/devices/pci0000:00/0000:00:03.0" {
		t.Errorf("%s = %q", rec, got)
	}
	Withdraw(root, in, out)
	if _, err := os.Stat(root.Path(rec)); !os.IsNotExist(err) {
		t.Errorf("%s after withdraw: %v", rec, err)
	}
	Place(root, in, out)
	in7, _ := render(root, 7)
	in7.Config.DPIInterface = "eth1"
	Place(root, in7, generate.Render(in7))
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
	in, out := render(root, 8)
	e := Observe(root, in, out)
	irqs := func(l []IRQEffect) string {
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
	if e := Observe(root, in, out); irqs(e.IRQsOnReserved) != "30:ahci:7:0-7 39:nvme0q6:5:5" {
		t.Errorf("writable nvme0q6 without a record: escapes %q", irqs(e.IRQsOnReserved))
	}
	for name, want := range map[string]string{"nvme0q6": "39:nvme0q6:5:5", "eth9-rx-0": ""} {
		rec := FileDoc{PlanDoc: generate.PlanDoc{Version: generate.PlanVersion}, Applied: &Applied{
			IRQsLeft: []irq.Left{{IRQ: 39, Name: name, Reason: "the kernel refuses to move it (EIO)", Unmovable: true}}}}
		b, _ := json.Marshal(rec)
		if err := os.MkdirAll(filepath.Dir(root.Path(Path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root.Path(Path), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if e := Observe(root, in, out); irqs(e.IRQsUnmovable) != want {
			t.Errorf("record of a refused %s: unmovable %q, want %q", name, irqs(e.IRQsUnmovable), want)
		}
	}
	// Without an effective affinity file nothing shows a move pending:
	// the requested affinity is where the interrupt arrives.
	_ = os.Remove(root.Path("/proc/irq/25/effective_affinity_list"))
	if e := Observe(root, in, out); irqs(e.IRQsMovePending) != "8:rtc0:4:0-3" {
		t.Errorf("without nvme0q0's effective affinity: pending %q", irqs(e.IRQsMovePending))
	}
}

// captureNIC adds a virtio-net capture interface eth1 with one receive
// queue and the vectors msi to the fake root (its PCI function's msi_irqs)
// and returns the 8-CPU plan with DPIInterface=eth1.
func captureNIC(t *testing.T, root hostroot.Root, msi ...int) (generate.Input, generate.Output) {
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
	in, _ := render(root, 8)
	in.Config.DPIInterface = "eth1"
	return in, generate.Render(in)
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
	in, out := captureNIC(t, root, 40)
	noWarnings(t, Place(root, in, out))
	request(t, root, 38, "ahci_late", "0-3")
	request(t, root, 39, "eth9-TxRx-0", "2")
	request(t, root, 40, "virtio0-input.0", "0-3")
	r := Place(root, in, out) // what ransomeye-tuner place runs after ethtool -L
	noWarnings(t, r)
	wantValues(t, root, "after the second placement ", map[string]string{irq.DefaultAffinityPath: "f",
		"/proc/irq/38/smp_affinity_list": "0-3", "/proc/irq/40/smp_affinity_list": "4"})
	r = Withdraw(root, in, out)
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
	in, out := render(root, 8)
	noWarnings(t, Place(root, in, out))
	fi, err := os.Lstat(root.Path(Dir + "/" + lockName))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v; want a regular file, mode 0600", fi, err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(root.Path(Dir + "/" + lockName))
	if err := os.Symlink(target, root.Path(Dir+"/"+lockName)); err != nil {
		t.Fatal(err)
	}
	r := Place(root, in, out)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "placement lock") {
		t.Errorf("warnings with a link at the lock's name: %q", r.Warnings)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep\n" {
		t.Errorf("the link's target: %q, %v", b, err)
	}
}
