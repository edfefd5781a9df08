package check

import (
	"fmt"
	"strconv"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
)

// CoreMemory is the guarantee that the core's memory cgroup lets the swap
// and swappiness reach it: on cgroup v1 its memory.swappiness (its own, or
// what it copies from its slice) is the configured one; on cgroup v2 no
// memory.swap.max on its path is below the swap target.
func CoreMemory(core string, m facts.Memory, swappiness int, target int64) Check {
	c := Check{Name: NameCoreMemory}
	switch m.Kind {
	case facts.MemoryNone:
		c.Expected = fmt.Sprintf("%s reclaims with vm.swappiness and may use the swapfile", core)
		c.OK, c.Actual = true, "no memory cgroup controller: vm.swappiness and the swapfile apply to it as to every process"
		return c
	case facts.MemoryV1:
		c.Expected = fmt.Sprintf("%s reclaims with memory.swappiness %d in its memory cgroup (cgroup v1)", core, swappiness)
		if m.Err != nil {
			c.Reason = fmt.Sprintf("the memory.swappiness %s reclaims with cannot be measured: %v", core, m.Err)
			c.Remedy = "fix the cause (the swappiness guarantee does not reach the core until then), " + then
			return c
		}
		c.Actual = strconv.Itoa(m.Swappiness)
		c.Source = "memory.swappiness of " + m.From
		if m.From == "/" {
			c.Source = "memory.swappiness of the root memory cgroup (vm.swappiness)"
		}
		if m.From != m.Cgroup {
			c.Source += fmt.Sprintf(", which %s's memory cgroup %s copies when it starts", core, m.Cgroup)
		}
		if c.OK = m.Swappiness == swappiness; !c.OK {
			c.Reason = fmt.Sprintf("%s reclaims with memory.swappiness %d, want %d (%s): on cgroup v1 a memory cgroup copies its parent's value when it is made, and vm.swappiness reaches only the root's", core, m.Swappiness, swappiness, c.Source)
			c.Remedy = "nothing to fix by hand (activate sets memory.swappiness of the core's slice, and of the core's memory cgroup while it runs), " + then
		}
		return c
	}
	c.Expected = fmt.Sprintf("%s may use at least %s of swap (no memory.swap.max below it on its cgroup path)", core, fsinfo.Human(target))
	l := m.Limit
	switch {
	case m.Err != nil:
		c.Reason = fmt.Sprintf("the swap %s may use cannot be measured: %v", core, m.Err)
		c.Remedy = "fix the cause (the swap guarantee does not reach the core until then), " + then
		return c
	case !l.Limited:
		c.OK, c.Actual = true, "no swap limit (memory.swap.max) on its cgroup path"
		return c
	}
	c.Actual = fsinfo.Human(int64(min(l.Bytes, uint64(1)<<62)))
	c.Source = "systemd's MemorySwapMax= of " + l.Unit
	if l.Cgroup != "" {
		c.Source = "memory.swap.max of " + l.Cgroup
	}
	if c.OK = l.Bytes >= uint64(target); c.OK {
		return c
	}
	what := "may use only " + c.Actual + " of swap"
	if l.Bytes == 0 {
		what = "may not swap at all"
	}
	c.Reason = fmt.Sprintf("%s %s (%s, MemorySwapMax= of %s), below the swap target %s: the swapfile does not serve it", core, what, c.Source, l.Unit, fsinfo.Human(target))
	// activate fails at this check and writes the failure marker, so the
	// remedy ends with recover, which clears it. No restart of the core:
	// recover's daemon-reload applies the unit's memory settings to a
	// running core's cgroup too (systemd writes every loaded unit's cgroup
	// settings again after a reload).
	c.Remedy = fmt.Sprintf("find the setting with: systemctl cat %s (MemorySwapMax= in a drop-in), remove it, %s", l.Unit, then)
	return c
}

// vfsCachePressure judges vm.vfs_cache_pressure (c, read back as set) by
// the ratio the kernel applies: over vm.vfs_cache_pressure_denom (d); the
// configured value counts per 100.
func vfsCachePressure(c *Check, d facts.Sysctl) {
	const key, denomKey = sysctl.VFSCachePressure, sysctl.VFSCachePressureDenom
	if facts.Missing(d.Err) {
		return // a kernel before the denominator: the value is per 100
	}
	if d.Err != nil {
		c.OK = false
		c.Reason = fmt.Sprintf("%s cannot be read, so the pressure %s applies is not known: %v", denomKey, key, d.Err)
		c.Remedy = RemedyRestart
		return
	}
	denom, err := strconv.ParseInt(d.Value, 10, 64)
	if err != nil || denom <= 0 {
		c.OK = false
		c.Reason = fmt.Sprintf("%s is %q, not a positive number", denomKey, d.Value)
		c.Remedy = RemedyRestart
		return
	}
	if denom == 100 {
		return
	}
	val, _ := strconv.ParseInt(c.Actual, 10, 64)
	per100 := strconv.FormatFloat(float64(val)*100/float64(denom), 'f', -1, 64)
	c.Actual = fmt.Sprintf("%s with %s=%d: %s per 100", c.Actual, denomKey, denom, per100)
	c.Source = fmt.Sprintf("%s / %s * 100", key, denomKey)
	if c.OK = val == 0; c.OK {
		return // 0 is never reclaiming, whatever the denominator
	}
	c.Reason = fmt.Sprintf("%s is %d, so %s=%d makes the kernel reclaim dentries and inodes at %s per 100, not the configured %s", denomKey, denom, key, val, per100, c.Expected)
	if set := d.Setter; d.SetterFound && set.Value == d.Value {
		c.Remedy = fmt.Sprintf("%s sets %s = %s: remove that line, then: sysctl -w %s=100 && %s", set.File, denomKey, d.Value, denomKey, names.RecoverCommand)
		return
	}
	c.Remedy = fmt.Sprintf("something set %s (a program, or sysctl -w): find it and stop it, then: sysctl -w %s=100 && %s", denomKey, denomKey, names.RecoverCommand)
}
