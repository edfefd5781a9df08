package main_test

// The capture interface ([CPU] DPIInterface=) as status, status --json,
// the metrics and plan report it, run as the real binary on fake 8-CPU
// roots (plan: core 0-3, DPI 4-5, training 6-7). The NIC is a fake of
// sysfs (a PCI function's directory, its driver link, its queues and
// msi_irqs, /sys/class/net's link) and of /proc/irq; its driver cannot be
// asked under a root prefix, so the channels are "not read" here (the
// ethtool path runs against a real veth pair in internal/ethtool and
// internal/placement, and a real virtio-net NIC in the boot suite).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
	"github.com/ransomeye/ransomeye-tuner/testkit/netns"
)

// captureRoot is placeRoot with the configuration conf and, when queues is
// above 0, an ice NIC ens1f0 on NUMA node 0 with that many queues, each
// queue's interrupt on every CPU (fakesys.IceNIC).
func captureRoot(t *testing.T, conf string, queues int) string {
	t.Helper()
	extra := map[string]string{"/etc/ransomeye/tuner.conf": conf, "/var/lib/prometheus/node-exporter/.keep": ""}
	interrupts := "           CPU0 CPU1 CPU2 CPU3 CPU4 CPU5 CPU6 CPU7\n"
	n := fakesys.IceNIC(0, queues)
	if queues > 0 {
		interrupts += n.Interrupts()
		for p, c := range n.Files() {
			extra[p] = c
		}
	}
	extra["/proc/interrupts"] = interrupts
	root, _ := placeRoot(t, 0, extra)
	if queues > 0 {
		for link, target := range n.Links() {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// tuner runs ransomeye-tuner on root with args and returns its stdout; a
// non-zero exit is not a failure (status says "not compliant" on these
// roots: they have no swapfile).
func tuner(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tunerBin, append([]string{"--root", root}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%v: %v\n%s", args, err, errb.String())
		}
	}
	return out.String()
}

// captureJSON is the capture_interface section of status --json.
type captureJSON struct {
	Name             string   `json:"name"`
	Present          *bool    `json:"present"`
	Missing          string   `json:"missing"`
	Driver           string   `json:"driver"`
	Device           string   `json:"device"`
	NUMANode         *int     `json:"numa_node"`
	RxQueues         int      `json:"rx_queues"`
	DPICPUs          string   `json:"dpi_cpus"`
	Steering         bool     `json:"steering"`
	RxIRQCPUs        string   `json:"rx_irq_cpus"`
	RxIRQsOutsideDPI int      `json:"rx_irqs_outside_dpi_cpus"`
	OnePerDPICPU     bool     `json:"one_queue_per_dpi_cpu"`
	Differences      []string `json:"differences"`
	Gated            *bool    `json:"gated"`
	QueueIRQs        []struct {
		IRQ   int    `json:"irq"`
		Queue int    `json:"queue"`
		CPUs  string `json:"cpus"`
	} `json:"queue_irqs"`
	Channels struct {
		Setting string `json:"setting"`
		State   string `json:"state"`
		Wanted  int    `json:"wanted"`
		Error   string `json:"error"`
	} `json:"channels"`
}

func statusCapture(t *testing.T, root string) (*captureJSON, bool) {
	t.Helper()
	var doc struct {
		CoreGated bool         `json:"core_gated"`
		Capture   *captureJSON `json:"capture_interface"`
	}
	out := tuner(t, root, "status", "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return doc.Capture, doc.CoreGated
}

// metricsFile writes the metrics through status --write-metrics and
// returns the textfile.
func metricsFile(t *testing.T, root string) string {
	t.Helper()
	tuner(t, root, "status", "--write-metrics")
	b, err := os.ReadFile(filepath.Join(root, "/var/lib/prometheus/node-exporter/ransomeye_tuner.prom"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCaptureInterfaceMissingIsReported: DPIInterface=ens1f0 on a machine
// without it is said in status (text and JSON), the metrics and plan, not
// only in one INFO line of plan; it is reported, never gated.
func TestCaptureInterfaceMissingIsReported(t *testing.T) {
	root := captureRoot(t, "[CPU]\nDPIInterface=ens1f0\n", 0)
	c, _ := statusCapture(t, root)
	switch {
	case c == nil:
		t.Fatal("status --json has no capture_interface section")
	case c.Present == nil || *c.Present:
		t.Errorf("present = %v, want false", c.Present)
	case !strings.Contains(c.Missing, `no network interface "ens1f0"`):
		t.Errorf("missing = %q", c.Missing)
	case len(c.Differences) != 1 || !strings.Contains(c.Differences[0], "DPIInterface="):
		t.Errorf("differences = %q, want one naming the remedy", c.Differences)
	case c.Gated == nil || *c.Gated:
		t.Errorf("gated = %v, want false", c.Gated)
	}
	if text := tuner(t, root, "status"); !strings.Contains(text, "ens1f0: NOT PRESENT") {
		t.Errorf("status text does not say the interface is missing:\n%s", text)
	}
	m := metricsFile(t, root)
	for _, want := range []string{`ransomeye_tuner_capture_interface_present{interface="ens1f0"} 0`, `ransomeye_tuner_capture_differences{interface="ens1f0"} 1`} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "ransomeye_tuner_capture_rx_queues{") {
		t.Errorf("metrics have a queue count for a missing interface")
	}
	if p := tuner(t, root, "plan"); !strings.Contains(p, "capture interface: ens1f0 NOT PRESENT") {
		t.Errorf("plan does not say the interface is missing:\n%s", p)
	}
}

// TestCaptureQueuesAgainstDPICPUs: an ice NIC with two queues, placed
// (queue 0 on CPU 4, queue 1 on 5): one queue per DPI CPU, nothing
// differs; with four queues, two DPI CPUs take two queues each and the
// difference names them, in the JSON and the metrics.
func TestCaptureQueuesAgainstDPICPUs(t *testing.T) {
	for _, c := range []struct {
		queues  int
		one     bool
		differs string
	}{
		{2, true, ""},
		{4, false, "DPI CPU 4 takes the interrupts of receive queues 0, 2"},
	} {
		t.Run(fmt.Sprint(c.queues), func(t *testing.T) {
			root := captureRoot(t, "[CPU]\nDPIInterface=ens1f0\n", c.queues)
			before, _ := statusCapture(t, root)
			if before == nil || before.RxIRQsOutsideDPI != c.queues {
				t.Fatalf("before placement: %+v, want %d receive interrupts outside the DPI CPUs", before, c.queues)
			}
			tuner(t, root, "place")
			got, gated := statusCapture(t, root)
			if got.Present == nil || !*got.Present || got.Driver != "ice" || got.Device != "0000:3b:00.0" || got.NUMANode == nil || *got.NUMANode != 0 {
				t.Errorf("interface: %+v", got)
			}
			if got.RxQueues != c.queues || got.DPICPUs != "4-5" || !got.Steering || got.RxIRQCPUs != "4-5" || got.RxIRQsOutsideDPI != 0 {
				t.Errorf("queues: %+v", got)
			}
			if got.OnePerDPICPU != c.one {
				t.Errorf("one_queue_per_dpi_cpu = %v, want %v (differences %q)", got.OnePerDPICPU, c.one, got.Differences)
			}
			if c.differs == "" && len(got.Differences) > 0 || c.differs != "" && !strings.Contains(strings.Join(got.Differences, "\n"), c.differs) {
				t.Errorf("differences %q, want %q", got.Differences, c.differs)
			}
			if got.Channels.Setting != "off" || got.Channels.State != "off" || !strings.Contains(got.Channels.Error, "root prefix") {
				t.Errorf("channels: %+v", got.Channels)
			}
			_ = gated
			m := metricsFile(t, root)
			for _, want := range []string{
				`ransomeye_tuner_capture_interface_present{interface="ens1f0"} 1`,
				fmt.Sprintf(`ransomeye_tuner_capture_rx_queues{interface="ens1f0"} %d`, c.queues),
				`ransomeye_tuner_capture_rx_irqs_outside_dpi_cpus{interface="ens1f0"} 0`,
				fmt.Sprintf(`ransomeye_tuner_capture_one_queue_per_dpi_cpu{interface="ens1f0"} %d`, map[bool]int{false: 0, true: 1}[c.one]),
			} {
				if !strings.Contains(m, want+"\n") {
					t.Errorf("metrics lack %q", want)
				}
			}
			text := tuner(t, root, "status")
			if !strings.Contains(text, "ens1f0: ice, 0000:3b:00.0, NUMA node 0 (reported, not gated)") {
				t.Errorf("status text lacks the capture interface row:\n%s", text)
			}
		})
	}
}

// TestCaptureChannelsFromARealDriver runs status --json and plan on the
// host root inside a network namespace of the test's own holding a veth
// pair (testkit/netns), with a tmpfs over /etc in the child's own mount
// namespace for the configuration: the binary asks a real driver for the
// channels and offloads. This 2-CPU machine makes no reservation, so
// nothing is wanted of them (no_dpi_cpus); status and plan write nothing.
func TestCaptureChannelsFromARealDriver(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 4}) {
		return
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "mode=0755", "ransomeye-test-etc", "/etc").CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs over /etc in the child's mount namespace: %v: %s", err, out)
	}
	if err := os.MkdirAll("/etc/ransomeye", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/etc/ransomeye/tuner.conf", []byte("[CPU]\nDPIInterface=rtva\nDPIChannels=auto\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Capture struct {
			Present  bool `json:"present"`
			RxQueues int  `json:"rx_queues"`
			Channels struct {
				State  string `json:"state"`
				Counts *struct {
					MaxRx int `json:"max_rx"`
					Rx    int `json:"rx"`
				} `json:"counts"`
				Error string `json:"error"`
			} `json:"channels"`
			Offloads []struct {
				Name  string `json:"name"`
				Fixed bool   `json:"fixed"`
			} `json:"offloads"`
		} `json:"capture_interface"`
	}
	out := tuner(t, "/", "status", "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	c := doc.Capture
	if !c.Present || c.RxQueues != 4 || c.Channels.Counts == nil || c.Channels.Counts.MaxRx != 4 || c.Channels.Counts.Rx != 4 {
		t.Errorf("capture interface from a real veth: %+v (channels %+v)\n%s", c, c.Channels.Counts, out)
	}
	if c.Channels.State != "no_dpi_cpus" && c.Channels.State != "change" {
		t.Errorf("channels state %q", c.Channels.State)
	}
	if len(c.Offloads) != 3 || c.Offloads[1].Name != "rx-lro" || !c.Offloads[1].Fixed {
		t.Errorf("offloads %+v", c.Offloads)
	}
	if p := tuner(t, "/", "plan"); !strings.Contains(p, "channels: combined 0 (max 0), rx 4 (max 4), tx 4 (max 4)") {
		t.Errorf("plan does not show the driver's channels:\n%s", p)
	}
}
