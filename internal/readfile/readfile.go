// Package readfile reads the small host files the tuner trusts only when
// they are what they claim to be.
package readfile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Regular reads a regular file of at most max bytes. Why not os.ReadFile: a
// FIFO there would block the generator (and the boot) and a link to
// /dev/zero would read until memory runs out; the configuration reader had
// both (FAULTS.md, "Found and fixed" 1). A larger file is an error.
func Regular(p string, max int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%q is not a regular file (%s)", p, fi.Mode().Type())
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%q is larger than %d bytes", p, max)
	}
	return b, nil
}
