package mounts

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// MountPoint returns where the filesystem holding dir (a host path) is
// mounted, as seen under root: the highest directory from dir up to root's
// "/" on the same mount. A directory that does not exist yet counts as its
// nearest existing parent. The mount is told by statx's mount id (Linux
// 5.8 and later: a bind mount of the same filesystem is a mount of its
// own), else by the device number. It reads no /proc, so it answers in a
// chroot and an image build too; there "/" is the root of the tree.
func MountPoint(root hostroot.Root, dir string) (string, error) {
	cur := filepath.Clean("/" + dir)
	id, err := mountID(root.Path(cur))
	for errors.Is(err, unix.ENOENT) && cur != "/" {
		cur = filepath.Dir(cur)
		id, err = mountID(root.Path(cur))
	}
	if err != nil {
		return "", fmt.Errorf("statx %q: %w", cur, err)
	}
	for cur != "/" {
		parent := filepath.Dir(cur)
		pid, err := mountID(root.Path(parent))
		if err != nil {
			return "", fmt.Errorf("statx %q: %w", parent, err)
		}
		if pid != id {
			return cur, nil
		}
		cur = parent
	}
	return "/", nil
}

// mountID identifies the mount holding p: statx's mount id when the
// kernel gives it, else the device number.
func mountID(p string) (string, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, 0, unix.STATX_MNT_ID, &st); err != nil {
		return "", err
	}
	if st.Mask&unix.STATX_MNT_ID != 0 {
		return fmt.Sprintf("mnt %d", st.Mnt_id), nil
	}
	return fmt.Sprintf("dev %d:%d", st.Dev_major, st.Dev_minor), nil
}
