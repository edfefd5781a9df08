package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/kernfile"
)

// SetCoreSwappiness writes value to memory.swappiness of the cgroup v1
// memory cgroups on the core's path that exist (its slices', which the
// core copies when it starts, and its own while it runs), each read back
// and recorded in files, which the values found come from (the run read
// them). It returns each change with the value it found, for the log: what
// gives it back. The caller has found the cgroup v1 memory hierarchy
// (facts.MemoryV1).
func SetCoreSwappiness(files *facts.CgroupFiles, core, slice string, value int) ([]string, error) {
	root := files.Root()
	cgs := facts.SliceChain(slice)
	if !strings.HasSuffix(core, "@.service") {
		own := facts.CoreCgroup(core, slice, false, "")
		if fi, err := os.Stat(root.Path(facts.MemoryV1Dir + own)); err == nil && fi.IsDir() {
			cgs = append(cgs, own)
		}
	}
	var changed []string
	want := strconv.Itoa(value)
	for _, cg := range cgs {
		f := facts.MemoryV1Dir + cg + "/memory.swappiness"
		b, err := files.Read(f)
		old := strings.TrimSpace(string(b))
		if errors.Is(err, fs.ErrNotExist) {
			continue // not made yet: it will copy its parent's value
		}
		if err != nil {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: %w", cg, want, err)
		}
		if old == want {
			continue
		}
		if err := kernfile.WriteFile(root, f, want); err != nil {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: %w", cg, want, err)
		}
		got, err := kernfile.Read(root, f)
		if err != nil {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: read back: %w", cg, want, err)
		}
		if got != want {
			return changed, fmt.Errorf("set memory.swappiness of %s to %s: read back %q instead", cg, want, got)
		}
		files.Wrote(f, got)
		changed = append(changed, fmt.Sprintf("cgroup v1: memory.swappiness of %s set to %s (it was %s; the core's memory cgroup copies it when it starts; give it back with: echo %s > %s)", cg, want, old, old, f))
	}
	return changed, nil
}
