package main_test

// Black-box tests of the swapfile's life after install: an mkswap in a root
// shell's $PATH.

import (
	"os"
	"path/filepath"
	"testing"
)

// TestActivateRunsSystemMkswap: a root shell keeps a user's $PATH (su
// without "-", sudo -E), and activate ran the first mkswap there, as root,
// on the swapfile's descriptor. It must run the system's; an override
// (the tests' fault injection) is taken only for a root-owned file no one
// else can write.
func TestActivateRunsSystemMkswap(t *testing.T) {
	needRoot(t)
	userBin := t.TempDir()
	os.Chmod(userBin, 0o755)
	witness := filepath.Join(userBin, "ran")
	fake := filepath.Join(userBin, "mkswap")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ntouch "+witness+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(fake, 1000, 1000); err != nil { // the user's
		t.Fatal(err)
	}
	t.Run("PATH", func(t *testing.T) {
		r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
		succeeded(t, r, run(t, r, []string{"PATH=" + userBin + ":" + os.Getenv("PATH")}, "activate"))
		if _, err := os.Stat(witness); err == nil {
			t.Error("the user's mkswap in $PATH ran as root")
		}
		checkSwapfile(t, r.path("ransomeye/swap"), 64*mib)
	})
	t.Run("override not root's", func(t *testing.T) {
		r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
		failedClosed(t, r, run(t, r, []string{"RANSOMEYE_TUNER_TEST_MKSWAP=" + fake}, "activate"), "RANSOMEYE_TUNER_TEST_MKSWAP", "not owned by root")
		if _, err := os.Stat(witness); err == nil {
			t.Error("an override owned by a user ran as root")
		}
	})
}
