package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

// toKmsg reports whether messages go to the kernel log (systemd runs the
// generator with /dev/null as output; $SYSTEMD_SCOPE says so from 251),
// else to stderr: a root prefix or a terminal means a person or a test.
func toKmsg(getenv func(string) string, stderrIsTerminal bool) bool {
	switch {
	case getenv("SYSTEMD_SCOPE") != "":
		return true
	case getenv(hostroot.EnvVar) != "" && getenv(hostroot.EnvVar) != "/":
		return false
	}
	return !stderrIsTerminal
}

// openLog returns the logger, what to close after it, and whether it
// writes to stderr.
func openLog() (*priolog.Logger, io.Closer, bool) {
	_, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS)
	if toKmsg(os.Getenv, err == nil) {
		log, closer := priolog.OpenKmsg(names.GeneratorName)
		return log, closer, false
	}
	return priolog.ForStderr(os.Stderr, os.Getenv("JOURNAL_STREAM"), names.GeneratorName), io.NopCloser(nil), true
}
