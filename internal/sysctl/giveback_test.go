package sysctl

import (
	"os"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/statedir"
)

// machine is a fake root as the package leaves it after an activation
// with the defaults: the shipped file, /proc/sys with the values activate
// set (10 and 50), activate's /run file, and /var/lib for the records.
// The records and /run/sysctl.d go to directories only root may own.
func machine(t *testing.T) hostroot.Root {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the records and /run/sysctl.d go to directories only root may own: run as root")
	}
	root := hostroot.Root(t.TempDir())
	if err := os.Chmod(root.String(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root.Path("/var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, root, ShippedFile, "vm.swappiness = 10\nvm.vfs_cache_pressure = 50\n")
	write(t, root, "/proc/sys/vm/swappiness", "10\n")
	write(t, root, "/proc/sys/vm/vfs_cache_pressure", "50\n")
	set := []Setting{{Key: "vm.swappiness", Value: "10"}, {Key: "vm.vfs_cache_pressure", Value: "50"}}
	if err := WriteRun(root, set); err != nil {
		t.Fatal(err)
	}
	return root
}

func value(t *testing.T, root hostroot.Root, key string) string {
	t.Helper()
	v, err := Read(root, key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRecordBefore: the value a key had before activate first set it is
// recorded once; the package's own value (systemd-sysctl applied the
// shipped file at boot, before activate) is not the machine's and is not
// recorded.
func TestRecordBefore(t *testing.T) {
	root := machine(t)
	if err := os.Remove(root.Path(RunFile)); err != nil {
		t.Fatal(err)
	}
	// At boot: the shipped file set 10, the last setter is the package's.
	if err := RecordBefore(root, "vm.swappiness", "10"); err != nil {
		t.Fatal(err)
	}
	if got, _ := statedir.Read(root, statedir.SysctlsBefore); len(got) != 0 {
		t.Errorf("the package's own value was recorded: %q", got)
	}
	// A live install: the kernel's 60 was there before.
	for _, v := range []string{"60", "25"} {
		if err := RecordBefore(root, "vm.swappiness", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := RecordBefore(root, "vm.vfs_cache_pressure", "100"); err != nil {
		t.Fatal(err)
	}
	got, _ := statedir.Read(root, statedir.SysctlsBefore)
	if strings.Join(got, " ") != "vm.swappiness=60 vm.vfs_cache_pressure=100" {
		t.Errorf("record %q, want the first value of each key only", got)
	}
}

// TestGiveBack: removal gives each sysctl still at the value activate set
// what sysctl --system sets without the package's files, else its value
// from before the tuner; a key changed since is left alone; one with
// neither keeps its value (the kernel keeps it until the next boot);
// activate's /run file goes, so that sysctl --system no longer applies the
// tuner's values, and so does the record. Without activate's file in /run
// (activate set nothing in this boot, or a chroot reading the host's
// /proc) no value is touched, and a file there it did not write is left.
func TestGiveBack(t *testing.T) {
	t.Run("remaining file, then record", func(t *testing.T) {
		root := machine(t)
		write(t, root, "/etc/sysctl.d/50-admin.conf", "vm.swappiness = 30\n")
		if err := statedir.Write(root, statedir.SysctlsBefore, "test", []string{"vm.swappiness=60", "vm.vfs_cache_pressure=100"}); err != nil {
			t.Fatal(err)
		}
		got, err := GiveBack(root)
		if err != nil {
			t.Fatal(err)
		}
		if v := value(t, root, "vm.swappiness"); v != "30" {
			t.Errorf("vm.swappiness %s, want 30 from /etc/sysctl.d/50-admin.conf (%+v)", v, got)
		}
		if v := value(t, root, "vm.vfs_cache_pressure"); v != "100" {
			t.Errorf("vm.vfs_cache_pressure %s, want the recorded 100 (%+v)", v, got)
		}
		if len(got) != 2 || !got[0].Changed || !strings.Contains(got[0].Why, "/etc/sysctl.d/50-admin.conf") || !strings.Contains(got[1].Why, "before ransomeye-tuner") {
			t.Errorf("report %+v", got)
		}
		if _, err := os.Lstat(root.Path(RunFile)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", RunFile, err)
		}
		if _, err := os.Lstat(root.Path(statedir.Dir + "/" + statedir.SysctlsBefore)); !os.IsNotExist(err) {
			t.Errorf("the record is still there: %v", err)
		}
	})
	t.Run("changed since, or nothing known", func(t *testing.T) {
		root := machine(t)
		write(t, root, "/proc/sys/vm/swappiness", "5\n")
		got, err := GiveBack(root)
		if err != nil {
			t.Fatal(err)
		}
		if v := value(t, root, "vm.swappiness"); v != "5" || got[0].Changed || !strings.Contains(got[0].Why, "changed since") {
			t.Errorf("changed since: %s %+v", v, got[0])
		}
		if v := value(t, root, "vm.vfs_cache_pressure"); v != "50" || got[1].Changed || !strings.Contains(got[1].Why, "until the next boot") {
			t.Errorf("nothing known: %s %+v", v, got[1])
		}
	})
	t.Run("no file of activate's", func(t *testing.T) {
		root := machine(t)
		write(t, root, "/etc/sysctl.d/50-admin.conf", "vm.swappiness = 30\n")
		if err := os.Remove(root.Path(RunFile)); err != nil {
			t.Fatal(err)
		}
		if got, err := GiveBack(root); err != nil || len(got) != 0 || value(t, root, "vm.swappiness") != "10" {
			t.Errorf("without %s: %+v %v, swappiness %s", RunFile, got, err, value(t, root, "vm.swappiness"))
		}
		const theirs = "vm.swappiness = 42\n"
		write(t, root, RunFile, theirs)
		if got, err := GiveBack(root); err == nil || len(got) != 0 || value(t, root, "vm.swappiness") != "10" {
			t.Errorf("their file at %s: %+v %v", RunFile, got, err)
		}
		if b, _ := os.ReadFile(root.Path(RunFile)); string(b) != theirs {
			t.Errorf("their file is now %q", b)
		}
	})
	t.Run("a link at the name", func(t *testing.T) {
		root := machine(t)
		ours, _ := os.ReadFile(root.Path(RunFile))
		write(t, root, "/etc/elsewhere.conf", string(ours))
		if err := os.Remove(root.Path(RunFile)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../../etc/elsewhere.conf", root.Path(RunFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := GiveBack(root); err == nil {
			t.Errorf("a link at %s was followed", RunFile)
		}
		if _, err := os.Stat(root.Path("/etc/elsewhere.conf")); err != nil {
			t.Errorf("the link's target: %v", err)
		}
	})
}
