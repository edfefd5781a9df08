package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
)

// TestEnvFromSamePlan checks that each service's environment names the
// same CPUs as its AllowedCPUs= drop-in, and the plan document agrees.
func TestEnvFromSamePlan(t *testing.T) {
	in := input8(t)
	out := Decide(in)
	fs := files(out)
	for _, c := range []struct{ svc, set, node string }{
		{"ransomeye-core.service", "0-3", "0"}, {"ransomeye-dpi.service", "4-5", "0"}, {"ransomeye-training.service", "6-7", "0"},
	} {
		env := string(fs["normal/"+c.svc+".d/"+EnvDropIn].Content)
		allowed := string(fs["normal/"+c.svc+".d/cpu-isolation.conf"].Content)
		if !strings.Contains(allowed, "AllowedCPUs="+c.set+"\n") {
			t.Fatalf("%s: AllowedCPUs drop-in %q lacks %s", c.svc, allowed, c.set)
		}
		for _, want := range []string{"Environment=RANSOMEYE_CPUS=" + c.set + "\n", "Environment=RANSOMEYE_CPU_COUNT=2\n",
			"Environment=RANSOMEYE_NUMA_NODE=" + c.node + "\n", "Environment=RANSOMEYE_CPUS_RESERVED=1\n"} {
			if c.svc == "ransomeye-core.service" && strings.Contains(want, "COUNT") {
				want = "Environment=RANSOMEYE_CPU_COUNT=4\n"
			}
			if !strings.Contains(env, want) {
				t.Errorf("%s: environment drop-in %q lacks %q", c.svc, env, want)
			}
		}
	}
	// The mask too: Debian 11's irqbalance 1.7.0 reads no list.
	if got := string(fs["normal/irqbalance.service.d/"+IRQBalanceDropIn].Content); !strings.Contains(got, "Environment=IRQBALANCE_BANNED_CPULIST=4-7\n") ||
		!strings.Contains(got, "Environment=IRQBALANCE_BANNED_CPUS=f0\n") {
		t.Errorf("irqbalance drop-in: %q", got)
	}
	var d Doc
	if err := json.Unmarshal(out.Doc(in).JSON(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || !d.Reserved || len(d.Services) != 3 || d.Services[1].Role != "dpi" || d.Services[1].CPUs != "4-5" ||
		d.Services[1].CPUCount != 2 || d.Services[1].Environment[EnvCPUs] != "4-5" || d.IRQBalanceBanned != "4-7" {
		t.Errorf("plan document: %+v", d)
	}
}

// TestEnvWithoutReservation: the services share the usable CPUs, and say
// so; over two NUMA nodes the node is -1; irqbalance is left alone.
func TestEnvWithoutReservation(t *testing.T) {
	in := input8(t)
	in.Topology.Cores = in.Topology.Cores[:6]
	in.Topology.Online = span(0, 5)
	in.Topology.RootCpuset = in.Topology.Online
	in.Topology.Nodes = []topology.Node{{ID: 0, CPUs: span(0, 2)}, {ID: 1, CPUs: span(3, 5)}}
	out := Decide(in)
	if out.CPU.Reserved {
		t.Fatal("6 cores reserved")
	}
	fs := files(out)
	if _, ok := fs["normal/irqbalance.service.d/"+IRQBalanceDropIn]; ok {
		t.Error("irqbalance drop-in without a reservation")
	}
	env := string(fs["normal/ransomeye-dpi.service.d/"+EnvDropIn].Content)
	for _, want := range []string{"RANSOMEYE_CPUS=0-5\n", "RANSOMEYE_CPU_COUNT=6\n", "RANSOMEYE_NUMA_NODE=-1\n", "RANSOMEYE_CPUS_RESERVED=0\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment %q lacks %q", env, want)
		}
	}
	d := out.Doc(in)
	if d.Reserved || d.Reason == "" || len(d.Services) != 3 || d.Services[0].CPUs != "0-5" {
		t.Errorf("plan document: %+v", d)
	}
}

// TestDocWithoutPlan: isolation off gives a document with no services and
// the reason.
func TestDocWithoutPlan(t *testing.T) {
	in := input8(t, func(c *config.Config) { c.Isolation = config.IsolationOff })
	out := Decide(in)
	if len(out.Services) != 0 {
		t.Fatalf("services without a plan: %+v", out.Services)
	}
	for _, f := range out.Files {
		if strings.HasSuffix(f.Path, EnvDropIn) {
			t.Errorf("environment drop-in %q without a plan", f.Path)
		}
	}
	d := out.Doc(in)
	b := string(d.JSON())
	if !strings.Contains(b, `"version": 1`) || !strings.Contains(b, `"services": []`) || !strings.Contains(d.Reason, "Isolation=off") {
		t.Errorf("document: %s", b)
	}
}

// span is the CPU set lo-hi.
func span(lo, hi int) cpuset.Set {
	var ids []int
	for i := lo; i <= hi; i++ {
		ids = append(ids, i)
	}
	return cpuset.Of(ids...)
}

// TestIRQBalancePolicyForCapture: with a capture interface, irqbalance runs
// the policy script that bans that interface's interrupts (irqbalance
// otherwise moves the steered queues back onto the core CPUs), and is told
// which interface; without one its arguments are left to the administrator.
func TestIRQBalancePolicyForCapture(t *testing.T) {
	in := input8(t)
	got := string(files(Decide(in))["normal/irqbalance.service.d/"+IRQBalanceDropIn].Content)
	if strings.Contains(got, IRQBalanceEnvArgs) || strings.Contains(got, IRQBalanceEnvCapture) {
		t.Errorf("no capture interface, yet irqbalance's arguments are set: %q", got)
	}
	in.Config.DPIInterface = "ens1f0"
	got = string(files(Decide(in))["normal/irqbalance.service.d/"+IRQBalanceDropIn].Content)
	for _, want := range []string{
		"Environment=IRQBALANCE_BANNED_CPULIST=4-7\n",
		"Environment=IRQBALANCE_ARGS=--policyscript=/usr/lib/ransomeye-tuner/irqbalance-policy\n",
		"Environment=RANSOMEYE_CAPTURE_INTERFACE=ens1f0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("irqbalance drop-in %q lacks %q", got, want)
		}
	}
}
