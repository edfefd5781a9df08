package facts

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/ethtool"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

// CaptureFeatures are the offload features reported for the capture
// interface, those that merge packets before an engine sees them; reported
// only, as the engines set them themselves.
var CaptureFeatures = []string{"rx-gro", "rx-lro", "rx-gro-hw"}

// Capture is the capture interface ([CPU] DPIInterface=) as the machine
// shows it; only Name is set when it was not read.
type Capture struct {
	// Name is the interface ("" for none configured).
	Name string
	Read bool
	// Present: /sys/class/net/NAME exists; Missing says why not.
	Present bool
	Missing string
	// Ifindex is the kernel's index: a device probed again, or another
	// given the name, gets a new one.
	Ifindex int
	// Device is the device directory's name ("0000:3b:00.0"), Driver its
	// driver's; both "" for a virtual interface.
	Device, Driver string
	// Node is the device's NUMA node (-1: none or unknown).
	Node int
	// RxQueues and TxQueues count queues/rx-N and queues/tx-N.
	RxQueues, TxQueues int
	// Channels are the driver's channel counts (ChannelsErr: not read;
	// ErrNotHost under a root prefix, EOPNOTSUPP without them).
	Channels    ethtool.Channels
	ChannelsErr error
	// Features are CaptureFeatures as the driver reports them.
	Features    []ethtool.Feature
	FeaturesErr error
	// EngineRunning: the DPI service has a process other than this one
	// (read with DPIChannels= set: a channel change resets the NIC, not
	// under a running engine); EngineErr: not readable.
	EngineRunning bool
	EngineErr     string
}

// readCapture reads the capture interface, when one is configured.
func (f *Facts) readCapture() {
	c := &f.Capture
	c.Name, c.Node = f.Config.DPIInterface, -1
	if c.Name == "" {
		return
	}
	c.Read = true
	dir := "/sys/class/net/" + c.Name
	if _, err := os.Stat(f.Root.Path(dir)); err != nil {
		c.Missing = fmt.Sprintf("no network interface %q on this machine (%s does not exist)", c.Name, dir)
		if !Missing(err) {
			c.Missing = fmt.Sprintf("network interface %q cannot be read: %v", c.Name, err)
		}
		return
	}
	c.Present = true
	c.Ifindex, _ = placement.Ifindex(f.Root, c.Name)
	if dev, err := filepath.EvalSymlinks(f.Root.Path(dir + "/device")); err == nil && strings.HasPrefix(dev, f.Root.Path("/")) {
		c.Device = filepath.Base(dev)
		if drv, err := os.Readlink(filepath.Join(dev, "driver")); err == nil {
			c.Driver = filepath.Base(drv)
		}
		if v, err := f.nicNumaNode(); err == nil && v >= 0 {
			c.Node = v
		}
	}
	if entries, err := os.ReadDir(f.Root.Path(dir + "/queues")); err == nil {
		for _, e := range entries {
			switch {
			case strings.HasPrefix(e.Name(), "rx-"):
				c.RxQueues++
			case strings.HasPrefix(e.Name(), "tx-"):
				c.TxQueues++
			}
		}
	}
	if !f.Root.IsHost() {
		c.ChannelsErr, c.FeaturesErr = ethtool.ErrNotHost, ethtool.ErrNotHost
	} else {
		c.Channels, c.ChannelsErr = ethtool.GetChannels(c.Name)
		c.Features, c.FeaturesErr = ethtool.GetFeatures(c.Name, CaptureFeatures...)
	}
	// Whether the engine runs matters to changing channels or giving back.
	if f.Config.DPIChannels != config.ChannelsOff || (f.Placement.Record != nil && f.Placement.Record.Channels != nil) {
		for _, r := range roles.Table {
			if r.Capture {
				c.EngineRunning, c.EngineErr = unitRunning(f.Root, f.Config.Units[r.Name])
				break
			}
		}
	}
}

// nicNumaNode is what the capture interface's numa_node holds: as the
// topology read it, when it did.
func (f *Facts) nicNumaNode() (int, error) {
	if t := f.Topology; t.NICNumaRead && t.NIC == f.Capture.Name {
		return t.NICNumaNode, t.NICNumaErr
	}
	return readInt(f.Root, "/sys/class/net/"+f.Capture.Name+"/device/numa_node")
}

// readInt reads a sysfs file holding one integer.
func readInt(root hostroot.Root, p string) (int, error) {
	b, err := readfile.Regular(root.Path(p), 4096)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// unitRunning reports whether unit has a process other than this one (a
// DPI engine's ExecStartPre= running place is in its cgroup already), by
// each process's /proc/PID/cgroup.
func unitRunning(root hostroot.Root, unit string) (bool, string) {
	pids, err := os.ReadDir(root.Path("/proc"))
	if err != nil {
		return false, fmt.Sprintf("read %q: %v", "/proc", err)
	}
	self := ""
	if root.IsHost() {
		self = strconv.Itoa(os.Getpid())
	}
	for _, pe := range pids {
		if _, err := strconv.Atoi(pe.Name()); err != nil || pe.Name() == self {
			continue
		}
		if u, ok := unitOf(root, "/proc/"+pe.Name()+"/cgroup"); ok && u == unit {
			return true, ""
		}
	}
	return false, ""
}

// RereadCapture reads the capture interface and the interrupts again: after
// a channel change the driver requested its queue interrupts anew.
func (f *Facts) RereadCapture() {
	f.Capture = Capture{}
	f.readCapture()
	if f.Placement.Read {
		f.Placement.IRQ, f.Placement.IRQErr = irq.Read(f.Root, f.Config.DPIInterface)
	}
}
