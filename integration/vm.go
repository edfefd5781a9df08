package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Machine is one boot: the virtual hardware, the disks and the kernel
// command line.
type Machine struct {
	// Kernel and Root are the kernel and the root disk image (opened
	// read-only: writes go to a throwaway snapshot).
	Kernel, Root string
	// Data is the data disk image, or "" for a machine without one.
	Data string
	// MemMiB and CPUs size the machine.
	MemMiB, CPUs int
	// NUMANodes, when above 1, splits CPUs and memory evenly into that many
	// NUMA nodes (one socket each).
	NUMANodes int
	// Threads, when above 1, gives each core that many SMT threads (CPUs
	// must be a multiple); CPUModel replaces qemu's "max" CPU model (under
	// TCG the guest sees SMT siblings only with a model that describes
	// them, see integration/README.md).
	Threads  int
	CPUModel string
	// Append is added to the kernel command line.
	Append []string
	// Dir receives console.log, report.txt, journal.txt, qemu.log, cmdline.
	Dir string
	// Timeout bounds the boot on the host side.
	Timeout time.Duration
	// NIC, when not "", names a host tap device that Run creates
	// (multi-queue) before the boot and deletes after it; the guest gets a
	// virtio-net NIC on it with NICQueues queue pairs (2 when 0) and
	// 2*NICQueues+2 MSI-X vectors (configuration, each receive and each
	// transmit queue, control), each queue its own interrupt. TapSupport
	// says whether the host can.
	NIC       string
	NICQueues int
}

// Boot is what a boot left behind.
type Boot struct {
	// Console, ReportRaw and Journal are the three serial ports' contents.
	Console, ReportRaw, Journal string
	// Wall is the host-side time from qemu's start to its exit.
	Wall time.Duration
	// TimedOut is true when the host killed qemu at Timeout.
	TimedOut bool
	// KernelHang is true when the host killed qemu because the guest
	// kernel stalled (see kernelHung): an emulation flake.
	KernelHang bool
	// Dir is where the logs are kept.
	Dir string
}

// Accel returns qemu's accelerator: KVM only where a hardware KVM module is
// loaded (the nested paravirtual KVM of some hosts crawls and then dies with
// a stock kernel), else multi-threaded TCG.
func Accel() string {
	for _, m := range []string{"/sys/module/kvm_intel", "/sys/module/kvm_amd"} {
		if _, err := os.Stat(m); err == nil {
			if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
				f.Close()
				return "kvm"
			}
		}
	}
	return "tcg,thread=multi"
}

// QemuArgs returns the qemu command line for m (without the program name).
func (m Machine) QemuArgs() []string {
	cpuModel := "max"
	if m.CPUModel != "" {
		cpuModel = m.CPUModel
	}
	if m.Threads > 1 && m.NUMANodes > 1 {
		panic("Machine: Threads with NUMANodes is not supported (one or the other)")
	}
	cmdline := append([]string{"root=/dev/nvme0n1", "rw", "console=ttyS0", "panic=-1",
		"systemd.unit=ransomeye-test.target", "systemd.show_status=1"}, m.Append...)
	args := []string{
		"-accel", Accel(), "-cpu", cpuModel, "-m", fmt.Sprintf("%dM", m.MemMiB),
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", m.Kernel, "-append", strings.Join(cmdline, " "),
		"-drive", "file=" + m.Root + ",if=none,id=root,format=raw,snapshot=on",
		"-device", "nvme,drive=root,serial=root",
	}
	if m.NUMANodes > 1 {
		per := m.CPUs / m.NUMANodes
		args = append(args, "-smp", fmt.Sprintf("%d,sockets=%d,cores=%d,threads=1", m.CPUs, m.NUMANodes, per))
		for n := 0; n < m.NUMANodes; n++ {
			args = append(args,
				"-object", fmt.Sprintf("memory-backend-ram,id=mem%d,size=%dM", n, m.MemMiB/m.NUMANodes),
				"-numa", fmt.Sprintf("node,nodeid=%d,cpus=%d-%d,memdev=mem%d", n, n*per, (n+1)*per-1, n))
		}
	} else if m.Threads > 1 {
		args = append(args, "-smp", fmt.Sprintf("%d,sockets=1,cores=%d,threads=%d", m.CPUs, m.CPUs/m.Threads, m.Threads))
	} else {
		args = append(args, "-smp", strconv.Itoa(m.CPUs))
	}
	if m.Data != "" {
		args = append(args, "-drive", "file="+m.Data+",if=none,id=data,format=raw",
			"-device", "nvme,drive=data,serial=data")
	}
	if m.NIC != "" {
		q := m.NICQueues
		if q == 0 {
			q = 2
		}
		args = append(args, "-netdev", fmt.Sprintf("tap,id=cap0,ifname=%s,script=no,downscript=no,queues=%d", m.NIC, q),
			"-device", fmt.Sprintf("virtio-net-pci,netdev=cap0,mq=on,vectors=%d,mac=%s", 2*q+2, GuestMAC))
	}
	return append(args,
		"-serial", "file:"+filepath.Join(m.Dir, "console.log"),
		"-serial", "file:"+filepath.Join(m.Dir, "report.txt"),
		"-serial", "file:"+filepath.Join(m.Dir, "journal.txt"))
}

// Run boots m and waits for the guest to power off, or kills it at the
// timeout. The error is for a boot that could not run at all; a guest that
// timed out returns its logs with TimedOut set.
func (m Machine) Run(ctx context.Context) (Boot, error) {
	b := Boot{Dir: m.Dir}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return b, err
	}
	if m.NIC != "" {
		if err := CreateTap(ctx, m.NIC); err != nil {
			return b, err
		}
		defer DeleteTap(m.NIC)
	}
	args := m.QemuArgs()
	_ = os.WriteFile(filepath.Join(m.Dir, "cmdline"), []byte("qemu-system-x86_64 '"+strings.Join(args, "' '")+"'\n"), 0o644)
	qlog, err := os.Create(filepath.Join(m.Dir, "qemu.log"))
	if err != nil {
		return b, err
	}
	defer qlog.Close()
	cmd := exec.Command("qemu-system-x86_64", args...)
	cmd.Stdout, cmd.Stderr = qlog, qlog
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return b, fmt.Errorf("start qemu: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if m.NIC != "" {
		stop := make(chan struct{})
		defer close(stop)
		go feedTap(m.NIC, stop, filepath.Join(m.Dir, "tap.log"))
	}
	timer := time.NewTimer(m.Timeout)
	defer timer.Stop()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	console := filepath.Join(m.Dir, "console.log")
	consoleLen, consoleGrew := 0, time.Now()
	var waitErr error
wait:
	for {
		select {
		case waitErr = <-done:
			break wait
		case <-tick.C:
			data, err := os.ReadFile(console)
			if err != nil {
				continue
			}
			if len(data) != consoleLen {
				consoleLen, consoleGrew = len(data), time.Now()
			}
			if kernelHung(string(data)) || silentBeforeInit(string(data), time.Since(consoleGrew)) {
				b.KernelHang = true
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
				break wait
			}
		case <-timer.C:
			b.TimedOut = true
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			break wait
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return b, ctx.Err()
		}
	}
	b.Wall = time.Since(start)
	read := func(n string) string {
		data, _ := os.ReadFile(filepath.Join(m.Dir, n))
		return string(data)
	}
	b.Console, b.ReportRaw, b.Journal = read("console.log"), read("report.txt"), read("journal.txt")
	if !b.KernelHang && !b.TimedOut && strings.Contains(b.Console, earlyTimerPanic) {
		b.KernelHang = true
	}
	if waitErr != nil && !b.TimedOut && !b.KernelHang {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return b, fmt.Errorf("qemu: %w", waitErr)
		}
		return b, fmt.Errorf("qemu exited with %v (see %q)", waitErr, filepath.Join(m.Dir, "qemu.log"))
	}
	return b, nil
}

// kernelHung reports whether a console log shows the guest kernel stalled
// (an RCU stall or a soft lockup). Under TCG the guest kernel once looped in
// machine_keyring_init for minutes before init (run 20261126T181632Z, case
// 07), and once locked up in jbd2 and ext4lazyinit after systemd had started
// (CI dry run 20261126T185102Z, case 02: "soft lockup - CPU#5 stuck for
// 157s! [jbd2/nvme0n1-8]", never recovered). In 147 boots of this suite no
// lockup was ever transient, and none involved a process of the project:
// both were emulation stalls in kernel threads, so any one ends the boot.
// earlyTimerPanic is the guest kernel's panic when its check of the
// emulated IO-APIC timer fails, before init: an emulation flake of TCG on a
// loaded host (SELinux run 20261201T192937Z, case 41; its next boot
// passed). The guest then powers off at once; the boot counts as stalled
// and is tried once more, like kernelHung's.
const earlyTimerPanic = "IO-APIC + timer doesn't work"

// silentBeforeInit reports whether the guest kernel stopped before it
// started init: its console has not grown for initSilence and never got to
// "Run /sbin/init". Under TCG a 16-vCPU guest once froze at 2.4 s of its
// kernel's start-up with no stall report at all (CI dry run
// 20261208T014132Z, case 25), and the boot ran into its 6-minute timeout.
// The kernel reaches init in about 4 s of guest time here; minutes without
// a line before it are an emulation stall, not the project's doing (nothing
// of the project runs before init), so it counts like kernelHung's.
func silentBeforeInit(console string, quiet time.Duration) bool {
	return quiet > initSilence && !strings.Contains(console, "Run /sbin/init as init process")
}

// initSilence is how long a console may stay silent before init.
const initSilence = 3 * time.Minute

func kernelHung(console string) bool {
	return strings.Contains(console, "self-detected stall") || strings.Contains(console, "soft lockup")
}

// TapSupport says why this host cannot give a boot a tap NIC ("" when it
// can): it needs /dev/net/tun and ip(8).
func TapSupport() string {
	var missing []string
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		missing = append(missing, "/dev/net/tun (modprobe tun)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		missing = append(missing, "ip (apt-get install iproute2)")
	}
	if len(missing) == 0 {
		return ""
	}
	return "a tap NIC needs " + strings.Join(missing, " and ")
}

// CreateTap creates the host tap device name (multi-queue, down, no
// address: qemu only attaches to it). A device of that name already there
// is an error, never reused or deleted: it is not the suite's to remove.
func CreateTap(ctx context.Context, name string) error {
	if _, err := os.Lstat(filepath.Join("/sys/class/net", name)); err == nil {
		return fmt.Errorf("host network device %q already exists (a leftover of an interrupted run? remove it with: ip link del %s)", name, name)
	}
	return run(ctx, "ip", "tuntap", "add", name, "mode", "tap", "multi_queue")
}

// DeleteTap deletes the tap device CreateTap made.
func DeleteTap(name string) {
	_ = run(context.Background(), "ip", "tuntap", "del", name, "mode", "tap", "multi_queue")
}

// GuestMAC is the MAC address of the guest's tap NIC (Machine.NIC);
// HostMAC the source of the frames feedTap sends it, which a case's guest
// configuration can make 10.99.0.1's neighbour entry (no ARP is answered).
const (
	GuestMAC = "52:54:00:12:34:56"
	HostMAC  = "02:00:00:00:00:01"
)

// feedTap brings the tap up and, until stop, sends into it every second a
// burst of UDP datagrams (10.99.0.1 to the guest's 10.99.0.2, port 9,
// unicast to GuestMAC) from 16 source ports, so that the guest's receive
// queues get interrupts (the tap picks the queue by flow) and its replies
// (ICMP port unreachable; none for a link-layer broadcast) the transmit
// queues. Why:
// the kernel completes an interrupt's move only when the interrupt next
// fires, and an idle NIC's queues would stay where they were. What goes
// wrong is written to logPath; the case's checks say what it costs.
func feedTap(name string, stop <-chan struct{}, logPath string) {
	logf := func(format string, a ...any) {
		if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, time.Now().UTC().Format("15:04:05 ")+format+"\n", a...)
			f.Close()
		}
	}
	if err := run(context.Background(), "ip", "link", "set", name, "up"); err != nil {
		logf("%v", err)
		return
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		logf("%v", err)
		return
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		logf("packet socket: %v", err)
		return
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
	mac, _ := net.ParseMAC(GuestMAC)
	copy(to.Addr[:], mac)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	sent, failed := 0, 0
	for {
		select {
		case <-stop:
			logf("sent %d frames, %d refused", sent, failed)
			return
		case <-tick.C:
		}
		for port := 0; port < 16; port++ {
			if err := unix.Sendto(fd, udpFrame(uint16(40000+port)), 0, to); err != nil {
				if failed++; failed == 1 {
					logf("send: %v", err)
				}
				continue
			}
			sent++
		}
	}
}

// udpFrame is an Ethernet frame from HostMAC to GuestMAC holding an IPv4
// UDP datagram from 10.99.0.1:sport to 10.99.0.2:9 with four bytes of
// payload.
func udpFrame(sport uint16) []byte {
	dst, _ := net.ParseMAC(GuestMAC)
	src, _ := net.ParseMAC(HostMAC)
	f := append(append(append([]byte{}, dst...), src...), 0x08, 0x00)
	ip := []byte{0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2}
	var sum uint32
	for i := 0; i < len(ip); i += 2 {
		sum += uint32(ip[i])<<8 | uint32(ip[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	ip[10], ip[11] = byte(^sum>>8), byte(^sum)
	udp := []byte{byte(sport >> 8), byte(sport), 0, 9, 0, 12, 0, 0, 'r', 't', 'c', 'p'}
	return append(append(f, ip...), udp...)
}

// DataDisk makes a sparse ext4 data disk of size bytes labelled ransomeye
// (the label the image's fstab mounts at /ransomeye), holding the files of
// the directory from when it is not "" (mkfs.ext4 -d keeps holes).
func DataDisk(ctx context.Context, path string, size int64, from string) error {
	if err := sparseFile(path, size); err != nil {
		return err
	}
	args := []string{"-q", "-F", "-L", "ransomeye", "-E", "root_owner=0:0"}
	if from != "" {
		args = append(args, "-d", from)
	}
	return run(ctx, "mkfs.ext4", append(args, path)...)
}

// DataDiskFS makes a sparse, empty data disk of size bytes on fs ("xfs" or
// "btrfs") labelled ransomeye; the case's fstab must name the type
// (fsRootFiles).
func DataDiskFS(ctx context.Context, path string, size int64, fs string) error {
	var mkfs []string
	switch fs {
	case "xfs":
		mkfs = []string{"mkfs.xfs", "-q", "-f", "-L", "ransomeye"}
	case "btrfs":
		mkfs = []string{"mkfs.btrfs", "-q", "-f", "-L", "ransomeye"}
	default:
		return fmt.Errorf("data disk %q: filesystem %q is not one the suite makes (xfs, btrfs)", path, fs)
	}
	if err := sparseFile(path, size); err != nil {
		return err
	}
	return run(ctx, mkfs[0], append(mkfs[1:], path)...)
}

// CustomRoot copies the root image src to dst (sparse) and writes files
// into it (guest path -> content, root-owned, mode 0644, or 0755 for a
// script: content that starts with "#!") with debugfs,
// without mounting anything. It is for what must be on the root filesystem
// before the generators run, such as /etc/ransomeye/tuner.conf. A grow size
// above 0 enlarges the image and its filesystem to that many bytes first.
func CustomRoot(ctx context.Context, src, dst string, grow int64, files map[string]string) error {
	if err := run(ctx, "cp", "--sparse=always", src, dst); err != nil {
		return err
	}
	if grow > 0 {
		if err := os.Truncate(dst, grow); err != nil {
			return fmt.Errorf("grow root image %q: %w", dst, err)
		}
		if err := run(ctx, "e2fsck", "-f", "-y", dst); err != nil {
			return err
		}
		if err := run(ctx, "resize2fs", "-f", dst); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "rootfiles")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	guestPaths := make([]string, 0, len(files))
	for p := range files {
		guestPaths = append(guestPaths, p)
	}
	sort.Strings(guestPaths)
	var cmds strings.Builder
	for i, p := range guestPaths {
		// Parent directories first; "mkdir" of an existing one only complains.
		var dirs []string
		for d := filepath.Dir(p); d != "/"; d = filepath.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			fmt.Fprintf(&cmds, "mkdir %s\n", d)
		}
		host := filepath.Join(tmp, strconv.Itoa(i))
		// debugfs's write gives the guest file the host file's mode.
		mode := os.FileMode(0o644)
		if strings.HasPrefix(files[p], "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(host, []byte(files[p]), mode); err != nil {
			return err
		}
		if err := os.Chmod(host, mode); err != nil {
			return err
		}
		fmt.Fprintf(&cmds, "rm %s\nwrite %s %s\n", p, host, p)
	}
	cmdFile := filepath.Join(tmp, "cmds")
	if err := os.WriteFile(cmdFile, []byte(cmds.String()), 0o644); err != nil {
		return err
	}
	if err := run(ctx, "debugfs", "-w", "-f", cmdFile, dst); err != nil {
		return err
	}
	// debugfs reports most errors on stdout with exit status 0: read back.
	for _, p := range guestPaths {
		out, err := exec.CommandContext(ctx, "debugfs", "-R", "cat "+p, dst).Output()
		if err != nil || string(out) != files[p] {
			return fmt.Errorf("write %q into root image %q: read back %q (%v)", p, dst, out, err)
		}
	}
	return nil
}

// sparseFile makes path (and its directory) an empty sparse file of size
// bytes, for a data disk image.
func sparseFile(path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("size data disk %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return nil
}
