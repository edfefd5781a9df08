package main_test

// Swap areas the kernel would shorten or refuse, inactive at boot
// (fault-matrix row 16).

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestFaultSwapHeaderShorterThanFile is fault-matrix row 16 (fixed: the
// header's area counts, not the file's size): the same short swap area as
// TestFaultSwapActiveButInsufficient, inactive (at boot, before swapon).
// activate must not keep it as providing the target: it replaces it (it is
// a swap area, not data) so that the kernel gives the file its full size,
// or refuses it with the reason.
func TestFaultSwapHeaderShorterThanFile(t *testing.T) {
	needRoot(t)
	r := smallRoot(t)
	sw := r.path("ransomeye/swap")
	makeSwapArea(t, sw, "64M", []string{"-L", "ransomeye-swap"}, "16384")
	res := runAct(t, r, nil, nil, "activate")
	if res.code != 0 {
		failedClosed(t, r, res, "/ransomeye/swap")
		return
	}
	checkSwapfile(t, sw, 64*mib)
	if got := kernelSwapSize(t, sw); got < 64*mib-int64(os.Getpagesize()) {
		t.Errorf("activate kept a swapfile the kernel gives %d bytes of the %d target:\n%s", got, 64*mib, res.stderr)
	}
}

// TestFaultSwapHeaderListsBadPages (row 16): the kernel refuses a swapfile
// whose header lists bad pages (mm/swapfile.c: EINVAL, nothing logged), so
// activate must not keep one as providing the target. It replaces it, and
// the real swapon then takes the new file at its full size.
func TestFaultSwapHeaderListsBadPages(t *testing.T) {
	needRoot(t)
	r := smallRoot(t)
	sw := r.path("ransomeye/swap")
	makeSwapArea(t, sw, "64M", []string{"-L", "ransomeye-swap"})
	// struct swap_header: bootbits[1024], version, last_page, nr_badpages (u32 at 1032).
	f, err := os.OpenFile(sw, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{1, 0, 0, 0}, 1032); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := exec.Command("swapon", sw).Run(); err == nil {
		exec.Command("swapoff", sw).Run()
		t.Fatal("the kernel took a swapfile listing a bad page: the premise of this test is wrong")
	}
	res := runAct(t, r, nil, nil, "activate")
	if res.code != 0 || !strings.Contains(res.stderr, "bad pages") {
		t.Fatalf("activate: exit %d; want a replacement that names the bad pages\n%s", res.code, res.stderr)
	}
	checkSwapfile(t, sw, 64*mib)
	if got := kernelSwapSize(t, sw); got < 64*mib-int64(os.Getpagesize()) {
		t.Errorf("the kernel gives the replaced swapfile %d bytes of the %d target", got, 64*mib)
	}
}
