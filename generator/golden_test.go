package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/testkit/blackbox"
)

var update = flag.Bool("update", false, "rewrite testdata/*/root from the case list and testdata/*/expected from the generator's output")

// genBin is the real generator binary, built once by TestMain (the
// black-box harness's, with the version the golden files carry).
var genBin string

func TestMain(m *testing.M) {
	flag.Parse()
	var tuner string
	code := blackbox.Main(m, &tuner, &genBin, "-trimpath", "-ldflags", "-X github.com/ransomeye/ransomeye-tuner/internal/version.Version=test")
	if verifyRoot != "" {
		os.RemoveAll(verifyRoot)
	}
	os.Exit(code)
}

// outDirs are the three directories systemd passes.
type outDirs struct{ normal, early, late string }

func newOutDirs(t *testing.T) outDirs {
	t.Helper()
	normal, early, late := blackbox.OutDirs(t)
	return outDirs{normal, early, late}
}

// canCaptureKmsg reports whether the generator can be run in a private mount
// namespace with a regular file bound over /dev/kmsg, so that its kernel-log
// lines are captured without touching the host's log.
func canCaptureKmsg() bool {
	if os.Geteuid() != 0 {
		return false
	}
	_, err := exec.LookPath("unshare")
	return err == nil
}

// runGen runs the generator binary with root as RANSOMEYE_TUNER_ROOT and
// returns its exit code, its log (kmsg capture, or stderr), and its stderr.
// logOK is false when the log went to the host's /dev/kmsg and is unknown.
func runGen(t *testing.T, root string, args ...string) (code int, log, stderr string, logOK bool) {
	t.Helper()
	var cmd *exec.Cmd
	kmsg := ""
	switch {
	case canCaptureKmsg():
		kmsg = filepath.Join(t.TempDir(), "kmsg")
		if err := os.WriteFile(kmsg, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /dev/kmsg && shift && exec "$@"`, kmsg, "x", genBin}, args...)...)
	case os.Geteuid() != 0:
		cmd = exec.Command(genBin, args...) // /dev/kmsg is not writable: stderr
	default:
		cmd = exec.Command(genBin, args...)
	}
	// SYSTEMD_SCOPE as systemd sets it for generators: the log goes to the
	// kernel log, captured above.
	cmd.Env = append(os.Environ(), "RANSOMEYE_TUNER_ROOT="+root, "SYSTEMD_SCOPE=system")
	var se bytes.Buffer
	cmd.Stderr = &se
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run generator: %v", err)
	}
	switch {
	case kmsg != "":
		b, err := os.ReadFile(kmsg)
		if err != nil {
			t.Fatal(err)
		}
		return code, string(b), se.String(), true
	case os.Geteuid() != 0:
		return code, se.String(), se.String(), true
	}
	return code, "", se.String(), false
}

var pidTag = regexp.MustCompile(`ransomeye-tuner-generator\[\d+\]: `)

// normLog makes a log comparable: no pid, temp paths named.
func normLog(log string, repl ...string) string {
	log = pidTag.ReplaceAllString(log, "")
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		if strings.Contains(l, "cannot open /dev/kmsg") {
			continue
		}
		lines = append(lines, l)
	}
	out := strings.Join(lines, "\n") + "\n"
	return strings.NewReplacer(repl...).Replace(out)
}

// tree maps relative paths to "file:<content>" or "link:<target>"; dirs are
// left out (git keeps no empty directory).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			tgt, _ := os.Readlink(p)
			m[rel] = "link:" + tgt
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			m[rel] = "file:" + string(b)
		}
		return nil
	})
	return m
}

func compareTrees(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case !gok:
			t.Errorf("%s/%s: missing", what, k)
		case !wok:
			t.Errorf("%s/%s: not expected:\n%s", what, k, g)
		case w != g:
			t.Errorf("%s/%s differs:\n--- want\n%s\n--- got\n%s", what, k, w, g)
		}
	}
}

// copyTree copies files and symlinks of src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for rel, v := range tree(t, src) {
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(v, "link:") {
			if err := os.Symlink(strings.TrimPrefix(v, "link:"), p); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte(strings.TrimPrefix(v, "file:")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runCase runs the generator on a case's root into fresh dirs.
func runCase(t *testing.T, root string) (outDirs, string, bool) {
	t.Helper()
	d := newOutDirs(t)
	code, log, _, logOK := runGen(t, root, d.normal, d.early, d.late)
	if code != 0 {
		t.Fatalf("generator exited %d; it must exit 0 on every problem", code)
	}
	return d, normLog(log, root, "$ROOT", d.normal, "$NORMAL", d.early, "$EARLY", d.late, "$LATE"), logOK
}

// TestGolden runs the real generator on each testdata case and compares its
// output tree (content, file or symlink, link target) and its log with the
// expected ones. `go test ./generator -update` rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			caseDir := filepath.Join("testdata", c.name)
			root, _ := filepath.Abs(filepath.Join(caseDir, "root"))
			expected := filepath.Join(caseDir, "expected")
			if *update {
				if err := os.RemoveAll(caseDir); err != nil {
					t.Fatal(err)
				}
				if err := c.m.Write(root); err != nil {
					t.Fatal(err)
				}
			}
			if !*update {
				// The committed root is what the case's Machine writes: the
				// trees are generated, never edited by hand.
				fresh := t.TempDir()
				if err := c.m.Write(fresh); err != nil {
					t.Fatal(err)
				}
				compareTrees(t, "root", tree(t, fresh), tree(t, root))
			}
			d, log, logOK := runCase(t, root)
			if *update {
				for name, dir := range map[string]string{"normal": d.normal, "early": d.early, "late": d.late} {
					copyTree(t, dir, filepath.Join(expected, name))
				}
				if !logOK {
					t.Fatal("-update needs the log: run as root with unshare, or as non-root")
				}
				if err := os.MkdirAll(expected, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(expected, "log"), []byte(log), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for name, dir := range map[string]string{"normal": d.normal, "early": d.early, "late": d.late} {
				compareTrees(t, name, tree(t, filepath.Join(expected, name)), tree(t, dir))
			}
			if !logOK {
				t.Log("log not compared: it went to the host's /dev/kmsg (no unshare)")
				return
			}
			want, err := os.ReadFile(filepath.Join(expected, "log"))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(log, "\n"); n > 10 {
				t.Errorf("%d log lines: /dev/kmsg takes 10 per run (generate.KmsgBurst)", n)
			}
			if string(want) != log {
				t.Errorf("log differs:\n--- want\n%s--- got\n%s", want, log)
			}
		})
	}
}
