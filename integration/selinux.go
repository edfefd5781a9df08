package integration

import (
	"regexp"
	"sort"
	"strings"
)

// avcDenied matches an SELinux denial as the kernel logs it ("avc:  denied
// { write } for pid=... comm=... scontext=... tcontext=... tclass=file"),
// whether the journal got it from the kernel log or the audit socket.
var avcDenied = regexp.MustCompile(`avc: +denied +\{[^}]*\}.*`)

// avcTuner matches a denial that involves the tuner: its binaries (the
// generator and the activator share the comm "ransomeye-tuner"), the
// programs it runs or has systemd run on its swapfile (mkswap, swapon), its
// units and paths (anything named ransomeye), the swapfile's type, and the
// data disk that holds the swapfile and its directory (the second NVMe
// disk, vm.go).
var avcTuner = regexp.MustCompile(`ransomeye|swapfile_t|comm="(mkswap|swapon|swapoff)"|dev="nvme1n1"`)

// AVCDenials returns the distinct SELinux denials in a log, without the
// time stamp, serial and pid that make each line unique, sorted; and the
// subset that involves the tuner (avcTuner).
func AVCDenials(log string) (all, tuner []string) {
	seen := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		m := avcDenied.FindString(strings.TrimRight(line, "\r"))
		if m == "" {
			continue
		}
		m = avcNoise.ReplaceAllString(m, "")
		if seen[m] {
			continue
		}
		seen[m] = true
		all = append(all, m)
		if avcTuner.MatchString(m) {
			tuner = append(tuner, m)
		}
	}
	sort.Strings(all)
	sort.Strings(tuner)
	return all, tuner
}

// avcNoise is what differs between two logs of the same denial.
var avcNoise = regexp.MustCompile(` (pid|ino)=\d+`)
