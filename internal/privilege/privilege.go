// Package privilege tells a read that failed for want of root from a
// failure that says something about the machine. status is for anyone
// (systemctl status is): run as another user it cannot open the swapfile
// (root's, mode 0600) and other root-only files, and it called a healthy
// machine broken from those refusals. What was denied is not measured, and
// says so; only root's runs judge from it.
package privilege

import (
	"errors"
	"io/fs"
	"os"
)

// Denied reports whether err is a permission refusal met by a run that is
// not root's: a fact not read, not a fault. Root's runs (the gate, activate)
// never get true: a refusal there is a fault (an SELinux denial, a
// read-only file) and counts as one.
func Denied(err error) bool {
	return err != nil && os.Geteuid() != 0 && errors.Is(err, fs.ErrPermission)
}

// Reason says why a fact was not read: "needs root: " and the error.
func Reason(err error) string { return "needs root: " + err.Error() }
