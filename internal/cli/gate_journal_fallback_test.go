package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakeroot"
	"github.com/ransomeye/ransomeye-tuner/testkit/journaltest"
)

// TestGateLinesReachTheStreamWithoutJournald: with stderr the journal's
// stream and journald's socket unusable, each line of the gate's refusal
// reaches the stream once, at ERR, and stdout stays empty; a terminal gets
// the same lines, unprefixed, on stdout.
func TestGateLinesReachTheStreamWithoutJournald(t *testing.T) {
	if journal.Enabled() {
		t.Skip("journald is running here: the real sender would write to this machine's journal")
	}
	root := fakeroot.New(t, fakeroot.Healthy)
	if err := os.Remove(root.Path("/proc/swaps")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path("/proc/sys/vm/swappiness"), []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", "")
	code, plain, _ := runMain("--root", root.String(), "gate")
	want := strings.Split(strings.TrimSuffix(plain, "\n"), "\n")
	if code != ExitFail || len(want) < 2 {
		t.Fatalf("gate on a terminal: exit %d, want 1 with two reasons (premise):\n%s", code, plain)
	}
	f, js := journaltest.Stream(t)
	t.Setenv("JOURNAL_STREAM", js)
	var stdout bytes.Buffer
	if code := Main([]string{"--root", root.String(), "gate"}, &stdout, f); code != ExitFail {
		t.Fatalf("gate on the journal: exit %d", code)
	}
	if stdout.Len() != 0 {
		t.Errorf("gate on the journal wrote to stdout: %q", stdout.String())
	}
	b, _ := os.ReadFile(f.Name())
	stream := string(b)
	for _, l := range want {
		if n := strings.Count(stream, "<3>"+l+"\n"); n != 1 {
			t.Errorf("line %q on the stream %d times, want once:\n%s", l, n, stream)
		}
	}
}
