package selinux

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// fakeSelinuxfs makes a root prefix whose selinuxfs says enforce and mls;
// context is a regular file (a fake: the kernel's node validates what is
// written, a file takes anything) unless rejecting, when it is a link to
// /proc/self/oom_score_adj, which opens and refuses the write of a context
// with EINVAL (not a number; nothing is changed) as the kernel's node does
// for a context the policy does not know.
func fakeSelinuxfs(t *testing.T, enforce, mls string, rejecting bool) hostroot.Root {
	t.Helper()
	dir := t.TempDir()
	fs := filepath.Join(dir, "sys/fs/selinux")
	if err := os.MkdirAll(fs, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"enforce": enforce, "mls": mls} {
		if err := os.WriteFile(filepath.Join(fs, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rejecting {
		if err := os.Symlink("/proc/self/oom_score_adj", filepath.Join(fs, "context")); err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(filepath.Join(fs, "context"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	return hostroot.Root(dir)
}

func TestDetect(t *testing.T) {
	if s := Detect(hostroot.Root(t.TempDir())); s.Enabled || s.SwapContext != "" || s.Err != nil || s.Mode() != "disabled" {
		t.Errorf("no selinuxfs: got %+v, want disabled and no context", s)
	}
	s := Detect(fakeSelinuxfs(t, "1\n", "1\n", false))
	if !s.Enabled || !s.Enforcing || !s.MLS || s.Mode() != "enforcing" {
		t.Errorf("enforce 1, mls 1: got %+v", s)
	}
	if want := "system_u:object_r:swapfile_t:s0"; s.SwapContext != want {
		t.Errorf("MLS policy: context %q, want %q", s.SwapContext, want)
	}
	s = Detect(fakeSelinuxfs(t, "0", "0", false))
	if s.Enforcing || s.MLS || s.Mode() != "permissive" {
		t.Errorf("enforce 0, mls 0: got %+v", s)
	}
	if want := "system_u:object_r:swapfile_t"; s.SwapContext != want {
		t.Errorf("policy without MLS: context %q, want %q (no range)", s.SwapContext, want)
	}
	s = Detect(fakeSelinuxfs(t, "1", "1", true))
	if !s.Enabled || s.SwapContext != "" || s.Err == nil {
		t.Errorf("a policy that rejects the context: got %+v, want enabled, no context and an error", s)
	}
}

// TestDetectCannotAsk: a context node that cannot be opened for writing (a
// read-only /sys, as ProtectKernelTunables= gives the metrics service; here
// a directory, a fake of it) is not a policy that rejects the context: the
// context is still the swapfile's, unvalidated, so that the judgement of
// the swapfile's type is the same as where the kernel can be asked. Why:
// the metrics service judged our active swapfile of the wrong type in
// effect (no context wanted) while status and the gate did not.
func TestDetectCannotAsk(t *testing.T) {
	root := fakeSelinuxfs(t, "1", "1", false)
	p := root.Path(ContextPath)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	s := Detect(root)
	if want := "system_u:object_r:swapfile_t:s0"; !s.Enabled || s.SwapContext != want || s.Err != nil || s.Unvalidated == nil {
		t.Errorf("context node not writable: got %+v, want context %q, no error, Unvalidated saying why", s, want)
	}
	// A write refused otherwise than with EINVAL (EACCES, a domain not
	// allowed to check contexts; here /dev/full's ENOSPC, a fake of it)
	// did not ask the policy either.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", p); err != nil {
		t.Fatal(err)
	}
	if s := Detect(root); s.SwapContext == "" || s.Err != nil || s.Unvalidated == nil {
		t.Errorf("a write refused but not with EINVAL: got %+v, want the context, unvalidated", s)
	}
}

func TestType(t *testing.T) {
	for ctx, want := range map[string]string{
		"system_u:object_r:swapfile_t:s0":      "swapfile_t",
		"system_u:object_r:swapfile_t":         "swapfile_t",
		"system_u:object_r:file_t:s0:c0.c1023": "file_t",
		"":                                     "",
		"unlabeled":                            "",
	} {
		if got := Type(ctx); got != want {
			t.Errorf("Type(%q) = %q, want %q", ctx, got, want)
		}
	}
}

// TestSetGet labels a real file: the kernel stores security.selinux as it
// is given when no SELinux policy is loaded (root only, CAP_SYS_ADMIN), and
// checks it against the policy when one is.
func TestSetGet(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if got, err := Get(fd); err != nil || got != "" {
		t.Errorf("a new file without a label: Get = %q, %v; want \"\", nil", got, err)
	}
	const ctx = "system_u:object_r:swapfile_t:s0"
	if err := Set(fd, ctx); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
			t.Skipf("cannot set security.selinux here (needs root, a filesystem with xattrs, and no policy that lacks the type): %v", err)
		}
		t.Fatal(err)
	}
	if got, err := Get(fd); err != nil || got != ctx {
		t.Errorf("Get after Set = %q, %v; want %q", got, err, ctx)
	}
}
