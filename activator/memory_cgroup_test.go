package main_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// TestCgroupV1CoreSwappiness: on the cgroup v1 memory hierarchy (a fake
// tree under the root prefix; the kernel's copy of a parent's
// memory.swappiness into a new memory cgroup is done by the test, as the
// kernel does it when systemd makes the core's cgroup) activate sets
// system.slice's memory.swappiness, which systemd made before
// vm.swappiness was set, and logs the value it replaced; a core started
// after it reclaims with the configured value and the gate opens. A core
// whose memory cgroup holds 60 (what every boot gave it before) keeps the
// gate shut and status NOT COMPLIANT, on the same guarantee. Before, the
// gate opened and status said COMPLIANT.
func TestCgroupV1CoreSwappiness(t *testing.T) {
	needRoot(t)
	r := fakeRoot{dir: t.TempDir()}
	if err := (fakesys.Machine{Nodes: 1, CoresPerNode: 2, Cgroup: fakesys.CgroupV1}).Write(r.dir); err != nil {
		t.Fatal(err)
	}
	r.fill(t, 64<<20)
	loopFS(t, "ext4", "1G", r.path("ransomeye"))
	r.write(t, "etc/ransomeye/tuner.conf", "[Swap]\nMinSize=32M\nReserve=0\n")
	const mem = "sys/fs/cgroup/memory/"
	r.write(t, mem+"memory.swappiness", "60\n")
	r.write(t, mem+"system.slice/memory.swappiness", "60\n")
	r.write(t, mem+"system.slice/other.service/memory.swappiness", "60\n")
	self := func(cg string) { r.write(t, "proc/self/cgroup", "9:name=systemd:"+cg+"\n4:memory:"+cg+"\n1:cpu:/\n") }
	self("/system.slice/ransomeye-tuner.service")

	res := activate(t, r)
	succeeded(t, r, res)
	if !strings.Contains(res.stderr, "memory.swappiness of /system.slice set to 10 (it was 60") {
		t.Errorf("activate did not log the change and the value it replaced:\n%s", res.stderr)
	}
	for p, want := range map[string]string{"system.slice": "10\n", "system.slice/other.service": "60\n"} {
		if b, err := os.ReadFile(r.path(mem + p + "/memory.swappiness")); err != nil || string(b) != want {
			t.Errorf("memory.swappiness of %s = %q, %v; want %q", p, b, err, want)
		}
	}
	defer r.fakeSwapon(t)()

	// systemd makes the core's memory cgroup when it starts the core: the
	// kernel copies system.slice's value.
	b, err := os.ReadFile(r.path(mem + "system.slice/memory.swappiness"))
	if err != nil {
		t.Fatal(err)
	}
	r.write(t, mem+"system.slice/ransomeye-core.service/memory.swappiness", string(b))
	if code, failing := statusFailures(t, r); code != 0 || len(failing) != 0 {
		t.Errorf("status after activate: exit %d, failing %q", code, failing)
	}
	self("/system.slice/ransomeye-core.service")
	if g := run(t, r, nil, "gate"); g.code != 0 {
		t.Errorf("gate in the core's cgroup at 10: exit %d\n%s", g.code, g.stdout)
	}

	// The core's memory cgroup made before the slice held the value.
	r.write(t, mem+"system.slice/ransomeye-core.service/memory.swappiness", "60\n")
	g := run(t, r, nil, "gate")
	if g.code != 1 || strings.Join(gateFailures(g.stdout), " ") != "core-memory" || !strings.Contains(g.stdout, "memory.swappiness 60, want 10") {
		t.Errorf("gate in the core's cgroup at 60: exit %d, want 1 naming core-memory\n%s", g.code, g.stdout)
	}
	if code, failing := statusFailures(t, r); code != 1 || strings.Join(failing, " ") != "core-memory" {
		t.Errorf("status with the core at 60: exit %d, failing %q; want 1, core-memory", code, failing)
	}
	if testing.Verbose() {
		t.Logf("activate:\n%s\ngate:\n%s", res.stderr, g.stdout)
	}
}

// TestActivateAgreesWithGateOnCoreSwapMax: cgroup v2, MemorySwapMax=0 on
// the core (FAKE cgroup tree and /proc/self/cgroup in the root: the
// process stands in the core's cgroup, as the gate does). status and the
// gate fail core-memory; activate said "resources guaranteed", exited 0
// and recorded its success, so ransomeye-tuner.service was green while the
// core was gated. activate fails closed with the gate's reason; with no
// limit both open.
func TestActivateAgreesWithGateOnCoreSwapMax(t *testing.T) {
	for _, limit := range []string{"0", "max"} {
		t.Run("memory.swap.max "+limit, func(t *testing.T) {
			r := loopRoot(t, 32*mib, "[Swap]\nMinSize=64M\nReserve=0\n[CPU]\nIsolation=off\n")
			if err := os.Remove(r.path("sys")); err != nil { // the host's /sys: not this machine's cgroups
				t.Fatal(err)
			}
			r.write(t, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
			r.write(t, "sys/fs/cgroup/system.slice/memory.swap.max", "max\n")
			r.write(t, "sys/fs/cgroup/system.slice/ransomeye-core.service/memory.swap.max", limit+"\n")
			r.write(t, "proc/self/cgroup", "0::/system.slice/ransomeye-core.service\n")
			act := activate(t, r)
			defer r.fakeSwapon(t)()
			gate := run(t, r, nil, "gate")
			if (act.code == 0) != (gate.code == 0) {
				t.Fatalf("activate exit %d (%s), gate exit %d:\n%s", act.code, lastLine(act.stderr), gate.code, gate.stdout+gate.stderr)
			}
			if limit != "0" {
				return
			}
			const why = "ransomeye-core.service may not swap at all (memory.swap.max of /system.slice/ransomeye-core.service, MemorySwapMax= of ransomeye-core.service), below the swap target 64.0 MiB"
			failedClosed(t, r, act, why)
			if !strings.Contains(gate.stdout+gate.stderr, why) {
				t.Errorf("the gate refuses for another reason:\n%s", gate.stdout+gate.stderr)
			}
		})
	}
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
