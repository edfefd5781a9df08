package sysctl

import (
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// tuned's files, as host paths (tuned-main.conf(5), tuned-adm(8)).
const (
	TunedPIDFile       = "/run/tuned/tuned.pid"
	TunedActiveProfile = "/etc/tuned/active_profile"
	TunedMainConf      = "/etc/tuned/tuned-main.conf"
)

// tunedProfileDirs are where tuned looks for a profile, in order: the
// administrator's first; tuned 2.23 and later keep them under profiles/.
var tunedProfileDirs = []string{"/etc/tuned/profiles", "/etc/tuned", "/usr/lib/tuned/profiles", "/usr/lib/tuned"}

// Tuned is tuned's part in a kernel parameter's value: tuned runs, and
// its active profile (or one it includes) sets the key.
type Tuned struct {
	// Active is the active profile as tuned-adm active names it (several
	// separated by blanks, applied in order).
	Active string
	// From is the profile whose [sysctl] section sets the key last (Active,
	// or a profile it includes), Value its value.
	From, Value string
	// Reapply is reapply_sysctl of tuned-main.conf: with it tuned applies
	// the system's sysctl files again after a profile (its default).
	Reapply bool
}

// TunedSetter returns what tuned sets key to, when tuned runs (its pid
// file names a live process called tuned) and its active profile, with
// the profiles it includes, sets key; ok is false otherwise.
func TunedSetter(root hostroot.Root, key string) (Tuned, bool) {
	if !tunedRuns(root) {
		return Tuned{}, false
	}
	b, err := readfile.Regular(root.Path(TunedActiveProfile), 4096)
	if err != nil {
		return Tuned{}, false
	}
	t := Tuned{Active: strings.Join(strings.Fields(string(b)), " "), Reapply: tunedReapply(root)}
	found := false
	seen := map[string]bool{}
	for _, p := range strings.Fields(t.Active) {
		if from, v, ok := tunedProfileSets(root, p, key, seen); ok {
			t.From, t.Value, found = from, v, true
		}
	}
	return t, found
}

// tunedRuns reports whether tuned's pid file names a running tuned.
func tunedRuns(root hostroot.Root) bool {
	b, err := readfile.Regular(root.Path(TunedPIDFile), 64)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	comm, err := os.ReadFile(root.Path("/proc/" + strconv.Itoa(pid) + "/comm"))
	return err == nil && strings.HasPrefix(strings.TrimSpace(string(comm)), "tuned")
}

// tunedReapply reads reapply_sysctl of tuned-main.conf (1 when unset).
func tunedReapply(root hostroot.Root) bool {
	b, err := readfile.Regular(root.Path(TunedMainConf), maxFile)
	if err != nil {
		return true
	}
	reapply := true
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "reapply_sysctl" {
			v = strings.ToLower(strings.TrimSpace(v))
			reapply = !(v == "0" || v == "false" || v == "no" || v == "off")
		}
	}
	return reapply
}

// tunedProfileSets returns which profile sets key last when tuned loads
// profile: the profiles its [main] include= names first, in order, then its
// own [sysctl] section (tuned's merge: what loads later wins).
func tunedProfileSets(root hostroot.Root, profile, key string, seen map[string]bool) (from, value string, ok bool) {
	if seen[profile] || len(seen) > 32 {
		return "", "", false
	}
	seen[profile] = true
	var conf []byte
	for _, d := range tunedProfileDirs {
		if b, err := readfile.Regular(root.Path(path.Join(d, profile, "tuned.conf")), maxFile); err == nil {
			conf = b
			break
		}
	}
	if conf == nil {
		return "", "", false
	}
	section := ""
	var own string
	var ownOK bool
	for _, line := range strings.Split(string(conf), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case section == "main" && k == "include":
			for _, inc := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				if f, val, ok2 := tunedProfileSets(root, inc, key, seen); ok2 {
					from, value, ok = f, val, true
				}
			}
		case section == "sysctl" && matches(k, key):
			own, ownOK = v, true
		}
	}
	if ownOK {
		return profile, own, true
	}
	return from, value, ok
}
