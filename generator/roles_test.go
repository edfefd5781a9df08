package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/report"
	"github.com/ransomeye/ransomeye-tuner/internal/roles"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

// TestFourthRoleIsATableRow: a role added to the roles table and nothing
// else (a log shipper with one core of the highest node, its unit named by
// a [CPU] LogShipperService= of its own) is planned (training keeps the
// last 2 cores, the shipper takes the next one, DPI the 2 below, the core
// the rest), written as drop-ins and a slice that systemd-analyze verify
// accepts, and reported by status, text and JSON, and by the metrics.
func TestFourthRoleIsATableRow(t *testing.T) {
	saved := roles.Table
	roles.Table = append(append([]roles.Role{}, saved...), roles.Role{Name: "logship", Key: "LogShipperService", Unit: "ransomeye-logship.service",
		Slice: "ransomeye-logship.slice", Description: "RansomEye log shipper CPUs", Cores: 1, Node: roles.Highest})
	defer func() { roles.Table = saved }()

	dir := t.TempDir()
	m := fakesys.Machine{Nodes: 1, CoresPerNode: 8, Files: conf("[CPU]\nLogShipperService=shipper.service\n")}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	root := hostroot.Root(dir)
	var log bytes.Buffer
	p := apply.Generator(root, apply.Dirs{Normal: root.Path(units.NormalDir), Late: root.Path(units.LateDir)}, priolog.New(&log, ""))
	for role, want := range map[string]string{"core": "0-2", "dpi": "3-4", "logship": "5", "training": "6-7"} {
		if got := p.CPU.CPUs(role).String(); got != want {
			t.Errorf("%s gets %q, want %q\n%s", role, got, want, log.String())
		}
	}
	for f, want := range map[string]string{
		"shipper.service.d/cpu-isolation.conf":   "[Service]\nSlice=ransomeye-logship.slice\nAllowedCPUs=5\n",
		"ransomeye-logship.slice":                "[Slice]\nAllowedCPUs=5\n",
		"shipper.service.d/cpu-environment.conf": "Environment=RANSOMEYE_CPUS=5\n",
	} {
		b, err := os.ReadFile(filepath.Join(root.Path(units.NormalDir), f))
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s: %v\n%s\nwant it to hold %q", f, err, b, want)
		}
	}

	// Written as systemd loads it: verify the role's unit with its drop-in
	// and slice, beside the core's and the generator's other output.
	base := verifyBase(t)
	caseDir := filepath.Join(base, "cases", t.Name())
	_ = os.RemoveAll(caseDir)
	for _, d := range []struct{ from, to string }{{units.NormalDir, "normal"}, {units.LateDir, "late"}} {
		if err := os.MkdirAll(filepath.Join(caseDir, d.to), 0o755); err != nil {
			t.Fatal(err)
		}
		copyTree(t, root.Path(d.from), filepath.Join(caseDir, d.to))
	}
	stub := "[Unit]\nDescription=test stand-in\n[Service]\nExecStart=/bin/sleep infinity\n"
	if err := os.WriteFile(filepath.Join(caseDir, "late", "shipper.service"), []byte(stub), 0o644); err != nil {
		t.Fatal(err)
	}
	rel := "/cases/" + t.Name()
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", "--root="+base, "shipper.service", "ransomeye-logship.slice", "ransomeye-core.service")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+rel+"/normal:/units:/stub:"+rel+"/late:", "SYSTEMD_LOG_LEVEL=notice")
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	// Reported by status: the set in the text and in the JSON, and the
	// metrics' series.
	f := facts.Gather(root, facts.Status)
	defer f.Close()
	pl := plan.Decide(f)
	rep := report.Build(f, pl, check.Run(f, pl))
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(text.String()), " "), "shipper.service 5") {
		t.Errorf("status text lacks the role's set:\n%s", text.String())
	}
	if !strings.Contains(js.String(), `"logship": {`) || !strings.Contains(js.String(), `"unit": "shipper.service"`) {
		t.Errorf("status --json lacks the role's set:\n%s", js.String())
	}
	if !strings.Contains(string(rep.Metrics(report.Run{})), `ransomeye_tuner_reserved_cpus{service="shipper.service"} 1`) {
		t.Errorf("the metrics lack the role's series")
	}
	if !rep.CPU.DropInsMatch {
		t.Errorf("the drop-ins just written do not match the plan: %q", rep.CPU.Differences)
	}
}
