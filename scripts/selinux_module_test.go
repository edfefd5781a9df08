package scripts

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// avcDenial matches one AVC denial as integration/README.md quotes the
// journal of a boot: the permission, the source and target types, the class.
var avcDenial = regexp.MustCompile(`\{ (\w+) \} .*scontext=(\w+) tcontext=(\w+) tclass=(\w+)`)

// cilAllow matches one allow rule of the CIL module with one class:
// (allow SOURCE TARGET (CLASS (PERM ...))).
var cilAllow = regexp.MustCompile(`\(allow (\w+) (\w+) \((\w+) \(([\w ]+)\)\)\)`)

// TestSELinuxModuleMinimal: the policy module grants nothing but what a
// boot of the SELinux variant was denied (the AVC denials integration/
// README.md quotes, "Before"), and the directory search that reaching such
// a file takes. Why: the module allowed systemd_generator_t getattr, open
// and read (listing) of every cgroup directory and getattr of every cgroup
// file, which no denial asked for: the generator opens two files of the
// cgroup root by name (topology's readSmall), it lists and stats nothing
// there.
func TestSELinuxModuleMinimal(t *testing.T) {
	readme, err := os.ReadFile("../integration/README.md")
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]bool{}
	reached := map[string]bool{} // source target: a file of target was denied
	for _, m := range avcDenial.FindAllStringSubmatch(string(readme), -1) {
		perm, src, tgt, class := m[1], m[2], m[3], m[4]
		if tgt == src {
			tgt = "self"
		}
		denied[strings.Join([]string{src, tgt, class, perm}, " ")] = true
		if class == "file" {
			reached[src+" "+tgt] = true
		}
	}
	if len(denied) == 0 {
		t.Fatal("integration/README.md quotes no AVC denial: the module's rules cannot be checked")
	}
	cil, err := os.ReadFile("../selinux/ransomeye_tuner.cil")
	if err != nil {
		t.Fatal(err)
	}
	var rules int
	var extra []string
	for _, line := range strings.Split(string(cil), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		m := cilAllow.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("a statement the test does not read (one class per allow rule, nothing else): %q", line)
			continue
		}
		rules++
		src, tgt, class := m[1], m[2], m[3]
		for _, perm := range strings.Fields(m[4]) {
			key := strings.Join([]string{src, tgt, class, perm}, " ")
			if denied[key] || class == "dir" && perm == "search" && reached[src+" "+tgt] {
				continue
			}
			extra = append(extra, key)
		}
	}
	if rules == 0 {
		t.Fatal("the module has no allow rule")
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("the module grants what no logged denial asked for (source target class permission):\n  %s", strings.Join(extra, "\n  "))
	}
}
