// Package klog writes log lines with syslog priority prefixes ("<2>..."),
// which both /dev/kmsg and journald (for a service's stderr) understand.
//
// The generator logs to /dev/kmsg because systemd connects generators'
// stdout and stderr to /dev/null (systemd 252); the activator logs to stderr,
// which systemd hands to the journal with the prefix parsed as the priority.
package klog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
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

// OpenKmsg returns a logger on /dev/kmsg (under no root prefix: it is the
// running kernel's log), falling back to stderr when it cannot be opened. The
// returned closer releases the device.
func OpenKmsg(tag string) (*Logger, io.Closer) {
	f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		l := New(os.Stderr, tag)
		l.Printf(Warning, "cannot open /dev/kmsg (%v), logging to stderr", err)
		return l, io.NopCloser(nil)
	}
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
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		// One write per record: /dev/kmsg takes each write as one message.
		_, _ = fmt.Fprintf(l.w, "<%d>%s%s\n", p, l.tag, line)
	}
}

// Crit logs at priority CRIT.
func (l *Logger) Crit(format string, a ...any) { l.Printf(Crit, format, a...) }

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
