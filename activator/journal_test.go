package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// journalScript runs inside `unshare --mount --pid --fork`: a private
// systemd-journald whose sockets, journal files and catalog database live on
// a tmpfs or in the test's directory, so nothing of this machine's /run,
// journal or catalog is touched; the namespace (and journald with it) ends
// with the script. Arguments: work dir, tuner binary, catalog file, journald.
const journalScript = `set -eu
w=$1 bin=$2 catalog=$3 journald=$4
mount --make-rprivate /
mkdir -p "$w/log" "$w/croot/usr/lib/systemd/catalog" "$w/root/etc/ransomeye"
mount -t tmpfs tmpfs /run
if [ -d /var/log/journal ]; then mount --bind "$w/log" /var/log/journal; fi
if [ -f /etc/systemd/journald.conf ]; then
	printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n' >"$w/journald.conf"
	mount --bind "$w/journald.conf" /etc/systemd/journald.conf
fi
cp "$catalog" "$w/croot/usr/lib/systemd/catalog/"
journalctl --update-catalog --root="$w/croot"
# A tmpfs over /var/lib/systemd: journalctl -x reads the catalog database
# from there, and nothing may be created on this machine's file systems.
mount -t tmpfs tmpfs /var/lib/systemd
mkdir -p /var/lib/systemd/catalog
cp "$w/croot/var/lib/systemd/catalog/database" /var/lib/systemd/catalog/
mkdir -p /run/systemd/journal
"$journald" >"$w/journald.out" 2>&1 &
i=0
while [ ! -S /run/systemd/journal/stdout ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
export RANSOMEYE_TUNER_ROOT="$w/root"
printf '[Metrics]\nTextfilePath=/var/lib/x/t.prom\n' >"$w/root/etc/ransomeye/tuner.conf"
mkdir -p "$w/root/var/lib" && echo file >"$w/root/var/lib/x"
# systemd-cat connects stdout and stderr to a journal stream; JOURNAL_STREAM
# is what PID 1 sets for a service: the stream's device:inode.
for args in gate "fail-closed --reason swapfile-test-reason" metrics; do
	systemd-cat -t ransomeye-tuner sh -c 'export JOURNAL_STREAM=$(stat -L -c "%d:%i" /proc/self/fd/2); exec "$0" $1' "$bin" "$args" || true
done
# The same without JOURNAL_STREAM: what a person would see, stored as is.
systemd-cat -t ransomeye-tuner-plain sh -c 'unset JOURNAL_STREAM; exec "$0" metrics' "$bin" || true
sleep 1
echo "=== x"
journalctl -x --no-pager -o short -t ransomeye-tuner
echo "=== verbose"
journalctl --no-pager -o verbose -t ransomeye-tuner -t ransomeye-tuner-plain
`

// TestJournalEvents runs the real binary with stderr on a real journald's
// stream (a private one) and reads the journal back: failures and refusals
// arrive with their MESSAGE_ID and priority, journalctl -x prints their
// catalog text, plain lines get their priority from the "<N>" prefix, and
// without $JOURNAL_STREAM naming the stream no prefix is written.
func TestJournalEvents(t *testing.T) {
	needUID0(t) // a private mount namespace and journald
	if _, err := os.Stat("/var/lib/systemd"); err != nil {
		t.Skip("skipped: no /var/lib/systemd to hide under a tmpfs")
	}
	var journald string
	for _, p := range []string{"/usr/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald"} {
		if _, err := os.Stat(p); err == nil {
			journald = p
			break
		}
	}
	for _, tool := range []string{"unshare", "systemd-cat", "journalctl"} {
		if _, err := exec.LookPath(tool); err != nil || journald == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s or systemd-journald missing (apt-get install systemd util-linux)", tool)
			}
			t.Skipf("skipped: %s or systemd-journald missing", tool)
		}
	}
	w := t.TempDir()
	catalog, err := filepath.Abs("../catalog/ransomeye-tuner.catalog")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "sh", "-c", journalScript, "sh", w, tunerBin, catalog, journald)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unshare failed") {
			t.Skipf("skipped: no mount and pid namespaces here: %s", out)
		}
		b, _ := os.ReadFile(filepath.Join(w, "journald.out"))
		t.Fatalf("journal script: %v\n%s\njournald:\n%s", err, out, b)
	}
	s := string(out)
	x, verbose, _ := strings.Cut(s, "=== verbose")
	// journalctl -x: each event followed by its catalog entry.
	for _, want := range []string{
		"ransomeye-core.service may not start: ransomeye-tuner.service has not succeeded in this boot",
		"Subject: ransomeye-core.service kept down by its resource gate",
		"swapfile-test-reason",
		"Subject: RansomEye resource failure recorded: ransomeye-core.service kept down",
		"Documentation: man:ransomeye-tuner(8)",
	} {
		if !strings.Contains(x, want) {
			t.Errorf("journalctl -x lacks %q:\n%s", want, x)
		}
	}
	records := strings.Split(verbose, "\n\n")
	find := func(field string) string {
		for _, r := range records {
			if strings.Contains(r, field) {
				return r
			}
		}
		t.Errorf("no journal record with %s:\n%s", field, verbose)
		return ""
	}
	for _, want := range []struct{ field, also string }{
		{"MESSAGE_ID=34a864cf815e4d0185e90ce03ad0182b", "PRIORITY=3"},           // GateRefused
		{"MESSAGE_ID=261c661a9b7e419e810be478407182cd", "PRIORITY=2"},           // FailClosed
		{"MESSAGE=metrics: ", "PRIORITY=3"},                                     // "<3>" parsed by journald
		{"MESSAGE=error: metrics: ", "SYSLOG_IDENTIFIER=ransomeye-tuner-plain"}, // no $JOURNAL_STREAM: words
	} {
		r := find(want.field)
		if !strings.Contains(r, want.also) {
			t.Errorf("record with %s lacks %s:\n%s", want.field, want.also, r)
		}
		if strings.Contains(r, "MESSAGE=<") {
			t.Errorf("a priority prefix reached the message text:\n%s", r)
		}
	}
	if r := find("MESSAGE_ID=34a864cf815e4d0185e90ce03ad0182b"); !strings.Contains(r, "SYSLOG_IDENTIFIER=ransomeye-tuner\n") {
		t.Errorf("GateRefused without SYSLOG_IDENTIFIER=ransomeye-tuner:\n%s", r)
	}
}
