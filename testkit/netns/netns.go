// Package netns runs a test inside a network namespace of its own that
// holds a veth pair: a real network device whose driver answers the
// ethtool ioctl (channels: separate receive and transmit ones, which it
// lets be set; offload features), made and removed by the test, so that
// the code that asks a NIC's driver runs against a real one without
// touching this machine's own interfaces.
//
// The test re-executes its own binary under `ip netns exec`, which also
// gives the child a private mount namespace with /sys mounted again for
// the new network namespace (so /sys/class/net lists the veth pair). Mounts
// the child makes stay in its namespace.
//
// Test-only, like everything under testkit/.
package netns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks the child process and names its namespace.
const childEnv = "RANSOMEYE_TEST_NETNS"

// Veth is the pair made in the namespace: Name and Peer with Queues
// receive and transmit queues each (their channel maximum).
type Veth struct {
	Name, Peer string
	Queues     int
}

// Child reports whether the calling test runs in the namespace, and in the
// parent runs it there: without root, or without ip and veth support, the
// test is skipped; otherwise it makes the namespace with v in it, runs
// the test binary's t.Name() (a top-level test's) there, removes the namespace, and fails t
// when the child failed (printing its output). The test returns when Child
// is false and goes on with its body when it is true:
//
//	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 4}) {
//		return
//	}
func Child(t *testing.T, v Veth) bool {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: a network namespace and a veth pair")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	ns := fmt.Sprintf("rt-test-%d-%s", os.Getpid(), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	if len(ns) > 60 {
		ns = ns[:60]
	}
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("remove the network namespace %s: %v: %s", ns, err, out)
		}
	})
	q := fmt.Sprint(v.Queues)
	if out, err := exec.Command("ip", "-n", ns, "link", "add", v.Name, "numtxqueues", q, "numrxqueues", q, "type", "veth",
		"peer", "name", v.Peer, "numtxqueues", q, "numrxqueues", q).CombinedOutput(); err != nil {
		t.Skipf("cannot make a veth pair: %v: %s", err, out)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+ns)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("in network namespace %s: %v\n%s", ns, err, out)
	} else if testing.Verbose() {
		t.Logf("in network namespace %s:\n%s", ns, out)
	}
	return false
}

// Name is the namespace the child runs in ("" in the parent).
func Name() string { return os.Getenv(childEnv) }
