// Package hostroot re-roots every host path the tuner reads or writes.
//
// The generator and the activator never open an absolute host path directly:
// they ask a Root for it. In production the root is "/"; tests, and anyone
// checking a snapshot of a machine, set RANSOMEYE_TUNER_ROOT to a directory
// that holds a fake proc/, sys/ and etc/.
package hostroot

import (
	"os"
	"path/filepath"
)

// EnvVar names the environment variable that holds the root prefix.
const EnvVar = "RANSOMEYE_TUNER_ROOT"

// Root is a directory that stands for the host's "/".
type Root string

// FromEnv returns the root named by RANSOMEYE_TUNER_ROOT, or "/" when it is
// unset or empty. A relative value is made absolute against the working
// directory so that the root does not change meaning after a chdir.
func FromEnv() Root {
	v := os.Getenv(EnvVar)
	if v == "" {
		return "/"
	}
	if abs, err := filepath.Abs(v); err == nil {
		v = abs
	}
	return Root(filepath.Clean(v))
}

// Path maps an absolute host path to the path under the root. A relative
// path is taken as relative to the root as well, and ".." never climbs
// above the root.
func (r Root) Path(p string) string {
	clean := filepath.Clean("/" + p)
	if r == "" || r == "/" {
		return clean
	}
	return filepath.Join(string(r), clean)
}

// IsHost reports whether the root is the real host root.
func (r Root) IsHost() bool { return r == "" || r == "/" }

// String returns the root directory.
func (r Root) String() string {
	if r == "" {
		return "/"
	}
	return string(r)
}
