package facts

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
	"github.com/ransomeye/ransomeye-tuner/testkit/netns"
)

// fakeFS writes files (path -> content) and links (path -> target) under
// a new root: a fake of sysfs and /proc, as regular files and links.
func fakeFS(t *testing.T, files, links map[string]string) hostroot.Root {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	return hostroot.Root(root)
}

// iceNIC is an ice NIC ens1f0 on NUMA node 1 with three receive and
// three transmit queues, as sysfs lays it out.
func iceNIC() (files, links map[string]string) {
	n := fakesys.IceNIC(1, 3)
	n.Ifindex = 7
	return n.Files(), n.Links()
}

func readCaptureOf(root hostroot.Root, nic string, channels int) Capture {
	f := &Facts{Root: root, Config: config.Default()}
	f.Config.DPIInterface, f.Config.DPIChannels = nic, channels
	f.readCapture()
	return f.Capture
}

// TestCaptureFromSysfs: the capture interface's driver, device, NUMA node,
// index and queues from a fake sysfs; under a root prefix its driver is
// not asked (ErrNotHost), never guessed.
func TestCaptureFromSysfs(t *testing.T) {
	files, links := iceNIC()
	c := readCaptureOf(fakeFS(t, files, links), "ens1f0", config.ChannelsOff)
	want := Capture{Name: "ens1f0", Read: true, Present: true, Ifindex: 7, Device: "0000:3b:00.0", Driver: "ice", Node: 1, RxQueues: 3, TxQueues: 3}
	if !errors.Is(c.ChannelsErr, ethtool.ErrNotHost) || !errors.Is(c.FeaturesErr, ethtool.ErrNotHost) {
		t.Errorf("under a root prefix: channels %v, features %v, want ErrNotHost", c.ChannelsErr, c.FeaturesErr)
	}
	c.ChannelsErr, c.FeaturesErr = nil, nil
	if c.Name != want.Name || c.Read != want.Read || c.Present != want.Present || c.Ifindex != want.Ifindex || c.Device != want.Device ||
		c.Driver != want.Driver || c.Node != want.Node || c.RxQueues != want.RxQueues || c.TxQueues != want.TxQueues {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

// TestCaptureMissing: an interface the machine does not have is read as
// missing, with the path that says so; none configured is not read.
func TestCaptureMissing(t *testing.T) {
	files, links := iceNIC()
	root := fakeFS(t, files, links)
	c := readCaptureOf(root, "ens9f0", config.ChannelsOff)
	if !c.Read || c.Present || c.Missing != `no network interface "ens9f0" on this machine (/sys/class/net/ens9f0 does not exist)` || c.Node != -1 {
		t.Errorf("missing interface: %+v", c)
	}
	if c := readCaptureOf(root, "", config.ChannelsOff); c.Read {
		t.Errorf("no interface configured, yet read: %+v", c)
	}
}

// TestCaptureEngineRunning: with DPIChannels= set, whether the DPI service
// has a process is read from each /proc/PID/cgroup, whichever hierarchy
// and slice (cgroup v2 in its own slice, v1's named systemd hierarchy);
// with off it is not read at all.
func TestCaptureEngineRunning(t *testing.T) {
	for _, c := range []struct {
		name     string
		cgroup   string
		channels int
		running  bool
	}{
		{"v2, its slice", "0::/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service\n", config.ChannelsAuto, true},
		{"v1", "12:cpuset:/\n1:name=systemd:/system.slice/ransomeye-dpi.service\n", config.ChannelsAuto, true},
		{"another unit", "0::/system.slice/cron.service\n", config.ChannelsAuto, false},
		{"off", "0::/ransomeye.slice/ransomeye-dpi.slice/ransomeye-dpi.service\n", config.ChannelsOff, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			files, links := iceNIC()
			files["/proc/1/cgroup"] = "0::/init.scope\n"
			files["/proc/812/cgroup"] = c.cgroup
			got := readCaptureOf(fakeFS(t, files, links), "ens1f0", c.channels)
			if got.EngineRunning != c.running || got.EngineErr != "" {
				t.Errorf("engine running %v (%s), want %v", got.EngineRunning, got.EngineErr, c.running)
			}
		})
	}
}

// TestCaptureOnVeth reads a real interface on the host root: a veth in a
// network namespace of the test's own. It is virtual (no device, no
// driver), its channels and offloads come from its driver.
func TestCaptureOnVeth(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 3}) {
		return
	}
	c := readCaptureOf("/", "rtva", config.ChannelsOff)
	if !c.Present || c.Device != "" || c.Ifindex == 0 || c.RxQueues != 3 || c.TxQueues != 3 {
		t.Errorf("veth: %+v", c)
	}
	if c.ChannelsErr != nil || c.Channels.MaxRx != 3 || c.Channels.Rx != 3 {
		t.Errorf("channels %+v, %v", c.Channels, c.ChannelsErr)
	}
	if c.FeaturesErr != nil || len(c.Features) != len(CaptureFeatures) {
		t.Errorf("features %+v, %v", c.Features, c.FeaturesErr)
	}
}
