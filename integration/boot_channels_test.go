//go:build vmtest

package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// channelCases are the boots that show the capture NIC's channel count set
// through the ethtool ioctl on a real driver (virtio-net), and given back.
func channelCases() []bootCase {
	return []bootCase{
		{name: "50_capture_channels", shows: "DPIChannels=1 on a two-queue virtio-net capture NIC: one combined channel before the DPI service starts, given back by place --undo, not changed under the running DPI service, changed with it stopped",
			mem: 4096, cpus: 8, disk: 20 * gib, nic: "rtch50", timeout: 8 * time.Minute,
			// As case 26: eth0 whatever its slot, brought up by networkd, and
			// network-online.target (so the place unit) after it.
			args: []string{"net.ifnames=0", "systemd.wants=systemd-networkd.service", "systemd.wants=systemd-networkd-wait-online.service"},
			rootFiles: map[string]string{
				"/etc/ransomeye/tuner.conf":               "# boot suite case 50\n[CPU]\nDPIInterface=eth0\nDPIChannels=1\n",
				"/etc/systemd/network/50-capture.network": "# boot suite case 50\n[Match]\nName=eth0\n\n[Network]\nAddress=10.99.0.2/24\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n",
			},
			check: checkChannels},
	}
}

// channelsDoc is the part of status --json case 50 reads.
type channelsDoc struct {
	Capture *struct {
		Present  bool   `json:"present"`
		Driver   string `json:"driver"`
		RxQueues int    `json:"rx_queues"`
		Channels struct {
			State   string `json:"state"`
			Wanted  int    `json:"wanted"`
			Max     int    `json:"max"`
			Current *int   `json:"current"`
			Kind    string `json:"kind"`
			Set     *struct {
				From struct{ Combined int } `json:"from"`
				To   struct{ Combined int } `json:"to"`
			} `json:"set_by_tuner"`
		} `json:"channels"`
		Gated bool `json:"gated"`
	} `json:"capture_interface"`
	Compliant bool `json:"compliant"`
}

func parseChannels(t *testing.T, r Report, block string) channelsDoc {
	t.Helper()
	var d channelsDoc
	if err := json.Unmarshal([]byte(r.Text(block)), &d); err != nil || d.Capture == nil {
		t.Fatalf("%s: not status JSON with a capture_interface: %v\n%s", block, err, r.Text(block))
	}
	return d
}

func checkChannels(t *testing.T, s *suite, r Report) {
	if v := r.Get("case.wait_gave_up"); v != "" {
		t.Fatalf("the guest stopped waiting for the place unit: %s", v)
	}
	wantEq(t, r, "case.place_result", "success")
	wantEq(t, r, "case.boot_driver", "virtio_net")
	// 1. Set at boot, before the DPI service started, and recorded.
	wantEq(t, r, "case.boot_rx_queues", "1")
	if !strings.Contains(r.Get("case.dpi_after"), "ransomeye-tuner-place.service") {
		t.Errorf("ransomeye-dpi.service is not ordered after the place unit: After=%s (drop-ins %s)", r.Get("case.dpi_after"), r.Get("case.dpi_dropins"))
	}
	placeEnd, _ := strconv.ParseInt(r.Get("case.place_exit_mono"), 10, 64)
	dpiStart, _ := strconv.ParseInt(r.Get("case.dpi_start_mono"), 10, 64)
	if placeEnd == 0 || dpiStart < placeEnd {
		t.Errorf("the DPI service started at %d µs, the place unit ended at %d µs: not after it", dpiStart, placeEnd)
	}
	if j := r.Text("case-channels-journal"); !strings.Contains(j, `capture interface "eth0": channels combined 2 rx 0 tx 0 other 0 -> combined 1 rx 0 tx 0 other 0`) {
		t.Errorf("no placement logged the channel change:\n%s", j)
	}
	d := parseChannels(t, r, "case-status-json")
	c := d.Capture.Channels
	if !d.Capture.Present || d.Capture.Driver != "virtio_net" || d.Capture.RxQueues != 1 || c.State != "match" || c.Wanted != 1 || c.Max != 2 ||
		c.Current == nil || *c.Current != 1 || c.Kind != "combined" || c.Set == nil || c.Set.From.Combined != 2 || c.Set.To.Combined != 1 || d.Capture.Gated {
		t.Errorf("status after boot: %+v, channels %+v\n%s", d.Capture, c, r.Text("case-status"))
	}
	if !d.Compliant {
		t.Errorf("not compliant after boot (the capture interface is never gated):\n%s", r.Text("case-status"))
	}
	if f := r.Text("case-plan-file"); !strings.Contains(f, `"capture_channels"`) {
		t.Errorf("the plan file records no channel change:\n%s", f)
	}
	// 2. Given back by place --undo.
	wantEq(t, r, "case.undo_rc", "0")
	wantEq(t, r, "case.undo_rx_queues", "2")
	if u := parseChannels(t, r, "case-undo-status-json"); u.Capture.Channels.Set != nil || u.Capture.Channels.State != "pending" {
		t.Errorf("status after undo, the DPI stub running: channels %+v, want pending and no record", u.Capture.Channels)
	}
	// 3. Not under the running DPI service.
	wantEq(t, r, "case.pending_rc", "0")
	wantEq(t, r, "case.pending_rx_queues", "2")
	if l := r.Text("case-pending-log"); !strings.Contains(l, "not changed while the DPI service runs") {
		t.Errorf("place under the running DPI service does not say why it waits:\n%s", l)
	}
	// 4. With it stopped.
	wantEq(t, r, "case.stopped_rc", "0")
	wantEq(t, r, "case.stopped_rx_queues", "1")
	if e := parseChannels(t, r, "case-end-status-json"); e.Capture.Channels.State != "match" || e.Capture.Channels.Set == nil {
		t.Errorf("status at the end: channels %+v", e.Capture.Channels)
	}
}
