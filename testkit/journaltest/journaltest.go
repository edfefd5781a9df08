// Package journaltest gives tests a stderr that counts as systemd's journal
// stream: a temporary file and the $JOURNAL_STREAM value ("device:inode")
// that names it, as systemd sets it for a service whose stderr is the
// journal. The file is a plain file, not the journal's socket: the code
// under test only compares the device and inode of its stderr with the
// variable.
//
// Test-only, like everything under testkit/: only _test.go files import
// it, and the shipped binaries never link it.
package journaltest

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Stream returns a new temporary file, closed when t ends, and the
// $JOURNAL_STREAM value that names it.
func Stream(t testing.TB) (*os.File, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stream")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return f, fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
