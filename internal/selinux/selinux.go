// Package selinux gives the swapfile the SELinux label swapon needs
// (swapfile_t, or swapon refuses it and the core never starts). The tuner
// labels its temporary file itself, before mkswap (which as fsadm_t could
// not relabel it), and the rename keeps the label. The state is read from
// selinuxfs under the root prefix, and the label validated by the kernel
// where it can be asked.
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

// Parts of the swapfile's context, as the reference and RHEL policies give
// swap files; the range only under an MLS or MCS policy.
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

// State is what the machine says of SELinux, and the swapfile's context.
type State struct {
	// Enabled: selinuxfs is mounted with a policy loaded.
	Enabled   bool
	Enforcing bool
	// MLS: the policy has sensitivities, so contexts carry a range.
	MLS bool
	// SwapContext is the swapfile's context, "" when SELinux is off or the
	// policy rejects it (Err says why).
	SwapContext string
	// Err says why no SwapContext could be given with SELinux enabled.
	Err error
	// Unvalidated says why the kernel could not be asked (a read-only
	// /sys); SwapContext is then used as it is, so that such a caller (the
	// metrics service) judges the swapfile as the gate does.
	Unvalidated error
}

// ErrRejected is wrapped when the loaded policy refuses the context.
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

// Detect reads selinuxfs under root (SELinux off: State{}).
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

// SwapContext is the swapfile's context, with a range when mls.
func SwapContext(mls bool) string {
	c := SwapUser + ":" + SwapRole + ":" + SwapType
	if mls {
		c += ":" + SwapRange
	}
	return c
}

// Validate asks the kernel whether the loaded policy knows ctx (writing it
// to selinuxfs's context node: EINVAL, wrapped as ErrRejected, when not);
// any other error means the policy was not asked.
func Validate(root hostroot.Root, ctx string) error {
	p := root.Path(ContextPath)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %q to validate the SELinux context %q: %w", p, ctx, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(ctx)); err != nil {
		if !errors.Is(err, unix.EINVAL) {
			// EACCES: the caller may not check contexts.
			return fmt.Errorf("validate the SELinux context %q (write to %q): %w", ctx, p, err)
		}
		return fmt.Errorf("%w %q (write to %q: %w): a policy without the type %s cannot label swap files", ErrRejected, ctx, p, err, SwapType)
	}
	return nil
}

// Get returns the context of fd, "" when it has none or its filesystem
// keeps none.
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

// Set labels fd with ctx (NUL-terminated, as the kernel's own labels).
func Set(fd int, ctx string) error {
	if err := unix.Fsetxattr(fd, XattrName, append([]byte(ctx), 0), 0); err != nil {
		return fmt.Errorf("set %s to %q: %w", XattrName, ctx, err)
	}
	return nil
}

// Type returns the type field of a context ("swapfile_t").
func Type(ctx string) string {
	f := strings.SplitN(ctx, ":", 4)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}
