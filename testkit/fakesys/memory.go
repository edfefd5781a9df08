package fakesys

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// Systemd is a fake of what systemd does with the generator's drop-ins on
// the cgroup v2 memory controller: for each running service it makes the
// cgroups of the service and of the slices above it, and writes the
// kernel files a MemoryMin=, MemoryLow=, MemoryHigh= or MemorySwapMax= of
// theirs becomes (memory.min, ...), with the kernel's defaults elsewhere.
// It also writes what the kernel shows the tuner: its own cgroup
// (/proc/self/cgroup), the cgroup2 mount (/proc/self/mountinfo) and, with
// PSI, /proc/pressure and each service's *.pressure. A fake of systemd
// and the kernel (which cannot run under a root prefix), named so.
type Systemd struct {
	// Running are the services that run, by unit name.
	Running []string
	// MountOptions are the cgroup2 super-block options ("" gives
	// "rw,nsdelegate,memory_recursiveprot", as systemd 252 mounts it).
	MountOptions string
	// NoPSI leaves /proc/pressure and the *.pressure files out (psi=0).
	NoPSI bool
	// Override replaces files after they are made, by host path.
	Override map[string]string
}

// Write makes the tree under root from the drop-ins under normalDir (a
// host path).
func (s Systemd) Write(root, normalDir string) error {
	files := map[string]string{}
	opts := s.MountOptions
	if opts == "" {
		opts = "rw,nsdelegate,memory_recursiveprot"
	}
	files["/proc/self/cgroup"] = "0::/system.slice/ransomeye-tuner.service\n"
	files["/proc/self/mountinfo"] = "22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
		"26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 " + opts + "\n"
	pressure := "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	if !s.NoPSI {
		for _, r := range []string{"cpu", "memory", "io"} {
			files["/proc/pressure/"+r] = pressure
		}
	}
	settings := func(u string) (map[string]string, string, error) {
		out := map[string]string{}
		slice := ""
		for _, f := range []string{names.MemoryDropIn, names.CPUDropIn} {
			b, err := os.ReadFile(filepath.Join(normalDir, u+".d", f))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return nil, "", err
			}
			o, err := unit.Deserialize(bytes.NewReader(b))
			if err != nil {
				return nil, "", fmt.Errorf("%s.d/%s: %w", u, f, err)
			}
			for _, x := range o {
				if x.Name == "Slice" {
					slice = x.Value
				} else if k, ok := strings.CutPrefix(x.Name, "Memory"); ok {
					out[k] = x.Value
				}
			}
		}
		return out, slice, nil
	}
	cg := func(p, u string) error {
		set, _, err := settings(u)
		if err != nil {
			return err
		}
		dir := "/sys/fs/cgroup" + p + "/"
		for k, def := range map[string]string{"Min": "0", "Low": "0", "High": "max", "SwapMax": "max"} {
			v := def
			if x, ok := set[k]; ok {
				v = x
			}
			file := map[string]string{"Min": "memory.min", "Low": "memory.low", "High": "memory.high", "SwapMax": "memory.swap.max"}[k]
			files[dir+file] = v + "\n"
		}
		files[dir+"memory.current"] = "104857600\n"
		files[dir+"memory.swap.current"] = "0\n"
		files[dir+"memory.events"] = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"
		if !s.NoPSI {
			for _, r := range []string{"cpu", "memory", "io"} {
				files[dir+r+".pressure"] = pressure
			}
		}
		return nil
	}
	for _, u := range s.Running {
		_, slice, err := settings(u)
		if err != nil {
			return err
		}
		if slice == "" {
			slice = names.DefaultSlice(u)
		}
		p := "/"
		for _, sl := range names.SliceUnits(slice) {
			p = path.Join(p, names.CgroupEscape(sl))
			if err := cg(p, sl); err != nil {
				return err
			}
		}
		if err := cg(path.Join(p, names.CgroupEscape(u)), u); err != nil {
			return err
		}
	}
	for p, c := range s.Override {
		files[p] = c
	}
	for p, c := range files {
		full := filepath.Join(root, strings.TrimPrefix(p, "/"))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			return err
		}
	}
	return nil
}
