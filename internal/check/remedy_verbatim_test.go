package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// TestCoreMemorySwapMaxRemedyRunsVerbatim: a MemorySwapMax= below the swap
// target fails activate at its memory step, which writes the failure
// marker; status and the gate print the core-memory check's remedy. Its
// command after "then: ", typed word for word, must be one the shell runs
// (systemctl daemon-reload takes no further arguments: "and systemctl
// restart ..." makes it fail with "Too many arguments"), and must end with
// recover: a restart of the core alone meets the marker in its gate and
// stays down.
func TestCoreMemorySwapMaxRemedyRunsVerbatim(t *testing.T) {
	core := names.CoreService
	m := facts.Memory{Kind: facts.MemoryV2, Cgroup: "/system.slice/" + core,
		Limit: facts.SwapLimit{Bytes: 0, Unit: core, Limited: true}}
	c := CoreMemory(core, m, 10, 16<<30)
	if !c.Failed() {
		t.Fatalf("premise: MemorySwapMax=0 passes: %+v", c)
	}
	runsVerbatim(t, c.Remedy)
	if !strings.HasSuffix(c.Remedy, names.RecoverCommand) {
		t.Errorf("remedy %q does not end with %s: after activate failed at this check, the failure marker keeps a restarted core down", c.Remedy, names.RecoverCommand)
	}
}

// TestCoreCPUsRemedyRunsVerbatim: the gate keeps the core down when an
// administrator's AllowedCPUs= or CPUAffinity= overrides the plan; the
// command after "then: " in its remedy, typed word for word, must run.
func TestCoreCPUsRemedyRunsVerbatim(t *testing.T) {
	runsVerbatim(t, remedyCoreCPUs(names.CoreService))
}

// runsVerbatim runs the command after the last "then: " of remedy with sh,
// systemctl and the tuner faked on PATH (for what cannot run here: this
// machine's own units are never touched): the fake systemctl refuses
// arguments after daemon-reload as systemctl 252 does ("Too many
// arguments.").
func runsVerbatim(t *testing.T, remedy string) {
	t.Helper()
	i := strings.LastIndex(remedy, "then: ")
	if i < 0 {
		t.Fatalf("remedy %q names no command", remedy)
	}
	cmd := remedy[i+len("then: "):]
	if sh, err := exec.LookPath("sh"); err == nil {
		// The command run by the shell, with systemctl and the tuner
		// fakes on PATH: systemctl fails on arguments after
		// daemon-reload, as the real one does ("Too many arguments.").
		bin := t.TempDir()
		for name, body := range map[string]string{
			"systemctl":         "#!/bin/sh\nif [ \"$1\" = daemon-reload ] && [ $# -gt 1 ]; then echo 'Too many arguments.' >&2; exit 1; fi\n",
			names.ActivatorName: "#!/bin/sh\nexit 0\n",
		} {
			if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		run := exec.Command(sh, "-ec", cmd)
		run.Env = append(os.Environ(), "PATH="+bin)
		if out, err := run.CombinedOutput(); err != nil {
			t.Errorf("remedy command %q, typed word for word: %v %s", cmd, err, out)
		}
	}
}
