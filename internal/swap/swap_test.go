package swap

import (
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
)

const gib = int64(1) << 30

// TestTarget: max(MinSize, MemTotal), rounded up to a whole page.
func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		min, mem int64
		page     int
		want     int64
	}{
		{16 * gib, 4 * gib, 4096, 16 * gib},
		{16 * gib, 32 * gib, 4096, 32 * gib},
		{16 * gib, 16 * gib, 4096, 16 * gib},
		{16 * gib, 24*gib + 1, 4096, 24*gib + 4096},
		{16 * gib, 24*gib + 4095, 4096, 24*gib + 4096},
		{16 * gib, 24*gib + 100, 65536, 24*gib + 65536},
		{1<<20 + 1, 0, 4096, 1<<20 + 4096},
		{16 * gib, 4 * gib, 0, 16 * gib},
	} {
		if got := NewTarget(tc.min, procfs.Meminfo{MemTotal: tc.mem}, nil, tc.page).Bytes; got != tc.want {
			t.Errorf("NewTarget(%d, %d, %d) = %d, want %d", tc.min, tc.mem, tc.page, got, tc.want)
		}
	}
}
