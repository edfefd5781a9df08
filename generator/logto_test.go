package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogDestination: the kernel log when systemd runs the generator
// ($SYSTEMD_SCOPE, systemd 251 and later; or no terminal and no root
// prefix, as older systemd runs it), standard error when a person or a test
// does (a root prefix, or a terminal).
func TestLogDestination(t *testing.T) {
	for _, c := range []struct {
		env      map[string]string
		terminal bool
		kmsg     bool
	}{
		{map[string]string{"SYSTEMD_SCOPE": "system"}, false, true},
		{map[string]string{"SYSTEMD_SCOPE": "system", "RANSOMEYE_TUNER_ROOT": "/tmp/m"}, false, true},
		{map[string]string{}, false, true},
		{map[string]string{"RANSOMEYE_TUNER_ROOT": "/"}, false, true},
		{map[string]string{"RANSOMEYE_TUNER_ROOT": "/tmp/m"}, false, false},
		{map[string]string{"RANSOMEYE_TUNER_ROOT": "/tmp/m"}, true, false},
		{map[string]string{}, true, false},
	} {
		if got := toKmsg(func(k string) string { return c.env[k] }, c.terminal); got != c.kmsg {
			t.Errorf("env %v, terminal %t: to the kernel log %t, want %t", c.env, c.terminal, got, c.kmsg)
		}
	}
}

// TestGeneratorByHandSaysWhy runs the real generator on a tree with an
// invalid configuration, as a person checking it would (a root prefix, no
// $SYSTEMD_SCOPE): the problems are on standard error, in words, and
// nothing reaches the kernel log. Run as systemd runs it ($SYSTEMD_SCOPE
// set), the same problems go to the kernel log and standard error stays
// empty. Before, by hand it printed nothing and wrote into the host's
// kernel log. The kernel log is a file bound over /dev/kmsg in a private
// mount namespace: this host's own log is never written.
func TestGeneratorByHandSaysWhy(t *testing.T) {
	if !canCaptureKmsg() {
		t.Skip("needs root and unshare(1) to capture /dev/kmsg in a private mount namespace")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/ransomeye"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ransomeye/tuner.conf"), []byte("[Swap]\nMinSize=lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"", "system"} {
		d := newOutDirs(t)
		kmsg := filepath.Join(t.TempDir(), "kmsg")
		if err := os.WriteFile(kmsg, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /dev/kmsg && shift && exec "$@"`, kmsg, "x", genBin, d.normal, d.early, d.late)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RANSOMEYE_TUNER_ROOT=" + root}
		if scope != "" {
			cmd.Env = append(cmd.Env, "SYSTEMD_SCOPE="+scope)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("generator: %v\n%s", err, stderr.String())
		}
		logged, err := os.ReadFile(kmsg)
		if err != nil {
			t.Fatal(err)
		}
		const problem = `/etc/ransomeye/tuner.conf:2: MinSize=lots: "lots" is not a size`
		if scope == "" {
			if !strings.Contains(stderr.String(), "error: "+problem) || !strings.Contains(stderr.String(), "error: invalid configuration") {
				t.Errorf("by hand: standard error does not say why:\n%s", stderr.String())
			}
			if len(logged) != 0 {
				t.Errorf("by hand: the kernel log was written:\n%s", logged)
			}
			continue
		}
		if !strings.Contains(string(logged), "<3>ransomeye-tuner-generator[") || !strings.Contains(string(logged), problem) {
			t.Errorf("as systemd runs it: the kernel log lacks the problem:\n%s", logged)
		}
		if stderr.Len() != 0 {
			t.Errorf("as systemd runs it: standard error %q, want nothing", stderr.String())
		}
	}
}
