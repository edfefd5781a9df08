package fsinfo

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		magic int64
		name  string
		want  Support
	}{
		{0xef53, "ext4", Supported},
		{0x58465342, "xfs", Supported},
		{0x9123683e, "btrfs", NeedsNoCOW},
		{0x01021994, "tmpfs", Unsupported},
		{0x858458f6, "ramfs", Unsupported},
		{0x794c7630, "overlayfs", Unsupported},
		{0x6969, "nfs", Unsupported},
		{0xff534d42, "cifs", Unsupported},
		{0xfe534d42, "smb2", Unsupported},
		{0x2fc12fc1, "zfs", Unsupported},
		{0x65735546, "fuse", Unsupported},
		{0x73717368, "squashfs", Unsupported},
		{0x28cd3d45, "cramfs", Unsupported},
		{0x517b, "smb", Unsupported},
		{0x00c36400, "ceph", Unsupported},
		{0x5346414f, "afs", Unsupported},
		{0x01021997, "9p", Unsupported},
		{0x4d44, "vfat", Unsupported},
		{0x2011bab0, "exfat", Unsupported},
		{0x5346544e, "ntfs", Unsupported},
		{0x7366746e, "ntfs3", Unsupported},
		{0xf2f52010, "f2fs", Unsupported},
		{0xca451a4e, "bcachefs", Unsupported},
		{0xe0f5e1e2, "erofs", Unsupported},
		{0x9660, "iso9660", Unsupported},
		{0xf15f, "ecryptfs", Unsupported},
		{0x01161970, "gfs2", Unsupported},
		{0x7461636f, "ocfs2", Unsupported},
		{0x3434, "nilfs2", Unsupported},
		{0x3153464a, "jfs", Unsupported},
		{0x52654973, "reiserfs", Unsupported},
		{0x15013346, "udf", Unsupported},
		{0x9fa0, "proc", Unsupported},
		{0x62656572, "sysfs", Unsupported},
		{0x12345678, "unknown filesystem (magic 0x12345678)", Unsupported},
	} {
		name, s, why := Classify(tc.magic)
		if name != tc.name || s != tc.want {
			t.Errorf("Classify(0x%x) = %q, %v; want %q, %v", tc.magic, name, s, tc.name, tc.want)
		}
		if s == Unsupported && why == "" {
			t.Errorf("Classify(0x%x): refused without a reason", tc.magic)
		}
	}
}

func TestFromStatfsAndChecks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		st        unix.Statfs_t
		need, res int64
		usableErr string // substring; "" = usable
		spaceErr  string // substring; "" = fits
	}{
		{"ext4 roomy", unix.Statfs_t{Type: 0xef53, Bsize: 4096, Bavail: 5 << 20, Blocks: 6 << 20}, 16 << 30, 1 << 30, "", ""},
		{"ext4 exact fit", unix.Statfs_t{Type: 0xef53, Bsize: 4096, Bavail: (17 << 30) / 4096}, 16 << 30, 1 << 30, "", ""},
		{"ext4 one block short", unix.Statfs_t{Type: 0xef53, Bsize: 4096, Bavail: (17<<30)/4096 - 1}, 16 << 30, 1 << 30, "", "not enough space on the ext4 filesystem"},
		{"xfs small", unix.Statfs_t{Type: 0x58465342, Bsize: 4096, Bavail: 1 << 18}, 16 << 30, 1 << 30, "", "1.0 GiB free, 17.0 GiB needed"},
		{"tmpfs", unix.Statfs_t{Type: 0x01021994, Bsize: 4096, Bavail: 1 << 30}, 1 << 20, 0, "is tmpfs, which cannot hold a swapfile", ""},
		{"read-only ext4", unix.Statfs_t{Type: 0xef53, Bsize: 4096, Bavail: 1 << 30, Flags: unix.ST_RDONLY}, 1 << 20, 0, "mounted read-only", ""},
		{"frsize wins", unix.Statfs_t{Type: 0xef53, Bsize: 4096, Frsize: 1024, Bavail: 1 << 20}, 1 << 30, 0, "", ""},
		{"frsize short", unix.Statfs_t{Type: 0xef53, Bsize: 4096, Frsize: 1024, Bavail: 1<<20 - 1}, 1 << 30, 0, "", "needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := FromStatfs("/ransomeye", tc.st)
			check(t, "CheckUsable", i.CheckUsable(), tc.usableErr)
			check(t, "CheckSpace", i.CheckSpace(tc.need, tc.res), tc.spaceErr)
		})
	}
}

func check(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one with %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q lacks %q", what, err, want)
	}
}

func TestFromStatfsHere(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	i := FromStatfs(dir, st)
	if i.Name == "" || i.Size <= 0 || i.Dir != dir {
		t.Errorf("FromStatfs of a temp dir gave %+v", i)
	}
}

// TestBtrfsCheckSwap: only a single-device btrfs whose data block groups
// are all single takes a swapfile; the balance is the remedy only on one
// device (on more, a converted file still spans devices).
func TestBtrfsCheckSwap(t *testing.T) {
	for _, tc := range []struct {
		b       Btrfs
		refuse  bool
		balance bool
	}{
		{Btrfs{DataProfiles: []string{"single"}, Devices: 1}, false, false},
		{Btrfs{DataProfiles: []string{"dup"}, Devices: 1}, true, true},
		{Btrfs{DataProfiles: []string{"single", "dup"}, Devices: 1}, true, true},
		{Btrfs{DataProfiles: []string{"raid1"}, Devices: 2}, true, false},
		{Btrfs{DataProfiles: []string{"single"}, Devices: 2}, true, false},
	} {
		err := tc.b.CheckSwap("/ransomeye")
		if (err != nil) != tc.refuse || (err != nil && strings.Contains(err.Error(), "btrfs balance start -dconvert=single \"/ransomeye\"") != tc.balance) {
			t.Errorf("%+v: %v", tc.b, err)
		}
	}
	if err := (Info{Dir: "/ransomeye", Name: "btrfs", Support: NeedsNoCOW, Btrfs: &Btrfs{DataProfiles: []string{"dup"}, Devices: 1}}).CheckUsable(); err == nil {
		t.Error("CheckUsable accepts a dup btrfs")
	}
}
