package facts

import (
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// CgroupFiles are the cgroup files a run read, each read once: the core's
// memory cgroup, the memory effect and activate's second look at the core
// (once systemd said where it goes) need the same memory.swap.max and
// cgroup.controllers, and two reads of one file may disagree within a run.
// What activate writes it folds in (Wrote), having read it back.
type CgroupFiles struct {
	root hostroot.Root
	got  map[string]cgroupFile
}

type cgroupFile struct {
	b   []byte
	err error
}

// maxCgroupFile bounds a cgroup attribute read (a number, "max", a list of
// controllers).
const maxCgroupFile = 4096

// NewCgroupFiles reads cgroup files under root, each once.
func NewCgroupFiles(root hostroot.Root) *CgroupFiles {
	return &CgroupFiles{root: root, got: map[string]cgroupFile{}}
}

// Read returns host file p (at most 4 KiB, a regular file; errors are
// readfile.Regular's), read the first time it is asked for.
func (c *CgroupFiles) Read(p string) ([]byte, error) {
	if f, ok := c.got[p]; ok {
		return f.b, f.err
	}
	b, err := readfile.Regular(c.root.Path(p), maxCgroupFile)
	c.got[p] = cgroupFile{b, err}
	return b, err
}

// Known records what another reader of this run found in p (the topology
// reads cgroup.controllers).
func (c *CgroupFiles) Known(p string, b []byte, err error) { c.got[p] = cgroupFile{b, err} }

// Wrote records v as p's content: what activate wrote and read back.
func (c *CgroupFiles) Wrote(p, v string) { c.got[p] = cgroupFile{[]byte(v + "\n"), nil} }

// Root is the root prefix the files are read under.
func (c *CgroupFiles) Root() hostroot.Root { return c.root }
