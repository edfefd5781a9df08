package apply

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/topology"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
	"github.com/ransomeye/ransomeye-tuner/testkit/netns"
)

// captureFacts are the facts of a placement on a plain 8-CPU topology (DPI
// CPUs 4-5) with the capture interface rtva, a real veth in the test's own
// network namespace, read on the host root.
func captureFacts(channels int) *facts.Facts {
	t := topology.Info{NICNode: -1, Cgroup: topology.Cgroup{V2: true, Cpuset: true}}
	for i := 0; i < 8; i++ {
		t.Cores = append(t.Cores, topology.Core{ID: i, CPUs: cpuset.Of(i)})
	}
	t.Online = cpuset.Of(0, 1, 2, 3, 4, 5, 6, 7)
	t.RootCpuset, t.Nodes = t.Online, []topology.Node{{ID: 0, CPUs: t.Online}}
	f := &facts.Facts{Root: "/", Scope: facts.Place, Enabled: true, Config: config.Default(), Topology: t, TopologyRead: true, Online: -1}
	f.Config.DPIInterface, f.Config.DPIChannels = "rtva", channels
	f.RereadCapture()
	return f
}

// TestPlaceChannelsThenGiveBack: DPIChannels=auto gives a real NIC one
// receive channel per DPI CPU (veth: separate rx channels, 4 -> 2), reads
// it again and decides again (the channels now match), and records the
// change; with DPIChannels=off the next placement gives the count back and
// drops the record.
func TestPlaceChannelsThenGiveBack(t *testing.T) {
	if !netns.Child(t, netns.Veth{Name: "rtva", Peer: "rtvb", Queues: 4}) {
		return
	}
	var r placement.Report
	f := captureFacts(config.ChannelsAuto)
	p := plan.Decide(f)
	if p.Channels.State != plan.ChannelsChange {
		t.Fatalf("decision %+v, want a change", p.Channels)
	}
	rec := placeChannels(f, &p, &r)
	if rec == nil || rec.From.Rx != 4 || rec.To.Rx != 2 || f.Capture.Channels.Rx != 2 || p.Channels.State != plan.ChannelsMatch {
		t.Fatalf("after the change: record %+v, NIC %+v, decision %+v; %q", rec, f.Capture.Channels, p.Channels, r.Warnings)
	}
	// The next placement keeps the record while the NIC holds it.
	f = withRecord(captureFacts(config.ChannelsAuto), rec)
	p = plan.Decide(f)
	if kept := placeChannels(f, &p, &r); kept == nil || *kept != *rec {
		t.Errorf("record not kept: %+v", kept)
	}
	f = withRecord(captureFacts(config.ChannelsOff), rec)
	p = plan.Decide(f)
	if !p.Channels.GiveBack {
		t.Fatalf("DPIChannels=off with a change on record: %+v", p.Channels)
	}
	if got := placeChannels(f, &p, &r); got != nil || f.Capture.Channels.Rx != 4 {
		t.Errorf("after the give-back: record %+v, NIC %+v; %q", got, f.Capture.Channels, r.Warnings)
	}
}

func withRecord(f *facts.Facts, rec *placement.ChannelsChange) *facts.Facts {
	f.Placement.Record = &placement.Applied{Channels: rec}
	return f
}

// TestCaptureNoteDoesNotAdviseTheSettingInForce: with [CPU]
// DPIChannels=auto already set and a one-queue capture NIC for two DPI
// CPUs (a NIC that cannot get more, or a change pending under the running
// engine), the placement's note in the log and in the plan file
// (capture_interface_note) told the operator to "consider [CPU]
// DPIChannels=auto": the remedy was the setting in force, while status's
// capture rows said what the channels really are. The note says that
// instead, in the same words.
func TestCaptureNoteDoesNotAdviseTheSettingInForce(t *testing.T) {
	root := machineWithCaptureNIC(t, fakesys.IceNIC(0, 1), "[CPU]\nDPIInterface=ens1f0\nDPIChannels=auto\n")
	r := placed(t, root)
	doc, err := ReadFile(root)
	if err != nil || doc.Applied == nil {
		t.Fatalf("plan file: %+v %v", doc, err)
	}
	if strings.Contains(doc.Applied.Capture, "consider [CPU] DPIChannels=auto") {
		t.Errorf("plan file's capture_interface_note advises the setting in force:\n%s", doc.Applied.Capture)
	}
	for _, l := range r.Infos {
		if strings.Contains(l, "consider [CPU] DPIChannels=auto") {
			t.Errorf("log advises the setting in force: %s", l)
		}
	}
	if !strings.Contains(doc.Applied.Capture, "channels (DPIChannels=auto) ") {
		t.Errorf("plan file's capture_interface_note does not say what became of DPIChannels=auto:\n%s", doc.Applied.Capture)
	}
}
