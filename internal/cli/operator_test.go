package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// addConfig adds files (host path to text) to root, appending to a file
// that exists, and runs the generator again, as a daemon-reload would.
func addConfig(t *testing.T, root hostroot.Root, files map[string]string) {
	t.Helper()
	for p, text := range files {
		if err := os.MkdirAll(filepath.Dir(root.Path(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(root.Path(p), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	for _, d := range []string{units.NormalDir, units.LateDir} {
		if err := os.RemoveAll(root.Path(d)); err != nil {
			t.Fatal(err)
		}
	}
	apply.Generator(root, apply.Dirs{Normal: root.Path(units.NormalDir), Late: root.Path(units.LateDir)}, priolog.New(io.Discard, ""))
}

// metricsText runs the metrics command on root and returns the textfile.
func metricsText(t *testing.T, root hostroot.Root) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(root.Path(names.DefaultMetricsPath)), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runMain("--root", root.String(), "metrics"); code != ExitOK {
		t.Fatalf("metrics: exit %d\n%s%s", code, out, errs)
	}
	b, err := os.ReadFile(root.Path(names.DefaultMetricsPath))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConfigWarningsReported: what the configuration holds that is not used
// is in every report of the configuration: status's text (a row per
// warning, with what was meant), status --json (config.warnings, each with
// file, line and message; valid stays true), the metrics
// (ransomeye_tuner_config_warnings) and check-config. Before, a "[swap]"
// section, "vm.swappiness=" under [Sysctl], a dangling drop-in link's
// sibling "50-site" without .conf showed only in plan's log: status said
// the defaults as if chosen, the JSON had no warnings field and the
// metrics said nothing.
func TestConfigWarningsReported(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	addConfig(t, root, map[string]string{
		"/etc/ransomeye/tuner.conf":           "[swap]\nMinSize=32G\n[Sysctl]\nvm.swappiness=10\n",
		"/etc/ransomeye/tuner.conf.d/50-site": "[Swap]\nReserve=1G\n",
	})
	code, text, _ := runMain("--root", root.String(), "status")
	if code != ExitOK {
		t.Errorf("status: exit %d: warnings must not make a compliant machine fail\n%s", code, text)
	}
	for _, want := range []string{
		"/etc/ransomeye/tuner.conf:4: unknown section [swap] (did you mean [Swap]?), ignoring it and the settings under it: MinSize=",
		`/etc/ransomeye/tuner.conf:7: unknown key "vm.swappiness" in [Sysctl], ignoring it (did you mean Swappiness=?)`,
		"/etc/ransomeye/tuner.conf.d/50-site: is not read: only files whose names end in .conf are; rename it to 50-site.conf",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status does not say %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\nconfig warning "); n != 3 {
		t.Errorf("status has %d config warning rows, want 3:\n%s", n, text)
	}
	_, out, _ := runMain("--root", root.String(), "status", "--json")
	var doc struct {
		Config struct {
			Valid    bool `json:"valid"`
			Warnings []struct {
				File    string `json:"file"`
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"warnings"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Config.Valid || len(doc.Config.Warnings) != 3 || doc.Config.Warnings[0].Line != 4 || !strings.Contains(doc.Config.Warnings[0].Message, "did you mean [Swap]?") {
		t.Errorf("status --json config = %+v, want valid with three warnings, the first at line 4", doc.Config)
	}
	if m := metricsText(t, root); !strings.Contains(m, "\nransomeye_tuner_config_warnings 3\n") {
		t.Errorf("metrics do not count the three warnings:\n%s", m)
	}
	code, out, _ = runMain("--root", root.String(), "check-config")
	if code != ExitOK || strings.Count(out, ": warning: ") != 3 {
		t.Errorf("check-config: exit %d, want 0 with three warnings:\n%s", code, out)
	}
	if code, out, _ = runMain("--root", root.String(), "check-config", "--strict"); code != ExitFail {
		t.Errorf("check-config --strict: exit %d, want 1 on warnings:\n%s", code, out)
	}
}

// TestCheckConfigExitCodes: check-config exits 0 for a valid configuration,
// 1 for an invalid one, printing each problem as FILE:LINE: error: ...,
// and reads files given on the command line that are not installed (paths
// as given, in order: the first as tuner.conf). Before, the only check was
// plan, which exits 0 on an invalid configuration.
func TestCheckConfigExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.conf", "[Swap]\nMinSize=16.0 GiB\n")
	bad := write("bad.conf", "[Swap]\nPath=/data/swap\nMinSize=32 GB\n")
	dropin := write("50-cpu.conf", "[CPU]\nTrainingCPUs=6-7\n")
	clash := write("60-cpu.conf", "[CPU]\nDPICPUs=7\n")
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{good}, ExitOK, []string{"valid: " + good + ": 0 errors, 0 warnings"}},
		{[]string{bad}, ExitFail, []string{bad + ":3: error: MinSize=32 GB: \"32 GB\": GB is ambiguous", "INVALID: " + bad + ": 1 error, 0 warnings"}},
		{[]string{good, dropin, clash}, ExitFail, []string{clash + ":2: error: DPICPUs=7 and TrainingCPUs=6-7 (" + dropin + ":2) both name CPU 7"}},
		{[]string{good, dropin}, ExitOK, []string{"valid: " + good + ", " + dropin}},
		{[]string{filepath.Join(dir, "missing.conf")}, ExitFail, []string{filepath.Join(dir, "missing.conf") + ": error: cannot read: no such file"}},
		{[]string{"--strict", good}, ExitOK, nil},
		{[]string{"--quiet", bad}, ExitFail, nil},
	} {
		code, out, errs := runMain(append([]string{"check-config"}, c.args...)...)
		if code != c.code {
			t.Errorf("check-config %v: exit %d, want %d\n%s%s", c.args, code, c.code, out, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("check-config %v does not say %q:\n%s", c.args, w, out)
			}
		}
		if c.args[0] == "--quiet" && out != "" {
			t.Errorf("check-config --quiet printed %q", out)
		}
	}
}

// TestNamedCPUsGuaranteed: CPUs named for a role are its CPUs in the plan,
// the drop-ins, status and the metrics (role_cpus), and a CPU list status
// prints, typed back, gives the same plan; named CPUs this machine
// cannot give (offline, beyond it) fail the cpu-plan guarantee in status,
// the gate and the metrics, and check-config names the line; never the
// plan's own choice in their place.
func TestNamedCPUsGuaranteed(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy) // 8 CPUs, one node
	addConfig(t, root, map[string]string{"/etc/ransomeye/tuner.conf": "[CPU]\nDPICPUs=2-3\n"})
	code, text, _ := runMain("--root", root.String(), "status")
	if code != ExitOK || !strings.Contains(text, "ransomeye-dpi.service       2-3") {
		t.Errorf("status with DPICPUs=2-3: exit %d\n%s", code, text)
	}
	m := metricsText(t, root)
	for _, want := range []string{`ransomeye_tuner_role_cpus{role="dpi",service="ransomeye-dpi.service"} 2`, `ransomeye_tuner_guarantee_ok{guarantee="cpu-plan"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
	b, err := os.ReadFile(root.Path(units.NormalDir + "/ransomeye-dpi.slice"))
	if err != nil || !strings.Contains(string(b), "AllowedCPUs=2-3\n") {
		t.Errorf("ransomeye-dpi.slice: %v\n%s", err, b)
	}
	// The training set status prints, typed back as TrainingCPUs=, is the
	// same plan.
	_, out, _ := runMain("--root", root.String(), "status", "--json")
	var doc struct {
		CPU struct {
			Sets map[string]struct{ CPUs string } `json:"sets"`
		} `json:"cpu"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.CPU.Sets["training"].CPUs == "" {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	printed := doc.CPU.Sets["training"].CPUs
	if _, err := config.ParseCPUs(printed); err != nil {
		t.Errorf("the CPU list status prints, %q, does not parse back: %v", printed, err)
	}
	addConfig(t, root, map[string]string{"/etc/ransomeye/tuner.conf": "TrainingCPUs=" + printed + "\n"})
	if code, text, _ := runMain("--root", root.String(), "status"); code != ExitOK || !strings.Contains(text, "ransomeye-training.service  "+printed+"\n") {
		t.Errorf("TrainingCPUs=%s typed back: exit %d\n%s", printed, code, text)
	}

	addConfig(t, root, map[string]string{"/etc/ransomeye/tuner.conf": "DPICPUs=8-9\n"})
	code, text, _ = runMain("--root", root.String(), "status")
	if code != ExitFail || !strings.Contains(text, "the CPUs named in the configuration cannot be used on this machine: DPICPUs=8-9: CPUs 8-9 are not online here (online: 0-7)") {
		t.Errorf("status with DPICPUs=8-9 on 8 CPUs: exit %d, want 1 naming the CPUs\n%s", code, text)
	}
	if code, out, _ := runMain("--root", root.String(), "gate"); code != ExitFail || !strings.Contains(out, "cpu-plan: the CPUs named in the configuration cannot be used") {
		t.Errorf("gate: exit %d, want 1 for cpu-plan:\n%s", code, out)
	}
	if m := metricsText(t, root); !strings.Contains(m, `ransomeye_tuner_guarantee_ok{guarantee="cpu-plan"} 0`) {
		t.Errorf("metrics do not fail cpu-plan:\n%s", m)
	}
	code, out, _ = runMain("--root", root.String(), "check-config")
	if code != ExitFail || !strings.Contains(out, "/etc/ransomeye/tuner.conf:7: error: on this machine: DPICPUs=8-9: CPUs 8-9 are not online here") {
		t.Errorf("check-config: exit %d, want 1 naming the line:\n%s", code, out)
	}
}

// TestPrintedSizesAreValidSettings: every size status and plan print
// ("16.0 GiB", "1.0 MiB", "512 B") is a valid [Swap] MinSize= as printed, so
// a value copied from the tool's output can be typed back.
func TestPrintedSizesAreValidSettings(t *testing.T) {
	size := regexp.MustCompile(`\b\d+(\.\d+)? ([KMGTPE]i)?B\b`)
	for _, c := range []fakeroot.Case{fakeroot.Healthy, fakeroot.Failed} {
		root := fakeroot.New(t, c)
		var all []string
		for _, args := range [][]string{{"status"}, {"plan"}} {
			_, out, _ := runMain(append([]string{"--root", root.String()}, args...)...)
			all = append(all, size.FindAllString(out, -1)...)
		}
		if len(all) < 5 {
			t.Fatalf("%s: only %d sizes printed: %v", c, len(all), all)
		}
		for _, s := range all {
			if _, err := config.ParseSize(s); err != nil {
				t.Errorf("%s: printed %q does not parse back: %v", c, s, err)
			}
		}
	}
}

// TestMemoryMinOverHalfRAMWarnedInReports: MemoryMin= settings adding up
// to more than half this machine's RAM are said wherever the
// configuration's warnings are: status's config warning rows and
// check-config (valid, a warning).
func TestMemoryMinOverHalfRAMWarnedInReports(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	addConfig(t, root, map[string]string{"/etc/ransomeye/tuner.conf": "[Memory]\nCoreMin=80%\n"})
	_, text, _ := runMain("--root", root.String(), "status")
	if !strings.Contains(text, "config warning") || !strings.Contains(text, "MemoryMin= adds up to") {
		t.Errorf("status does not warn of CoreMin=80%%:\n%s", text)
	}
	code, out, _ := runMain("--root", root.String(), "check-config")
	if code != ExitOK || !strings.Contains(out, "warning: on this machine: MemoryMin= adds up to") || !strings.Contains(out, "CoreMin=80%") {
		t.Errorf("check-config: exit %d, want 0 with the MemoryMin= warning:\n%s", code, out)
	}
}

// TestCheckConfigByteOrderMark: a tuner.conf saved by an editor that
// writes a UTF-8 byte order mark is valid, as systemd reads its own files:
// check-config exits 0 with no warning and the setting under [Swap] used.
func TestCheckConfigByteOrderMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuner.conf")
	if err := os.WriteFile(path, []byte("\ufeff[Swap]\nMinSize=32G\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain("check-config", "--strict", path)
	if code != ExitOK || strings.Contains(out+errOut, "[Swap]") && strings.Contains(out+errOut, "unknown") {
		t.Errorf("check-config --strict on a file with a byte order mark: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckConfigDanglingLinkVerdictNamesTheFile: tuner.conf a symbolic
// link to nothing is an error (the core is kept down). The verdict line
// must name the file and the link, not say the configuration is "no
// configuration file (built-in defaults)", the opposite of the error line
// above it.
func TestCheckConfigDanglingLinkVerdictNamesTheFile(t *testing.T) {
	root := fakeroot.New(t, fakeroot.Healthy)
	if err := os.Remove(root.Path(names.ConfigFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/ransomeye/site.conf", root.Path(names.ConfigFile)); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runMain("--root", root.String(), "check-config")
	if code != ExitFail {
		t.Fatalf("check-config: exit %d, want 1 (premise)\n%s", code, out)
	}
	verdict := ""
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "INVALID:") {
			verdict = l
		}
	}
	if strings.Contains(verdict, "built-in defaults") || !strings.Contains(verdict, names.ConfigFile) || !strings.Contains(verdict, "/etc/ransomeye/site.conf") {
		t.Errorf("verdict line %q; want it to name %s and its dangling link\n%s", verdict, names.ConfigFile, out)
	}
}
