package irq

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	r := Apply(root, d, &st)
	if r.DefaultErr != nil || len(r.Moved) != len(want) {
		t.Fatalf("apply: %+v", r)
	}
	for num, to := range want {
		if a := affinity(t, root, num); a != to {
			t.Errorf("IRQ %d: affinity %q after apply, want %q", num, a, to)
		}
	}
	// What was written is folded into the state it was decided on.
	for _, q := range st.IRQs {
		if to, moved := want[q.Num]; moved && q.Affinity.String() != to {
			t.Errorf("IRQ %d: state after apply says %s, want %s", q.Num, q.Affinity, to)
		}
	}
	if !st.Default.Equal(core) {
		t.Errorf("default affinity in the state after apply: %s, want %s", st.Default, core)
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
	// The remedy (a channel count) is the plan's to add: it knows [CPU]
	// DPIChannels= and the NIC's channel kinds.
	if d := Decide(st, core, dpi); !strings.Contains(d.NICNote, "4 receive queues for 2 DPI CPUs") || !d.NICUneven || strings.Contains(d.NICNote, "ethtool") {
		t.Errorf("note %q, uneven %t", d.NICNote, d.NICUneven)
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
	r := Apply(root, d, &st)
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

// fakePCINIC writes a fake /proc/interrupts and /proc/irq with one IRQ per
// name (numbered from 60, every one on 0-7) and a PCI NIC nic at
// 0000:3b:00.1 listing them all in its msi_irqs, with rxQueues receive
// queues (a fake of sysfs: regular files and links).
func fakePCINIC(t *testing.T, nic string, rxQueues int, names ...string) hostroot.Root {
	t.Helper()
	var irqs []fakeIRQ
	for i, n := range names {
		irqs = append(irqs, fakeIRQ{num: 60 + i, name: n, affinity: "0-7"})
	}
	root := fakeTree(t, irqs, "", 0)
	dev := "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1"
	dirs := []string{dev + "/net/" + nic + "/queues", NetDir}
	for i := range names {
		dirs = append(dirs, fmt.Sprintf("%s/msi_irqs/%d", dev, 60+i))
	}
	for i := 0; i < rxQueues; i++ {
		dirs = append(dirs, fmt.Sprintf("%s/net/%s/queues/rx-%d", dev, nic, i))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(root.Path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../../../0000:3b:00.1", root.Path(dev+"/net/"+nic+"/device")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../.."+strings.TrimPrefix(dev, "/sys")+"/net/"+nic, root.Path(NetDir+"/"+nic)); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestQueueSteeringPerDriver: the capture NIC's queue interrupts as each
// driver names them (virtio-net on fakeTree's device, the others on a PCI
// function), two receive queues, DPI CPUs 4-5: queue 0's
// interrupts go to CPU 4 and queue 1's to CPU 5, the device's other
// interrupts to the core CPUs, and the log says one queue per DPI worker
// only when that is so. mlx5 ends its names with the PCI address
// ("@pci:0000:3b:00.1"), whose last digit is not the queue: read as the
// queue, it put both queues on CPU 5 while the log claimed one queue per
// worker.
func TestQueueSteeringPerDriver(t *testing.T) {
	for _, c := range []struct {
		driver, nic string
		rx          int
		names       []string
		want        map[string]string // IRQ name -> CPUs it is moved to
		note        string
	}{
		{"mlx5", "ens1f1np1", 2, []string{"mlx5_async0@pci:0000:3b:00.1", "mlx5_comp0@pci:0000:3b:00.1", "mlx5_comp1@pci:0000:3b:00.1"},
			map[string]string{"mlx5_async0@pci:0000:3b:00.1": "0-3", "mlx5_comp0@pci:0000:3b:00.1": "4", "mlx5_comp1@pci:0000:3b:00.1": "5"}, "one queue per DPI worker"},
		// mlx5 requests a completion vector per CPU whatever ethtool -L
		// says; those above the channels in use carry nothing.
		{"mlx5, more vectors than channels", "ens1f1np1", 2, []string{"mlx5_comp0@pci:0000:3b:00.1", "mlx5_comp1@pci:0000:3b:00.1", "mlx5_comp2@pci:0000:3b:00.1", "mlx5_comp3@pci:0000:3b:00.1"},
			map[string]string{"mlx5_comp0@pci:0000:3b:00.1": "4", "mlx5_comp1@pci:0000:3b:00.1": "5", "mlx5_comp2@pci:0000:3b:00.1": "4", "mlx5_comp3@pci:0000:3b:00.1": "5"}, "one queue per DPI worker"},
		{"ice", "ens1f1", 2, []string{"ice-0000:3b:00.1:misc", "ice-ens1f1-TxRx-0", "ice-ens1f1-TxRx-1"},
			map[string]string{"ice-0000:3b:00.1:misc": "0-3", "ice-ens1f1-TxRx-0": "4", "ice-ens1f1-TxRx-1": "5"}, "one queue per DPI worker"},
		{"i40e", "eth0", 2, []string{"i40e-0000:3b:00.1:misc", "i40e-eth0-TxRx-0", "i40e-eth0-TxRx-1"},
			map[string]string{"i40e-0000:3b:00.1:misc": "0-3", "i40e-eth0-TxRx-0": "4", "i40e-eth0-TxRx-1": "5"}, "one queue per DPI worker"},
		{"ixgbe", "eth0", 2, []string{"eth0-TxRx-0", "eth0-TxRx-1", "eth0"},
			map[string]string{"eth0-TxRx-0": "4", "eth0-TxRx-1": "5", "eth0": "0-3"}, "one queue per DPI worker"},
		// bnxt_en numbers its rings on: with separate rings, "tx-2" is the
		// first transmit ring.
		{"bnxt_en, shared rings", "eth0", 2, []string{"eth0-TxRx-0", "eth0-TxRx-1"},
			map[string]string{"eth0-TxRx-0": "4", "eth0-TxRx-1": "5"}, "one queue per DPI worker"},
		{"bnxt_en, separate rings", "eth0", 2, []string{"eth0-rx-0", "eth0-rx-1", "eth0-tx-2", "eth0-tx-3"},
			map[string]string{"eth0-rx-0": "4", "eth0-rx-1": "5", "eth0-tx-2": "4", "eth0-tx-3": "5"}, "one queue per DPI worker"},
		{"ixgbe, three queues", "eth0", 3, []string{"eth0-TxRx-0", "eth0-TxRx-1", "eth0-TxRx-2"},
			map[string]string{"eth0-TxRx-0": "4", "eth0-TxRx-1": "5", "eth0-TxRx-2": "4"}, "queues share CPUs (CPU 4 takes queues 0, 2)"},
		{"ice, one queue", "ens1f1", 1, []string{"ice-ens1f1-TxRx-0"},
			map[string]string{"ice-ens1f1-TxRx-0": "4"}, "some DPI CPUs get no receive queue interrupt (CPU 5)"},
		// ENA and nfp (and vmxnet3) name combined queues "Tx-Rx" and
		// "rxtx": taken for transmit-only, they made the note say some DPI
		// CPUs got no receive queue and advise ethtool -L on a NIC that
		// had the queues.
		{"ena", "eth0", 2, []string{"ena-mgmnt@pci:0000:00:05.0", "eth0-Tx-Rx-0", "eth0-Tx-Rx-1"},
			map[string]string{"ena-mgmnt@pci:0000:00:05.0": "0-3", "eth0-Tx-Rx-0": "4", "eth0-Tx-Rx-1": "5"}, "one queue per DPI worker"},
		{"nfp", "eth0", 2, []string{"eth0-lsc", "eth0-exn", "eth0-rxtx-0", "eth0-rxtx-1"},
			map[string]string{"eth0-lsc": "0-3", "eth0-exn": "0-3", "eth0-rxtx-0": "4", "eth0-rxtx-1": "5"}, "one queue per DPI worker"},
		// mlx4 names event queue N "mlx4-N@<pci>"; 0 is the async one,
		// named apart, so N is completion vector N-1. Not taken for a
		// queue at all, they were moved to the core CPUs.
		{"mlx4", "ens2", 2, []string{"mlx4-async@pci:0000:04:00.0", "mlx4-1@0000:04:00.0", "mlx4-2@0000:04:00.0"},
			map[string]string{"mlx4-async@pci:0000:04:00.0": "0-3", "mlx4-1@0000:04:00.0": "4", "mlx4-2@0000:04:00.0": "5"}, "one queue per DPI worker"},
		// sfc names a combined channel "<if>-<n>" (and its PTP channel
		// "<if>-ptp"); be2net an event queue "<if>-q<n>"; MANA
		// "mana_q<n>@pci:<addr>" beside its hardware channel
		// "mana_hwc@pci:<addr>"; gve "gve-ntfy-blk<n>@pci:<addr>", the
		// first half of its blocks transmit queues, the second half
		// receive queues. None has a part IsQueue knows: all were kept on
		// the core CPUs, and the note said no queue interrupts were found.
		{"sfc", "ens1f0np0", 2, []string{"ens1f0np0-0", "ens1f0np0-1", "ens1f0np0-ptp"},
			map[string]string{"ens1f0np0-0": "4", "ens1f0np0-1": "5", "ens1f0np0-ptp": "0-3"}, "one queue per DPI worker"},
		{"be2net", "eno1", 2, []string{"eno1-q0", "eno1-q1"},
			map[string]string{"eno1-q0": "4", "eno1-q1": "5"}, "one queue per DPI worker"},
		{"mana", "enP30832s1", 2, []string{"mana_hwc@pci:7870:00:00.0", "mana_q0@pci:7870:00:00.0", "mana_q1@pci:7870:00:00.0"},
			map[string]string{"mana_hwc@pci:7870:00:00.0": "0-3", "mana_q0@pci:7870:00:00.0": "4", "mana_q1@pci:7870:00:00.0": "5"}, "one queue per DPI worker"},
		{"gve", "ens4", 2, []string{"gve-mgmnt@pci:0000:00:04.0", "gve-ntfy-blk0@pci:0000:00:04.0", "gve-ntfy-blk1@pci:0000:00:04.0",
			"gve-ntfy-blk2@pci:0000:00:04.0", "gve-ntfy-blk3@pci:0000:00:04.0"},
			map[string]string{"gve-mgmnt@pci:0000:00:04.0": "0-3", "gve-ntfy-blk0@pci:0000:00:04.0": "4", "gve-ntfy-blk1@pci:0000:00:04.0": "5",
				"gve-ntfy-blk2@pci:0000:00:04.0": "4", "gve-ntfy-blk3@pci:0000:00:04.0": "5"}, "one queue per DPI worker"},
		{"virtio-net", "eth1", 2, []string{"virtio0-config", "virtio0-input.0", "virtio0-output.0", "virtio0-input.1", "virtio0-output.1"},
			map[string]string{"virtio0-config": "0-3", "virtio0-input.0": "4", "virtio0-output.0": "4", "virtio0-input.1": "5", "virtio0-output.1": "5"}, "one queue per DPI worker"},
	} {
		t.Run(c.driver, func(t *testing.T) {
			var root hostroot.Root
			if strings.HasPrefix(c.driver, "virtio") {
				var irqs []fakeIRQ
				for i, n := range c.names {
					irqs = append(irqs, fakeIRQ{num: 24 + i, name: n, affinity: "0-7"})
				}
				root = fakeTree(t, irqs, c.nic, c.rx)
			} else {
				root = fakePCINIC(t, c.nic, c.rx, c.names...)
			}
			st, err := Read(root, c.nic)
			if err != nil {
				t.Fatal(err)
			}
			d := Decide(st, core, dpi)
			got := map[string]string{}
			for _, m := range d.Moves {
				got[m.Name] = m.To
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("moves %v, want %v", got, c.want)
			}
			if !strings.Contains(d.NICNote, c.note) {
				t.Errorf("note %q, want it to say %q", d.NICNote, c.note)
			}
			if c.note != "one queue per DPI worker" && strings.Contains(d.NICNote, "one queue per DPI worker") {
				t.Errorf("note %q claims one queue per worker", d.NICNote)
			}
		})
	}
}

// TestCombinedQueueNoteOnePerWorker: AWS ENA names its combined queue
// interrupts "<if>-Tx-Rx-<n>" (ena_netdev.c, "%s-Tx-Rx-%d"), nfp
// "<if>-rxtx-<n>". Any name holding "tx-" but not "txrx-" was taken for a
// transmit-only queue, so with two queues on two DPI CPUs (steered one
// each) the note said "some DPI CPUs get no receive queue interrupt" and
// told the operator to run ethtool -L, while it is one queue per DPI
// worker.
func TestCombinedQueueNoteOnePerWorker(t *testing.T) {
	for _, names := range [][]string{{"eth0-Tx-Rx-0", "eth0-Tx-Rx-1"}, {"eth0-rxtx-0", "eth0-rxtx-1"}} {
		root := fakePCINIC(t, "eth0", 2, names...)
		st, err := Read(root, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		d := Decide(st, core, dpi)
		if !strings.HasSuffix(d.NICNote, "one queue per DPI worker") || strings.Contains(d.NICNote, "ethtool") {
			t.Errorf("%v: note %q", names, d.NICNote)
		}
	}
}

// TestQueuePartMatchesItsExpression: the hand-written scans find the same
// queue parts and numbers, and the same mlx4 completion vectors, as the
// regular expressions they spell out, on the drivers' names and on names
// built to trip them (parts overlapping, repeated, in another case,
// without digits, digits too long for an int, mlx4 not at the start).
func TestQueuePartMatchesItsExpression(t *testing.T) {
	re := regexp.MustCompile(`(?i)(txrx-|tx-rx-|rxtx-|rx-tx-|rx-|tx-|-fp-|input\.|output\.|comp|queue-?|^mlx4-)(\d+)`)
	mlx4 := regexp.MustCompile(`^mlx4-(\d+)@`)
	want := func(name string) (string, int, bool) {
		m := re.FindAllStringSubmatch(name, -1)
		if m == nil {
			return "", -1, false
		}
		last := m[len(m)-1]
		v, err := strconv.Atoi(last[2])
		if err != nil {
			return "", -1, false
		}
		part := strings.ToLower(last[1])
		if part == "mlx4-" {
			v--
		}
		return part, v, v >= 0
	}
	names := []string{
		"virtio0-input.3", "virtio0-output.12", "eth0-TxRx-3", "eth0-rx-3", "eth0-tx-3", "i40e-eth0-TxRx-3",
		"eth0-Tx-Rx-3", "eth0-rxtx-3", "eth0-RX-TX-4", "eth0-fp-3", "mlx5_comp3@pci:0000:3b:00.0",
		"mlx5_async0@pci:0000:3b:00.1", "mlx4-4@0000:04:00.0", "mlx4-0@0000:04:00.0", "MLX4-2@x", "mlx4-async@pci:0000:04:00.0",
		"xmlx4-3@0", "mlx4-", "mlx4-7", "mlx4-7x@", "rx-0-TxRx-7", "rx-0", "nvme0q12", "queue5", "queue-6", "QUEUE-7",
		"queue--8", "queue-x9", "txrx-", "TXRX-1rx-2", "trx-4", "comp", "Comp12x", "eth1", "eth", "", "-", "input.",
		"input.x5", "tx-99999999999999999999999", "rx-1tx-2rx-3", "ens1f0-TxRx-0@pci", "-fp-1-fp-2", "rxrx-5",
		"ttxrx-6", "comp1comp2", "tx-rx-rx-1", "rx-tx-", "\u212a-rx-3", "\u017frx-4",
	}
	for _, n := range names {
		gp, gv, gok := queuePart(n)
		wp, wv, wok := want(n)
		if gp != wp || gv != wv || gok != wok {
			t.Errorf("queuePart(%q) = %q, %d, %v; the expression gives %q, %d, %v", n, gp, gv, gok, wp, wv, wok)
		}
		if got, w := isMlx4Queue(n), mlx4.MatchString(n); got != w {
			t.Errorf("isMlx4Queue(%q) = %v, the expression says %v", n, got, w)
		}
	}
}

// TestQueueSteeringCloudAndSolarflareDrivers: the capture NIC's queue
// interrupts as four more drivers users run name them, two receive
// queues, DPI CPUs 4-5. sfc names a combined channel "<if>-<n>"
// (efx_get_channel_name: "%s%s-%d" with an empty type), Google's gve
// "gve-ntfy-blk<n>@pci:<addr>", Azure's MANA "mana_q<n>@pci:<addr>" (its
// hardware channel "mana_hwc@pci:<addr>"), be2net "<if>-q<n>". None holds
// a part IsQueue knows: every queue interrupt was treated as any other
// and kept on the core CPUs, so nothing reached the DPI workers.
func TestQueueSteeringCloudAndSolarflareDrivers(t *testing.T) {
	for _, c := range []struct {
		driver, nic string
		names       []string
		queues      []string // the names that must go to a DPI CPU
	}{
		{"sfc", "ens1f0np0", []string{"ens1f0np0-0", "ens1f0np0-1"}, []string{"ens1f0np0-0", "ens1f0np0-1"}},
		{"gve", "ens4", []string{"gve-mgmnt@pci:0000:00:04.0", "gve-ntfy-blk0@pci:0000:00:04.0", "gve-ntfy-blk1@pci:0000:00:04.0",
			"gve-ntfy-blk2@pci:0000:00:04.0", "gve-ntfy-blk3@pci:0000:00:04.0"},
			[]string{"gve-ntfy-blk0@pci:0000:00:04.0", "gve-ntfy-blk1@pci:0000:00:04.0", "gve-ntfy-blk2@pci:0000:00:04.0", "gve-ntfy-blk3@pci:0000:00:04.0"}},
		// be2net (Emulex OneConnect) names an event queue "<if>-q<n>".
		{"be2net", "eno1", []string{"eno1-q0", "eno1-q1"}, []string{"eno1-q0", "eno1-q1"}},
		{"mana", "enP30832s1", []string{"mana_hwc@pci:7870:00:00.0", "mana_q0@pci:7870:00:00.0", "mana_q1@pci:7870:00:00.0"},
			[]string{"mana_q0@pci:7870:00:00.0", "mana_q1@pci:7870:00:00.0"}},
	} {
		t.Run(c.driver, func(t *testing.T) {
			root := fakePCINIC(t, c.nic, 2, c.names...)
			st, err := Read(root, c.nic)
			if err != nil {
				t.Fatal(err)
			}
			d := Decide(st, core, dpi)
			got := map[string]string{}
			for _, m := range d.Moves {
				got[m.Name] = m.To
			}
			for _, q := range c.queues {
				if to := got[q]; to != "4" && to != "5" {
					t.Errorf("%s: queue interrupt %q moved to %q, want a DPI CPU (4 or 5); note %q", c.driver, q, to, d.NICNote)
				}
			}
		})
	}
}

// TestNoticeNamesTheDriverWhoseQueuesAreUnknown: a capture NIC whose
// interrupts are found (its msi_irqs) but none of whose names is a queue
// interrupt's this package knows. The note said "no queue interrupts
// found", which was false: it must say which driver, that its naming is
// not known, and that the interrupts were kept on the core CPUs.
func TestNoticeNamesTheDriverWhoseQueuesAreUnknown(t *testing.T) {
	root := fakePCINIC(t, "eth0", 2, "eth0-chan-a", "eth0-chan-b")
	drv := root.Path("/sys/bus/pci/drivers/oddnic")
	if err := os.MkdirAll(drv, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../bus/pci/drivers/oddnic", root.Path("/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1/driver")); err != nil {
		t.Fatal(err)
	}
	st, err := Read(root, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	d := Decide(st, core, dpi)
	for _, want := range []string{"oddnic", "not known", "60 eth0-chan-a", "kept on the core CPUs 0-3", "2 moved onto them"} {
		if !strings.Contains(d.NICNote, want) {
			t.Errorf("note %q does not say %q", d.NICNote, want)
		}
	}
	if strings.Contains(d.NICNote, "no queue interrupts found") || strings.Contains(d.NICNote, "no interrupts of") {
		t.Errorf("note %q says none was found", d.NICNote)
	}
}

// TestCaptureIRQsOnlyTheInterfacesOwn: the capture interface "cap" and
// another NIC "cap-b" (a name with a dash, as a .link file's Name= may
// give) whose queue interrupt "cap-b-TxRx-0" is not in cap's msi_irqs.
// The name rule ("<if>-" at the start) took cap-b's queue for cap's and
// steered it onto a DPI CPU, and status counted it among the capture
// queues: with msi_irqs readable, only the device's own are the NIC's.
func TestCaptureIRQsOnlyTheInterfacesOwn(t *testing.T) {
	root := fakePCINIC(t, "cap", 2, "cap-TxRx-0", "cap-TxRx-1")
	addIRQ(t, root, 90, "cap-b-TxRx-0")
	st, err := Read(root, "cap")
	if err != nil {
		t.Fatal(err)
	}
	if st.NIC.IRQs[90] {
		t.Errorf("IRQ 90 (cap-b-TxRx-0, another NIC's) counted as the capture interface's")
	}
	for _, m := range Decide(st, core, dpi).Moves {
		if m.IRQ == 90 && m.Queue {
			t.Errorf("another NIC's queue interrupt steered as a capture queue: %+v", m)
		}
	}
}

// TestCaptureIRQsByNameLongestInterfaceWins: without msi_irqs (a legacy
// interrupt, or a sysfs that hides it) the capture interface's interrupts
// are found by name, and one that starts with a longer interface's name
// ("cap-b-TxRx-0" with interfaces cap and cap-b) is that interface's.
func TestCaptureIRQsByNameLongestInterfaceWins(t *testing.T) {
	root := fakePCINIC(t, "cap", 2, "cap-TxRx-0", "cap-TxRx-1")
	if err := os.RemoveAll(root.Path("/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1/msi_irqs")); err != nil {
		t.Fatal(err)
	}
	addIRQ(t, root, 90, "cap-b-TxRx-0")
	if err := os.Symlink("../../devices/virtual/net/cap-b", root.Path(NetDir+"/cap-b")); err != nil {
		t.Fatal(err)
	}
	st, err := Read(root, "cap")
	if err != nil {
		t.Fatal(err)
	}
	if !st.NIC.ByName || !st.NIC.IRQs[60] || !st.NIC.IRQs[61] || st.NIC.IRQs[90] {
		t.Errorf("by name: IRQs %v (ByName %t), want 60 and 61, not 90 (cap-b's)", st.NIC.IRQs, st.NIC.ByName)
	}
}

// addIRQ adds IRQ num named name, on every CPU, to a fake tree's
// /proc/interrupts and /proc/irq, in no device's msi_irqs.
func addIRQ(t *testing.T, root hostroot.Root, num int, name string) {
	t.Helper()
	p := root.Path("/proc/interrupts")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%3d:       1000          0          0          0          0          0          0          0  PCI-MSIX-0000:5e:00.0 0-edge      %s\n", num, name)
	text := strings.Replace(string(b), "NMI:", line+"NMI:", 1)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root.Path(fmt.Sprintf("/proc/irq/%d", num)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path(fmt.Sprintf("/proc/irq/%d/smp_affinity_list", num)), []byte("0-7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
