package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
)

// memoryEvents are the memory.events counters reported: low (a protection
// gave way), high, max, oom_kill.
var memoryEvents = []string{"low", "high", "max", "oom_kill"}

// writeMemory writes the memory rows: the protection's state, then each
// service's settings as applied, swap, events and pressure.
func writeMemory(m *check.Memory, row func(k, v string, a ...any)) {
	if m == nil {
		return
	}
	switch m.State {
	case check.MemoryDegraded:
		row("memory protection", "DEGRADED: %s: %s (reported, not gated)", m.Cause, m.Reason)
	case check.MemoryOff:
		row("memory protection", "off: every [Memory] setting is off")
	case check.MemoryNotMade:
		row("memory protection", "NOT MADE: %s: no protection is written (reported, not gated)", m.Reason)
	default:
		row("memory protection", "held (reported, not gated)")
	}
	if m.CgroupV1 != "" {
		row("  cgroup v1", "%s", m.CgroupV1)
	}
	if m.Remedy != "" {
		row("  memory remedy", "%s", m.Remedy)
	}
	if m.Mount != "" {
		row("  cgroup2 mount", "%s", m.Mount)
	}
	for _, s := range m.Services {
		if !s.Running && len(s.Settings) == 0 {
			continue
		}
		state := "not running"
		if s.Running {
			swap := bytesOr(s.SwapBytes)
			if s.SwapUnknown != "" {
				swap += " (" + s.SwapUnknown + ")"
			}
			ev := events(s.Events)
			if s.EventsUnread != "" {
				ev = "events not read (" + s.EventsUnread + ")"
			}
			state = fmt.Sprintf("in %s: memory %s, swap %s, %s", s.Cgroup, bytesOr(s.MemoryBytes), swap, ev)
		}
		row("  "+s.Unit, "%s", state)
		for _, st := range s.Settings {
			mark := "  [ok]"
			switch {
			case st.Pending:
				mark = " (set when it starts)"
			case !st.OK:
				mark = "  [NOT HELD]"
			}
			want := fsinfo.Human(int64(st.Want))
			if st.Configured != "" {
				want += ", " + st.Configured
			}
			row("    "+st.File, "%s on %s (want %s)%s", humanValue(st.Actual), st.Cgroup, want, mark)
		}
	}
	for _, p := range m.Problems {
		row("  not read", "%s", p)
	}
	switch {
	case !m.PSI:
		row("pressure", "not available: %s", m.NoPSI)
		return
	case m.CgroupV1 != "":
		row("pressure", "per service not read on cgroup v1 (its memory hierarchy has no *.pressure files; in hybrid mode only /sys/fs/cgroup/unified has them, which the tuner does not read); the machine's own is /proc/pressure")
		return
	}
	row("pressure", "stalled share of the last minute (avg60), some/full")
	for _, s := range m.Services {
		if s.PressureMissing != "" {
			row("  "+s.Unit, "NOT READ: %s", s.PressureMissing)
			continue
		}
		if len(s.Pressure) == 0 {
			continue
		}
		var parts []string
		for _, res := range facts.PressureResources {
			p, ok := s.Pressure[res]
			if !ok {
				continue
			}
			part := fmt.Sprintf("%s %.2f%%", res, p.Some.Avg60)
			if p.Full != nil {
				part += fmt.Sprintf("/%.2f%%", p.Full.Avg60)
			}
			parts = append(parts, part)
		}
		row("  "+s.Unit, "%s", strings.Join(parts, ", "))
	}
}

func bytesOr(b *uint64) string {
	if b == nil {
		return "unknown"
	}
	return fsinfo.Human(int64(min(*b, uint64(math.MaxInt64))))
}

func events(ev map[string]uint64) string {
	var parts []string
	for _, k := range memoryEvents {
		parts = append(parts, fmt.Sprintf("%s %d", k, ev[k]))
	}
	return "events " + strings.Join(parts, " ")
}

func humanValue(s string) string {
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		return fsinfo.Human(n)
	}
	return s
}

// memoryFamilies are the memory and pressure series (none without m).
func memoryFamilies(m *check.Memory) []family {
	degraded := family{name: Prefix + "memory_protection_degraded", help: "1 when a [Memory] setting does not take effect (stale memory drop-ins, cgroup v1, no memory controller, a slice without protection, a setting overridden, no swap accounting) or the memory plan could not be made; status names it. Else 0 (reported, never gated)."}
	setting := family{name: Prefix + "memory_setting_bytes", help: "A [Memory] setting as the kernel applies it (memory.min, memory.low, memory.high, memory.swap.max), on the service's cgroup and, for a protection, every cgroup above it; +Inf for max; no series for a service that is not running."}
	wanted := family{name: Prefix + "memory_setting_wanted_bytes", help: "What the [Memory] configuration asks of that file on that cgroup, in bytes (a protection holds at or above it, a ceiling at or below it)."}
	current := family{name: Prefix + "cgroup_memory_bytes", help: "memory.current of each RansomEye service's cgroup, in bytes."}
	swap := family{name: Prefix + "cgroup_swap_bytes", help: "memory.swap.current of each RansomEye service's cgroup: its memory in swap, in bytes."}
	ev := family{name: Prefix + "cgroup_memory_events_total", counter: true, help: "memory.events of each RansomEye service's cgroup: low (reclaimed under its protection), high (throttled over memory.high), max, oom, oom_kill, oom_group_kill. Restarts at 0 with the service."}
	psi := family{name: Prefix + "pressure_available", help: "1 when every running RansomEye service's pressure is read (the kernel keeps pressure stall information, on cgroup v2, each cgroup with its *.pressure files); 0 otherwise (psi=0, cgroup v1, cgroup_disable=pressure): those pressure series are then absent, and status says why."}
	ratio := family{name: Prefix + "pressure_stall_ratio", help: "Share of time some (or all, kind=full) of the service's tasks stalled on the resource, averaged over the window, from its cgroup's cpu.pressure, memory.pressure and io.pressure (0 to 1)."}
	total := family{name: Prefix + "pressure_stall_seconds_total", counter: true, help: "Total time some (or all, kind=full) of the service's tasks stalled on the resource, from its cgroup's *.pressure; rate() of it is the stall share. Restarts at 0 with the service."}
	if m == nil {
		return []family{degraded, setting, wanted, current, swap, ev, psi, ratio, total}
	}
	degraded.samples = []sample{{value: bool01(m.Unprotected())}}
	psi.samples = []sample{{value: bool01(m.PressureAvailable)}}
	for _, s := range m.Services {
		id := [][2]string{{"service", s.Unit}, {"role", s.Role}}
		for _, st := range s.Settings {
			l := append(append([][2]string{}, id...), [2]string{"cgroup", st.Cgroup}, [2]string{"file", st.File})
			wanted.samples = append(wanted.samples, sample{labels: l, value: float64(st.Want)})
			if v, ok := settingValue(st.Actual); ok {
				setting.samples = append(setting.samples, sample{labels: l, value: v})
			}
		}
		if !s.Running {
			continue
		}
		if s.MemoryBytes != nil {
			current.samples = append(current.samples, sample{labels: id, value: float64(*s.MemoryBytes)})
		}
		if s.SwapBytes != nil {
			swap.samples = append(swap.samples, sample{labels: id, value: float64(*s.SwapBytes)})
		}
		keys := make([]string, 0, len(s.Events))
		for k := range s.Events {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ev.samples = append(ev.samples, sample{labels: append(append([][2]string{}, id...), [2]string{"event", k}), value: float64(s.Events[k])})
		}
		for _, res := range facts.PressureResources {
			p, ok := s.Pressure[res]
			if !ok {
				continue
			}
			for _, k := range []struct {
				kind string
				line *check.PressureLine
			}{{"some", &p.Some}, {"full", p.Full}} {
				if k.line == nil {
					continue
				}
				l := append(append([][2]string{}, id...), [2]string{"resource", res}, [2]string{"kind", k.kind})
				for _, w := range []struct {
					window string
					v      float64
				}{{"10s", k.line.Avg10}, {"60s", k.line.Avg60}, {"300s", k.line.Avg300}} {
					ratio.samples = append(ratio.samples, sample{labels: append(append([][2]string{}, l...), [2]string{"window", w.window}), value: w.v / 100})
				}
				total.samples = append(total.samples, sample{labels: l, value: float64(k.line.TotalUS) / 1e6})
			}
		}
	}
	return []family{degraded, setting, wanted, current, swap, ev, psi, ratio, total}
}

// settingValue is a kernel value as a sample (+Inf for max); none for an
// absent or unreadable file, or a service not running.
func settingValue(actual string) (float64, bool) {
	if actual == "max" {
		return math.Inf(1), true
	}
	var n uint64
	if _, err := fmt.Sscanf(actual, "%d", &n); err == nil && fmt.Sprint(n) == actual {
		return float64(n), true
	}
	return 0, false
}
