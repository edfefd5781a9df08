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

// TestBtrfsCheckNewFile: a new swapfile's extents go where the kernel
// puts new data, so only a single-device btrfs whose data block groups are
// all single takes one; the balance is the remedy only on one device (on
// more, a converted file still spans devices), and on mixed block groups
// it converts data and metadata together (the kernel refuses -dconvert
// alone there). The filesystem's layout is not CheckUsable's: the kernel
// judges an existing file by its extents.
func TestBtrfsCheckNewFile(t *testing.T) {
	for _, tc := range []struct {
		b       Btrfs
		refuse  bool
		balance string // the remedy's command, "" for none
	}{
		{Btrfs{DataProfiles: []string{"single"}, Devices: 1}, false, ""},
		{Btrfs{DataProfiles: []string{"dup"}, Devices: 1}, true, `btrfs balance start -dconvert=single "/ransomeye"`},
		{Btrfs{DataProfiles: []string{"single", "dup"}, Devices: 1}, true, `btrfs balance start -dconvert=single "/ransomeye"`},
		{Btrfs{DataProfiles: []string{"dup"}, Devices: 1, Mixed: true}, true, `btrfs balance start -f -dconvert=single -mconvert=single "/ransomeye"`},
		{Btrfs{DataProfiles: []string{"single"}, Devices: 1, Mixed: true}, false, ""},
		{Btrfs{DataProfiles: []string{"raid1"}, Devices: 2}, true, ""},
		{Btrfs{DataProfiles: []string{"single"}, Devices: 2}, true, ""},
	} {
		err := tc.b.CheckNewFile("/ransomeye")
		if (err != nil) != tc.refuse || (err != nil && strings.Contains(err.Error(), "balance") != (tc.balance != "")) ||
			(tc.balance != "" && !strings.HasSuffix(err.Error(), tc.balance+"; or put [Swap] Path= on another filesystem")) {
			t.Errorf("%+v: %v", tc.b, err)
		}
	}
	if err := (Info{Dir: "/ransomeye", Name: "btrfs", Support: NeedsNoCOW, Btrfs: &Btrfs{DataProfiles: []string{"dup"}, Devices: 2}}).CheckUsable(); err != nil {
		t.Errorf("CheckUsable refuses a btrfs for its layout: %v", err)
	}
}

// TestBtrfsPlacement: an existing swapfile is judged as the kernel's
// swapon judges it, by the chunks its extents lie in: single block groups
// whose first stripe is on one device pass, whatever else the filesystem
// holds (a second device added later, block groups a conversion moved to
// dup); an extent in a dup or raid1 chunk, or extents on two devices, fail
// naming what the kernel says.
func TestBtrfsPlacement(t *testing.T) {
	const (
		data  = btrfsBlockGroupData
		dup   = data | 1<<5
		raid1 = data | 1<<4
	)
	chunks := []BtrfsChunk{
		{Start: 0, Length: 100, Flags: data, Devid: 1},
		{Start: 100, Length: 100, Flags: data, Devid: 1},
		{Start: 200, Length: 100, Flags: dup, Devid: 1},
		{Start: 300, Length: 100, Flags: data, Devid: 2},
		{Start: 400, Length: 100, Flags: raid1, Devid: 2},
	}
	for _, tc := range []struct {
		name    string
		ranges  [][2]uint64
		devices uint64
		refuse  string // substring; "" = the kernel takes it
	}{
		{"single, one device, across two chunks", [][2]uint64{{10, 50}, {60, 120}}, 2, ""},
		{"in a dup chunk", [][2]uint64{{10, 50}, {210, 20}}, 1, `data profile dup, and the kernel swaps only to a file whose extents are all in single block groups ("swapfile must have single data profile"): convert its data with: btrfs balance start -dconvert=single "/ransomeye"`},
		{"in a raid1 chunk on two devices", [][2]uint64{{410, 20}}, 2, "converting does not keep a file on one device: put [Swap] Path= on another filesystem"},
		{"on two devices", [][2]uint64{{10, 50}, {310, 20}}, 2, `has extents on 2 btrfs devices (devids 1, 2), and the kernel swaps only to a file on one device ("swapfile must be on one device")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl, err := PlaceBtrfs(chunks, tc.ranges)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "CheckSwap", pl.CheckSwap("/ransomeye/swap", "/ransomeye", Btrfs{DataProfiles: []string{"single", "dup"}, Devices: tc.devices}), tc.refuse)
		})
	}
	if _, err := PlaceBtrfs(chunks, [][2]uint64{{490, 20}}); err == nil {
		t.Error("an extent past the last chunk was placed")
	}
}
