package apply_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// failingOwnUnit is a fake of the service manager (fakeSystemd) whose
// start of one unit fails, as a start of ransomeye-tuner-netdev.service
// does when its ExecStart= times out or a drop-in breaks it.
type failingOwnUnit struct {
	*fakeSystemd
	unit string
}

func (s failingOwnUnit) Run(u string, restart bool) (string, error) {
	if u == s.unit {
		s.calls = append(s.calls, "start "+u)
		return "failed", nil
	}
	return s.fakeSystemd.Run(u, restart)
}

// TestRecoverStartsTheCoreWhenAnOwnUnitFailsToStart: the metrics timer and
// the netdev unit are reported on, never gated (the core does not depend
// on them). A failed start of one of them in recover must not keep the
// core down: recover still restarts the activator, starts the swap unit
// and the core the gate refused, before it starts its own units, says
// what failed with where to read why, and its result follows the core's
// steps only. Before it, recover stopped at that unit, the core stayed
// down, and no gate line said why.
func TestRecoverStartsTheCoreWhenAnOwnUnitFailsToStart(t *testing.T) {
	for _, u := range apply.OwnUnits {
		t.Run(u, func(t *testing.T) {
			root := fakeroot.New(t, fakeroot.Failed)
			fake := newFakeSystemd(t, root)
			for _, o := range apply.OwnUnits {
				fake.units[o] = apply.UnitState{Load: "loaded", Active: "inactive", Result: "success", File: "enabled"}
			}
			fake.units[names.CoreService] = gateRefusedCore
			sd := failingOwnUnit{fake, u}
			var out bytes.Buffer
			ok := apply.Recover(root, sd, &out)
			if st := fake.units[names.CoreService]; st.Active != "active" {
				t.Errorf("%s failed to start, and recover left the core the gate refused %s (calls %q)\n%s", u, st.Active, fake.calls, out.String())
			}
			if !ok {
				t.Errorf("%s failed to start, and recover failed though the core's steps succeeded:\n%s", u, out.String())
			}
			if core, own := slices.Index(fake.calls, "start "+names.CoreService), slices.Index(fake.calls, "start "+u); own < core {
				t.Errorf("recover started %s before the core (calls %q)", u, fake.calls)
			}
			if want := "journalctl -u " + u; !strings.Contains(out.String(), want) {
				t.Errorf("recover's output does not say %q after %s failed to start:\n%s", want, u, out.String())
			}
		})
	}
}
