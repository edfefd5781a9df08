// Package priolog writes log lines with syslog priority prefixes ("<2>"),
// which /dev/kmsg and journald read, or plain words for a person at a
// terminal. Events carry a MESSAGE_ID and go to journald natively, the only
// way to attach fields to a record.
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

// New returns a logger writing to w; with a tag each line reads
// "<p>tag[pid]: message", as kernel-log readers expect.
func New(w io.Writer, tag string) *Logger {
	t := ""
	if tag != "" {
		t = fmt.Sprintf("%s[%d]: ", tag, os.Getpid())
	}
	return &Logger{w: w, tag: t, max: Debug}
}

// ForStderr returns the logger for a command's stderr w: "<N>" prefixes and
// native events under ident when $JOURNAL_STREAM (journalStream) names w, as
// systemd.exec(5) says to check; plain text otherwise.
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

// IsJournalStream reports whether fd is the stream journalStream
// ("device:inode") names; anything malformed or unexaminable is not.
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

// OpenKmsg returns a logger on the running kernel's /dev/kmsg (no root
// prefix), else on stderr; the closer releases the device.
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

// Printf logs one message at priority p, one record per line, so that no
// line of it can pose as a record of another priority.
func (l *Logger) Printf(p Priority, format string, a ...any) {
	if l != nil {
		l.emit(p, fmt.Sprintf(format, a...), nil)
	}
}

// emit hands msg to the sink, and logs it when p passes the filter: with
// fields natively to the journal when it is there, else as lines.
func (l *Logger) emit(p Priority, msg string, fields map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sink != nil {
		l.sink(p, msg)
	}
	if p > l.max {
		return
	}
	if fields != nil && l.journal && l.send != nil {
		if err := l.send(strings.TrimRight(msg, "\n"), p, fields); err == nil {
			return
		}
		// journald's socket unusable: the stream still carries the line.
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

var words = []string{"emergency: ", "alert: ", "critical: ", "error: ", "warning: "}

// word is what a person reads in front of a line of priority p.
func word(p Priority) string {
	if int(max(p, Emerg)) < len(words) {
		return words[max(p, Emerg)]
	}
	return ""
}

// Event logs a failure, refusal or security event under its catalog id:
// natively to the journal with MESSAGE_ID= and the caller's CODE_* fields,
// else (or when that fails) like Printf.
func (l *Logger) Event(id msgid.ID, p Priority, format string, a ...any) {
	if l == nil {
		return
	}
	l.emit(p, fmt.Sprintf(format, a...), l.fields(id, ""))
}

// About logs a message about unit (id may be ""): natively to the journal
// with OBJECT_SYSTEMD_UNIT=unit, else like Printf. Why: `systemctl status
// unit` shows root's records that name the unit so, whatever journald
// found of the sender; a process that exits within milliseconds (the
// gate) is often gone before journald reads its cgroup, and its records
// then carry no _SYSTEMD_UNIT and are missing from that view.
func (l *Logger) About(unit string, id msgid.ID, p Priority, format string, a ...any) {
	if l == nil {
		return
	}
	l.emit(p, fmt.Sprintf(format, a...), l.fields(id, unit))
}

// fields are a native record's fields: MESSAGE_ID (id, when set), the
// caller's CODE_*, the identifier, OBJECT_SYSTEMD_UNIT (unit, when set).
func (l *Logger) fields(id msgid.ID, unit string) map[string]string {
	fields := map[string]string{}
	if id != "" {
		fields["MESSAGE_ID"] = string(id)
	}
	if unit != "" {
		fields["OBJECT_SYSTEMD_UNIT"] = unit
	}
	if pc, file, line, ok := runtime.Caller(2); ok {
		fields["CODE_FILE"], fields["CODE_LINE"] = file, strconv.Itoa(line)
		if fn := runtime.FuncForPC(pc); fn != nil {
			fields["CODE_FUNC"] = fn.Name()
		}
	}
	if l.ident != "" {
		fields["SYSLOG_IDENTIFIER"] = l.ident
	}
	return fields
}

// Errorf logs at priority ERR.
func (l *Logger) Errorf(format string, a ...any) { l.Printf(Err, format, a...) }

// Warnf logs at priority WARNING.
func (l *Logger) Warnf(format string, a ...any) { l.Printf(Warning, format, a...) }

// Noticef logs at priority NOTICE.
func (l *Logger) Noticef(format string, a ...any) { l.Printf(Notice, format, a...) }

// Infof logs at priority INFO.
func (l *Logger) Infof(format string, a ...any) { l.Printf(Info, format, a...) }

// Note is a message a pure decision returns instead of logging.
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
