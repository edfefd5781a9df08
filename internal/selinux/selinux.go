// Package selinux gives the swapfile the SELinux label swapon needs.
//
// Under SELinux the kernel's swapon checks the file's type: the reference
// policy and RHEL's allow swapon only of swapfile_t, so a swapfile made
// under another type is refused and the core never starts. mkswap labels
// the file it is given when it can, but only that file and only with the
// permissions of fsadm_t (relabelfrom of whatever type the temporary file
// got, relabelto swapfile_t): the tuner therefore labels its temporary file
// itself, on the new descriptor before anything else touches it, so that
// mkswap finds the type right and leaves it, and the rename keeps it.
//
// Whether SELinux is on, and whether its policy is MLS, is read from
// selinuxfs under the root prefix (hostroot): /sys/fs/selinux/enforce exists
// only when SELinux is enabled, /sys/fs/selinux/mls says 1 for an MLS or MCS
// policy. The label is validated by the kernel (a write of it to
// /sys/fs/selinux/context fails with EINVAL for a context the loaded policy
// does not know) before it is used. A caller that cannot open that node for
// writing (a read-only /sys, as ProtectKernelTunables= makes it) cannot ask:
// it uses the context unvalidated, so that it judges the swapfile's type as
// a caller that can ask does.
package selinux

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// XattrName is the extended attribute that holds a file's SELinux context.
const XattrName = "security.selinux"

// Parts of the swapfile's context. Files carry the user system_u and the
// role object_r in the reference policy and in RHEL's (every file_contexts
// entry for system files does); swapfile_t is the type both give swap files;
// s0, the lowest sensitivity, is the range of system files under an MLS or
// MCS policy, and a context without a range is the only valid one when the
// policy is not MLS.
const (
	SwapUser  = "system_u"
	SwapRole  = "object_r"
	SwapType  = "swapfile_t"
	SwapRange = "s0"
)

// Paths in selinuxfs, host paths under the root prefix.
const (
	EnforcePath = "/sys/fs/selinux/enforce"
	MLSPath     = "/sys/fs/selinux/mls"
	ContextPath = "/sys/fs/selinux/context"
)

// State is what the machine says of SELinux, and the context the swapfile
// must carry.
type State struct {
	// Enabled: selinuxfs is mounted with a policy loaded.
	Enabled bool
	// Enforcing: the kernel denies what the policy does not allow (else
	// permissive: it only logs).
	Enforcing bool
	// MLS: the policy has sensitivities (MLS or MCS), so contexts carry a
	// range.
	MLS bool
	// SwapContext is the context the swapfile must carry, "" when SELinux
	// is off or the policy rejected it (Err says why).
	SwapContext string
	// Err says why no SwapContext could be given with SELinux enabled.
	Err error
	// Unvalidated says why the kernel could not be asked whether the policy
	// knows SwapContext (the context node could not be opened for writing);
	// nil when it was asked. SwapContext is then used as it is. Why: the
	// metrics service (ProtectKernelTunables=, a read-only /sys) took this
	// for a policy without the type and judged no type, so it said the swap
	// guarantee held where status and the gate said it did not.
	Unvalidated error
}

// ErrRejected is wrapped by Validate's error when the loaded policy
// refuses the context (as opposed to the kernel not being asked).
var ErrRejected = errors.New("the loaded SELinux policy rejects the context")

// Mode names the mode for messages: "enforcing", "permissive" or "disabled".
func (s State) Mode() string {
	switch {
	case !s.Enabled:
		return "disabled"
	case s.Enforcing:
		return "enforcing"
	default:
		return "permissive"
	}
}

// Detect reads selinuxfs under root and derives the swapfile's context,
// validated by the kernel. SELinux off is State{} and no error.
func Detect(root hostroot.Root) State {
	b, err := os.ReadFile(root.Path(EnforcePath))
	if err != nil {
		return State{}
	}
	s := State{Enabled: true, Enforcing: strings.TrimSpace(string(b)) == "1"}
	if m, err := os.ReadFile(root.Path(MLSPath)); err == nil {
		s.MLS = strings.TrimSpace(string(m)) == "1"
	}
	ctx := SwapContext(s.MLS)
	if err := Validate(root, ctx); err != nil {
		if errors.Is(err, ErrRejected) {
			s.Err = err
			return s
		}
		s.Unvalidated = err
	}
	s.SwapContext = ctx
	return s
}

// SwapContext is the swapfile's context for a policy with (mls) or without
// sensitivities.
func SwapContext(mls bool) string {
	c := SwapUser + ":" + SwapRole + ":" + SwapType
	if mls {
		c += ":" + SwapRange
	}
	return c
}

// Validate asks the kernel whether the loaded policy knows ctx: selinuxfs's
// context node takes a context written to it and fails with EINVAL when the
// policy has no such user, role, type or range (the error then wraps
// ErrRejected; an error opening the node, or another error of the write,
// EACCES for a caller not allowed to check contexts, does not: the policy
// was not asked).
func Validate(root hostroot.Root, ctx string) error {
	p := root.Path(ContextPath)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %q to validate the SELinux context %q: %w", p, ctx, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(ctx)); err != nil {
		if !errors.Is(err, unix.EINVAL) {
			// EACCES: the caller's domain may not check contexts
			// (security check_context); the policy was not asked.
			return fmt.Errorf("validate the SELinux context %q (write to %q): %w", ctx, p, err)
		}
		return fmt.Errorf("%w %q (write to %q: %w): a policy without the type %s cannot label swap files", ErrRejected, ctx, p, err, SwapType)
	}
	return nil
}

// Get returns the context of the open file fd, "" when it has none (a file
// made where SELinux was never on) or its filesystem keeps no such
// attribute.
func Get(fd int) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Fgetxattr(fd, XattrName, buf)
		switch {
		case errors.Is(err, unix.ERANGE):
			buf = make([]byte, 2*len(buf))
			continue
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.EOPNOTSUPP):
			return "", nil
		case err != nil:
			return "", fmt.Errorf("read %s: %w", XattrName, err)
		}
		return strings.TrimRight(string(buf[:n]), "\x00"), nil
	}
}

// Set labels the open file fd with ctx (fsetxattr of security.selinux, with
// the terminating NUL the kernel's own labels carry).
func Set(fd int, ctx string) error {
	if err := unix.Fsetxattr(fd, XattrName, append([]byte(ctx), 0), 0); err != nil {
		return fmt.Errorf("set %s to %q: %w", XattrName, ctx, err)
	}
	return nil
}

// Type returns the type field of a context ("swapfile_t" of
// "system_u:object_r:swapfile_t:s0"), "" when ctx has none.
func Type(ctx string) string {
	f := strings.SplitN(ctx, ":", 4)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}
