package cpuinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// x86 is two logical CPUs of one core as an x86 kernel prints them.
const x86 = `processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 25
model name	: AMD EPYC 7763 64-Core Processor
physical id	: 0
siblings	: 2
core id		: 0
cpu cores	: 1
apicid		: 0
flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov
power management:

processor	: 1
vendor_id	: AuthenticAMD
cpu family	: 25
model name	: AMD EPYC 7763 64-Core Processor
physical id	: 0
siblings	: 2
core id		: 0
cpu cores	: 1
apicid		: 1
flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov
power management:

`

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       string // "id:pkg/core ..."
		wantErr    string
	}{
		{name: "x86", text: x86, want: "0:0/0 1:0/0"},
		{name: "no trailing blank line", text: strings.TrimRight(x86, "\n"), want: "0:0/0 1:0/0"},
		{name: "arm64: no ids", text: "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n\nHardware\t: some board\n",
			want: "0:-1/-1 1:-1/-1"},
		{name: "s390x-like header block", text: "vendor_id       : IBM/S390\n# processors    : 2\n\nprocessor\t: 0\nphysical id\t: 1\ncore id\t: 4\n\n", want: "0:1/4"},
		{name: "empty", text: "", wantErr: "no processor listed"},
		{name: "no processor line", text: "vendor_id\t: GenuineIntel\ncore id\t: 0\n\n", wantErr: "no processor listed"},
		{name: "a CPU twice", text: x86 + "processor\t: 1\ncore id\t: 3\nphysical id\t: 0\n\n", wantErr: "processor 1 is listed twice"},
		{name: "id not a number", text: strings.Replace(x86, "core id\t\t: 0", "core id\t\t: zero", 1), wantErr: `core id "zero" is not a CPU id`},
		{name: "negative processor", text: "processor\t: -1\n\n", wantErr: `processor "-1" is not a CPU id`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cpus, err := Parse([]byte(c.text))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("want an error with %q, got %v (%v)", c.wantErr, err, cpus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range cpus {
				got = append(got, fmt.Sprintf("%d:%d/%d", p.ID, p.Package, p.Core))
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), c.want)
			}
		})
	}
}

// TestCoresGroupsByPackageAndCore: a core id repeats across packages, so
// CPUs are one core only when both ids match.
func TestCoresGroupsByPackageAndCore(t *testing.T) {
	cpus := []CPU{{0, 0, 0}, {1, 1, 0}, {2, 0, 1}, {3, 1, 1}, {4, 0, 0}, {5, 1, 0}, {6, 0, 1}, {7, 1, 1}}
	if got := fmt.Sprint(Cores(cpus)); got != "[[0 4] [1 5] [2 6] [3 7]]" {
		t.Errorf("cores %s", got)
	}
}

// TestReadFallsBackToSysfsIDs: where /proc/cpuinfo prints no ids, each
// CPU's sysfs physical_package_id and core_id are read instead; a missing
// one is an error naming it.
func TestReadFallsBackToSysfsIDs(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/cpuinfo", "processor\t: 0\n\nprocessor\t: 1\n\n")
	write("sys/devices/system/cpu/cpu0/topology/physical_package_id", "0\n")
	write("sys/devices/system/cpu/cpu0/topology/core_id", "7\n")
	write("sys/devices/system/cpu/cpu1/topology/physical_package_id", "-1\n")
	write("sys/devices/system/cpu/cpu1/topology/core_id", "7\n")
	cpus, err := Read(hostroot.Root(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cpus); got != "[{0 0 7} {1 -1 7}]" {
		t.Errorf("cpus %s", got)
	}
	if err := os.Remove(filepath.Join(dir, "sys/devices/system/cpu/cpu1/topology/core_id")); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(hostroot.Root(dir)); err == nil || !strings.Contains(err.Error(), `cpu1/topology/core_id"`) {
		t.Errorf("want an error naming cpu1's core_id, got %v", err)
	}
}
