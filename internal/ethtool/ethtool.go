// Package ethtool asks a network device's driver for its channel counts and
// offload features, and sets its combined channel count, through the
// SIOCETHTOOL ioctl: in every supported kernel (netlink only from 5.6), on
// an AF_UNIX socket (the kernel hands the ioctl to the device, so
// RestrictAddressFamilies=AF_UNIX still allows it), in the caller's network
// namespace. Reading needs no privilege; setting needs CAP_NET_ADMIN.
package ethtool

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNotHost is why a run under a root prefix does not ask a driver: the
// ioctl reaches this machine's network devices, not those of a tree.
var ErrNotHost = errors.New("the NIC's driver is asked only on the host root, not under a root prefix")

// Channels are a device's channel counts (struct ethtool_channels): each
// kind's maximum and count in use; a combined channel is a receive and a
// transmit queue sharing one interrupt.
type Channels struct {
	MaxRx       uint32 `json:"max_rx"`
	MaxTx       uint32 `json:"max_tx"`
	MaxOther    uint32 `json:"max_other"`
	MaxCombined uint32 `json:"max_combined"`
	Rx          uint32 `json:"rx"`
	Tx          uint32 `json:"tx"`
	Other       uint32 `json:"other"`
	Combined    uint32 `json:"combined"`
}

// ethtoolChannels is struct ethtool_channels.
type ethtoolChannels struct {
	cmd                                 uint32
	maxRx, maxTx, maxOther, maxCombined uint32
	rx, tx, other, combined             uint32
}

// ifreq is struct ifreq, its union holding ifr_data (40 bytes on 64-bit).
type ifreq struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// call runs one SIOCETHTOOL command on the device name, data its structure.
func call(name string, data unsafe.Pointer) error {
	if len(name) == 0 || len(name) >= unix.IFNAMSIZ {
		return fmt.Errorf("%q is not a network interface name", name)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for the ethtool ioctl: %w", err)
	}
	defer unix.Close(fd)
	var ifr ifreq
	copy(ifr.name[:], name)
	ifr.data = data
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	runtime.KeepAlive(&ifr)
	if errno != 0 {
		return errno
	}
	return nil
}

// GetChannels reads the device's channel counts (ETHTOOL_GCHANNELS); a
// driver without it gives an error wrapping unix.EOPNOTSUPP.
func GetChannels(name string) (Channels, error) {
	c := ethtoolChannels{cmd: unix.ETHTOOL_GCHANNELS}
	if err := call(name, unsafe.Pointer(&c)); err != nil {
		return Channels{}, fmt.Errorf("read the channels of %q: %w", name, err)
	}
	return Channels{MaxRx: c.maxRx, MaxTx: c.maxTx, MaxOther: c.maxOther, MaxCombined: c.maxCombined,
		Rx: c.rx, Tx: c.tx, Other: c.other, Combined: c.combined}, nil
}

// SetChannels sets the device's channel counts (ETHTOOL_SCHANNELS, maxima
// ignored), as `ethtool -L`: the driver resets the queues, traffic stops a
// moment and the queue interrupts are requested anew.
func SetChannels(name string, c Channels) error {
	s := ethtoolChannels{cmd: unix.ETHTOOL_SCHANNELS, rx: c.Rx, tx: c.Tx, other: c.Other, combined: c.Combined}
	if err := call(name, unsafe.Pointer(&s)); err != nil {
		return fmt.Errorf("set the channels of %q (combined %d, rx %d, tx %d, other %d): %w", name, c.Combined, c.Rx, c.Tx, c.Other, err)
	}
	return nil
}

// Feature is one offload feature (ETHTOOL_GFEATURES): Active is what the
// device does now; Fixed, that the driver does not let it change.
type Feature struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Fixed  bool   `json:"fixed,omitempty"`
}

// The structures of ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS and
// ETHTOOL_GFEATURES (linux/ethtool.h).
const (
	ssFeatures   = 4  // ETH_SS_FEATURES
	gstringLen   = 32 // ETH_GSTRING_LEN
	maxFeatures  = 1024
	featureWords = (maxFeatures + 31) / 32
)

type ssetInfo struct {
	cmd      uint32
	reserved uint32
	mask     uint64
	data     [1]uint32
}

type gstrings struct {
	cmd, set, len uint32
	data          [maxFeatures * gstringLen]byte
}

type featuresBlock struct{ available, requested, active, neverChanged uint32 }

type gfeatures struct {
	cmd, size uint32
	blocks    [featureWords]featuresBlock
}

// GetFeatures reads the device's offload features named in names (as
// `ethtool -k` prints them); one the kernel does not know is absent.
func GetFeatures(name string, names ...string) ([]Feature, error) {
	si := ssetInfo{cmd: unix.ETHTOOL_GSSET_INFO, mask: 1 << ssFeatures}
	if err := call(name, unsafe.Pointer(&si)); err != nil {
		return nil, fmt.Errorf("read the feature names of %q: %w", name, err)
	}
	n := si.data[0]
	if si.mask&(1<<ssFeatures) == 0 || n == 0 {
		return nil, fmt.Errorf("read the feature names of %q: %w", name, unix.EOPNOTSUPP)
	}
	if n > maxFeatures {
		return nil, fmt.Errorf("%q: %d features, more than the %d read", name, n, maxFeatures)
	}
	gs := &gstrings{cmd: unix.ETHTOOL_GSTRINGS, set: ssFeatures, len: n}
	if err := call(name, unsafe.Pointer(gs)); err != nil {
		return nil, fmt.Errorf("read the feature names of %q: %w", name, err)
	}
	gf := &gfeatures{cmd: unix.ETHTOOL_GFEATURES, size: featureWords}
	if err := call(name, unsafe.Pointer(gf)); err != nil {
		return nil, fmt.Errorf("read the features of %q: %w", name, err)
	}
	index := map[string]uint32{}
	for i := uint32(0); i < n && i < gs.len; i++ {
		s := gs.data[i*gstringLen : (i+1)*gstringLen]
		end := 0
		for end < len(s) && s[end] != 0 {
			end++
		}
		index[string(s[:end])] = i
	}
	var out []Feature
	for _, want := range names {
		i, ok := index[want]
		if !ok {
			continue
		}
		b, bit := gf.blocks[i/32], uint32(1)<<(i%32)
		out = append(out, Feature{Name: want, Active: b.active&bit != 0,
			Fixed: b.available&bit == 0 || b.neverChanged&bit != 0})
	}
	return out, nil
}

// Refusal says why the driver or the kernel refused a channel change.
func Refusal(err error) string {
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		return "the driver cannot change its channel count (EOPNOTSUPP)"
	case errors.Is(err, unix.EINVAL):
		return "the driver refuses that channel count (EINVAL: above its maximum, a kind of channel it does not have, or fewer queues than its RSS indirection table or an AF_XDP socket uses)"
	case errors.Is(err, unix.EBUSY):
		return "the device is busy (EBUSY: an XDP program, a traffic-class setup or a firmware operation holds its queues)"
	case errors.Is(err, unix.EPERM):
		return "not permitted (EPERM: changing channels needs CAP_NET_ADMIN)"
	case errors.Is(err, unix.ENODEV):
		return "no such device (ENODEV)"
	}
	return err.Error()
}
