package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/roles"
)

// The memory settings a role may get, as systemd names them without
// "Memory", in the order the generator writes them.
const (
	MemMin     = "Min"
	MemLow     = "Low"
	MemHigh    = "High"
	MemSwapMax = "SwapMax"
)

// MemorySettings lists them in order.
var MemorySettings = []string{MemMin, MemLow, MemHigh, MemSwapMax}

// Amount is one memory setting: off, a size in bytes, or a share of a
// whole (RAM; the swap target for SwapMax) in hundredths of a percent.
type Amount struct {
	// On is false for "off": nothing written, the kernel's default holds.
	On bool
	// Bytes is the size when Permyriad is 0.
	Bytes int64
	// Permyriad is the share, 1 to 10000 (100%); 0 means Bytes.
	Permyriad int
	// Text is the value as written ("8G", "12.5%").
	Text string
}

// Resolve is the amount in bytes for whole, page-rounded down, as the
// kernel keeps and reads it back.
func (a Amount) Resolve(whole, page int64) int64 {
	b := a.Bytes
	if a.Permyriad > 0 {
		b = int64(float64(whole) * float64(a.Permyriad) / 10000)
	}
	if page > 0 {
		b -= b % page
	}
	return b
}

// String writes the amount as the configuration takes it.
func (a Amount) String() string {
	switch {
	case a.On && a.Text != "":
		return a.Text
	case !a.On:
		return "off"
	case a.Permyriad > 0:
		return strconv.FormatFloat(float64(a.Permyriad)/100, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(a.Bytes, 10)
}

// ParseAmount reads "off", a size (ParseSize) or a share "N%" (at most
// two decimals, 0 to 100). A share of 0% is a size of 0.
func ParseAmount(v string) (Amount, error) {
	if v == "off" || v == "infinity" {
		return Amount{}, nil
	}
	if num, ok := strings.CutSuffix(v, "%"); ok {
		// Digits and one dot only: ParseFloat also takes "NaN", "Inf",
		// signs, exponents and hex, and a NaN passes every range test.
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 || f < 0 || f > 100 {
			return Amount{}, fmt.Errorf("%q is not a share: write a percentage from 0%% to 100%%, a size, or off", v)
		}
		if p := f * 100; math.Abs(p-math.Round(p)) > 1e-9 {
			return Amount{}, fmt.Errorf("%q has more than two decimals", v)
		}
		return Amount{On: true, Permyriad: int(f*100 + 0.5), Text: v}, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return Amount{}, fmt.Errorf("%w, a share such as 50%%, or off", err)
	}
	return Amount{On: true, Bytes: n, Text: v}, nil
}

// defaultMemory is the built-in [Memory]: each role's row of the roles
// table, every other setting off.
func defaultMemory() map[string]map[string]Amount {
	m := map[string]map[string]Amount{}
	for _, r := range roles.Table {
		m[r.Name] = map[string]Amount{}
		for _, s := range MemorySettings {
			a, err := memoryDefault(r, s)
			if err != nil {
				panic(err) // the table is the program's own: TestMemoryDefaults
			}
			m[r.Name][s] = a
		}
	}
	return m
}

func memoryDefault(r roles.Role, setting string) (Amount, error) {
	v, ok := r.Memory[setting]
	if !ok {
		return Amount{}, nil
	}
	a, err := ParseAmount(v)
	if err != nil {
		return a, fmt.Errorf("roles table: %s: %w", r.MemoryKey(setting), err)
	}
	return normalize(a, setting), checkAmount(r, setting, a)
}

// normalize makes a protection of 0 off: it protects nothing, and a
// drop-in saying so would only be compared.
func normalize(a Amount, setting string) Amount {
	if a.On && (setting == MemMin || setting == MemLow) && a.Bytes == 0 && a.Permyriad == 0 {
		return Amount{}
	}
	return a
}

// minCeiling is the smallest MemoryHigh= size taken: the largest page
// size Linux uses (64K), so that no ceiling rounds down to 0.
const minCeiling = 64 << 10

// checkAmount refuses what cannot be meant: a ceiling of nothing, and a
// swap limit on the gated core, whose swap is the swap guarantee.
func checkAmount(r roles.Role, setting string, a Amount) error {
	if !a.On {
		return nil
	}
	switch {
	case setting == MemHigh && a.Permyriad == 0 && a.Bytes < minCeiling:
		// The kernel keeps the ceiling in pages, rounded down: a size below
		// a page (64K on some arm64 kernels) is the ceiling of 0.
		return fmt.Errorf("a ceiling of %s would throttle %s to a standstill: set a size of at least 64K, a share, or off for no ceiling", a, r.Unit)
	case setting == MemSwapMax && r.Name == roles.Core().Name:
		return fmt.Errorf("the core's swap is what [Swap] guarantees: a limit would keep it from the swapfile (the core-memory guarantee would fail); only off is accepted")
	}
	return nil
}

// memoryKeys are the [Memory] section's keys: one per role and setting.
func memoryKeys() map[string]setter {
	m := map[string]setter{}
	for _, r := range roles.Table {
		for _, s := range MemorySettings {
			r, s := r, s
			m[r.MemoryKey(s)] = func(c *Config, v string) error {
				if v == "" {
					a, err := memoryDefault(r, s)
					c.Memory[r.Name][s] = a
					return err
				}
				a, err := ParseAmount(v)
				if err != nil {
					return err
				}
				if err := checkAmount(r, s, a); err != nil {
					return err
				}
				c.Memory[r.Name][s] = normalize(a, s)
				return nil
			}
		}
	}
	return m
}

func init() { keys["Memory"] = memoryKeys() }
