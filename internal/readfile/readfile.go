// Package readfile reads the small host files the tuner trusts only when
// they are what they claim to be.
package readfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Regular reads a regular file of at most max bytes. Why not os.ReadFile: a
// FIFO there would block the generator (and the boot) and a link to
// /dev/zero would read until memory runs out (tuner.conf and its drop-ins
// are read at every boot, where a stalled generator stalls the boot). It
// looks before it opens, since opening a device node can act (a watchdog
// starts, a tape rewinds), and checks again what it opened. Errors are
// *fs.PathError naming p: the open's or stat's own, EISDIR for a
// directory, "is a named pipe (FIFO), not a regular file: ..." for another
// kind, "larger than max bytes".
func Regular(p string, max int64) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(p, fi.Mode())
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(p, fi.Mode())
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	if int64(len(b)) > max {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("larger than %d bytes", max)}
	}
	return b, nil
}

// notRegular is the error for an entry that is not a regular file; a
// directory gives the same "is a directory" as reading one.
func notRegular(p string, m fs.FileMode) error {
	if m.IsDir() {
		return &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	return &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("is a %s, not a regular file: replace it with a file or remove it", kindOf(m))}
}

// kindOf names a non-regular file type for an error message.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}
