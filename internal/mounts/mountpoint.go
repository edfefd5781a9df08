package mounts

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// MountPoint returns where the filesystem holding dir is mounted under
// root: the highest directory up from dir on the same mount (a missing dir
// counts as its nearest parent), told by statx's mount id (bind mounts
// apart) or else the device. No /proc: it answers in a chroot too.
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

// mountID identifies the mount holding p: statx's mount id, else st_dev.
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
