// Package names holds the names and paths users see (unit names, the
// marker, the configuration files, the command-line switch): the product's
// contract (docs/design.md, "Names and paths"); change them only with it.
package names

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

const (
	// DefaultSwapPath is the swapfile used when [Swap] Path= is not set.
	DefaultSwapPath = "/ransomeye/swap"
	// ActivatorUnit is the oneshot that creates the swapfile and applies the sysctls.
	ActivatorUnit = "ransomeye-tuner.service"
	// FailClosedUnit writes the failure marker when the swap unit or the activator fails.
	FailClosedUnit = "ransomeye-tuner-fail-closed.service"
	// MarkerPath is the failure marker that keeps the core service from starting.
	MarkerPath = "/var/lock/ransomeye-resource-fail"
	// CoreService is the default name of the gated, database-heavy core service.
	CoreService = "ransomeye-core.service"
	// DPIService is the default name of the packet-capture service.
	DPIService = "ransomeye-dpi.service"
	// TrainingService is the default name of the AI-training service.
	TrainingService = "ransomeye-training.service"
	// DPISlice is the slice the DPI service runs in, outside system.slice.
	DPISlice = "ransomeye-dpi.slice"
	// TrainingSlice is the slice the training service runs in, outside system.slice.
	TrainingSlice = "ransomeye-training.slice"
	// CPUDropIn is the file name of every CPU drop-in the generator writes.
	CPUDropIn = "cpu-isolation.conf"
	// SwapDropIn is the file name of the drop-ins that wire the swap unit to the activator.
	SwapDropIn = "ransomeye-tuner.conf"
	// ConfigFile is the main configuration file.
	ConfigFile = "/etc/ransomeye/tuner.conf"
	// ConfigDropInDir holds configuration drop-ins, applied in lexical order.
	ConfigDropInDir = "/etc/ransomeye/tuner.conf.d"
	// CmdlineSwitch is the kernel command-line key; "ransomeye.tuner=0" turns the generator off.
	CmdlineSwitch = "ransomeye.tuner"
	// GeneratorName is the generator binary's name, used in logs and file headers.
	GeneratorName = "ransomeye-tuner-generator"
	// ActivatorName is the activator/CLI binary's name.
	ActivatorName = "ransomeye-tuner"
	// RecoverCommand is what every remedy runs once its cause is fixed:
	// it reloads systemd (the generator runs again), restarts the
	// activator, starts the swap unit, and starts the core when the gate
	// refused its last start.
	RecoverCommand = ActivatorName + " recover"
	// ThenRecover ends every remedy after which the tuner must check
	// again.
	ThenRecover = "then: " + RecoverCommand
	// SwapLabel is the label mkswap gives the swapfile.
	SwapLabel = "ransomeye-swap"
	// DefaultMetricsPath is the node_exporter textfile-collector file.
	DefaultMetricsPath = "/var/lib/prometheus/node-exporter/ransomeye_tuner.prom"
	// MetricsTimer refreshes the metrics textfile every minute.
	MetricsTimer = "ransomeye-tuner-metrics.timer"
	// NetdevUnit places interrupts again when a network device changes
	// (reloaded by the udev rule).
	NetdevUnit = "ransomeye-tuner-netdev.service"
	// MetricsHeader starts every textfile the tuner writes (the HELP line
	// of its first family): a file without it is not the tuner's, so it is
	// neither replaced nor reported as written.
	MetricsHeader = "# HELP ransomeye_tuner_build_info "
)

// SwapTempPrefix and a process id name activate's temporary swapfile;
// activate removes files so named as left by an interrupted run.
const SwapTempPrefix = ".ransomeye-swap.tmp."

// IsSwapTempName reports whether a file name (one path component) has the
// form of activate's temporary swapfiles: SwapTempPrefix and decimal digits.
func IsSwapTempName(name string) bool {
	digits := strings.TrimPrefix(name, SwapTempPrefix)
	if digits == name || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// UnitNameMax is systemd's limit on a unit name (UNIT_NAME_MAX - 1).
const UnitNameMax = 255

// CheckPath reports whether p can be a swapfile whose .swap unit systemd
// loads; every refusal below once left the unit unloaded with no hint but
// "not active", so the error names the path and what is wrong with it.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("swap path is empty: set an absolute path such as %q", DefaultSwapPath)
	case !filepath.IsAbs(p):
		return fmt.Errorf("swap path %q is relative: use an absolute path such as %q", p, DefaultSwapPath)
	case filepath.Clean(p) != p:
		return fmt.Errorf("swap path %q is not clean: write it as %q", p, filepath.Clean(p))
	case p == "/":
		return fmt.Errorf("swap path %q is the root directory: name a file", p)
	case len(p) > 4000:
		return fmt.Errorf("swap path is %d bytes long: keep it under 4000", len(p))
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("swap path %q is not valid UTF-8: systemd ignores such a What= in the swap unit; use a path in UTF-8", p)
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("swap path %q holds a control character: rename the file", p)
		}
	}
	if strings.HasSuffix(p, `\`) {
		return fmt.Errorf("swap path %q ends in a backslash, which continues the swap unit's What= line onto the next one: rename the file", p)
	}
	for _, c := range strings.Split(p[1:], "/") {
		if len(c) > 255 {
			return fmt.Errorf("swap path %q has a component of %d bytes: at most 255", p, len(c))
		}
	}
	if b := filepath.Base(p); IsSwapTempName(b) {
		return fmt.Errorf("swap path %q is named like activate's temporary files (%s<digits>), which activate removes from the swapfile's directory as left by an interrupted run: give the swapfile another name, such as %q", p, SwapTempPrefix, filepath.Join(filepath.Dir(p), "swap"))
	}
	if u := SwapUnitName(p); len(u) > UnitNameMax {
		return fmt.Errorf("swap path %q gives a swap unit name of %d bytes, and systemd allows at most %d: use a shorter path (a byte other than an ASCII letter, a digit, \":\", \"_\", \".\" or \"/\" takes 4 once escaped)", p, len(u), UnitNameMax)
	}
	return nil
}

// SwapUnitName is `systemd-escape --path --suffix=swap p` (p valid by
// CheckPath).
func SwapUnitName(p string) string {
	return escapePath(p) + ".swap"
}

// MountUnitName is `systemd-escape --path --suffix=mount p` ("-.mount" for
// "/").
func MountUnitName(p string) string {
	return escapePath(p) + ".mount"
}

// escapePath is systemd's unit_name_path_escape. Not go-systemd's
// unit.UnitNamePathEscape: it writes bytes below 0x10 with one hex digit
// ("\x9"), where systemd writes two.
func escapePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return "-"
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c == '.' && i == 0, !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.'):
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// CheckServiceName reports whether s is a service unit name systemd
// accepts: names go verbatim into unit files, so this keeps a value from
// injecting lines or specifiers.
func CheckServiceName(s string) error {
	if !strings.HasSuffix(s, ".service") || len(s) <= len(".service") {
		return fmt.Errorf("service name %q must end in %q", s, ".service")
	}
	if len(s) > 255 {
		return fmt.Errorf("service name %q is longer than 255 bytes", s)
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune(":-_.\\@", c)
		if !ok {
			return fmt.Errorf("service name %q holds %q, which systemd does not allow in unit names", s, c)
		}
	}
	return nil
}

// SlicePath is a slice's path below the cgroup root, as systemd's
// cg_slice_to_path() makes it ("a-b.slice" -> "a.slice/a-b.slice").
func SlicePath(slice string) string {
	if slice == "-.slice" {
		return ""
	}
	base := strings.TrimSuffix(slice, ".slice")
	parts := strings.Split(base, "-")
	var out []string
	for i := range parts {
		out = append(out, CgroupEscape(strings.Join(parts[:i+1], "-")+".slice"))
	}
	return strings.Join(out, "/")
}

// cgroupControllers are the prefixes (with a dot) cg_escape() escapes.
var cgroupControllers = []string{"cpu", "cpuacct", "cpuset", "io", "blkio", "memory", "devices", "pids",
	"bpf-firewall", "bpf-devices", "bpf-foreign", "bpf-socket-bind", "bpf-restrict-network-interfaces"}

// CgroupEscape is a unit's cgroup directory name as systemd's cg_escape()
// makes it ("cpu.slice" -> "_cpu.slice"); a lookup under the unescaped
// name finds nothing and reads as "no restriction".
func CgroupEscape(name string) string {
	esc := strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "cgroup.") ||
		name == "notify_on_release" || name == "release_agent" || name == "tasks"
	for _, c := range cgroupControllers {
		if strings.HasPrefix(name, c+".") {
			esc = true
		}
	}
	if esc {
		return "_" + name
	}
	return name
}
