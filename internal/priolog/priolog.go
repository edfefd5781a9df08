// Package priolog writes log lines with syslog priority prefixes ("<2>..."),
// which both /dev/kmsg and journald (for a service's stderr) understand, or
// plain text for a person at a terminal.
//
// The generator logs to /dev/kmsg because systemd connects generators'
// stdout and stderr to /dev/null (systemd 252); the activator logs to stderr,
// which systemd hands to the journal with the prefix parsed as the priority.
// The prefix is written only when stderr is the journal ($JOURNAL_STREAM,
// systemd.exec(5)): on a terminal "<4>" is noise, so people get "warning: ".
// Events (failures, refusals, security events) carry a MESSAGE_ID
// (internal/msgid); when stderr is the journal they go to journald over its
// native protocol, which is the only way to attach fields to a record.
package priolog

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"
	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
)

// Priority is a syslog priority.
type Priority int

// Syslog priorities, as in syslog(3).
const (
	Emerg Priority = iota
	Alert
	Crit
	Err
	Warning
	Notice
	Info
	Debug
)

// Logger writes prefixed lines to one writer. It is safe for concurrent use.
type Logger struct {
	mu   sync.Mutex
	w    io.Writer
	tag  string // "name: " in front of each message, for /dev/kmsg
	max  Priority
	sink func(Priority, string) // optional copy of every line (tests, status)

	plain   bool   // a person reads w: words instead of "<N>" prefixes
	journal bool   // w is the journal stream: events go over the native protocol
	ident   string // SYSLOG_IDENTIFIER of native journal records
	send    func(msg string, p Priority, fields map[string]string) error
}

// New returns a logger writing to w. When tag is non-empty each line reads
// "<p>tag[pid]: message", as kernel-log readers expect.
func New(w io.Writer, tag string) *Logger {
	t := ""
	if tag != "" {
		t = fmt.Sprintf("%s[%d]: ", tag, os.Getpid())
	}
	return &Logger{w: w, tag: t, max: Debug}
}

// ForStderr returns the logger for a command's stderr w. journalStream is
// the value of $JOURNAL_STREAM. When it names w ("device:inode" of the
// stream systemd connected, compared with fstat of w, as systemd.exec(5)
// says consumers must, because children inherit the variable with other
// descriptors), lines carry "<N>" priority prefixes and events go to
// journald natively under ident; otherwise the lines are plain text.
func ForStderr(w io.Writer, journalStream, ident string) *Logger {
	l := New(w, "")
	l.ident = ident
	if f, ok := w.(interface{ Fd() uintptr }); ok && IsJournalStream(int(f.Fd()), journalStream) {
		l.journal = true
		l.send = func(msg string, p Priority, fields map[string]string) error {
			return journal.Send(msg, journal.Priority(p), fields)
		}
	} else {
		l.plain = true
	}
	return l
}

// IsJournalStream reports whether descriptor fd is the stream that
// journalStream ("device:inode", decimal, as systemd sets $JOURNAL_STREAM)
// names. An empty or malformed value, or a descriptor that cannot be
// examined, is not the journal.
func IsJournalStream(fd int, journalStream string) bool {
	devS, inoS, ok := strings.Cut(journalStream, ":")
	if !ok {
		return false
	}
	dev, err1 := strconv.ParseUint(devS, 10, 64)
	ino, err2 := strconv.ParseUint(inoS, 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false
	}
	return uint64(st.Dev) == dev && uint64(st.Ino) == ino
}

// Journal reports whether the logger writes to the journal stream.
func (l *Logger) Journal() bool { return l != nil && l.journal }

// OpenKmsg returns a logger on /dev/kmsg (under no root prefix: it is the
// running kernel's log), falling back to stderr when it cannot be opened. The
// returned closer releases the device.
func OpenKmsg(tag string) (*Logger, io.Closer) {
	// Opened blocking and wrapped: os.OpenFile would register the device
	// with the runtime's poller, setting it up (epoll, eventfd) for one
	// write in a process that lives a few milliseconds.
	fd, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		l := New(os.Stderr, tag)
		l.Printf(Warning, "cannot open /dev/kmsg (%v), logging to stderr", err)
		return l, io.NopCloser(nil)
	}
	f := os.NewFile(uintptr(fd), "/dev/kmsg")
	return New(f, tag), f
}

// SetMaxPriority drops messages less important than p.
func (l *Logger) SetMaxPriority(p Priority) { l.mu.Lock(); l.max = p; l.mu.Unlock() }

// SetSink makes the logger hand every message to fn as well.
func (l *Logger) SetSink(fn func(Priority, string)) { l.mu.Lock(); l.sink = fn; l.mu.Unlock() }

// Printf logs one message at priority p. A message with newlines is split
// into one record per line, each with the prefix, so that no line of it
// can pose as a record of another priority.
func (l *Logger) Printf(p Priority, format string, a ...any) {
	if l == nil {
		return
	}
	msg := fmt.Sprintf(format, a...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sink != nil {
		l.sink(p, msg)
	}
	if p > l.max {
		return
	}
	l.writeLines(p, msg)
}

// writeLines writes msg, one record per line; l.mu is held.
func (l *Logger) writeLines(p Priority, msg string) {
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		if l.plain {
			_, _ = fmt.Fprintf(l.w, "%s%s\n", word(p), line)
			continue
		}
		// One write per record: /dev/kmsg takes each write as one message.
		_, _ = fmt.Fprintf(l.w, "<%d>%s%s\n", p, l.tag, line)
	}
}

// word is what a person reads in front of a line of priority p: the syslog
// name for warnings and worse, nothing for the rest.
func word(p Priority) string {
	switch {
	case p <= Emerg:
		return "emergency: "
	case p == Alert:
		return "alert: "
	case p == Crit:
		return "critical: "
	case p == Err:
		return "error: "
	case p == Warning:
		return "warning: "
	}
	return ""
}

// Event logs one failure, refusal or security event, identified by id (its
// catalog entry explains cause and remedy to `journalctl -x`). When stderr is
// the journal the record is sent natively with MESSAGE_ID=, PRIORITY=,
// SYSLOG_IDENTIFIER= and the caller's CODE_FILE=, CODE_LINE=, CODE_FUNC=;
// when that fails, or elsewhere, it is written like Printf.
func (l *Logger) Event(id msgid.ID, p Priority, format string, a ...any) {
	if l == nil {
		return
	}
	msg := fmt.Sprintf(format, a...)
	fields := map[string]string{"MESSAGE_ID": string(id)}
	if pc, file, line, ok := runtime.Caller(1); ok {
		fields["CODE_FILE"], fields["CODE_LINE"] = file, strconv.Itoa(line)
		if fn := runtime.FuncForPC(pc); fn != nil {
			fields["CODE_FUNC"] = fn.Name()
		}
	}
	if l.ident != "" {
		fields["SYSLOG_IDENTIFIER"] = l.ident
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sink != nil {
		l.sink(p, msg)
	}
	if p > l.max {
		return
	}
	if l.journal && l.send != nil {
		if err := l.send(strings.TrimRight(msg, "\n"), p, fields); err == nil {
			return
		}
		// journald's socket is unusable (not running, or full): the line
		// still reaches the journal through the stream, without its id.
	}
	l.writeLines(p, msg)
}

// Errorf logs at priority ERR.
func (l *Logger) Errorf(format string, a ...any) { l.Printf(Err, format, a...) }

// Warnf logs at priority WARNING.
func (l *Logger) Warnf(format string, a ...any) { l.Printf(Warning, format, a...) }

// Noticef logs at priority NOTICE.
func (l *Logger) Noticef(format string, a ...any) { l.Printf(Notice, format, a...) }

// Infof logs at priority INFO.
func (l *Logger) Infof(format string, a ...any) { l.Printf(Info, format, a...) }

// Debugf logs at priority DEBUG.
func (l *Logger) Debugf(format string, a ...any) { l.Printf(Debug, format, a...) }

// Note is a message to log later, with its priority: what a pure decision
// returns instead of logging.
type Note struct {
	Priority Priority
	Text     string
}

// Notef makes a Note.
func Notef(p Priority, format string, a ...any) Note {
	return Note{Priority: p, Text: fmt.Sprintf(format, a...)}
}

// Log logs each of notes at its priority.
func (l *Logger) Log(notes ...Note) {
	for _, n := range notes {
		l.Printf(n.Priority, "%s", n.Text)
	}
}
