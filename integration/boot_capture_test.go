//go:build vmtest

package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// captureNetwork is a systemd-networkd configuration for the capture NIC of
// a tap case (name: its interface): up with 10.99.0.2/24 and the host's MAC
// as 10.99.0.1's static neighbour (the host answers no ARP), so that
// feedTap's datagrams make its queues fire and the guest's replies leave.
func captureNetwork(name string) string {
	return "[Match]\nName=" + name + "\n\n[Network]\nAddress=10.99.0.2/24\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n\n" +
		"[Neighbor]\nAddress=10.99.0.1\nLinkLayerAddress=" + HostMAC + "\n"
}

// captureCases are the boots that show the capture NIC kept prepared when it
// changes after the boot's placements: it appears late, its queue count
// changes, its driver re-probes it, it is renamed.
func captureCases() []bootCase {
	return []bootCase{
		{name: "33_capture_nic_changes", everySuite: true,
			shows: "a four-queue capture NIC that appears after every boot placement, changes its queue count (ethtool -L 2, 4), is re-probed and renamed: its queues back on the DPI CPUs within seconds each time",
			mem:   4096, cpus: 8, disk: 20 * gib, nic: "rtcap2", nicQueues: 4, timeout: 12 * time.Minute,
			// modprobe.blacklist= keeps udev from loading virtio_net at
			// boot (an explicit modprobe still loads it): the NIC appears
			// when the case loads it, after ransomeye-tuner-place ran.
			// Without systemd-networkd-wait-online: it would wait for an
			// eth0 that is not there yet.
			args: []string{"net.ifnames=0", "modprobe.blacklist=virtio_net", "systemd.wants=systemd-networkd.service"},
			rootFiles: map[string]string{
				"/etc/ransomeye/tuner.conf":               "# boot suite case 33\n[CPU]\nDPIInterface=eth0\n",
				"/etc/systemd/network/50-capture.network": "# boot suite case 33\n" + captureNetwork("eth0"),
			},
			check: checkCaptureChanges},
	}
}

// checkCaptureChanges checks case 33: before any step the NIC was absent
// and the boot placements done; after each change the queues were first
// elsewhere (so the step shows a move), then asked onto their CPUs again by
// a reload of ransomeye-tuner-netdev.service, within the case's 180 s
// bound; the seconds are logged. At the end no movable interrupt may
// arrive on the training CPUs 6-7, and place --undo gives the queues back
// to where the driver put them.
func checkCaptureChanges(t *testing.T, s *suite, r Report) {
	wantEq(t, r, "case.nic_before", "absent")
	wantEq(t, r, "case.place_result", "success")
	wantEq(t, r, "case.netdev_state", "active")
	if p, _ := r.Int("case.place_done_at_us"); p == 0 || p >= mustInt(t, r, "case.late_at_us") {
		t.Errorf("ransomeye-tuner-place.service done at %d µs, the NIC loaded at %s µs: not after the boot's placement", p, r.Get("case.late_at_us"))
	}
	wantMatch(t, "the boot's placement", r.Text("case-netdev-journal"), `interface "eth0" not found`)
	var times []string
	for _, st := range []struct {
		name, want string
		queues     int
	}{{"late", "dpi", 4}, {"L2", "dpi", 2}, {"L4", "dpi", 4}, {"reprobe", "dpi", 4}, {"away", "0-3", 4}, {"back", "dpi", 4}} {
		p := "case." + st.name + "."
		wantEq(t, r, p+"rc", "0")
		wantEq(t, r, p+"queues", strconv.Itoa(st.queues))
		if r.Get(p+"placed") != "yes" {
			t.Errorf("step %s (%s): the queues were not placed %s within 180 s: after the change %s, at the end %s",
				st.name, r.Get(p+"command"), st.want, r.Get(p+"after_change"), r.Get(p+"final"))
		}
		final := queueCPUs(r.Get(p + "final"))
		if len(final) != 2*st.queues {
			t.Errorf("step %s: %d queue interrupts at the end (%s), want %d", st.name, len(final), r.Get(p+"final"), 2*st.queues)
		}
		// The change itself must have moved a queue off the CPU it is
		// placed on, or the step would show nothing.
		moved := false
		for name, cpus := range queueCPUs(r.Get(p + "after_change")) {
			if cpus != wantQueueCPU(name, st.want) {
				moved = true
			}
		}
		if !moved {
			t.Errorf("step %s: right after the change every queue was already where it is placed (%s): the step shows no re-steering", st.name, r.Get(p+"after_change"))
		}
		b, _ := r.Int(p + "reloads_before")
		a, _ := r.Int(p + "reloads_after")
		if a <= b {
			t.Errorf("step %s: ransomeye-tuner-netdev.service was not reloaded (%d reloads before, %d after)", st.name, b, a)
		}
		times = append(times, st.name+" "+r.Get(p+"seconds")+" s ("+strconv.FormatInt(a-b, 10)+" reloads)")
		t.Logf("step %s: %s: after the change %s; placed after %s s: %s", st.name, r.Get(p+"command"), r.Get(p+"after_change"), r.Get(p+"seconds"), r.Get(p+"final"))
	}
	t.Logf("steered again after: %s", strings.Join(times, ", "))
	// irqbalance runs in the image with the package's drop-in: two of its
	// passes after the last change, the queues are still on the DPI CPUs
	// (it was told to run its policy script again, which bans them).
	wantEq(t, r, "case.settled.irqbalance", "active")
	if n, ok := r.Int("case.settled.irqbalance_starts"); !ok || n < 2 {
		t.Errorf("irqbalance started %q times this boot: the reloads did not restart it, so its policy script was not asked again", r.Get("case.settled.irqbalance_starts"))
	}
	if r.Get("case.settled.placed") != "yes" {
		t.Errorf("25 s after the last step (two irqbalance passes) the capture queues left the DPI CPUs: %s (%s)", r.Get("case.settled.final"), r.Get("case.back.final"))
	}
	wantEq(t, r, "case.netdev_state_end", "active")
	wantEq(t, r, "case.netdev_result_end", "success")
	// Nothing arrives on the training CPUs 6-7 at the end (effective
	// affinity), but what status --json says the kernel does not let user
	// space move (per-CPU NVMe queues) or moves when it next fires.
	st := parseStatus(t, r, "case-status-json")
	if st.Placement == nil {
		t.Fatalf("status --json has no placement:\n%s", r.Text("case-status-json"))
	}
	left := map[int]bool{}
	for _, q := range append(st.Placement.IRQsUnmovable, st.Placement.IRQsMovePending...) {
		left[q.IRQ] = true
	}
	for k, v := range r.Values {
		n, ok := strings.CutPrefix(k, "case.irq.")
		if !ok {
			continue
		}
		num, _ := strconv.Atoi(n)
		f := strings.Split(v, "|")
		if len(f) != 3 || left[num] {
			continue
		}
		cpus, err := ParseCPUList(f[2])
		if err != nil {
			continue
		}
		for _, c := range cpus {
			if c >= 6 {
				t.Errorf("IRQ %d (%s) arrives on %s at the end (asked onto %s): a training CPU", num, f[0], f[2], f[1])
				break
			}
		}
	}
	if len(st.Placement.IRQsOnReserved) != 0 {
		t.Errorf("status --json at the end: movable interrupts escape to the reserved CPUs: %+v", st.Placement.IRQsOnReserved)
	}
	// place --undo gives the queue interrupts the reloads placed back to
	// where the driver put them: virtio_net's affinity hint for each.
	if b := r.Blocks["case-undo"]; b.RC != 0 {
		t.Errorf("place --undo: exit %d:\n%s", b.RC, b.Text)
	}
	final, hints := queueCPUs(r.Get("case.undo.final")), queueCPUs(r.Get("case.undo.hints"))
	if len(final) != 8 {
		t.Errorf("after place --undo: %d queue interrupts (%s), want 8", len(final), r.Get("case.undo.final"))
	}
	for name, cpus := range final {
		hint, err := hexMask(hints[name])
		if err != nil || cpus != hint {
			t.Errorf("after place --undo: %s on %s, its driver's affinity hint is %s (%q, %v)", name, cpus, hint, hints[name], err)
		}
	}
	if got, err := hexMask(r.Get("case.undo.default_smp_affinity")); err != nil || got != "0-7" {
		t.Errorf("after place --undo: default_smp_affinity %q (CPUs %s), want every CPU", r.Get("case.undo.default_smp_affinity"), got)
	}
	t.Logf("after place --undo: %s (the driver's hints: %s)", r.Get("case.undo.final"), r.Get("case.undo.hints"))
}

var queueName = regexp.MustCompile(`^virtio\d+-(input|output)\.(\d+)$`)

// queueCPUs parses the case's "name=cpus name=cpus" lines.
func queueCPUs(s string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(s) {
		if name, cpus, ok := strings.Cut(f, "="); ok {
			out[name] = cpus
		}
	}
	return out
}

// wantQueueCPU is where a queue interrupt is placed: "dpi" puts queue K on
// CPU 4+K%2 (the DPI CPUs 4-5, as place steers them), else want itself.
func wantQueueCPU(name, want string) string {
	if want != "dpi" {
		return want
	}
	m := queueName.FindStringSubmatch(name)
	if m == nil {
		return "?"
	}
	k, _ := strconv.Atoi(m[2])
	return strconv.Itoa(4 + k%2)
}

func mustInt(t *testing.T, r Report, key string) int64 {
	t.Helper()
	v, ok := r.Int(key)
	if !ok {
		t.Errorf("%s = %q: not a number", key, r.Get(key))
	}
	return v
}
