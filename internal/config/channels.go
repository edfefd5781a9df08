package config

import (
	"fmt"
	"strconv"
)

// The values of [CPU] DPIChannels= besides a count.
const (
	// ChannelsOff leaves the capture NIC's channel count as it is (the
	// default): changing it resets the NIC.
	ChannelsOff = 0
	// ChannelsAuto gives the capture NIC one receive channel per DPI CPU.
	ChannelsAuto = -1
	// MaxChannels bounds a count: more than any NIC has, and a typo.
	MaxChannels = 4096
)

// ParseChannels parses a [CPU] DPIChannels= value: "off" (or empty, the
// default), "auto", or a count from 1 to MaxChannels.
func ParseChannels(v string) (int, error) {
	switch v {
	case "", "off", "no":
		return ChannelsOff, nil
	case "auto":
		return ChannelsAuto, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxChannels {
		return 0, fmt.Errorf("%q: want \"off\", \"auto\" (one receive channel per DPI CPU) or a channel count from 1 to %d", v, MaxChannels)
	}
	return n, nil
}

// ChannelsString spells a DPIChannels value as the configuration does.
func ChannelsString(n int) string {
	switch n {
	case ChannelsOff:
		return "off"
	case ChannelsAuto:
		return "auto"
	}
	return strconv.Itoa(n)
}
