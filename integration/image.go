package integration

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The image recipe: a change to any of these rebuilds the cached base.
const (
	// hostSuite is the suite of the host's apt sources whose mirror
	// debootstrap uses for every guest suite (one archive serves them all).
	hostSuite    = "bookworm"
	rootImgSize  = "1G"
	baseScript   = "image/build-base.sh"
	guestTree    = "guest"
	stubServices = "ransomeye-core.service ransomeye-dpi.service ransomeye-training.service"
)

// Suites are the Debian releases the boot suite can build its image from,
// with the systemd each ships: the platforms the tuner is tested on.
var Suites = map[string]string{
	"bullseye": "247",
	"bookworm": "252",
	"trixie":   "257",
	// SELinuxSuite: bookworm with the reference policy, labelled at build.
	SELinuxSuite: "252",
}

// SELinuxSuite is the SELinux variant of bookworm (make integration
// SUITE=bookworm-selinux): the bookworm base plus selinux-policy-default
// (image/build-selinux.sh), the whole staged root labelled with setfiles
// after the project is installed; its cases boot with SELinux on.
const SELinuxSuite = "bookworm-selinux"

// selinuxScript layers the policy on the bookworm base.
const selinuxScript = "image/build-selinux.sh"

// Suite returns the Debian suite of the guest image: $RANSOMEYE_SUITE (make
// integration SUITE=...), else bookworm, or an error naming the suites known.
func Suite() (string, error) {
	s := os.Getenv("RANSOMEYE_SUITE")
	if s == "" {
		return "bookworm", nil
	}
	if _, ok := Suites[s]; !ok {
		return "", fmt.Errorf("RANSOMEYE_SUITE=%q: not a suite the boot suite knows (bullseye, bookworm, trixie, bookworm-selinux)", s)
	}
	return s, nil
}

// Base is the cached part of the image: a root filesystem tree without the
// project, and the kernel. It is rebuilt only when its recipe changes.
type Base struct {
	// Dir holds rootfs/, vmlinuz and packages.txt.
	Dir string
	// Key is the hash of the recipe that names Dir.
	Key string
	// Suite is the Debian suite of the root filesystem.
	Suite string
}

// Kernel is the path of the kernel to boot.
func (b Base) Kernel() string { return filepath.Join(b.Dir, "vmlinuz") }

// Packages is the path of the image's dpkg-query -W listing (plus the kernel).
func (b Base) Packages() string { return filepath.Join(b.Dir, "packages.txt") }

// Mirror returns the Debian mirror for debootstrap: $RANSOMEYE_MIRROR, else
// the first URI this machine's apt sources use for the bookworm suite (the
// same archive serves the other suites), else
// deb.debian.org.
func Mirror() string {
	if m := os.Getenv("RANSOMEYE_MIRROR"); m != "" {
		return m
	}
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append([]string{"/etc/apt/sources.list"}, files...)
	for _, f := range files {
		if m := mirrorFromSources(f); m != "" {
			return m
		}
	}
	return "http://deb.debian.org/debian"
}

// mirrorFromSources reads one apt sources file, one-line or deb822 style,
// and returns the URI of a stanza for the plain bookworm suite (hostSuite).
func mirrorFromSources(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	var uri string
	var suites []string
	flush := func() string {
		defer func() { uri, suites = "", nil }()
		for _, s := range suites {
			if s == hostSuite && uri != "" {
				return uri
			}
		}
		return ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
		case line == "":
			if m := flush(); m != "" {
				return m
			}
		case strings.HasPrefix(line, "deb "):
			fields := strings.Fields(line)
			// deb [options] URI SUITE COMPONENTS...
			for i := 1; i < len(fields)-1; i++ {
				if strings.HasPrefix(fields[i], "[") {
					for i < len(fields) && !strings.HasSuffix(fields[i], "]") {
						i++
					}
					continue
				}
				if fields[i+1] == hostSuite {
					return fields[i]
				}
				break
			}
		case strings.HasPrefix(line, "URIs:"):
			uri = strings.Fields(strings.TrimPrefix(line, "URIs:") + " ")[0]
		case strings.HasPrefix(line, "Suites:"):
			suites = strings.Fields(strings.TrimPrefix(line, "Suites:"))
		}
	}
	return flush()
}

// EnsureBase returns the cached base under workDir, building it with
// image/build-base.sh when no base for the current recipe exists. logf gets
// progress lines.
func EnsureBase(ctx context.Context, pkgDir, workDir, suite string, logf func(string, ...any)) (Base, error) {
	if suite == SELinuxSuite {
		return ensureSELinuxBase(ctx, pkgDir, workDir, logf)
	}
	script, err := os.ReadFile(filepath.Join(pkgDir, baseScript))
	if err != nil {
		return Base{}, fmt.Errorf("read image recipe: %w", err)
	}
	mirror := Mirror()
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", suite, mirror, script)
	key := hex.EncodeToString(h.Sum(nil))[:16]
	b := Base{Dir: filepath.Join(workDir, "base-"+suite+"-"+key), Key: key, Suite: suite}
	if _, err := os.Stat(b.Packages()); err == nil {
		logf("image: cached base %s", b.Dir)
		return b, nil
	}
	logf("image: building base %s: %s from %s (debootstrap, one to three minutes)", b.Dir, suite, mirror)
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return Base{}, fmt.Errorf("create work directory: %w", err)
	}
	if err := fenceGoTools(workDir); err != nil {
		return Base{}, err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(pkgDir, baseScript), b.Dir, mirror, suite)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Base{}, fmt.Errorf("build base image with %q: %w\n%s", baseScript, err, out)
	}
	return b, nil
}

// ensureSELinuxBase returns the cached SELinux base, built by
// image/build-selinux.sh from the bookworm base (built first when missing):
// its key hashes the bookworm base's key and the scripts (build-selinux.sh
// and build-layer.sh, which it calls), so a change to any rebuilds it, and
// the bookworm base's cache is shared.
func ensureSELinuxBase(ctx context.Context, pkgDir, workDir string, logf func(string, ...any)) (Base, error) {
	bw, err := EnsureBase(ctx, pkgDir, workDir, "bookworm", logf)
	if err != nil {
		return Base{}, err
	}
	script, err := os.ReadFile(filepath.Join(pkgDir, selinuxScript))
	if err != nil {
		return Base{}, fmt.Errorf("read image recipe: %w", err)
	}
	// It installs the policy with the layer script: a change to either
	// rebuilds it.
	layer, err := os.ReadFile(filepath.Join(pkgDir, layerScript))
	if err != nil {
		return Base{}, fmt.Errorf("read image recipe: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", bw.Key, script, layer)
	key := hex.EncodeToString(h.Sum(nil))[:16]
	b := Base{Dir: filepath.Join(workDir, "base-"+SELinuxSuite+"-"+key), Key: key, Suite: SELinuxSuite}
	if _, err := os.Stat(b.Packages()); err == nil {
		logf("image: cached base %s", b.Dir)
		return b, nil
	}
	logf("image: building base %s: selinux-policy-default on %s", b.Dir, bw.Dir)
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(pkgDir, selinuxScript), b.Dir, bw.Dir, Mirror())
	if out, err := cmd.CombinedOutput(); err != nil {
		return Base{}, fmt.Errorf("build base image with %q: %w\n%s", selinuxScript, err, out)
	}
	return b, nil
}

// Layer is a package layer: Debian packages installed on a suite's base for
// the cases that name it (bootCase.layer), so that the others' images stay
// small.
type Layer struct {
	// Suite is the Debian suite whose packages are meant.
	Suite string
	// Packages are installed with apt-get --no-install-recommends.
	Packages []string
}

// Layers are the package layers the cases use, by name. tuned is Debian
// 12's 2.20 (the tuned cases: its profile's sysctls against the tuner's).
// Suricata 7 (whose --include the man page's recipe uses) is Debian 13's:
// Debian 11 and 12 ship 6. PostgreSQL is Debian 12's 15, the core of the
// PostgreSQL cases.
var Layers = map[string]Layer{
	"tuned":      {Suite: "bookworm", Packages: []string{"tuned"}},
	"suricata":   {Suite: "trixie", Packages: []string{"suricata"}},
	"postgresql": {Suite: "bookworm", Packages: []string{"postgresql"}},
}

// layerScript installs a layer's packages on a base.
const layerScript = "image/build-layer.sh"

// EnsureLayer returns the cached layer of base b with packages installed
// (image/build-layer.sh): its key hashes the base's key, the script and the
// package list, so a change to any of them rebuilds it, and cases that
// name the same packages share it.
func EnsureLayer(ctx context.Context, pkgDir, workDir string, b Base, packages []string, logf func(string, ...any)) (Base, error) {
	script, err := os.ReadFile(filepath.Join(pkgDir, layerScript))
	if err != nil {
		return Base{}, fmt.Errorf("read image recipe: %w", err)
	}
	pkgs := append([]string(nil), packages...)
	sort.Strings(pkgs)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", b.Key, script, strings.Join(pkgs, " "))
	key := hex.EncodeToString(h.Sum(nil))[:16]
	l := Base{Dir: filepath.Join(workDir, "layer-"+b.Suite+"-"+strings.Join(pkgs, "+")+"-"+key), Key: key, Suite: b.Suite}
	// One build at a time: CI builds a layer in the background (make
	// integration-base LAYER=...) while a boot that needs it may ask for
	// it; the second waits here and finds it cached.
	unlock, err := lockFile(l.Dir + ".lock")
	if err != nil {
		return Base{}, err
	}
	defer unlock()
	if _, err := os.Stat(l.Packages()); err == nil {
		logf("image: cached layer %s", l.Dir)
		return l, nil
	}
	logf("image: building layer %s: %s on %s", l.Dir, strings.Join(pkgs, " "), b.Dir)
	start := time.Now()
	args := append([]string{filepath.Join(pkgDir, layerScript), l.Dir, b.Dir, Mirror(), b.Suite}, pkgs...)
	if out, err := exec.CommandContext(ctx, "bash", args...).CombinedOutput(); err != nil {
		return Base{}, fmt.Errorf("build layer with %q: %w\n%s", layerScript, err, out)
	}
	logf("image: layer %s built in %s", filepath.Base(l.Dir), time.Since(start).Round(time.Second))
	return l, nil
}

// lockFile takes an exclusive flock on path (created when missing) and
// returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// EnsureNamedLayer returns the cached layer name of Layers on its suite's
// base, building the base and the layer when missing (make
// integration-base LAYER=...).
func EnsureNamedLayer(ctx context.Context, pkgDir, workDir, name string, logf func(string, ...any)) (Base, error) {
	l, ok := Layers[name]
	if !ok {
		return Base{}, fmt.Errorf("no package layer %q", name)
	}
	b, err := EnsureBase(ctx, pkgDir, workDir, l.Suite, logf)
	if err != nil {
		return Base{}, err
	}
	return EnsureLayer(ctx, pkgDir, workDir, b, l.Packages, logf)
}

// labelTree labels the whole staged root with the image's own setfiles and
// the reference policy's file contexts, as an SELinux system's installer
// does: after the project is installed, so that its files get their labels.
// mkfs.ext4 -d copies the security.selinux attributes into the image (a
// host without SELinux stores them as it is given them).
//
// Why /proc is mounted: setfiles (libselinux 3.4) sets each label through
// /proc/self/fd/N of an O_PATH descriptor, and without /proc it failed on
// every file ("Could not set context for /: No such file or directory").
func labelTree(ctx context.Context, stage string) (err error) {
	proc := filepath.Join(stage, "proc")
	if err := run(ctx, "mount", "-t", "proc", "proc", proc); err != nil {
		return err
	}
	defer func() {
		if uerr := run(context.Background(), "umount", proc); uerr != nil && err == nil {
			err = uerr
		}
	}()
	cmd := exec.CommandContext(ctx, "chroot", stage, "setfiles", "-F", "/etc/selinux/default/contexts/files/file_contexts", "/")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("setfiles in %q: %w\n%s", stage, err, out)
	}
	return nil
}

// Image is one build's root disk images: both hold the base, the test-only
// units and scripts; Tuner also holds the project, Plain does not (the
// comparison boot).
type Image struct {
	Base  Base
	Tuner string
	Plain string
	// TunerErr says why the Tuner image could not be made (the project
	// does not build, say); the Plain image is still usable.
	TunerErr error
	// Verify is the output of systemd-analyze verify --root on the Tuner
	// image's tree (test units and the project's), VerifyErr its failure.
	Verify    string
	VerifyErr error
}

// BuildImage makes the two root images of one run under runDir from the
// base, the guest tree in pkgDir and the project's binaries and units in
// repoDir. Binaries are built from source into runDir.
func BuildImage(ctx context.Context, base Base, pkgDir, repoDir, runDir string, logf func(string, ...any)) (Image, error) {
	return buildImage(ctx, base, pkgDir, repoDir, runDir, true, logf)
}

// BuildLayerImage makes the root image of one run for the cases that name
// the layer: the Tuner image of BuildImage on the layer's tree (no case
// boots a layer without the project), under runDir/layer-NAME/.
func BuildLayerImage(ctx context.Context, layer Base, name, pkgDir, repoDir, runDir string, logf func(string, ...any)) (string, error) {
	img, err := buildImage(ctx, layer, pkgDir, repoDir, filepath.Join(runDir, "layer-"+name), false, logf)
	if err != nil {
		return "", err
	}
	if img.TunerErr != nil {
		return "", img.TunerErr
	}
	return img.Tuner, nil
}

func buildImage(ctx context.Context, base Base, pkgDir, repoDir, runDir string, plain bool, logf func(string, ...any)) (Image, error) {
	img := Image{Base: base, Tuner: filepath.Join(runDir, "root-tuner.img")}
	type variant struct {
		img     string
		project bool
	}
	variants := []variant{{img.Tuner, true}}
	if plain {
		img.Plain = filepath.Join(runDir, "root-plain.img")
		variants = []variant{{img.Plain, false}, {img.Tuner, true}}
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return img, err
	}
	for _, v := range variants {
		stage := strings.TrimSuffix(v.img, ".img") + ".stage"
		if err := run(ctx, "cp", "-a", filepath.Join(base.Dir, "rootfs"), stage); err != nil {
			return img, err
		}
		if err := copyTree(filepath.Join(pkgDir, guestTree), stage); err != nil {
			return img, fmt.Errorf("install test units: %w", err)
		}
		if err := installMemload(ctx, repoDir, runDir, stage); err != nil {
			return img, err
		}
		wants := filepath.Join(stage, "etc/systemd/system/multi-user.target.wants")
		if err := os.MkdirAll(wants, 0o755); err != nil {
			return img, err
		}
		for _, s := range strings.Fields(stubServices) {
			if err := os.Symlink("/usr/lib/systemd/system/"+s, filepath.Join(wants, s)); err != nil {
				return img, fmt.Errorf("enable %s: %w", s, err)
			}
		}
		if err := prepareStage(ctx, stage); err != nil {
			return img, err
		}
		if v.project {
			how, err := InstallProject(ctx, repoDir, runDir, stage)
			if err != nil {
				img.TunerErr = fmt.Errorf("install the project into the image: %w", err)
				_ = os.RemoveAll(stage)
				continue
			}
			logf("image: project installed (%s)", how)
			img.Verify, img.VerifyErr = verifyUnits(ctx, stage, base.Suite)
		}
		if base.Suite == SELinuxSuite {
			if err := labelTree(ctx, stage); err != nil {
				return img, err
			}
		}
		if err := run(ctx, "mkfs.ext4", "-q", "-F", "-L", "rootfs", "-d", stage, v.img, rootImgSize); err != nil {
			return img, err
		}
		if err := os.RemoveAll(stage); err != nil {
			return img, err
		}
	}
	return img, nil
}

// memloadPath is where the memory cases' load program (testkit/memload)
// is in the image.
const memloadPath = "usr/lib/ransomeye-test/memload"

// installMemload builds testkit/memload (static, once per run) and copies
// it into the staged tree: the core's working set and training's hog of
// the memory cases, a program rather than a package layer so that no case
// pays for apt.
func installMemload(ctx context.Context, repoDir, runDir, stage string) error {
	bin := filepath.Join(runDir, "bin", "memload")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./testkit/memload")
		cmd.Dir = repoDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./testkit/memload: %w\n%s", err, out)
		}
	}
	return copyFile(bin, filepath.Join(stage, memloadPath))
}

// verifyUnits runs systemd-analyze verify on the units of the staged tree:
// the test units and the project's, the core's gate drop-in through the
// core stub. Which systemd-analyze: the image's own, in a chroot, where the
// image's systemd is the host's (252) or newer: the host's reads Debian 13's
// units (257) as full of unknown settings. Debian 11's own (247) cannot run
// in a chroot ("Cannot determine cgroup we are running in"), so there the
// host's reads the tree (--root), which knows every setting 247 has.
// --man=no: neither has the project's man pages.
func verifyUnits(ctx context.Context, stage, suite string) (string, error) {
	units, _ := filepath.Glob(filepath.Join(stage, "usr/lib/systemd/system/ransomeye-*"))
	var args []string
	for _, u := range units {
		if st, err := os.Stat(u); err == nil && !st.IsDir() {
			args = append(args, "/"+strings.TrimPrefix(u, stage+"/"))
		}
	}
	if len(args) == 0 {
		return "", fmt.Errorf("no ransomeye-* units under %q", stage)
	}
	var cmd *exec.Cmd
	if suite == "bullseye" {
		host := make([]string, len(args))
		for i, a := range args {
			host[i] = filepath.Join(stage, a)
		}
		cmd = exec.CommandContext(ctx, "systemd-analyze", append([]string{"verify", "--man=no", "--root=" + stage}, host...)...)
	} else {
		cmd = exec.CommandContext(ctx, "chroot", append([]string{stage, "systemd-analyze", "verify", "--man=no"}, args...)...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "SYSTEMD_LOG_COLOR=0"}
	}
	out, err := cmd.CombinedOutput()
	text := strings.ReplaceAll(string(out), stage, "")
	if err != nil {
		return text, fmt.Errorf("systemd-analyze verify: %w", err)
	}
	return text, nil
}

// maskedUnits do nothing for the suite and cost seconds per boot under TCG.
var maskedUnits = []string{"getty-static.service", "e2scrub_reap.service", "systemd-update-utmp-runlevel.service"}

// fstab mounts the data disk, when there is one, at /ransomeye. Why nofail
// and a device timeout: a missing disk would otherwise drop the guest into
// emergency mode. Why 90 s and not 15 s: under TCG on a loaded 2-core host,
// udev took more than 15 s to show a disk that was there (run
// 20261126T171921Z, case 01: "Timed out waiting for device"), and more than
// 45 s with the host at a load of 16 (run 20261201T153436Z, case 21: the
// kernel alone took 24 s to start systemd).
const fstab = `/dev/nvme0n1 / ext4 rw,errors=remount-ro 0 1
LABEL=ransomeye /ransomeye ext4 nofail,x-systemd.device-timeout=90s 0 2
`

// coreUser is the system user a hardened core runs as (User= in
// hardenedCore), made in every image as a database package would make its own.
const coreUser = "ransomeye-db"

// prepareStage adds what every test boot needs to the staged root tree:
// the fstab, an unprivileged user (mallory, uid 1000, who plants markers),
// the hardened core's system user, and masks.
func prepareStage(ctx context.Context, stage string) error {
	if err := os.WriteFile(filepath.Join(stage, "etc/fstab"), []byte(fstab), 0o644); err != nil {
		return err
	}
	if err := run(ctx, "chroot", stage, "useradd", "--no-create-home", "--uid", "1000", "--shell", "/usr/sbin/nologin", "mallory"); err != nil {
		return err
	}
	if err := run(ctx, "chroot", stage, "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", coreUser); err != nil {
		return err
	}
	for _, u := range maskedUnits {
		if err := os.Symlink("/dev/null", filepath.Join(stage, "etc/systemd/system", u)); err != nil {
			return fmt.Errorf("mask %s: %w", u, err)
		}
	}
	return nil
}

// InstallProject puts ransomeye-tuner into the root tree stage and says how:
// with dpkg -i of the package $RANSOMEYE_DEB names (make integration and make
// demo build it with make package and set it), else by building the binaries
// from repoDir and copying them and the units in the package's layout (the
// quick loop of go test -tags vmtest without make).
func InstallProject(ctx context.Context, repoDir, runDir, stage string) (string, error) {
	if deb := os.Getenv("RANSOMEYE_DEB"); deb != "" {
		return installDeb(ctx, deb, stage)
	}
	bin := filepath.Join(runDir, "bin")
	for _, b := range []struct{ out, pkg string }{
		{"ransomeye-tuner-generator", "./generator"},
		{"ransomeye-tuner", "./activator"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(bin, b.out), b.pkg)
		cmd.Dir = repoDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	files := []struct{ src, dst string }{
		{filepath.Join(bin, "ransomeye-tuner-generator"), "usr/lib/systemd/system-generators/ransomeye-tuner-generator"},
		{filepath.Join(bin, "ransomeye-tuner"), "usr/sbin/ransomeye-tuner"},
	}
	units, _ := filepath.Glob(filepath.Join(repoDir, "units", "*.service"))
	for _, u := range units {
		files = append(files, struct{ src, dst string }{u, "usr/lib/systemd/system/" + filepath.Base(u)})
	}
	dropins, _ := filepath.Glob(filepath.Join(repoDir, "units", "*.service.d", "*.conf"))
	for _, d := range dropins {
		files = append(files, struct{ src, dst string }{d, "usr/lib/systemd/system/" + filepath.Base(filepath.Dir(d)) + "/" + filepath.Base(d)})
	}
	// irqbalance's policy script, which the generated irqbalance drop-in
	// names (the package ships it there too).
	files = append(files, struct{ src, dst string }{filepath.Join(repoDir, "scripts", "irqbalance", "irqbalance-policy"), "usr/lib/ransomeye-tuner/irqbalance-policy"})
	// The udev rule that reloads ransomeye-tuner-netdev.service.
	files = append(files, struct{ src, dst string }{filepath.Join(repoDir, "udev", "90-ransomeye-tuner.rules"), "usr/lib/udev/rules.d/90-ransomeye-tuner.rules"})
	sysctls, _ := filepath.Glob(filepath.Join(repoDir, "units", "sysctl.d", "*.conf"))
	for _, s := range sysctls {
		files = append(files, struct{ src, dst string }{s, "usr/lib/sysctl.d/" + filepath.Base(s)})
	}
	for _, f := range files {
		if err := copyFile(f.src, filepath.Join(stage, f.dst)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d files copied from the repository in the package layout", len(files)), nil
}

// installDeb installs the package into the root tree with the image's own
// dpkg in a chroot, as an image build would: no running systemd, so the
// maintainer scripts must not need one.
func installDeb(ctx context.Context, deb, stage string) (string, error) {
	inImage := "/tmp/" + filepath.Base(deb)
	if err := copyFile(deb, filepath.Join(stage, inImage)); err != nil {
		return "", fmt.Errorf("package %q (run make package, or unset RANSOMEYE_DEB): %w", deb, err)
	}
	cmd := exec.CommandContext(ctx, "chroot", stage, "dpkg", "-i", inImage)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("dpkg -i %q in the image: %w\n%s", deb, err, out)
	}
	if err := os.Remove(filepath.Join(stage, inImage)); err != nil {
		return "", err
	}
	return fmt.Sprintf("dpkg -i %s", filepath.Base(deb)), nil
}

// copyTree copies the regular files under src into dst, keeping their
// relative paths and permission bits.
func copyTree(src, dst string) error {
	var paths []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(src, p)
		if err := copyFile(p, filepath.Join(dst, rel)); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies src to dst, creating dst's directories, keeping the mode.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy %q: %w", src, err)
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
		return fmt.Errorf("copy to %q: %w", dst, err)
	}
	return os.Chmod(dst, st.Mode().Perm())
}

// run runs a command, returning its output in the error when it fails.
func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// fenceGoTools writes a go.mod into the work directory, so that "go test
// ./..." and "go vet ./..." of the repository do not walk the images under
// it (a nested module is skipped): CI builds base images there, a chroot
// with /proc mounted in it, while the tests run.
func fenceGoTools(workDir string) error {
	p := filepath.Join(workDir, "go.mod")
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.WriteFile(p, []byte("// The boot suite's images, not Go code: this file keeps go ./... out.\nmodule vmwork\n"), 0o644); err != nil {
		return fmt.Errorf("fence the work directory from go ./...: %w", err)
	}
	return nil
}
