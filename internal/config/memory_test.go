package config

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

// TestMemoryDefaults: the roles table's [Memory] defaults parse, and are
// the documented ones: the core's protection half of RAM, training's
// ceiling a quarter of RAM and of the swap target, DPI no swap, the rest
// off.
func TestMemoryDefaults(t *testing.T) {
	c := Default()
	want := map[string]map[string]string{
		"core":     {MemMin: "off", MemLow: "50%", MemHigh: "off", MemSwapMax: "off"},
		"dpi":      {MemMin: "off", MemLow: "off", MemHigh: "off", MemSwapMax: "0"},
		"training": {MemMin: "off", MemLow: "off", MemHigh: "25%", MemSwapMax: "25%"},
	}
	for _, r := range roles.Table {
		for _, s := range MemorySettings {
			if got := c.Memory[r.Name][s].String(); got != want[r.Name][s] {
				t.Errorf("%s = %s, want %s", r.MemoryKey(s), got, want[r.Name][s])
			}
		}
	}
}

// TestParseMemory: each setting takes a size, a share of RAM (or of the
// swap target) or off; an empty value restores the default; a protection
// of 0 is off.
func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		text, role, setting string
		want                Amount
	}{
		{"[Memory]\nCoreLow=8G\n", "core", MemLow, Amount{On: true, Bytes: 8 << 30, Text: "8G"}},
		{"[Memory]\nCoreLow=12.5%\n", "core", MemLow, Amount{On: true, Permyriad: 1250, Text: "12.5%"}},
		{"[Memory]\nCoreLow=off\n", "core", MemLow, Amount{}},
		{"[Memory]\nCoreLow=0\n", "core", MemLow, Amount{}},
		{"[Memory]\nCoreMin=0%\n", "core", MemMin, Amount{}},
		{"[Memory]\nCoreLow=8G\nCoreLow=\n", "core", MemLow, Amount{On: true, Permyriad: 5000, Text: "50%"}},
		{"[Memory]\nTrainingHigh=infinity\n", "training", MemHigh, Amount{}},
		{"[Memory]\nTrainingSwapMax=0\n", "training", MemSwapMax, Amount{On: true, Text: "0"}},
		{"[Memory]\nDPISwapMax=off\n", "dpi", MemSwapMax, Amount{}},
		{"[Memory]\nDPILow=100%\n", "dpi", MemLow, Amount{On: true, Permyriad: 10000, Text: "100%"}},
		{"[Memory]\nCoreSwapMax=off\n", "core", MemSwapMax, Amount{}},
	} {
		c, _, err := parse("/etc/ransomeye/tuner.conf", tc.text)
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if got := c.Memory[tc.role][tc.setting]; got != tc.want {
			t.Errorf("%q: %s %s = %+v, want %+v", tc.text, tc.role, tc.setting, got, tc.want)
		}
	}
}

// TestParseMemoryErrors: a value that cannot be meant is an invalid
// configuration naming the file, the line, the key and what to write.
func TestParseMemoryErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[Memory]\nCoreLow=120%\n", `tuner.conf:2: CoreLow=120%: "120%" is not a share: write a percentage from 0% to 100%, a size, or off`},
		{"[Memory]\nCoreLow=-5%\n", "is not a share"},
		{"[Memory]\nCoreLow=12.345%\n", "more than two decimals"},
		{"[Memory]\nCoreLow=1e3%\n", "is not a share"},
		{"[Memory]\nCoreLow=lots\n", `"lots" is not a size`},
		{"[Memory]\nCoreLow=lots\n", `, a share such as 50%, or off`},
		{"[Memory]\nCoreLow=65T\n", "larger than 64T"},
		{"[Memory]\nTrainingHigh=0\n", "a ceiling of 0 would throttle ransomeye-training.service to a standstill"},
		{"[Memory]\nTrainingHigh=0%\n", "a ceiling of 0"},
		{"[Memory]\nTrainingHigh=NaN%\n", `"NaN%" is not a share`},
		{"[Memory]\nCoreLow=nan%\n", "is not a share"},
		{"[Memory]\nDPISwapMax=Inf%\n", "is not a share"},
		{"[Memory]\nCoreLow=1.2.3%\n", "is not a share"},
		{"[Memory]\nCoreLow=0x10%\n", "is not a share"},
		{"[Memory]\nTrainingHigh=1K\n", "a ceiling of 1K would throttle ransomeye-training.service to a standstill: set a size of at least 64K"},
		{"[Memory]\nTrainingHigh=4095\n", "a ceiling of 4095 would throttle"},
		{"[Memory]\nCoreSwapMax=1G\n", "CoreSwapMax=1G: the core's swap is what [Swap] guarantees"},
		{"[Memory]\nCoreSwapMax=0\n", "only off is accepted"},
	} {
		_, _, err := parse("/etc/ransomeye/tuner.conf", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.text, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "see ransomeye-tuner.conf(5)") {
			t.Errorf("%q: the error does not point at the man page: %v", tc.text, err)
		}
	}
	// Unknown keys of [Memory] are warnings, as elsewhere.
	if _, w, err := parse("/etc/ransomeye/tuner.conf", "[Memory]\nCoreLowest=1G\n"); err != nil || len(w) != 1 {
		t.Errorf("unknown key: warnings %v, error %v; want one warning", w, err)
	}
}

// TestAmountResolve: shares resolve against the whole and every amount is
// rounded down to a page, as the kernel keeps it.
func TestAmountResolve(t *testing.T) {
	for _, tc := range []struct {
		a           Amount
		whole, want int64
	}{
		{Amount{On: true, Permyriad: 5000}, 1000 * 4096, 500 * 4096},
		{Amount{On: true, Permyriad: 5000}, 1001 * 4096, 500 * 4096},
		{Amount{On: true, Permyriad: 2500}, 16 << 30, 4 << 30},
		{Amount{On: true, Bytes: 10000}, 0, 8192},
		{Amount{On: true, Bytes: 0}, 1 << 30, 0},
	} {
		if got := tc.a.Resolve(tc.whole, 4096); got != tc.want {
			t.Errorf("%+v of %d = %d, want %d", tc.a, tc.whole, got, tc.want)
		}
	}
}
