package swapfile

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/swap"
)

// TestKernelPages: the pages swapon takes from a file's extents, the way
// iomap_swapfile_activate counts them.
func TestKernelPages(t *testing.T) {
	const ps = 4096
	const k = 1024
	// The extents filefrag showed for a 64 MiB fallocated file on ext4 with
	// 1 KiB blocks (blocks, 1 KiB each); swapon then gave 65512 KiB, that is
	// 16379 pages with the header page.
	ext1k := []Extent{
		{0, 16385 * k, 8192 * k},
		{8192 * k, 26625 * k, 14336 * k},
		{22528 * k, 43009 * k, 14336 * k},
		{36864 * k, 59393 * k, 14336 * k},
		{51200 * k, 75777 * k, 14336 * k},
	}
	for _, tc := range []struct {
		name     string
		ext      []Extent
		size     int64
		maxPages int64
		want     int64
	}{
		{"1 KiB blocks, as swapon counted", ext1k, 64 << 20, 16384, 16379},
		{"aligned, one extent", []Extent{{0, 1 << 20, 64 << 20}}, 64 << 20, 16384, 16384},
		{"aligned, contiguous extents merge", []Extent{{0, 1 << 20, 1 << 20}, {1 << 20, 2 << 20, 1 << 20}}, 2 << 20, 512, 512},
		// Two misaligned halves that follow each other on the device are one run:
		// only its ends are rounded.
		{"misaligned but contiguous", []Extent{{0, 1025, 4096}, {4096, 1025 + 4096, 4096 * 3}}, 4 * 4096, 4, 3},
		{"header shorter than the file", []Extent{{0, 0, 64 << 20}}, 64 << 20, 4096, 4096},
		{"a hole", []Extent{{0, 0, 4096}, {8192, 8192, 4096}}, 3 * 4096, 3, 0},
		{"extents short of the size (a hole at the end)", []Extent{{0, 0, 4096}}, 2 * 4096, 2, 0},
		{"tail past the last page ignored", []Extent{{0, 0, 3*4096 + 100}}, 3*4096 + 100, 3, 3},
		{"no extents", nil, 4096, 1, 0},
	} {
		if got := KernelPages(tc.ext, tc.size, ps, tc.maxPages); got != tc.want {
			t.Errorf("%s: KernelPages = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestDecideUsable: a swap area whose extents give the kernel less than the
// target is replaced when inactive, refused with the remedy when active.
func TestDecideUsable(t *testing.T) {
	const target = 64 << 20
	e := Existing{Path: "/ransomeye/swap", Kind: Regular, Size: target, Allocated: target, Perm: 0o600,
		Header: Header{Swap: true, Version: 1, LastPage: target/4096 - 1, Label: "ransomeye-swap"},
		Area:   target, Usable: 16379 * 4096, UsableKnown: true}
	d := Decide(e, target, false, false, "ransomeye-swap", "ransomeye-swap.swap")
	if d.Action != swap.Replace || !strings.Contains(d.Reason, "extents give the kernel only") {
		t.Errorf("inactive: %+v", d)
	}
	d = Decide(e, target, true, false, "ransomeye-swap", "ransomeye-swap.swap")
	if d.Action != swap.Refuse || !strings.Contains(d.Reason, "swapoff") {
		t.Errorf("active: %+v", d)
	}
	e.Usable = target
	if d := Decide(e, target, false, false, "ransomeye-swap", "ransomeye-swap.swap"); d.Action != swap.Keep {
		t.Errorf("usable in full: %+v", d)
	}
}
