package priolog

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/testkit/journaltest"
)

func TestPrefixAndSplit(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, "")
	l.Printf(Crit, "swapfile %q: no space\n<6>forged info line", "/x")
	want := "<2>swapfile \"/x\": no space\n<2><6>forged info line\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestTagAndFilter(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, "gen")
	l.SetMaxPriority(Notice)
	var seen []Priority
	l.SetSink(func(p Priority, _ string) { seen = append(seen, p) })
	l.Printf(Debug, "hidden")
	l.Warnf("shown")
	if strings.Contains(b.String(), "hidden") || !strings.HasPrefix(b.String(), "<4>gen[") || !strings.Contains(b.String(), "]: shown\n") {
		t.Errorf("got %q", b.String())
	}
	if len(seen) != 2 {
		t.Errorf("sink saw %v, want both messages", seen)
	}
	var nilLogger *Logger
	nilLogger.Printf(Crit, "no panic")
}

func TestIsJournalStream(t *testing.T) {
	f, js := journaltest.Stream(t)
	other, otherJS := journaltest.Stream(t)
	dev, _, _ := strings.Cut(js, ":")
	for _, c := range []struct {
		fd   *os.File
		env  string
		want bool
	}{
		{f, js, true},
		{other, otherJS, true},
		{f, otherJS, false}, // inherited from a parent whose stderr was the journal
		{f, "", false},
		{f, dev, false},
		{f, dev + ":x", false},
		{f, "x:1", false},
	} {
		if got := IsJournalStream(int(c.fd.Fd()), c.env); got != c.want {
			t.Errorf("IsJournalStream(%s, %q) = %v, want %v", c.fd.Name(), c.env, got, c.want)
		}
	}
}

// TestPlainForPeople: on anything but the journal stream there are no
// "<N>" prefixes; warnings and worse say so in words.
func TestPlainForPeople(t *testing.T) {
	var b bytes.Buffer
	l := ForStderr(&b, "", "ransomeye-tuner")
	if l.Journal() {
		t.Fatal("a buffer taken for the journal")
	}
	l.Printf(Crit, "swapfile %q: no space\nsecond line", "/x")
	l.Warnf("w")
	l.Infof("i")
	l.Printf(Alert, "a")
	l.Errorf("e")
	l.Event(msgid.SwapFailed, Crit, "event")
	want := "critical: swapfile \"/x\": no space\ncritical: second line\nwarning: w\ni\nalert: a\nerror: e\ncritical: event\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	// The same descriptor with a $JOURNAL_STREAM naming another stream.
	f, _ := journaltest.Stream(t)
	_, otherJS := journaltest.Stream(t)
	ForStderr(f, otherJS, "x").Warnf("w")
	if got, _ := os.ReadFile(f.Name()); string(got) != "warning: w\n" {
		t.Errorf("with another stream's $JOURNAL_STREAM: %q", got)
	}
}

// TestJournalStream: on the journal stream lines carry priority prefixes and
// events go to the native protocol (here a fake sender standing in for
// journald's socket) with their MESSAGE_ID; when sending fails, the line
// goes to the stream instead.
func TestJournalStream(t *testing.T) {
	f, js := journaltest.Stream(t)
	l := ForStderr(f, js, "ransomeye-tuner")
	if !l.Journal() {
		t.Fatal("the journal stream not recognised")
	}
	type rec struct {
		msg    string
		p      Priority
		fields map[string]string
	}
	var sent []rec
	fail := false
	l.send = func(msg string, p Priority, fields map[string]string) error { // fake journald
		if fail {
			return fmt.Errorf("no socket")
		}
		sent = append(sent, rec{msg, p, fields})
		return nil
	}
	l.Warnf("plain line")
	l.Event(msgid.GateRefused, Err, "kept down: %s", "why")
	fail = true
	l.Event(msgid.MarkerPlanted, Alert, "planted")
	got, _ := os.ReadFile(f.Name())
	if string(got) != "<4>plain line\n<1>planted\n" {
		t.Errorf("stream got %q", got)
	}
	if len(sent) != 1 {
		t.Fatalf("sent %d records, want 1", len(sent))
	}
	r := sent[0]
	if r.msg != "kept down: why" || r.p != Err || r.fields["MESSAGE_ID"] != string(msgid.GateRefused) ||
		r.fields["SYSLOG_IDENTIFIER"] != "ransomeye-tuner" || !strings.HasSuffix(r.fields["CODE_FUNC"], "TestJournalStream") ||
		!strings.HasSuffix(r.fields["CODE_FILE"], "priolog_test.go") {
		t.Errorf("sent %+v", r)
	}
}

// TestEventWithoutJournald: with the real sender and no journald socket the
// event still reaches the stream.
func TestEventWithoutJournald(t *testing.T) {
	if journal.Enabled() {
		t.Skip("journald is running here: the real sender would write to this machine's journal")
	}
	f, js := journaltest.Stream(t)
	ForStderr(f, js, "ransomeye-tuner").Event(msgid.SwapFailed, Crit, "no swap")
	if got, _ := os.ReadFile(f.Name()); string(got) != "<2>no swap\n" {
		t.Errorf("stream got %q", got)
	}
}

// TestAboutNamesTheUnit: a record about a unit carries OBJECT_SYSTEMD_UNIT
// (what `systemctl status UNIT` matches in root's records when journald
// could not attribute the sender), a MESSAGE_ID only when given, and the
// caller's code location; without the journal it is a plain line.
func TestAboutNamesTheUnit(t *testing.T) {
	f, js := journaltest.Stream(t)
	l := ForStderr(f, js, "ransomeye-tuner")
	var sent []map[string]string
	l.send = func(msg string, p Priority, fields map[string]string) error { // fake journald
		sent = append(sent, fields)
		return nil
	}
	l.About("postgresql@15-main.service", msgid.GateRefused, Err, "first")
	l.About("postgresql@15-main.service", "", Err, "second")
	if len(sent) != 2 {
		t.Fatalf("sent %d records, want 2", len(sent))
	}
	for i, fields := range sent {
		if fields["OBJECT_SYSTEMD_UNIT"] != "postgresql@15-main.service" || !strings.HasSuffix(fields["CODE_FUNC"], "TestAboutNamesTheUnit") {
			t.Errorf("record %d: %v", i, fields)
		}
	}
	if sent[0]["MESSAGE_ID"] != string(msgid.GateRefused) {
		t.Errorf("first record without its MESSAGE_ID: %v", sent[0])
	}
	if _, ok := sent[1]["MESSAGE_ID"]; ok {
		t.Errorf("second record has a MESSAGE_ID: %v", sent[1])
	}
	var b strings.Builder
	New(&b, "ransomeye-tuner: ").About("x.service", "", Err, "plain")
	if !strings.Contains(b.String(), "plain") {
		t.Errorf("without the journal: %q", b.String())
	}
}
