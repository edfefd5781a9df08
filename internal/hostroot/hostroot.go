// Package hostroot re-roots every host path the tuner reads or writes: "/"
// in production, a fake tree (RANSOMEYE_TUNER_ROOT, --root) in tests.
package hostroot

import (
	"os"
	"path/filepath"
)

// EnvVar names the environment variable that holds the root prefix.
const EnvVar = "RANSOMEYE_TUNER_ROOT"

// Root is a directory that stands for the host's "/".
type Root string

// FromEnv returns the root RANSOMEYE_TUNER_ROOT names, made absolute (a
// chdir must not move it), or "/".
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
