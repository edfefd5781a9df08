package guarantee

import "testing"

// TestReviewR2GateWithIgnoreFailure: an administrator's drop-in
//
//	ExecCondition=
//	ExecCondition=-/usr/sbin/ransomeye-tuner --root=/ gate
//
// keeps the gate's command line but prefixes it with "-": systemd then
// records the gate's exit 1 and starts the core anyway ("considered
// equivalent to success", systemd.service(5)). systemd carries the prefix
// as the third field (ignore-failure, b) of the a(sasbttttuii) it sends;
// Commands drops it, so core-gate holds and status says COMPLIANT while
// nothing can keep the core down: the same fail-open as the empty
// ExecCondition= reset (FAULTS.md, finding 32).
func TestReviewR2GateWithIgnoreFailure(t *testing.T) {
	v := [][]any{{"/usr/sbin/ransomeye-tuner", []string{"/usr/sbin/ransomeye-tuner", "--root=/", "gate"}, true, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}}
	cmds, ok := Commands(v)
	if !ok {
		t.Fatal("Commands refused systemd's property")
	}
	if e := CoreGate("mydb.service", Measurement{ExecCondition: cmds}); e.OK {
		t.Errorf("core-gate holds for an ExecCondition=- gate whose failure systemd ignores: %+v", e)
	}
}
