package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
)

// gateJournalScript runs the gate with stderr on a private journald's
// stream (as journalScript does) and prints what `journalctl -u UNIT`
// finds, verbose: the records `systemctl status UNIT` shows.
// Arguments: work dir, tuner binary, journald, root, unit.
const gateJournalScript = `set -eu
w=$1 bin=$2 journald=$3 root=$4 unit=$5
mount --make-rprivate /
mkdir -p "$w/log"
mount -t tmpfs tmpfs /run
if [ -d /var/log/journal ]; then mount --bind "$w/log" /var/log/journal; fi
if [ -f /etc/systemd/journald.conf ]; then
	printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n' >"$w/journald.conf"
	mount --bind "$w/journald.conf" /etc/systemd/journald.conf
fi
mkdir -p /run/systemd/journal
"$journald" >"$w/journald.out" 2>&1 &
i=0
while [ ! -S /run/systemd/journal/stdout ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
systemd-cat -t ransomeye-tuner sh -c 'export JOURNAL_STREAM=$(stat -L -c "%d:%i" /proc/self/fd/2); exec "$0" --root "$1" gate' "$bin" "$root" >"$w/stdout" || true
sleep 1
journalctl --no-pager -o verbose -u "$unit"
`

// TestGateRecordsNameTheUnitItRunsFor: run with its stderr on a real
// journald's stream, from the cgroup of a template instance, every line the
// gate refuses with is one record `journalctl -u` (and so `systemctl
// status`) of that instance finds, named by OBJECT_SYSTEMD_UNIT=, the
// first alone with GateRefused's MESSAGE_ID, none doubled.
func TestGateRecordsNameTheUnitItRunsFor(t *testing.T) {
	needUID0(t)
	var journald string
	for _, p := range []string{"/usr/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald"} {
		if _, err := os.Stat(p); err == nil {
			journald = p
		}
	}
	for _, tool := range []string{"unshare", "systemd-cat", "journalctl"} {
		if _, err := exec.LookPath(tool); err != nil || journald == "" {
			t.Skipf("skipped: %s or systemd-journald missing", tool)
		}
	}
	for _, c := range []struct {
		name, unit, conf, cgroup string
	}{
		// The static gate in a template instance's cgroup.
		{"instance", "postgresql@15-main.service", "", "0::/system.slice/system-postgresql.slice/postgresql@15-main.service\n"},
		// Control processes of a delegating unit run in .control.
		{"control", "ransomeye-core.service", "", "0::/system.slice/ransomeye-core.service/.control\n"},
		// Its own cgroup unreadable: the configured core.
		{"renamed, no cgroup", "db.service", "[CPU]\nCoreService=db.service\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) { gateRecordsNameUnit(t, journald, c.unit, c.conf, c.cgroup) })
	}
}

func gateRecordsNameUnit(t *testing.T, journald, unit, conf, cgroup string) {
	root := fakeroot.New(t, fakeroot.Healthy)
	// Two reasons: no swap, swappiness changed.
	if err := os.Remove(root.Path("/proc/swaps")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cgroup == "" {
		if err := os.Remove(root.Path("/proc/self/cgroup")); err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(root.Path("/proc/self/cgroup"), []byte(cgroup), 0o644); err != nil {
		t.Fatal(err)
	}
	if conf != "" {
		b, err := os.ReadFile(root.Path(names.ConfigFile))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err := os.WriteFile(root.Path(names.ConfigFile), append(b, "\n"+conf...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := t.TempDir()
	out, err := exec.Command("unshare", "--mount", "--pid", "--fork", "sh", "-c", gateJournalScript, "sh", w, tunerBin, journald, root.String(), unit).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unshare failed") {
			t.Skipf("skipped: no mount and pid namespaces here: %s", out)
		}
		t.Fatalf("script: %v\n%s", err, out)
	}
	var gate []string
	// Each record starts with its unindented timestamp line.
	for _, r := range regexp.MustCompile(`(?m)^\S`).Split(string(out), -1) {
		if strings.Contains(r, "MESSAGE=") && strings.Contains(r, "may not start") {
			gate = append(gate, r)
		}
	}
	if len(gate) < 2 {
		b, _ := os.ReadFile(filepath.Join(w, "stdout"))
		t.Fatalf("journalctl -u %s found %d gate records, want every line (two reasons):\n%s\nstdout: %s", unit, len(gate), out, b)
	}
	seen := map[string]bool{}
	for i, r := range gate {
		msg := r[strings.Index(r, "MESSAGE="):]
		msg, _, _ = strings.Cut(msg, "\n")
		if seen[msg] {
			t.Errorf("record doubled: %s", msg)
		}
		seen[msg] = true
		if !strings.Contains(r, "OBJECT_SYSTEMD_UNIT="+unit+"\n") || !strings.Contains(r, "PRIORITY=3\n") {
			t.Errorf("record %d lacks OBJECT_SYSTEMD_UNIT=%s or PRIORITY=3:\n%s", i, unit, r)
		}
		if hasID := strings.Contains(r, "MESSAGE_ID=34a864cf815e4d0185e90ce03ad0182b"); hasID != (i == 0) {
			t.Errorf("record %d: GateRefused's MESSAGE_ID %v, want only on the first:\n%s", i, hasID, r)
		}
		if !strings.Contains(r, "CODE_FUNC=") || !strings.Contains(r, "refuse") {
			t.Errorf("record %d: CODE_FUNC does not name the gate's refuse:\n%s", i, r)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(w, "stdout")); len(b) != 0 {
		t.Errorf("on the journal the gate also wrote to stdout: %q", b)
	}
}
