// Package fsinfo decides from statfs(2) whether a filesystem can hold the
// swapfile, and how much space an unprivileged allocation may still use.
package fsinfo

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Support says whether a swapfile may live on a filesystem.
type Support int

const (
	// Unsupported filesystems are refused: the kernel cannot swap to a file
	// there, or we do not know that it can.
	Unsupported Support = iota
	// Supported filesystems take a preallocated swapfile as is (ext2/3/4, xfs).
	Supported
	// NeedsNoCOW filesystems (btrfs) need the no-copy-on-write attribute
	// on the empty file.
	NeedsNoCOW
)

// Magic numbers x/sys does not name (defined in their filesystems' sources).
const (
	zfsMagic   = 0x2fc12fc1
	ntfsMagic  = 0x5346544e
	ntfs3Magic = 0x7366746e
	gfs2Magic  = 0x01161970
	jfsMagic   = 0x3153464a
)

type fsKind struct {
	name    string
	support Support
	why     string // for unsupported ones: why the kernel cannot swap there
}

var kinds = map[int64]fsKind{
	unix.EXT4_SUPER_MAGIC:      {"ext4", Supported, ""}, // ext2, ext3 and ext4 share the magic
	unix.XFS_SUPER_MAGIC:       {"xfs", Supported, ""},
	unix.BTRFS_SUPER_MAGIC:     {"btrfs", NeedsNoCOW, ""},
	unix.TMPFS_MAGIC:           {"tmpfs", Unsupported, "it lives in RAM (swap there frees nothing)"},
	unix.RAMFS_MAGIC:           {"ramfs", Unsupported, "it lives in RAM (swap there frees nothing)"},
	unix.OVERLAYFS_SUPER_MAGIC: {"overlayfs", Unsupported, "the kernel cannot swap to a file on it"},
	unix.NFS_SUPER_MAGIC:       {"nfs", Unsupported, "it is a network filesystem"},
	unix.CIFS_SUPER_MAGIC:      {"cifs", Unsupported, "it is a network filesystem"},
	unix.SMB2_SUPER_MAGIC:      {"smb2", Unsupported, "it is a network filesystem"},
	unix.SMB_SUPER_MAGIC:       {"smb", Unsupported, "it is a network filesystem"},
	unix.CEPH_SUPER_MAGIC:      {"ceph", Unsupported, "it is a network filesystem"},
	unix.AFS_SUPER_MAGIC:       {"afs", Unsupported, "it is a network filesystem"},
	unix.V9FS_MAGIC:            {"9p", Unsupported, "it is a network filesystem"},
	gfs2Magic:                  {"gfs2", Unsupported, "it is a cluster filesystem"},
	unix.OCFS2_SUPER_MAGIC:     {"ocfs2", Unsupported, "it is a cluster filesystem"},
	zfsMagic:                   {"zfs", Unsupported, "ZFS does not support swapfiles (use a zvol)"},
	unix.FUSE_SUPER_MAGIC:      {"fuse", Unsupported, "the kernel cannot swap to a file on it"},
	unix.SQUASHFS_MAGIC:        {"squashfs", Unsupported, "it is read-only"},
	unix.CRAMFS_MAGIC:          {"cramfs", Unsupported, "it is read-only"},
	unix.EROFS_SUPER_MAGIC_V1:  {"erofs", Unsupported, "it is read-only"},
	unix.ISOFS_SUPER_MAGIC:     {"iso9660", Unsupported, "it is read-only"},
	unix.UDF_SUPER_MAGIC:       {"udf", Unsupported, "the kernel cannot swap to a file on it"},
	unix.MSDOS_SUPER_MAGIC:     {"vfat", Unsupported, "it has no Unix ownership or modes"},
	unix.EXFAT_SUPER_MAGIC:     {"exfat", Unsupported, "it has no Unix ownership or modes"},
	ntfsMagic:                  {"ntfs", Unsupported, "the kernel cannot swap to a file on it"},
	ntfs3Magic:                 {"ntfs3", Unsupported, "the kernel cannot swap to a file on it"},
	unix.ECRYPTFS_SUPER_MAGIC:  {"ecryptfs", Unsupported, "the kernel cannot swap to a file on it"},
	unix.F2FS_SUPER_MAGIC:      {"f2fs", Unsupported, "this tool does not support swapfiles on it"},
	unix.BCACHEFS_SUPER_MAGIC:  {"bcachefs", Unsupported, "this tool does not support swapfiles on it"},
	unix.NILFS_SUPER_MAGIC:     {"nilfs2", Unsupported, "it is copy-on-write by design"},
	jfsMagic:                   {"jfs", Unsupported, "this tool does not support swapfiles on it"},
	unix.REISERFS_SUPER_MAGIC:  {"reiserfs", Unsupported, "this tool does not support swapfiles on it"},
	unix.PROC_SUPER_MAGIC:      {"proc", Unsupported, "it is a pseudo filesystem"},
	unix.SYSFS_MAGIC:           {"sysfs", Unsupported, "it is a pseudo filesystem"},
}

// Classify maps a statfs f_type to the filesystem's name and whether it can
// hold a swapfile. why explains a refusal. Unknown types are refused.
func Classify(fsType int64) (name string, s Support, why string) {
	if k, ok := kinds[fsType]; ok {
		return k.name, k.support, k.why
	}
	return fmt.Sprintf("unknown filesystem (magic 0x%x)", fsType), Unsupported, "this tool does not know whether the kernel can swap to a file on it"
}

// Info is what statfs says about the filesystem that holds a directory.
type Info struct {
	Dir      string  // the directory that was asked about
	Type     int64   // f_type
	Name     string  // "ext4", "xfs", ...
	Support  Support // whether a swapfile may live here
	Why      string  // why not, when Support is Unsupported
	ReadOnly bool    // mounted read-only (ST_RDONLY)
	Free     int64   // bytes available to unprivileged users: f_bavail*f_bsize
	Size     int64   // total bytes: f_blocks*f_bsize
	// Btrfs is a btrfs filesystem's layout (nil: not btrfs, or not known):
	// it decides for a new file only (CheckNewFile); the kernel judges an
	// existing one by its extents.
	Btrfs *Btrfs
}

// FromStatfs classifies an (f)statfs result for dir.
func FromStatfs(dir string, st unix.Statfs_t) Info {
	name, s, why := Classify(int64(st.Type))
	bsize := st.Bsize
	if st.Frsize > 0 {
		bsize = st.Frsize
	}
	return Info{
		Dir:      dir,
		Type:     int64(st.Type),
		Name:     name,
		Support:  s,
		Why:      why,
		ReadOnly: st.Flags&unix.ST_RDONLY != 0,
		Free:     mulClamp(st.Bavail, uint64(bsize)),
		Size:     mulClamp(st.Blocks, uint64(bsize)),
	}
}

func mulClamp(a, b uint64) int64 {
	if b != 0 && a > (1<<62)/b {
		return 1 << 62
	}
	return int64(a * b)
}

// CheckUsable reports why a swapfile cannot be on the filesystem (before
// the space check).
func (i Info) CheckUsable() error {
	switch {
	case i.Support == Unsupported:
		return fmt.Errorf("the filesystem holding %q is %s, which cannot hold a swapfile: %s; put [Swap] Path= on an ext4, xfs or btrfs filesystem", i.Dir, i.Name, i.Why)
	case i.ReadOnly:
		return fmt.Errorf("the %s filesystem holding %q is mounted read-only: mount it read-write, or put [Swap] Path= on a writable filesystem", i.Name, i.Dir)
	}
	return nil
}

// CheckSpace reports whether need bytes plus reserve fit in the free space.
func (i Info) CheckSpace(need, reserve int64) error {
	if need+reserve <= i.Free {
		return nil
	}
	return fmt.Errorf("not enough space on the %s filesystem holding %q: %s free, %s needed (swapfile %s + reserve %s); free another %s there, use a larger disk, or lower [Swap] Reserve=",
		i.Name, i.Dir, Human(i.Free), Human(need+reserve), Human(need), Human(reserve), Human(need+reserve-i.Free))
}

// Human renders a byte count for messages ("16.0 GiB").
func Human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	suffixes := "KMGTPE"
	v := float64(n)
	i := -1
	for v >= unit && i < len(suffixes)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, suffixes[i])
}
