//go:build vmtest

package integration

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// steeringCases are the boots that show the CPU partition delivered beyond
// the services' own sets: interrupts, unbound kernel work and irqbalance.
func steeringCases() []bootCase {
	return []bootCase{
		{name: "26_irqbalance_steering", shows: "irqbalance and a two-queue capture NIC: interrupts and kernel work off the reserved CPUs, the queues on the DPI CPUs; then an administrator widens the core and drops its gate",
			mem: 4096, cpus: 8, disk: 20 * gib, nic: "rtcap0", timeout: 8 * time.Minute,
			// net.ifnames=0: the NIC is eth0 whatever its PCI slot, so the
			// configuration can name it before the boot. systemd-networkd
			// brings it up (a link that is down has no receive buffers, and
			// its queues never fire: an interrupt's move completes only
			// when it fires). systemd-networkd-wait-online orders
			// network-online.target, and so ransomeye-tuner-place, after eth0
			// is configured: without it a boot whose virtio_net module
			// loaded late (eth0 at 56 s) ran both placements before eth0
			// existed, and its queues were never steered (run
			// 20261201T191846Z; since then the udev rule places a NIC that
			// appears late again: case 33).
			args: []string{"net.ifnames=0", "systemd.wants=systemd-networkd.service", "systemd.wants=systemd-networkd-wait-online.service"},
			rootFiles: map[string]string{
				"/etc/ransomeye/tuner.conf": "# boot suite case 26\n[CPU]\nDPIInterface=eth0\n",
				"/etc/systemd/network/50-capture.network": "# boot suite case 26\n[Match]\nName=eth0\n\n[Network]\nAddress=10.99.0.2/24\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n\n" +
					// The host answers no ARP: its MAC as a static neighbour lets
					// the guest's replies out (its transmit queues must fire too).
					"[Neighbor]\nAddress=10.99.0.1\nLinkLayerAddress=" + HostMAC + "\n",
			},
			check: checkSteering},
	}
}

// irqSeen is one interrupt as the guest reported it (case.irq.N).
type irqSeen struct {
	num                  int
	name, smp, effective string
	writable             bool
}

// statusDoc is the part of status --json the steering case reads.
type statusDoc struct {
	Compliant  bool `json:"compliant"`
	Guarantees []struct {
		Name string `json:"name"`
		OK   bool   `json:"ok"`
	} `json:"guarantees"`
	Placement *struct {
		Reserved        string      `json:"reserved_cpus"`
		IRQsOnReserved  []irqEffect `json:"irqs_on_reserved"`
		IRQsUnmovable   []irqEffect `json:"irqs_unmovable"`
		IRQsMovePending []irqEffect `json:"irqs_move_pending"`
	} `json:"placement"`
}

type irqEffect struct {
	IRQ       int    `json:"irq"`
	Name      string `json:"name"`
	CPUs      string `json:"cpus"`
	Requested string `json:"requested"`
}

func parseStatus(t *testing.T, r Report, block string) statusDoc {
	t.Helper()
	var d statusDoc
	if err := json.Unmarshal([]byte(r.Text(block)), &d); err != nil {
		t.Errorf("%s: not status JSON: %v\n%s", block, err, r.Text(block))
	}
	return d
}

// guaranteeFails reports whether status --json has the guarantee name, failing.
func guaranteeFails(d statusDoc, name string) bool {
	for _, g := range d.Guarantees {
		if g.Name == name {
			return !g.OK
		}
	}
	return false
}

// hexMask turns a kernel hex CPU mask ("0f", "00000000,000000ff") into a
// CPU list.
func hexMask(s string) (string, error) {
	v, ok := new(big.Int).SetString(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 16)
	if !ok {
		return "", fmt.Errorf("not a hex CPU mask: %q", s)
	}
	var cpus []int
	for i := 0; i < v.BitLen(); i++ {
		if v.Bit(i) == 1 {
			cpus = append(cpus, i)
		}
	}
	return FormatCPUList(cpus), nil
}

// within reports whether the CPU list s is non-empty and inside [lo, hi].
func within(s string, lo, hi int) bool {
	cpus, err := ParseCPUList(s)
	if err != nil || len(cpus) == 0 {
		return false
	}
	for _, c := range cpus {
		if c < lo || c > hi {
			return false
		}
	}
	return true
}

var nicQueue = regexp.MustCompile(`^(virtio\d+)-(input|output)\.(\d+)$`)

func checkSteering(t *testing.T, s *suite, r Report) {
	if v := r.Get("case.wait_gave_up"); v != "" {
		t.Errorf("the guest stopped waiting for irqbalance's passes: %s", v)
	}
	t.Logf("waited %s s in the guest; irqbalance ran %s s before the interrupts were read",
		r.Get("case.waited_s"), r.Get("case.irqbalance_age_s"))
	t.Logf("eth0 %s: %s packets received, %s sent", r.Get("case.nic_operstate"), r.Get("case.nic_rx_packets"), r.Get("case.nic_tx_packets"))
	wantEq(t, r, "case.irqbalance_state", "active")
	wantMatch(t, "irqbalance's command line", r.Get("case.irqbalance_cmdline"), `--policyscript=/usr/lib/ransomeye-tuner/irqbalance-policy\b`)
	wantCPUs(t, r, "case.irqbalance_banned", "4-7")
	wantEq(t, r, "case.place_result", "success")
	for key, want := range map[string]string{"case.wq_cpumask": "0-3", "case.wq_writeback_cpumask": "0-3", "case.default_smp_affinity": "0-3"} {
		if got, err := hexMask(r.Get(key)); err != nil || got != want {
			t.Errorf("%s = %q (CPUs %s, %v), want CPUs %s", key, r.Get(key), got, err, want)
		}
	}
	wantEq(t, r, "case.dpi_env.RANSOMEYE_CPUS", "4-5")
	wantEq(t, r, "case.dpi_env.RANSOMEYE_CPU_COUNT", "2")
	wantEq(t, r, "case.dpi_env.RANSOMEYE_CPUS_RESERVED", "1")

	st := parseStatus(t, r, "case-status-json")
	if b := r.Blocks["case-status-json"]; b.RC != 0 || !st.Compliant {
		t.Errorf("status --json before the administrator's changes: exit %d, compliant %v:\n%s", b.RC, st.Compliant, r.Text("case-status"))
	}
	pending, unmovable := map[int]bool{}, map[int]bool{}
	if st.Placement == nil {
		t.Fatalf("status --json has no placement:\n%s", r.Text("case-status-json"))
	}
	if len(st.Placement.IRQsOnReserved) != 0 {
		t.Errorf("status --json: movable interrupts escape to the reserved CPUs: %+v", st.Placement.IRQsOnReserved)
	}
	for _, q := range st.Placement.IRQsMovePending {
		pending[q.IRQ] = true
	}
	for _, q := range st.Placement.IRQsUnmovable {
		unmovable[q.IRQ] = true
	}

	// Every interrupt as the guest read it after irqbalance's passes.
	dev := r.Get("case.nic_device")
	var irqs []irqSeen
	for k, v := range r.Values {
		n, ok := strings.CutPrefix(k, "case.irq.")
		if !ok {
			continue
		}
		num, err := strconv.Atoi(n)
		f := strings.Split(v, "|")
		if err != nil || len(f) != 4 {
			t.Errorf("%s=%q: not NUM=name|smp|effective|w", k, v)
			continue
		}
		irqs = append(irqs, irqSeen{num: num, name: f[0], smp: f[1], effective: f[2], writable: f[3] == "w"})
	}
	sort.Slice(irqs, func(i, j int) bool { return irqs[i].num < irqs[j].num })
	if len(irqs) == 0 {
		t.Fatalf("no interrupts in the report")
	}
	queues := 0
	var summary []string
	for _, q := range irqs {
		on := q.effective
		if on == "" {
			on = q.smp
		}
		line := fmt.Sprintf("%d %s: smp_affinity_list %s, effective %s", q.num, q.name, q.smp, q.effective)
		if m := nicQueue.FindStringSubmatch(q.name); m != nil && m[1] == dev {
			k, _ := strconv.Atoi(m[3])
			want := strconv.Itoa(4 + k%2)
			queues++
			if q.smp != want || on != want {
				t.Errorf("capture queue %s: want CPU %s (smp_affinity_list and effective)", line, want)
			}
			summary = append(summary, line+" (capture queue)")
			continue
		}
		switch {
		case within(on, 0, 3):
			summary = append(summary, line)
		case unmovable[q.num]:
			// Managed or per-CPU: the kernel places it (Debian 12's leaves
			// the file writable and refuses writes with EIO).
			summary = append(summary, line+" (unmovable: the kernel refuses moves)")
		case !q.writable:
			t.Errorf("interrupt with a read-only affinity on a reserved CPU not reported in irqs_unmovable: %s", line)
		case within(q.smp, 0, 3) && pending[q.num]:
			// Asked off the reserved CPUs; the kernel moves it when it fires.
			summary = append(summary, line+" (move pending)")
		default:
			t.Errorf("movable interrupt outside the capture NIC's queues not within CPUs 0-3: %s", line)
		}
	}
	if queues != 4 {
		t.Errorf("%d queue interrupts of %s (eth0), want 4 (input.0, output.0, input.1, output.1); its vectors: %s", queues, dev, r.Get("case.nic_msi"))
	}
	t.Logf("interrupts after irqbalance's passes:\n  %s", strings.Join(summary, "\n  "))
	if moved := regexp.MustCompile(`(?m)IRQ \d+ \([^)]*\)( left where it is)?:? .*$`).FindAllString(r.Text("case-place-journal"), -1); len(moved) > 0 {
		t.Logf("the tuner's moves and what it left (journal):\n  %s", strings.Join(moved, "\n  "))
	}

	// The administrator widens the core: status names the unit and the
	// core's CPU guarantee, and exits 1.
	wantEq(t, r, "case.widen_reload_rc", "0")
	wantCPUs(t, r, "case.widen_core_allowed", "0-7")
	// With system.slice widened too the core really gets 0-7: the gate,
	// measuring inside the core's cgroup, keeps the restarted core down,
	// and status, asking systemd, names it the same way (they agree).
	wantEq(t, r, "case.widen_core_condition", "no")
	t.Logf("after widening: core %s (gate ConditionResult %s)", r.Get("case.widen_core_state"), r.Get("case.widen_core_condition"))
	// The text names the core's CPUs in effect and fails the row (the
	// unit's name alone is in every report), and says which units of the
	// widened system.slice now reach the reserved CPUs.
	if b := r.Blocks["case-widen-status"]; b.RC != 1 {
		t.Errorf("status with the core widened: exit %d, want 1:\n%s", b.RC, b.Text)
	}
	wantMatch(t, "status with the core widened", r.Text("case-widen-status"), `core cpus applied\s+ransomeye-core\.service gets CPUs "0-7", the plan gives it "0-3".*\[FAIL\]`)
	wantMatch(t, "status with the core widened", r.Text("case-widen-status"), `isolation escape\s+systemd-journald\.service: `)
	if w := parseStatus(t, r, "case-widen-status-json"); w.Compliant || !guaranteeFails(w, "core-cpus") {
		t.Errorf("status --json with the core widened: compliant %v, core-cpus failing %v", w.Compliant, guaranteeFails(w, "core-cpus"))
	}
	wantEq(t, r, "case.core_state_at_end", "active")
	// The administrator drops the gate.
	wantEq(t, r, "case.nogate_reload_rc", "0")
	if b := r.Blocks["case-nogate-status"]; b.RC != 1 || !strings.Contains(b.Text, "ransomeye-core.service") {
		t.Errorf("status with the gate dropped: exit %d, want 1 naming ransomeye-core.service:\n%s", b.RC, b.Text)
	}
	if g := parseStatus(t, r, "case-nogate-status-json"); g.Compliant || !guaranteeFails(g, "core-gate") {
		t.Errorf("status --json with the gate dropped: compliant %v, core-gate failing %v", g.Compliant, guaranteeFails(g, "core-gate"))
	}
}
