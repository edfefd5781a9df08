package irq

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// fakeIRQ is one IRQ of a fake /proc/irq tree.
type fakeIRQ struct {
	num       int
	name      string
	affinity  string
	effective string // "" for no effective_affinity_list
	mode      os.FileMode
}

// interruptsHeader is an 8-CPU /proc/interrupts header.
const interruptsHeader = "            CPU0       CPU1       CPU2       CPU3       CPU4       CPU5       CPU6       CPU7       \n"

// fakeTree writes a fake /proc/interrupts and /proc/irq (a fake: the
// kernel's refusals cannot be shown by regular files) and, with nic, a
// virtio-net device under /sys/devices with /sys/class/net/<nic> links.
func fakeTree(t *testing.T, irqs []fakeIRQ, nic string, rxQueues int) hostroot.Root {
	t.Helper()
	root := t.TempDir()
	mk := func(p, content string, mode os.FileMode) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString(interruptsHeader)
	b.WriteString("  0:         44          0          0          0          0          0          0          0   IO-APIC   2-edge      timer\n")
	for _, q := range irqs {
		fmt.Fprintf(&b, "%3d:       1000          0          0          0          0          0          0          0  PCI-MSIX-0000:00:03.0 %d-edge      %s\n", q.num, q.num, q.name)
		mode := q.mode
		if mode == 0 {
			mode = 0o644
		}
		mk(fmt.Sprintf("proc/irq/%d/smp_affinity_list", q.num), q.affinity+"\n", mode)
		if q.effective != "" {
			mk(fmt.Sprintf("proc/irq/%d/effective_affinity_list", q.num), q.effective+"\n", 0o444)
		}
	}
	b.WriteString("NMI:          0          0          0          0          0          0          0          0   Non-maskable interrupts\n")
	b.WriteString("LOC:       9999       9999       9999       9999       9999       9999       9999       9999   Local timer interrupts\n")
	mk("proc/interrupts", b.String(), 0o444)
	mk("proc/irq/default_smp_affinity", "ff\n", 0o644)
	if nic != "" {
		pci := "sys/devices/pci0000:00/0000:00:03.0"
		dev := pci + "/virtio0"
		mk(dev+"/net/"+nic+"/queues/.keep", "", 0o644)
		for i := 0; i < rxQueues; i++ {
			mk(fmt.Sprintf("%s/net/%s/queues/rx-%d/rps_cpus", dev, nic, i), "0\n", 0o644)
		}
		for _, q := range irqs {
			if strings.HasPrefix(q.name, "virtio0-") {
				mk(fmt.Sprintf("%s/msi_irqs/%d", pci, q.num), "msix\n", 0o444)
			}
		}
		if err := os.Symlink("../../../virtio0", filepath.Join(root, dev, "net", nic, "device")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, NetDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../../devices/pci0000:00/0000:00:03.0/virtio0/net/"+nic, filepath.Join(root, NetDir, nic)); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(root)
}

func affinity(t *testing.T, root hostroot.Root, num int) string {
	t.Helper()
	b, err := os.ReadFile(root.Path(fmt.Sprintf("/proc/irq/%d/smp_affinity_list", num)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

var (
	core = span(0, 3)
	dpi  = span(4, 5)
)

// TestDecideAndApply: an 8-CPU machine, core 0-3, DPI 4-5, a 2-queue
// virtio-net capture NIC, a disk IRQ on every CPU, one on a reserved CPU,
// one already on the core CPUs, one with an unwritable affinity file.
func TestDecideAndApply(t *testing.T) {
	irqs := []fakeIRQ{
		{num: 24, name: "virtio0-config", affinity: "0-7"},
		{num: 25, name: "virtio0-input.0", affinity: "0-7"},
		{num: 26, name: "virtio0-output.0", affinity: "0-7"},
		{num: 27, name: "virtio0-input.1", affinity: "0-7"},
		{num: 28, name: "virtio0-output.1", affinity: "0-7"},
		{num: 30, name: "ahci[0000:00:1f.2]", affinity: "2-5"},
		{num: 31, name: "xhci_hcd", affinity: "6"},
		{num: 32, name: "i801_smbus", affinity: "1"},
		{num: 33, name: "nvme0q1", affinity: "0-7", mode: 0o444},
		{num: 34, name: "nvme0q2", affinity: "6-7", effective: "7"},
	}
	root := fakeTree(t, irqs, "eth1", 2)
	st, err := Read(root, "eth1")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.IRQs) != len(irqs)+1 { // + timer; NMI and LOC are per-CPU rows
		t.Fatalf("read %d IRQs: %+v", len(st.IRQs), st.IRQs)
	}
	if st.NIC.Device != "virtio0" || st.NIC.RxQueues != 2 || len(st.NIC.IRQs) != 5 {
		t.Fatalf("NIC: %+v", st.NIC)
	}
	d := Decide(st, core, dpi)
	want := map[int]string{24: "0-3", 25: "4", 26: "4", 27: "5", 28: "5", 30: "2-3", 31: "0-3", 34: "0-3"}
	got := map[int]string{}
	for _, m := range d.Moves {
		got[m.IRQ] = m.To
		if m.Queue != (m.IRQ >= 25 && m.IRQ <= 28) {
			t.Errorf("IRQ %d: queue=%t", m.IRQ, m.Queue)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moves %v, want %v", got, want)
	}
	// The timer has no affinity file in the fake; 33's is not writable.
	if len(d.Left) != 2 || d.Left[0].IRQ != 0 || d.Left[1].IRQ != 33 || !strings.Contains(d.Left[1].Reason, "read-only") {
		t.Errorf("left: %+v", d.Left)
	}
	if d.Kept != 1 { // i801_smbus, already on CPU 1
		t.Errorf("kept %d", d.Kept)
	}
	if !d.DefaultChange || !strings.Contains(d.NICNote, "2 receive queues for 2 DPI CPUs") {
		t.Errorf("default change %t, NIC note %q", d.DefaultChange, d.NICNote)
	}
	r := Apply(root, d)
	if r.DefaultErr != nil || len(r.Moved) != len(want) {
		t.Fatalf("apply: %+v", r)
	}
	for num, to := range want {
		if a := affinity(t, root, num); a != to {
			t.Errorf("IRQ %d: affinity %q after apply, want %q", num, a, to)
		}
	}
	if a := affinity(t, root, 33); a != "0-7" {
		t.Errorf("unwritable IRQ 33 changed to %q", a)
	}
	if b, _ := os.ReadFile(root.Path(DefaultAffinityPath)); string(b) != "f\n" {
		t.Errorf("default_smp_affinity %q", b)
	}
	// A second run changes nothing.
	st2, _ := Read(root, "eth1")
	if d2 := Decide(st2, core, dpi); len(d2.Moves) != 0 || d2.DefaultChange {
		t.Errorf("second run: %+v", d2)
	}
}

// TestAffinityUnknownLeft: the fake's timer row has no affinity file:
// left, with the reason, never guessed.
func TestAffinityUnknownLeft(t *testing.T) {
	root := fakeTree(t, nil, "", 0)
	st, err := Read(root, "")
	if err != nil {
		t.Fatal(err)
	}
	d := Decide(st, core, dpi)
	if len(d.Moves) != 0 || len(d.Left) != 1 || d.Left[0].IRQ != 0 || !strings.Contains(d.Left[0].Reason, "affinity unknown") {
		t.Errorf("decision: %+v", d)
	}
}

// TestNoDPINICTreatedAsAny: without a reservation of DPI CPUs the NIC's
// queues go to the core set like any IRQ.
func TestNoDPINICTreatedAsAny(t *testing.T) {
	root := fakeTree(t, []fakeIRQ{{num: 25, name: "virtio0-input.0", affinity: "0-7"}}, "eth1", 4)
	st, _ := Read(root, "eth1")
	d := Decide(st, core, cpuset.Set{})
	if len(d.Moves) != 1 || d.Moves[0].To != "0-3" || d.Moves[0].Queue {
		t.Errorf("moves: %+v", d.Moves)
	}
}

func TestNICNotes(t *testing.T) {
	root := fakeTree(t, []fakeIRQ{{num: 25, name: "virtio0-input.0", affinity: "0-7"}}, "eth1", 4)
	st, _ := Read(root, "eth1")
	if n := Decide(st, core, dpi).NICNote; !strings.Contains(n, "4 receive queues for 2 DPI CPUs") || !strings.Contains(n, "ethtool -L eth1 combined 2") {
		t.Errorf("note %q", n)
	}
	st, _ = Read(root, "eth9")
	if n := Decide(st, core, dpi).NICNote; !strings.Contains(n, `"eth9" not found`) {
		t.Errorf("note %q", n)
	}
}

func TestRefusal(t *testing.T) {
	if r := Refusal(fmt.Errorf("write: %w", unix.EIO), core); !strings.Contains(r, "managed or per-CPU") {
		t.Errorf("EIO: %q", r)
	}
	if r := Refusal(fmt.Errorf("write: %w", unix.EINVAL), core); !strings.Contains(r, "EINVAL") {
		t.Errorf("EINVAL: %q", r)
	}
}

// TestApplyRefusedWrite: an affinity path that cannot be written (a
// directory where the file should be) is left and reported, the rest
// moves.
func TestApplyRefusedWrite(t *testing.T) {
	root := fakeTree(t, []fakeIRQ{{num: 40, name: "a", affinity: "0-7"}, {num: 41, name: "b", affinity: "0-7"}}, "", 0)
	st, _ := Read(root, "")
	d := Decide(st, core, dpi)
	p := root.Path("/proc/irq/40/smp_affinity_list")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	r := Apply(root, d)
	if len(r.Moved) != 1 || r.Moved[0].IRQ != 41 {
		t.Errorf("moved: %+v", r.Moved)
	}
	found := false
	for _, l := range r.Left {
		found = found || l.IRQ == 40
	}
	if !found {
		t.Errorf("IRQ 40 not reported: %+v", r.Left)
	}
}

func TestParseInterrupts(t *testing.T) {
	if _, err := ParseInterrupts("garbage\n"); err == nil {
		t.Error("no header accepted")
	}
	irqs, err := ParseInterrupts(interruptsHeader + " 56:  1 2 3 4 5 6 7 8  IR-PCI-MSI-0000:03:00.0 0-edge  ens1f0-TxRx-0\n 57: 0 0 0 0 0 0 0 0\n")
	if err != nil || len(irqs) != 2 || irqs[0].Name != "ens1f0-TxRx-0" || irqs[1].Name != "" {
		t.Errorf("parse: %+v, %v", irqs, err)
	}
	for name, q := range map[string]bool{"ens1f0-TxRx-0": true, "virtio0-input.3": true, "mlx5_comp2@pci:0000:03:00.0": true,
		"virtio0-config": false, "ens1f0": false, "mlx5_async0@pci:0000:03:00.0": false} {
		if IsQueue(name) != q {
			t.Errorf("IsQueue(%q) = %t", name, !q)
		}
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

// TestNICMSIDir: the directory whose msi_irqs lists a virtio NIC's vectors
// is its PCI function's, as a host path without the root prefix (what
// irqbalance's policy script reads under its private /sys).
func TestNICMSIDir(t *testing.T) {
	root := fakeTree(t, []fakeIRQ{{num: 25, name: "virtio0-input.0", affinity: "0-7"}}, "eth1", 1)
	st, err := Read(root, "eth1")
	if err != nil {
		t.Fatal(err)
	}
	if st.NIC.MSIDir != "/sys/devices/pci0000:00/0000:00:03.0" || !st.NIC.IRQs[25] {
		t.Errorf("NIC: %+v", st.NIC)
	}
}
