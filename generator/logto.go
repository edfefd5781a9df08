package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

// toKmsg reports whether the generator's messages go to the kernel log
// (systemd runs it: its standard output and error are /dev/null there, and
// the journal reads the kernel log), else to standard error (a person or a
// test runs it). systemd 251 and later set $SYSTEMD_SCOPE for generators,
// which settles it. Without it, a root prefix ($RANSOMEYE_TUNER_ROOT other
// than "/") means a test or a person checking a tree, whose messages are
// not the host kernel's to keep; so does a terminal on standard error,
// which systemd never gives a generator. Anything else is taken for an
// older systemd, whose generators see neither.
func toKmsg(getenv func(string) string, stderrIsTerminal bool) bool {
	switch {
	case getenv("SYSTEMD_SCOPE") != "":
		return true
	case getenv(hostroot.EnvVar) != "" && getenv(hostroot.EnvVar) != "/":
		return false
	}
	return !stderrIsTerminal
}

// openLog returns the generator's logger, what to close after it, and
// whether it writes to standard error.
func openLog() (*priolog.Logger, io.Closer, bool) {
	_, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS)
	if toKmsg(os.Getenv, err == nil) {
		log, closer := priolog.OpenKmsg(names.GeneratorName)
		return log, closer, false
	}
	return priolog.ForStderr(os.Stderr, os.Getenv("JOURNAL_STREAM"), names.GeneratorName), io.NopCloser(nil), true
}
