package plan

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// MemoryPlan is [Memory] resolved for this machine: shares turned into
// bytes (of MemTotal; of the swap target for SwapMax) on their units
// (docs/design.md, "Memory").
type MemoryPlan struct {
	// Made: the settings were resolved (else Why, and no drop-in).
	Made bool   `json:"made"`
	Why  string `json:"why,omitempty"`
	// RAM is MemTotal, SwapTarget the swap target (max(MinSize, MemTotal)).
	RAM        int64 `json:"ram_bytes"`
	SwapTarget int64 `json:"swap_target_bytes"`
	// Services are the roles with a setting, in table order.
	Services []MemoryService `json:"services"`
	// Slices are the slices carrying a protection, outermost first: it
	// holds only as far as every cgroup above has one too.
	Slices []MemorySlice `json:"slices"`
	// Warnings are what the configuration asks that is unwise with this
	// RAM (MemoryMin= adding up to most of it), said as the
	// configuration's warnings are.
	Warnings []string `json:"warnings,omitempty"`
}

// MaxMinShare is the share of RAM, in percent, that the MemoryMin= of all
// services together may resolve to without a warning: the kernel never
// reclaims memory.min, not even to avoid an OOM kill, so beyond half the
// RAM what is held so outweighs everything else (the kernel, journald,
// sshd, DPI), which the OOM killer then takes first.
const MaxMinShare = 50

// MemoryService is one role's memory settings.
type MemoryService struct {
	Role roles.Role `json:"-"`
	Name string     `json:"role"`
	Unit string     `json:"unit"`
	// Slice is the slice it runs in (the CPU plan's, else systemd's
	// default; an administrator's Slice= is not known here).
	Slice string `json:"slice"`
	// Bytes are the settings by config.MemorySettings name (off: absent).
	Bytes map[string]int64 `json:"bytes"`
	// Configured is each setting as the configuration says it.
	Configured map[string]string `json:"configured"`
}

// MemorySlice is one slice's protection: the sum of the services' below.
type MemorySlice struct {
	Slice string           `json:"slice"`
	Bytes map[string]int64 `json:"bytes"`
}

// Protected reports whether s asks for MemoryMin= or MemoryLow=.
func (s MemoryService) Protected() bool {
	_, min := s.Bytes[config.MemMin]
	_, low := s.Bytes[config.MemLow]
	return min || low
}

// Service returns the memory settings of role name.
func (m MemoryPlan) Service(name string) (MemoryService, bool) {
	for _, s := range m.Services {
		if s.Name == name {
			return s, true
		}
	}
	return MemoryService{}, false
}

// MemoryFiles returns the files that follow from the memory plan.
func (p Plan) MemoryFiles() []units.File {
	var out []units.File
	for _, f := range p.Files {
		if f.Memory {
			out = append(out, f)
		}
	}
	return out
}

// memory resolves the memory settings and adds their drop-ins (a service's
// with a setting, a slice's above a protected one), after the CPU plan.
func (p *Plan) memory(f *facts.Facts) {
	cfg := f.Config
	m := &p.Memory
	any, shares := false, false
	for _, r := range roles.Table {
		for _, a := range cfg.Memory[r.Name] {
			any = any || a.On
			shares = shares || a.On && a.Permyriad > 0
		}
	}
	if !any {
		m.Why = "every [Memory] setting is off"
		p.note(priolog.Notice, "memory: every [Memory] setting is off: no memory drop-ins")
		return
	}
	if f.MemErr != nil && shares {
		m.Why = fmt.Sprintf("MemTotal is not known (%v), so the shares of RAM cannot be resolved", f.MemErr)
		p.note(priolog.Err, "memory: %s; writing no memory drop-ins: the core runs without memory protection (status says \"not made\", ransomeye_tuner_memory_protection_degraded is 1; reported, not gated) until MemTotal is read at the next daemon-reload or boot", m.Why)
		return
	}
	page := int64(f.PageSize)
	target := swap.NewTarget(cfg.MinSize, f.Mem, f.MemErr, f.PageSize)
	m.Made, m.RAM, m.SwapTarget = true, f.Mem.MemTotal, target.Bytes
	sums := map[string]map[string]int64{}
	var order []string
	for _, r := range roles.Table {
		s := MemoryService{Role: r, Name: r.Name, Unit: cfg.Units[r.Name], Slice: p.serviceSlice(r, cfg.Units[r.Name]),
			Bytes: map[string]int64{}, Configured: map[string]string{}}
		for _, set := range config.MemorySettings {
			a := cfg.Memory[r.Name][set]
			if !a.On {
				continue
			}
			whole := m.RAM
			if set == config.MemSwapMax {
				whole = m.SwapTarget
			}
			b := a.Resolve(whole, page)
			if b == 0 && (set == config.MemMin || set == config.MemLow) {
				// A protection of 0 is off (ransomeye-tuner.conf(5)):
				// CoreLow=1K rounds down to no page at all.
				p.note(priolog.Notice, "memory: %s resolves to 0 bytes (rounded down to a %d-byte page): no Memory%s= written, as for off", describeAmount(r.MemoryKey(set), a, set), page, set)
				continue
			}
			s.Bytes[set] = b
			s.Configured[set] = describeAmount(r.MemoryKey(set), a, set)
		}
		if len(s.Bytes) == 0 {
			continue
		}
		m.Services = append(m.Services, s)
		var opts []*units.Option
		for _, set := range config.MemorySettings {
			if b, ok := s.Bytes[set]; ok {
				opts = append(opts, units.Opt("Service", "Memory"+set, fmt.Sprint(b)))
			}
		}
		p.Files = append(p.Files, units.File{Dir: units.Normal, Path: s.Unit + ".d/" + names.MemoryDropIn, Content: units.Serialize(opts...), Memory: true})
		if !s.Protected() {
			continue
		}
		for _, name := range names.SliceUnits(s.Slice) {
			if sums[name] == nil {
				sums[name] = map[string]int64{}
				order = append(order, name)
			}
			for _, set := range []string{config.MemMin, config.MemLow} {
				if b, ok := s.Bytes[set]; ok {
					sums[name][set] += b
				}
			}
		}
	}
	for _, name := range order {
		m.Slices = append(m.Slices, MemorySlice{Slice: name, Bytes: sums[name]})
		var opts []*units.Option
		for _, set := range []string{config.MemMin, config.MemLow} {
			if b, ok := sums[name][set]; ok {
				opts = append(opts, units.Opt("Slice", "Memory"+set, fmt.Sprint(b)))
			}
		}
		p.Files = append(p.Files, units.File{Dir: units.Normal, Path: name + ".d/" + names.MemoryDropIn, Content: units.Serialize(opts...), Memory: true})
	}
	m.warnMin()
	for _, w := range m.Warnings {
		p.note(priolog.Warning, "memory: %s", w)
	}
	var parts []string
	for _, s := range m.Services {
		for _, set := range config.MemorySettings {
			if b, ok := s.Bytes[set]; ok {
				parts = append(parts, fmt.Sprintf("%s Memory%s=%s (%s)", s.Unit, set, fsinfo.Human(b), s.Configured[set]))
			}
		}
	}
	p.note(priolog.Info, "memory plan: %s", strings.Join(parts, ", "))
}

// describeAmount says what a setting was resolved from ("CoreLow=50% of
// RAM").
func describeAmount(key string, a config.Amount, setting string) string {
	switch {
	case a.Permyriad == 0:
		return key + "=" + a.String()
	case setting == config.MemSwapMax:
		return key + "=" + a.String() + " of the swap target"
	}
	return key + "=" + a.String() + " of RAM"
}

// serviceSlice is the slice a role's service runs in: its own where the
// CPU plan puts it there, else systemd's default.
func (p *Plan) serviceSlice(r roles.Role, unit string) string {
	if p.CPUMode == CPUModeAllowedCPUs && r.Slice != "" {
		return r.Slice
	}
	return names.DefaultSlice(unit)
}

// warnMin warns when the MemoryMin= of all services, which the root slice
// carries together (every slice's sum is part of it), resolves to more
// than MaxMinShare percent of RAM.
func (m *MemoryPlan) warnMin() {
	var total int64
	var parts []string
	for _, s := range m.Services {
		if b, ok := s.Bytes[config.MemMin]; ok {
			total += b
			parts = append(parts, fmt.Sprintf("%s %s (%s)", s.Unit, fsinfo.Human(b), s.Configured[config.MemMin]))
		}
	}
	if m.RAM <= 0 || total*100 <= m.RAM*MaxMinShare {
		return
	}
	m.Warnings = append(m.Warnings, fmt.Sprintf("MemoryMin= adds up to %s, %d%% of the RAM (%s): %s; the kernel never reclaims it, not even to avoid an OOM kill, so the kernel, journald, sshd and DPI share the rest and are OOM-killed first: keep the MemoryMin= settings ([Memory] CoreMin=, DPIMin=, TrainingMin=) at %d%% of RAM or less together, or use the Low= settings, which give way under pressure",
		fsinfo.Human(total), total*100/m.RAM, fsinfo.Human(m.RAM), strings.Join(parts, ", "), MaxMinShare))
}
