package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// policyTree makes a fake sysfs under a temporary root, laid out as the
// kernel lays it out: a virtio NIC eth1 whose MSI vectors 24-26 belong to
// its PCI function (the virtio device's parent), and a PCI NIC ens1f0 with
// vectors 40-41 on its own device. IRQ 9 belongs to neither.
func policyTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, p string) {
		mk(filepath.Dir(p))
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	virtio := "sys/devices/pci0000:00/0000:00:03.0"
	for _, n := range []string{"24", "25", "26"} {
		mk(virtio + "/msi_irqs/" + n)
	}
	mk(virtio + "/virtio0/net/eth1")
	ln("../../../virtio0", virtio+"/virtio0/net/eth1/device")
	ln("../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth1", "sys/class/net/eth1")
	ixgbe := "sys/devices/pci0000:00/0000:00:04.0"
	for _, n := range []string{"40", "41"} {
		mk(ixgbe + "/msi_irqs/" + n)
	}
	mk(ixgbe + "/net/ens1f0")
	ln("../../../0000:00:04.0", ixgbe+"/net/ens1f0/device")
	ln("../../devices/pci0000:00/0000:00:04.0/net/ens1f0", "sys/class/net/ens1f0")
	mk("sys/devices/virtual/net/lo")
	ln("../../devices/virtual/net/lo", "sys/class/net/lo")
	return root
}

// TestIRQBalancePolicy runs the shipped policy script as irqbalance runs it
// (device path and IRQ number as arguments, the unit's environment) and
// checks its answer: ban=true exactly for the capture interface's
// interrupts, nothing otherwise, and exit code 0 always (irqbalance
// expects it).
func TestIRQBalancePolicy(t *testing.T) {
	root := policyTree(t)
	script, err := filepath.Abs("irqbalance/irqbalance-policy")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		nic, irq, want string
	}{
		{"eth1", "25", "ban=true"},
		{"eth1", "24", "ban=true"},
		{"eth1", "40", ""},
		{"eth1", "9", ""},
		{"ens1f0", "41", "ban=true"},
		{"ens1f0", "25", ""},
		{"", "25", ""},     // no capture interface: irqbalance's own policy
		{"eth9", "25", ""}, // no such interface
		{"lo", "25", ""},   // no device
		{"../x", "25", ""}, // not an interface name
		{"eth1", "2x", ""}, // not an IRQ number
		{"eth1", "", ""},   // no IRQ number
	} {
		cmd := exec.Command(script, "/sys/devices/pci0000:00/0000:00:03.0", c.irq)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "RANSOMEYE_TUNER_ROOT=" + root, "RANSOMEYE_CAPTURE_INTERFACE=" + c.nic}
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("interface %q, IRQ %q: %v (irqbalance expects exit code 0)", c.nic, c.irq, err)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("interface %q, IRQ %q: answered %q, want %q", c.nic, c.irq, got, c.want)
		}
	}
}

// TestIRQBalancePolicyRecord: under irqbalance's private /sys (its unit has
// PrivateNetwork=yes), /sys/class/net has no capture interface; the script
// then goes by the device directory ransomeye-tuner recorded, and ignores
// a record that does not name a /sys path.
func TestIRQBalancePolicyRecord(t *testing.T) {
	root := policyTree(t)
	script, err := filepath.Abs("irqbalance/irqbalance-policy")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "sys/class/net")); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(root, "run/ransomeye-tuner/capture-device")
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ record, irq, want string }{
		{"/sys/devices/pci0000:00/0000:00:03.0\n", "25", "ban=true"},
		{"/sys/devices/pci0000:00/0000:00:03.0\n", "40", ""},
		{"/sys/devices/pci0000:00/0000:00:04.0\n", "40", "ban=true"},
		{"/etc\n", "25", ""},
		{"", "25", ""},
	} {
		if err := os.WriteFile(rec, []byte(c.record), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(script, "/sys/devices/pci0000:00/0000:00:03.0", c.irq)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "RANSOMEYE_TUNER_ROOT=" + root, "RANSOMEYE_CAPTURE_INTERFACE=eth1"}
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("record %q, IRQ %s: %v", c.record, c.irq, err)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("record %q, IRQ %s: answered %q, want %q", c.record, c.irq, got, c.want)
		}
	}
}

// TestIRQBalancePolicyShipped: the package installs the script executable
// where the generated irqbalance drop-in points.
func TestIRQBalancePolicyShipped(t *testing.T) {
	fi, err := os.Stat("irqbalance/irqbalance-policy")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("irqbalance-policy is not executable: %v", fi.Mode())
	}
	want := `(?m)^  - src: scripts/irqbalance/irqbalance-policy\n    dst: /usr/lib/ransomeye-tuner/irqbalance-policy\n    file_info:\n      mode: 0755$`
	if !regexp.MustCompile(want).MatchString(mustRead(t, "nfpm.yaml")) {
		t.Errorf("nfpm.yaml lacks an entry matching %s", want)
	}
}

// TestPlaceUnitVerifies runs `systemd-analyze verify` on
// ransomeye-tuner-place.service (in a root made of this host's unit
// directory, the repository's units/ and a stand-in for the binary), and
// checks that it runs the place command after the network is up, and that
// the package installs it with the static link that enables it.
func TestPlaceUnitVerifies(t *testing.T) {
	svc := mustRead(t, "../units/ransomeye-tuner-place.service")
	for _, want := range []string{"\nExecStart=/usr/sbin/ransomeye-tuner place\n", "\nAfter=ransomeye-tuner.service network-online.target irqbalance.service\n",
		"\nWants=network-online.target\n", "\nType=oneshot\n"} {
		if !strings.Contains(svc, want) {
			t.Errorf("ransomeye-tuner-place.service lacks %q", strings.TrimSpace(want))
		}
	}
	nfpm := mustRead(t, "nfpm.yaml")
	for _, want := range []string{
		`(?m)^  - src: units/ransomeye-tuner-place\.service\n    dst: \$\{SYSTEMD_UNIT_DIR\}/ransomeye-tuner-place\.service\n    expand: true$`,
		`(?m)^  - src: \.\./ransomeye-tuner-place\.service\n    dst: \$\{SYSTEMD_UNIT_DIR\}/multi-user\.target\.wants/ransomeye-tuner-place\.service\n    expand: true\n    type: symlink$`,
	} {
		if !regexp.MustCompile(want).MatchString(nfpm) {
			t.Errorf("nfpm.yaml lacks an entry matching %s", want)
		}
	}
	verifyUnits(t, "network-online.target", "ransomeye-tuner-place.service", "ransomeye-tuner.service", "ransomeye-tuner-fail-closed.service")
}
