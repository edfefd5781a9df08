// Package scripts holds no code: its tests check the packaging files in this
// directory against the Go code they describe (the shipped default
// configuration, the maintainer scripts' configuration reader, the man pages
// and the bash completion).
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/apply"
	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// allKeys is every setting config.go knows, as Section/Key.
var allKeys = config.Settings()

var commented = regexp.MustCompile(`^#([A-Za-z]+)=(.*)$`)

// loadText loads text as the only configuration file of an empty root.
func loadText(t *testing.T, text string) (config.Config, []config.Problem, error) {
	t.Helper()
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(filepath.Dir(root.Path(names.ConfigFile)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path(names.ConfigFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return config.Load(root)
}

// TestDefaultConfig shows that scripts/tuner.conf, as shipped, changes
// nothing, and that uncommenting every setting in it changes nothing either:
// each commented value is the built-in default, each key is one config.go
// knows (a typo would be a warning), and every setting is there.
func TestDefaultConfig(t *testing.T) {
	text, err := os.ReadFile("tuner.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Files = []string{names.ConfigFile}

	got, warnings, err := loadText(t, string(text))
	if err != nil || len(warnings) > 0 {
		t.Fatalf("shipped tuner.conf: err %v, warnings %v", err, warnings)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shipped tuner.conf gives %+v, want the defaults %+v", got, want)
	}

	var out []string
	var found []string
	section := ""
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
		}
		if m := commented.FindStringSubmatch(line); m != nil {
			found = append(found, section+"/"+m[1])
			line = m[1] + "=" + m[2]
		}
		out = append(out, line)
	}
	sort.Strings(found)
	if !reflect.DeepEqual(found, allKeys) {
		t.Errorf("tuner.conf shows the settings %v, want exactly %v", found, allKeys)
	}
	got, warnings, err = loadText(t, strings.Join(out, "\n"))
	if err != nil || len(warnings) > 0 {
		t.Fatalf("tuner.conf with every setting uncommented: err %v, warnings %v", err, warnings)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tuner.conf with every setting uncommented gives %+v, want the defaults %+v", got, want)
	}
}

// TestManPagesNameEverySetting checks ransomeye-tuner.conf(5) against the
// settings, and that the man pages' markdown converts (go-md2man is run by
// `make man`; here only the source is checked).
func TestManPagesNameEverySetting(t *testing.T) {
	text, err := os.ReadFile("../docs/man/ransomeye-tuner.conf.5.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range allKeys {
		section, key, _ := strings.Cut(k, "/")
		if !strings.Contains(string(text), "# ["+section+"] SECTION") {
			t.Errorf("ransomeye-tuner.conf(5) has no [%s] section", section)
		}
		if !strings.Contains(string(text), "**"+key+"=**") {
			t.Errorf("ransomeye-tuner.conf(5) does not describe %s=", key)
		}
	}
}

// shell runs a POSIX sh snippet after sourcing maint/common.sh.
func shell(t *testing.T, snippet string, args ...string) string {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-ec", ". ./maint/common.sh\n" + snippet, "sh"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, stderr.String())
	}
	return strings.TrimSuffix(string(out), "\n")
}

// TestMaintConfigReader shows that the maintainer scripts' reader (awk, in
// maint/common.sh) finds the swapfile and the metrics file where
// ransomeye-tuner does: the purge removes the file the tuner made, and the
// postinst starts the swap unit the generator wrote.
func TestMaintConfigReader(t *testing.T) {
	type file struct{ name, text string }
	cases := []struct {
		name  string
		files []file
	}{
		{"no configuration", nil},
		{"shipped default", []file{{"tuner.conf", mustRead(t, "tuner.conf")}}},
		{"main file", []file{{"tuner.conf", "[Swap]\nPath=/swapfile\n"}}},
		{"spaces around =", []file{{"tuner.conf", "[Swap]\n  Path  =   /data/swap  \n"}}},
		{"CRLF", []file{{"tuner.conf", "[Swap]\r\nPath=/crlf/swap\r\n"}}},
		{"last assignment wins", []file{{"tuner.conf", "[Swap]\nPath=/a\nPath=/b\n"}}},
		{"drop-in overrides", []file{{"tuner.conf", "[Swap]\nPath=/a\n"}, {"tuner.conf.d/50-x.conf", "[Swap]\nPath=/b\n"}}},
		{"empty value resets", []file{{"tuner.conf", "[Swap]\nPath=/a\n"}, {"tuner.conf.d/50-x.conf", "[Swap]\nPath=\n"}}},
		{"byte order of drop-ins", []file{
			{"tuner.conf.d/9-b.conf", "[Swap]\nPath=/nine\n"},
			{"tuner.conf.d/10-a.conf", "[Swap]\nPath=/ten\n"},
			{"tuner.conf.d/B.conf", "[Swap]\nPath=/upper\n"},
			{"tuner.conf.d/a.conf", "[Swap]\nPath=/lower\n"},
		}},
		{"dot and non-conf drop-ins ignored", []file{
			{"tuner.conf", "[Swap]\nPath=/kept\n"},
			{"tuner.conf.d/.hidden.conf", "[Swap]\nPath=/hidden\n"},
			{"tuner.conf.d/z.conf.dpkg-old", "[Swap]\nPath=/old\n"},
		}},
		{"other sections and keys", []file{{"tuner.conf", "[CPU]\nPath=/not-swap\n[Swap]\npath=/lowercase\nPathX=/x\n;Path=/semi\n# Path=/hash\n[Metrics]\nTextfilePath=off\n"}}},
		{"continuation line", []file{{"tuner.conf", "[Swap]\nPath=/with\\\n   space\n"}}},
		{"section per file", []file{{"tuner.conf", "[Swap]\n"}, {"tuner.conf.d/a.conf", "Path=/no-section\n"}}},
		{"metrics path", []file{{"tuner.conf", "[Metrics]\nTextfilePath=/srv/metrics/t.prom\n"}}},
		{"metrics no", []file{{"tuner.conf", "[Metrics]\nTextfilePath=no\n"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range c.files {
				p := filepath.Join(root, "etc/ransomeye", f.name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f.text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg, _, cfgErr := config.Load(hostroot.Root(root))
			swap := shell(t, `rt_swap_path "$1"`, root)
			metrics := shell(t, `rt_metrics_path "$1"`, root)
			if cfgErr != nil {
				// The tuner acts on no invalid configuration; the scripts
				// still name a path, guarded by the label check.
				t.Logf("configuration invalid (%v); scripts say %q", cfgErr, swap)
				return
			}
			if swap != cfg.SwapPath {
				t.Errorf("maintainer scripts read Path=%q, ransomeye-tuner reads %q", swap, cfg.SwapPath)
			}
			if metrics != cfg.MetricsPath {
				t.Errorf("maintainer scripts read TextfilePath=%q, ransomeye-tuner reads %q", metrics, cfg.MetricsPath)
			}
		})
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIsOurSwapfile shows the purge's guard: only a root-owned regular file
// holding a swap area labelled ransomeye-swap counts as the tuner's.
func TestIsOurSwapfile(t *testing.T) {
	if _, err := exec.LookPath("mkswap"); err != nil {
		t.Skip("mkswap is not installed")
	}
	if _, err := exec.LookPath("blkid"); err != nil {
		t.Skip("blkid is not installed")
	}
	dir := t.TempDir()
	mk := func(name, label string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"-q"}
		if label != "" {
			args = append(args, "-L", label)
		}
		if out, err := exec.Command("mkswap", append(args, p)...).CombinedOutput(); err != nil {
			t.Fatalf("mkswap %s: %v\n%s", p, err, out)
		}
		return p
	}
	ours := mk("ours", names.SwapLabel)
	other := mk("other", "someone-else")
	unlabelled := mk("unlabelled", "")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(data, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(ours, link); err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{ours: os.Geteuid() == 0, other: false, unlabelled: false, data: false, link: false, filepath.Join(dir, "missing"): false}
	if os.Geteuid() != 0 {
		t.Log("not root: the files are not root-owned, so none of them counts as ours")
	}
	for p, want := range cases {
		got := shell(t, `if rt_is_our_swapfile "$1"; then echo yes; else echo no; fi`, p) == "yes"
		if got != want {
			t.Errorf("rt_is_our_swapfile %s = %v, want %v", filepath.Base(p), got, want)
		}
	}
}

// completionSetup skips the test without bash, builds ransomeye-tuner and
// returns its path and its --help.
func completionSetup(t *testing.T) (bin string, help []byte) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	bin = filepath.Join(t.TempDir(), "ransomeye-tuner")
	if out, err := exec.Command("go", "build", "-o", bin, "../activator").CombinedOutput(); err != nil {
		t.Fatalf("go build ../activator: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("ransomeye-tuner --help: %v", err)
	}
	return bin, help
}

// TestCompletion runs the bash completion function and checks it offers
// every command of the real CLI (from `ransomeye-tuner --help`) and the
// options of the commands.
func TestCompletion(t *testing.T) {
	bin, help := completionSetup(t)
	var commands []string
	inCommands := false
	for _, line := range strings.Split(string(help), "\n") {
		if strings.HasPrefix(line, "Commands:") {
			inCommands = true
			continue
		}
		if inCommands {
			f := strings.Fields(line)
			if len(f) == 0 {
				break
			}
			commands = append(commands, f[0])
		}
	}
	if len(commands) < 5 {
		t.Fatalf("found only %v in --help output:\n%s", commands, help)
	}

	complete := func(words ...string) []string { return complete(t, words...) }
	got := complete("ransomeye-tuner", "")
	for _, c := range commands {
		if !contains(got, c) {
			t.Errorf("completion offers %v, lacks the command %q", got, c)
		}
	}
	for _, c := range got {
		if c != "help" && !contains(commands, c) {
			t.Errorf("completion offers %q, which --help does not list", c)
		}
	}
	if got := complete("ransomeye-tuner", "st"); !reflect.DeepEqual(got, []string{"status"}) {
		t.Errorf("completion of 'st' = %v, want [status]", got)
	}
	// Each command's options, checked against the command's own --help.
	for _, c := range commands {
		out, _ := exec.Command(bin, c, "--help").CombinedOutput()
		flags := regexp.MustCompile(`(?m)^\s+-{1,2}([a-z-]+)`).FindAllStringSubmatch(string(out), -1)
		offered := complete("ransomeye-tuner", c, "--")
		for _, f := range flags {
			if !contains(offered, "--"+f[1]) {
				t.Errorf("completion for %q offers %v, lacks --%s from its --help", c, offered, f[1])
			}
		}
	}
	if got := complete("ransomeye-tuner", "fail-closed", "--reason", ""); len(got) != 0 {
		t.Errorf("completion after --reason = %v, want nothing (free text)", got)
	}
}

// complete runs the bash completion function on words (the last one is
// the word being completed) and returns what it offers.
func complete(t *testing.T, words ...string) []string {
	t.Helper()
	script := `. ../completion/ransomeye-tuner.bash
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
_ransomeye_tuner
printf '%s\n' "${COMPREPLY[@]}"`
	out, err := exec.Command("bash", append([]string{"-c", script, "bash"}, words...)...).Output()
	if err != nil {
		t.Fatalf("completion of %q: %v", words, err)
	}
	return strings.Fields(string(out))
}

// TestCompletionGlobalOptions: the completion offers every option the
// overview lists before COMMAND (--root among them), a directory after
// --root, and the commands and their options after --root DIR.
func TestCompletionGlobalOptions(t *testing.T) {
	_, help := completionSetup(t)
	_, before, ok := strings.Cut(string(help), "Options (before COMMAND):\n")
	if !ok {
		t.Fatalf("ransomeye-tuner --help has no options before COMMAND:\n%s", help)
	}
	before, _, _ = strings.Cut(before, "\n\n")
	offered := complete(t, "ransomeye-tuner", "--")
	for _, m := range regexp.MustCompile(`(?m)^\s+(--[a-z-]+)`).FindAllStringSubmatch(before, -1) {
		if !contains(offered, m[1]) {
			t.Errorf("completion before the command offers %v, lacks %s from --help", offered, m[1])
		}
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fakeroot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := complete(t, "ransomeye-tuner", "--root", dir+"/fa"); !reflect.DeepEqual(got, []string{dir + "/fakeroot"}) {
		t.Errorf("completion after --root = %v, want the directory %s/fakeroot", got, dir)
	}
	if got := complete(t, "ransomeye-tuner", "--root", dir, "st"); !reflect.DeepEqual(got, []string{"status"}) {
		t.Errorf("completion of 'st' after --root DIR = %v, want [status]", got)
	}
	if got := complete(t, "ransomeye-tuner", "--root", dir, "plan", "--"); !contains(got, "--json") {
		t.Errorf("completion of plan's options after --root DIR = %v, want --json among them", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCopyrightNamesEveryModule checks that debian/copyright names every Go
// module linked into the two binaries: they are static, so the package
// ships those modules' code and must carry their licenses.
func TestCopyrightNamesEveryModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", "../activator", "../generator").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	copyright := mustRead(t, "debian/copyright")
	seen := map[string]bool{}
	for _, m := range strings.Fields(string(out)) {
		if seen[m] || m == "github.com/ransomeye/ransomeye-tuner" {
			continue
		}
		seen[m] = true
		if !strings.Contains(copyright, m+"/*") {
			t.Errorf("debian/copyright has no Files: stanza for the linked module %s: add it with its license", m)
		}
	}
	if len(seen) == 0 {
		t.Fatal("go list found no modules: the check checked nothing")
	}
}

// TestSELinuxModuleScripts runs the maintainer scripts' SELinux functions
// with a FAKE semodule (a script that logs its arguments and fails when
// told to, as semodule fails on a policy without a type the module names):
// nothing is done without a configured policy; with one, install runs
// semodule -i of the shipped module and a failure is logged, never fatal;
// remove runs semodule -r only when the module is listed.
func TestSELinuxModuleScripts(t *testing.T) {
	dir := t.TempDir()
	bin, sel, log := filepath.Join(dir, "bin"), filepath.Join(dir, "selinux"), filepath.Join(dir, "log")
	for _, d := range []string{bin, filepath.Join(sel, "default")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake := "#!/bin/sh\necho \"$*\" >>" + log + "\n" +
		"[ \"$1\" = -l ] && { [ -e " + dir + "/listed ] && echo ransomeye_tuner; echo base; exit 0; }\n" +
		"[ -e " + dir + "/fail ] && { echo 'Failed to resolve allow statement' >&2; exit 1; }\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "semodule"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(fn string) string {
		t.Helper()
		os.Remove(log)
		shell(t, `PATH="$1:$PATH" RT_SELINUX_DIR="$2"; `+fn+` 2>/dev/null; echo rc=$?`, bin, sel)
		b, _ := os.ReadFile(log)
		return strings.TrimSpace(string(b))
	}
	if got := run("rt_selinux_install"); got != "" {
		t.Errorf("no /etc/selinux/config: semodule ran: %q", got)
	}
	if err := os.WriteFile(filepath.Join(sel, "config"), []byte("SELINUX=permissive\nSELINUXTYPE=default\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := run("rt_selinux_install"), "-i /usr/share/selinux/packages/ransomeye-tuner/ransomeye_tuner.cil"; got != want {
		t.Errorf("install: semodule %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := shell(t, `PATH="$1:$PATH" RT_SELINUX_DIR="$2"; rt_selinux_install 2>&1; echo rc=$?`, bin, sel); !strings.Contains(out, "warning: semodule -i") || !strings.HasSuffix(out, "rc=0") {
		t.Errorf("a failing semodule -i: want a warning and rc=0, got %q", out)
	}
	if got := run("rt_selinux_remove"); got != "-l" {
		t.Errorf("remove, module not listed: semodule %q, want only -l", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "listed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run("rt_selinux_remove"); got != "-l\n-r ransomeye_tuner" {
		t.Errorf("remove, module listed: semodule %q, want -l then -r ransomeye_tuner", got)
	}
	if shipped, err := os.ReadFile("../selinux/ransomeye_tuner.cil"); err != nil || !strings.Contains(string(shipped), "(allow systemd_generator_t") {
		t.Errorf("the shipped module: %v", err)
	}
}

// TestLintianOverrideSaysWhatPostrmCalls: the comment that justifies
// postrm's systemctl calls to lintian names each one the script makes
// (a direct systemctl VERB, or rt_invoke VERB UNIT): an override must not
// hide a call its reason does not cover.
func TestLintianOverrideSaysWhatPostrmCalls(t *testing.T) {
	overrides := mustRead(t, "debian/lintian-overrides")
	var comment []string
	for _, line := range strings.Split(overrides, "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			comment = append(comment, strings.TrimPrefix(line, "#"))
		case strings.Contains(line, "maintainer-script-calls-systemctl [postrm:*]"):
			goto found
		default:
			comment = nil
		}
	}
	t.Fatal("debian/lintian-overrides has no maintainer-script-calls-systemctl override for postrm")
found:
	why := strings.Join(strings.Fields(strings.Join(comment, " ")), " ")
	postrm := mustRead(t, "maint/postremove.sh")
	calls := regexp.MustCompile(`(?m)^\s*(?:systemctl|rt_invoke) ([a-z-]+)(?: ([A-Za-z0-9@._-]+))?`).FindAllStringSubmatch(postrm, -1)
	if len(calls) == 0 {
		t.Fatal("found no systemctl call in maint/postremove.sh")
	}
	for _, c := range calls {
		for _, word := range c[1:] {
			if word != "" && !strings.Contains(why, word) {
				t.Errorf("postrm calls %q; the override's comment does not say so: %q", strings.TrimSpace(c[0]), why)
				break
			}
		}
	}
}

// TestPreremoveStopsBeforeGivingBack: the prerm (Debian "remove") and
// %preun (RPM erase, "0") ran `ransomeye-tuner uninstall` first and
// stopped the activator after it, so an activation in progress finished
// after the give-back and applied the sysctls and their /run/sysctl.d file
// again, which the removal left. The activator and the metrics timer stop
// first, and the network-device unit, whose reloads would place again after
// the give-back; the place unit after the uninstall, which waits for a running
// placement (killed, it would leave moves no undo knows) and holds later
// ones. systemctl, the binary and the purge are FAKES that log their
// calls; the state directory is a temporary one.
func TestPreremoveStopsBeforeGivingBack(t *testing.T) {
	want := []string{
		"stop ransomeye-tuner.service", "stop ransomeye-tuner-metrics.timer", "stop ransomeye-tuner-metrics.service",
		"stop ransomeye-tuner-netdev.service", "ransomeye-tuner uninstall", "stop ransomeye-tuner-place.service",
	}
	for _, arg := range []string{"remove", "0"} {
		t.Run(arg, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "log")
			bin := filepath.Join(dir, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bin, "ransomeye-tuner"), []byte("#!/bin/sh\necho \"ransomeye-tuner $*\" >>"+log+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			shell(t, `RT_STATE_DIR=$1/state RT_STATE=$1/state/purge-paths PATH=$1/bin:$PATH
rt_systemd_running() { true; }
rt_invoke() { echo "$*" >>`+log+`; }
rt_purge() { echo purge >>`+log+`; }
rt_selinux_remove() { :; }
set -- "$2"
. ./maint/preremove.sh`, dir, arg)
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if arg == "0" {
				want := append(append([]string{}, want...), "purge")
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%%preun on erase: %q, want %q", got, want)
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("prerm remove: %q, want %q", got, want)
			}
		})
	}
}

// TestPostinstallRestartsIrqbalance: on a running system the postinst
// (Debian configure, RPM %post) restarts a running irqbalance after the
// reload that writes its drop-in (the banned CPUs), and before the
// activator places the interrupts: irqbalance reads the drop-in only when
// it starts, and before it kept balancing onto the reserved CPUs until its
// next restart. systemctl, journalctl and rt_invoke are FAKES that log
// their calls.
func TestPostinstallRestartsIrqbalance(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"systemctl", "journalctl"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \""+name+" $*\" >>"+log+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shell(t, `PATH=$1/bin:$PATH
rt_systemd_running() { true; }
rt_invoke() { echo "rt_invoke $*" >>`+log+`; }
rt_selinux_install() { :; }
set -- configure
. ./maint/postinstall.sh`, dir)
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	at := func(call string) int {
		for i, c := range got {
			if c == call {
				return i
			}
		}
		t.Errorf("postinst: no %q in %q", call, got)
		return -1
	}
	reload, irqb, act := at("systemctl daemon-reload"), at("rt_invoke try-restart irqbalance.service"), at("rt_invoke restart ransomeye-tuner.service")
	if !(reload < irqb && irqb < act) {
		t.Errorf("postinst calls %q: want the reload, then irqbalance's try-restart, then the activator's restart", got)
	}
}

// TestEraseRefusedKeepRemedyRestartsWhatTheEraseStopped: when rpm -e is
// refused (the swapfile cannot go), the preremove has already stopped
// ransomeye-tuner.service, the metrics timer and the netdev unit, given
// the sysctls and the placement back; it then offers "to keep the tuner
// instead: COMMAND". Followed word for word, that command must bring back
// everything the erase stopped: it was "systemctl restart
// ransomeye-tuner.service", which left the metrics timer (every alert
// blind) and the netdev unit (no placement after a network device event)
// stopped until the next boot. It is the one remedy, recover, which
// restarts the activator and starts the tuner's own units not masked.
func TestEraseRefusedKeepRemedyRestartsWhatTheEraseStopped(t *testing.T) {
	b, err := os.ReadFile("maint/preremove.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`to keep the tuner instead: ([^)]*)\)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("preremove.sh no longer offers a command to keep the tuner (premise)")
	}
	if m[1] != names.RecoverCommand {
		t.Fatalf("the erase's remedy to keep the tuner is %q, not the one remedy %q", m[1], names.RecoverCommand)
	}
	common, err := os.ReadFile("maint/common.sh")
	if err != nil {
		t.Fatal(err)
	}
	started := append([]string{names.ActivatorUnit}, apply.OwnUnits...)
	for _, s := range []string{string(b), string(common)} {
		for _, mm := range regexp.MustCompile(`rt_invoke stop (\S+)`).FindAllStringSubmatch(s, -1) {
			switch u := mm[1]; {
			case u == "ransomeye-tuner-place.service":
				// A oneshot that activate's placement stands in for.
			case u == "ransomeye-tuner-metrics.service":
				// A oneshot its timer starts every minute.
			case !slices.Contains(started, u):
				t.Errorf("the erase stopped %s; %s does not start it again (it starts %q)", u, names.RecoverCommand, started)
			}
		}
	}
}
