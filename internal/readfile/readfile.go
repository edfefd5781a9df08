// Package readfile reads small host files that must be what they claim.
package readfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Regular reads a regular file of at most max bytes: a FIFO would block the
// boot's generator, /dev/zero read until memory runs out, and opening a
// device can act, so it looks before it opens and checks what it opened.
// Errors are *fs.PathError naming p.
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
