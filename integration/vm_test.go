package integration

import "testing"

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
