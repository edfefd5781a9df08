package safefs

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLinkInDirWithUnreadableACLSaysSo: a root-owned 0755 directory whose
// POSIX ACL cannot be read (here a descriptor that is no longer open; in a
// chroot without /proc it was the /proc/self/fd path) refuses the link for
// that reason, not as a directory "which users other than root can change
// (owner uid 0, mode 0755)", which contradicted itself and dropped the real
// error.
func TestLinkInDirWithUnreadableACLSaysSo(t *testing.T) {
	dir := &step{fd: -1, host: "/var", st: unix.Stat_t{Uid: 0, Mode: unix.S_IFDIR | 0o755}}
	link := &step{host: "/var/lock", st: unix.Stat_t{Uid: 0, Mode: unix.S_IFLNK | 0o777}}
	err := trustLink(dir, link, "/run/lock")
	if err == nil || !strings.Contains(err.Error(), `"/var/lock" is a symbolic link (to "/run/lock") in "/var", whose POSIX ACL cannot be read (`) ||
		strings.Contains(err.Error(), "users other than root can change (") {
		t.Errorf("got %v", err)
	}
}
