package integration

import (
	"testing"
	"time"
)

func TestKernelHung(t *testing.T) {
	tests := []struct {
		name, console string
		want          bool
	}{
		{"stall before init", "[    2.58] Initialise system trusted keyrings\n[   28.61] rcu: INFO: rcu_preempt self-detected stall on CPU\n", true},
		{"soft lockup before init", "[   30.0] watchdog: BUG: soft lockup - CPU#3 stuck for 22s!\n", true},
		{"stall after init started", "[    3.1] Run /sbin/init as init process\n[   60.0] rcu: INFO: rcu_preempt self-detected stall on CPU\n", true},
		{"lockup once systemd runs", "[    4.0] systemd[1]: Started foo.\n[   37.6] watchdog: BUG: soft lockup - CPU#5 stuck for 27s! [jbd2/nvme0n1-8:127]\n", true},
		{"booting", "[    1.0] Linux version 6.1.0\n", false},
	}
	for _, tc := range tests {
		if got := kernelHung(tc.console); got != tc.want {
			t.Errorf("%s: kernelHung = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSilentBeforeInit: a console that stopped before init for longer than
// initSilence is a stalled boot; a short pause, or any silence once init
// runs (a case may wait quietly), is not.
func TestSilentBeforeInit(t *testing.T) {
	early := "[    2.35] sched_clock: Marking stable\n"
	started := early + "[    3.58] Run /sbin/init as init process\n"
	tests := []struct {
		name    string
		console string
		quiet   time.Duration
		want    bool
	}{
		{"frozen in the kernel's start-up", early, initSilence + time.Second, true},
		{"a pause in the kernel's start-up", early, 30 * time.Second, false},
		{"quiet once init runs", started, 10 * initSilence, false},
		{"nothing printed yet, briefly", "", 10 * time.Second, false},
	}
	for _, tc := range tests {
		if got := silentBeforeInit(tc.console, tc.quiet); got != tc.want {
			t.Errorf("%s: silentBeforeInit = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestUDPFrame: the frames fed into a case's tap are IPv4 UDP datagrams
// unicast to the guest's MAC, whose header checksum verifies (the guest
// drops others before they reach its stack, and answers no broadcast).
func TestUDPFrame(t *testing.T) {
	f := udpFrame(40003)
	if len(f) != 14+20+12 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17 || f[0] != 0x52 || f[5] != 0x56 || f[11] != 0x01 {
		t.Fatalf("frame % x", f)
	}
	var sum uint32
	for i := 14; i < 34; i += 2 {
		sum += uint32(f[i])<<8 | uint32(f[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Errorf("IPv4 header checksum does not verify: %#x", sum)
	}
	if sport := int(f[34])<<8 | int(f[35]); sport != 40003 {
		t.Errorf("source port %d", sport)
	}
}
