package fakesys

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// NIC is a fake PCI network interface as sysfs and /proc show it: its
// device directory under /sys/devices with its driver link, NUMA node,
// msi_irqs and net/NAME (ifindex, queues/rx-N and tx-N), the
// /sys/class/net/NAME link, and its interrupts in /proc/irq. A fake of
// what this host does not have; regular files and links.
type NIC struct {
	// Name is the interface ("ens1f0"), Driver its driver ("ice"), PCI the
	// device's address ("0000:3b:00.0"), Node its NUMA node, Ifindex its
	// index, Queues its receive and transmit queues each.
	Name, Driver, PCI string
	Node, Ifindex     int
	Queues            int
	// IRQs are its interrupts in /proc/interrupts order, numbered from
	// FirstIRQ: each name and the CPU list it is on (smp_affinity_list;
	// effective_affinity_list is its first CPU when Effective).
	IRQs      []IRQ
	FirstIRQ  int
	Effective bool
}

// IRQ is one interrupt of a NIC: its action name and CPUs.
type IRQ struct{ Name, CPUs string }

// dev is the device directory's host path.
func (n NIC) dev() string {
	return "/sys/devices/pci0000:3a/0000:3a:00.0/" + n.PCI
}

// Files are the NIC's files (host path -> content), /proc/interrupts left
// out (Interrupts gives its lines).
func (n NIC) Files() map[string]string {
	dev := n.dev()
	f := map[string]string{
		dev + "/numa_node":                             fmt.Sprintf("%d\n", n.Node),
		dev + "/net/" + n.Name + "/ifindex":            fmt.Sprintf("%d\n", n.Ifindex),
		"/sys/bus/pci/drivers/" + n.Driver + "/new_id": "",
	}
	for i := 0; i < n.Queues; i++ {
		f[fmt.Sprintf("%s/net/%s/queues/rx-%d/rps_cpus", dev, n.Name, i)] = "00\n"
		f[fmt.Sprintf("%s/net/%s/queues/tx-%d/xps_cpus", dev, n.Name, i)] = "00\n"
	}
	for i, q := range n.IRQs {
		num := n.FirstIRQ + i
		f[fmt.Sprintf("/proc/irq/%d/smp_affinity_list", num)] = q.CPUs + "\n"
		if n.Effective {
			f[fmt.Sprintf("/proc/irq/%d/effective_affinity_list", num)] = strings.FieldsFunc(q.CPUs, func(r rune) bool { return r == '-' || r == ',' })[0] + "\n"
		}
		f[fmt.Sprintf("%s/msi_irqs/%d", dev, num)] = "msix\n"
	}
	return f
}

// Links are the NIC's symbolic links (host path -> target).
func (n NIC) Links() map[string]string {
	dev := n.dev()
	return map[string]string{
		dev + "/net/" + n.Name + "/device": "../../../" + n.PCI,
		dev + "/driver":                    "../../../../bus/pci/drivers/" + n.Driver,
		"/sys/class/net/" + n.Name:         "../.." + strings.TrimPrefix(dev, "/sys") + "/net/" + n.Name,
	}
}

// Interrupts are the NIC's lines of an 8-CPU /proc/interrupts.
func (n NIC) Interrupts() string {
	var b strings.Builder
	for i, q := range n.IRQs {
		fmt.Fprintf(&b, "%4d:  1 0 0 0 0 0 0 0  IR-PCI-MSIX-%s %d-edge  %s\n", n.FirstIRQ+i, n.PCI, i, q.Name)
	}
	return b.String()
}

// Write writes the NIC's files and links under dir.
func (n NIC) Write(dir string) error {
	for p, c := range n.Files() {
		full := filepath.Join(dir, strings.TrimPrefix(p, "/"))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			return err
		}
	}
	for p, target := range n.Links() {
		full := filepath.Join(dir, strings.TrimPrefix(p, "/"))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(target, full); err != nil {
			return err
		}
	}
	return nil
}

// IceNIC is an ice NIC ens1f0 at 0000:3b:00.0 on NUMA node node with
// queues queues, its misc interrupt (IRQ 59) and one per queue
// (ice-ens1f0-TxRx-N, IRQ 60+N), each on the CPUs of on (queue N's at
// on[N+1], the misc interrupt's at on[0]; "0-7" for those not given).
func IceNIC(node, queues int, on ...string) NIC {
	n := NIC{Name: "ens1f0", Driver: "ice", PCI: "0000:3b:00.0", Node: node, Ifindex: 4, Queues: queues, FirstIRQ: 59}
	names := []string{"ice-0000:3b:00.0:misc"}
	for i := 0; i < queues; i++ {
		names = append(names, fmt.Sprintf("ice-ens1f0-TxRx-%d", i))
	}
	for i, name := range names {
		cpus := "0-7"
		if i < len(on) {
			cpus = on[i]
		}
		n.IRQs = append(n.IRQs, IRQ{Name: name, CPUs: cpus})
	}
	return n
}
