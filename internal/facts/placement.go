package facts

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/irq"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// Placement is what the kernel applies of the CPU partition beyond
// systemd's units, and the record of what placements did.
type Placement struct {
	// Record is the plan file's "applied" section (nil: none, or RecordErr).
	Record    *placement.Applied
	RecordErr error
	// Read is true when the rest was read: only with a CPU reservation.
	Read bool
	// IRQ is the interrupts' state (IRQErr: /proc/interrupts unreadable).
	IRQ       irq.State
	IRQErr    error
	Workqueue map[string]placement.Mask
	// Services are the pinned services' cgroups (effect scope, cgroup v2).
	Services []ServiceCgroup
	// Threads are every unit's threads with their CPUs; ThreadsErr says
	// why not all could be read.
	Threads    []Thread
	ThreadsErr string
	// InitScopeCPUs describes init.scope's cpuset.cpus.
	InitScopeCPUs string
}

// ServiceCgroup is one pinned service's cgroup as the kernel applies it.
type ServiceCgroup struct {
	Role roles.Role
	Unit string
	// Cgroup is the host path read; Effective its cpuset.cpus.effective.
	Cgroup    string
	Effective cpuset.Set
	Err       string
}

// Thread is one thread of a unit.
type Thread struct {
	Unit, Name, TID string
	CPUs            cpuset.Set
}

// maxTasks bounds the threads read from /proc (three small reads each).
const maxTasks = 1 << 16

// initScopeCgroup is PID 1's cgroup on the unified hierarchy.
const initScopeCgroup = "/sys/fs/cgroup/init.scope"

func (f *Facts) readPlacement() {
	p := &f.Placement
	p.Record, p.RecordErr = placement.ReadRecord(f.Root)
	if !f.reserves() {
		return
	}
	p.Read = true
	p.IRQ, p.IRQErr = irq.Read(f.Root, f.Config.DPIInterface)
	p.Workqueue = placement.ReadWorkqueue(f.Root)
	if !f.Reads(ReadEffect) {
		return
	}
	cg := f.Topology.Cgroup
	if cg.V2 {
		for _, r := range roles.Table {
			p.Services = append(p.Services, serviceCgroup(f.Root, r, f.Config.Units[r.Name], cg.AllowedCPUs()))
		}
	}
	p.Threads, p.ThreadsErr = threads(f.Root)
	p.InitScopeCPUs = "absent (the cpuset controller is not enabled for it)"
	if b, err := readfile.Regular(f.Root.Path(initScopeCgroup+"/cpuset.cpus"), 1<<12); err == nil {
		p.InitScopeCPUs = "empty"
		if v := strings.TrimSpace(string(b)); v != "" {
			p.InitScopeCPUs = fmt.Sprintf("%q", v)
		}
	}
}

// serviceCgroup reads a pinned service's cpuset.cpus.effective (cgroup v2)
// in its role's slice when AllowedCPUs= is enforced, else in system.slice;
// elsewhere (an administrator's Slice=) it is missing, and said so.
func serviceCgroup(root hostroot.Root, r roles.Role, unit string, allowedCPUs bool) ServiceCgroup {
	slice := "system.slice"
	if allowedCPUs && r.Slice != "" {
		slice = r.Slice
	}
	s := ServiceCgroup{Role: r, Unit: unit, Cgroup: topology.CgroupDir + "/" + names.SlicePath(slice) + "/" + names.CgroupEscape(unit)}
	p := s.Cgroup + "/cpuset.cpus.effective"
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		s.Err = fmt.Sprintf("cannot read %q (not running, or in another slice): %v", p, err)
		return s
	}
	if s.Effective, err = cpuset.ParseMaybeEmpty(string(b)); err != nil {
		s.Err = fmt.Sprintf("%q: %v", p, err)
	}
	return s
}

// threads walks /proc/PID/task/TID: each unit thread with its CPUs; kernel
// threads and processes that end meanwhile are skipped.
func threads(root hostroot.Root) ([]Thread, string) {
	var out []Thread
	pids, err := os.ReadDir(root.Path("/proc"))
	if err != nil {
		return out, fmt.Sprintf("read %q: %v", "/proc", err)
	}
	n := 0
	for _, pe := range pids {
		if _, err := strconv.Atoi(pe.Name()); err != nil {
			continue
		}
		pdir := "/proc/" + pe.Name()
		unit, ok := unitOf(root, pdir+"/cgroup")
		if !ok {
			continue
		}
		tasks, err := os.ReadDir(root.Path(pdir + "/task"))
		if err != nil {
			continue
		}
		for _, te := range tasks {
			if n++; n > maxTasks {
				return out, fmt.Sprintf("more than %d threads: the rest not read", maxTasks)
			}
			if name, allowed, ok := taskAffinity(root, pdir+"/task/"+te.Name()+"/status"); ok {
				out = append(out, Thread{Unit: unit, Name: name, TID: te.Name(), CPUs: allowed})
			}
		}
	}
	return out, ""
}

// unitOf returns a process's unit: the deepest service or scope of its
// cgroup path (else the last component), unified or systemd's v1
// hierarchy; ok is false for a kernel thread or an unreadable file.
func unitOf(root hostroot.Root, p string) (string, bool) {
	cg := ""
	for _, c := range readCgroups(root, p) {
		if c.id == "0" && cg == "" {
			cg = c.path
		}
		if c.name == "name=systemd" {
			cg = c.path
		}
	}
	cg = strings.Trim(cg, "/")
	if cg == "" {
		return "", false
	}
	parts := strings.Split(cg, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if strings.HasSuffix(parts[i], ".service") || strings.HasSuffix(parts[i], ".scope") {
			return parts[i], true
		}
	}
	return parts[len(parts)-1], true
}

// taskAffinity reads a thread's Name and Cpus_allowed_list.
func taskAffinity(root hostroot.Root, p string) (string, cpuset.Set, bool) {
	b, err := readfile.Regular(root.Path(p), 1<<16)
	if err != nil {
		return "", cpuset.Set{}, false
	}
	var name string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Name:"); ok {
			name = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			s, err := cpuset.Parse(strings.TrimSpace(v))
			return name, s, err == nil
		}
	}
	return name, cpuset.Set{}, false
}
