package guarantee

// Outside review probe: FAILS on this tree where the review found a defect.

import "testing"

// TestProbeCoreMemorySliceNotRealizedYet: the core in its own slice
// (Slice=ransomeye.slice, the slice with MemorySwapMax=0). Before the core
// first starts systemd has not made the slice's cgroup, so status (and the
// metrics timer) find no memory.swap.max on the path, take the core's own
// MemorySwapMax= (infinity) and say core-memory holds; when the core starts
// the slice's cgroup exists with memory.swap.max 0 and the gate, reading
// the files, refuses. status COMPLIANT while the gate refuses: the slice's
// own MemorySwapMax= must count while its cgroup is not there, as the
// core's does.
func TestProbeCoreMemorySliceNotRealizedYet(t *testing.T) {
	const core = "ransomeye-core.service"
	// status, before the core ever started: the slice has no cgroup yet.
	root := v2Root(t, "/user.slice/user-0.slice/session-1.scope")
	st := CoreMemory(root, core, 10, 16<<30, Measurement{Slice: "ransomeye.slice", SwapMax: NoSwapLimit, SwapMaxKnown: true})
	// The gate, once systemd made the slice's cgroup for the core's start.
	gateRoot := v2Root(t, "/ransomeye.slice/ransomeye-core.service")
	writeTree(t, gateRoot, map[string]string{
		"/sys/fs/cgroup/ransomeye.slice/memory.swap.max":                        "0\n",
		"/sys/fs/cgroup/ransomeye.slice/ransomeye-core.service/memory.swap.max": "max\n",
	})
	g := CoreMemory(gateRoot, core, 10, 16<<30, Measurement{InCgroup: true})
	if st.OK != g.OK {
		t.Errorf("same machine, status says core-memory ok=%v (%s), the gate ok=%v (%s)", st.OK, st.Actual, g.OK, g.Reason)
	}
}
