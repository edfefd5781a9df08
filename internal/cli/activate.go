package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/cpuset"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/guarantee"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/metrics"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/safefs"
	"github.com/ransomeye/ransomeye-tuner/internal/statedir"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctld"
)

var activateCmd = command{
	name:    "activate",
	summary: "provide the swapfile, apply the sysctls, check the CPU plan (what ransomeye-tuner.service runs)",
	help: `Makes this machine's resources what the RansomEye core needs, or records why not:
  - swapfile of max([Swap] MinSize=, MemTotal) at [Swap] Path=: kept when usable,
    created (or replaced when a smaller, inactive swap area is there) otherwise;
    anything that is not a swap area is left untouched and refused;
  - vm.swappiness and vm.vfs_cache_pressure written and read back (a
    vm.vfs_cache_pressure_denom other than 100 fails); on the cgroup v1
    memory hierarchy memory.swappiness of the core's slice (and of the core's
    memory cgroup while it runs) set too, each change logged; the core's
    memory cgroup checked as the gate checks it (a MemorySwapMax= below the
    swap target on its path fails);
  - the CPU drop-ins the generator wrote compared with a fresh plan.
On any failure the reason goes to /var/lock/ransomeye-resource-fail (which keeps
ransomeye-core.service from starting), to the journal at priority CRIT, and to
systemd (STATUS=); the exit code is 1. On success an earlier marker is removed.
With ransomeye.tuner=0 on the kernel command line it only logs a warning.`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		return activate(e)
	},
}

// activation carries one run's state.
type activation struct {
	e     *env
	start time.Time
	cfg   config.Config
	// target is the swap target, for the success message.
	target int64
	// planted counts the planted markers this run removed, for the metrics.
	planted int
	okErr   error // removing the earlier success record failed
}

// notify sends a status line to systemd when run as a service; outside a
// service it does nothing.
func notify(state string) {
	_, _ = daemon.SdNotify(false, state)
}

func activate(e *env) int {
	a := &activation{e: e, start: time.Now()}
	log := e.log
	root := e.root

	// One activation at a time: activate removes leftover temporary
	// swapfiles before making its own, so without the lock a run started by
	// hand while the unit's run is creating its file removes that file and
	// fails the unit's run (closed), though a good swapfile would result.
	if unlock, err := marker.Lock(root); err != nil {
		log.Warnf("cannot take the activation lock (%v): going on without it", err)
	} else {
		defer unlock()
	}
	// The success record of an earlier run goes first: from here on, a
	// crash, a kill or a failure that cannot even write the marker leaves
	// the gate closed.
	if err := marker.RemoveOK(root); err != nil {
		a.okErr = err
	}
	words, err := procfs.ReadCmdline(root)
	if err != nil {
		log.Warnf("%v: assuming %s is on", err, names.CmdlineSwitch)
	}
	enabled, perr := procfs.Enabled(words)
	if perr != nil {
		log.Warnf("%v", perr)
	}
	if !enabled {
		log.Event(msgid.Disabled, priolog.Warning, "disabled by kernel command line; resources not guaranteed (%s=0)", names.CmdlineSwitch)
		notify("STATUS=disabled by kernel command line; resources not guaranteed")
		logPlacement(log, placement.Activate(root)) // undoes an earlier placement
		a.writeMetrics()
		return ExitOK
	}

	cfg, warnings, err := config.Load(root)
	for _, w := range warnings {
		log.Warnf("%s", w.String())
	}
	if err != nil {
		return a.fail(msgid.ConfigInvalid, "%v", err)
	}
	a.cfg = cfg
	if reason, ok := a.provideSwap(); !ok {
		return a.fail(msgid.SwapFailed, "%s", reason)
	}
	for _, s := range guarantee.Sysctls(cfg) {
		a.recordBefore(s)
		if err := sysctl.Apply(root, s); err != nil {
			return a.fail(msgid.SysctlFailed, "%v", err)
		}
		// Read back is not enough: the guarantee's own check also judges
		// what the value means to the kernel (vm.vfs_cache_pressure over
		// its denominator), as the gate will.
		if g := guarantee.Sysctl(root, s); g.Failed() {
			return a.fail(msgid.SysctlFailed, "%s", g.Problem())
		}
		log.Infof("%s = %s (read back)", s.Key, s.Value)
	}
	// The core's memory cgroup, as the gate will judge it (in the core's
	// own cgroup): systemd's settings for the core and its slices stand in
	// for the cgroups it has not made yet.
	mem, err := guarantee.MemoryMeasure(root, cfg.CoreService)
	if err != nil {
		log.Warnf("%v: the core's memory cgroup is looked for in system.slice", err)
	}
	// cgroup v1: vm.swappiness reaches only the root memory cgroup; the
	// core's copies its slice's value when it starts, so the slice must
	// hold it first.
	v1 := guarantee.MemoryV1(root)
	if v1 {
		slice := mem.Slice
		if slice == "" {
			slice = "system.slice"
		}
		changed, err := guarantee.SetCoreSwappiness(root, cfg.CoreService, slice, cfg.Swappiness)
		for _, c := range changed {
			log.Noticef("%s", c)
		}
		if err != nil {
			return a.fail(msgid.SysctlFailed, "%v", err)
		}
	}
	// What the gate checks of the core's memory cgroup, activate checks
	// too: it said "resources guaranteed" while the gate refused the core
	// for a MemorySwapMax=0.
	if g := guarantee.CoreMemory(root, cfg.CoreService, cfg.Swappiness, a.target, mem); g.Failed() {
		id := msgid.SwapFailed
		if v1 {
			id = msgid.SysctlFailed
		}
		return a.fail(id, "%s", g.Problem())
	}
	// The same values for every later sysctl --system (a package's
	// postinst, a restart of systemd-sysctl), which would otherwise apply
	// the package's defaults from /usr/lib/sysctl.d over the configured
	// values, and the gate would then keep the core down. Not a failure:
	// the values hold now, and the gate checks them.
	if err := sysctld.WriteRun(root, guarantee.Sysctls(cfg)); err != nil {
		log.Warnf("%v: a later sysctl --system may change the sysctls (the gate then keeps the core down)", err)
	}
	if reason, ok := a.checkCPU(); !ok {
		return a.fail(msgid.CPUFailed, "%s", reason)
	}
	// Interrupts, unbound kernel work, the plan file: warnings, never
	// fail-closed (the core does not depend on them; see internal/placement).
	logPlacement(log, placement.Activate(root))
	if a.okErr != nil {
		return a.fail(msgid.RecordFailed, "cannot remove the earlier success record: %v", a.okErr)
	}

	res, err := marker.Clear(root)
	a.alertPlanted(res.Planted)
	for _, p := range res.Removed {
		log.Noticef("removed the failure marker %q left from an earlier failure: the cause is fixed", p)
	}
	if err != nil {
		// The marker may still be there: the core stays down, which is the
		// safe side; say how to clear it.
		log.Event(msgid.MarkerClearFailed, priolog.Err, "cannot remove the failure marker: %v; remove it by hand once the cause is fixed", err)
	}
	if err := marker.WriteOK(root, marker.BootID(root), time.Now()); err != nil {
		return a.fail(msgid.RecordFailed, "cannot record the successful activation (the gate opens only with it): %v", err)
	}
	msg := fmt.Sprintf("resources guaranteed: swapfile %q of at least %s, %s", cfg.SwapPath, fsinfo.Human(a.target), sysctlSummary(cfg))
	log.Event(msgid.ActivationSucceeded, priolog.Notice, "%s", msg)
	notify("STATUS=" + msg)
	logIsolation(log, a.writeMetrics())
	return ExitOK
}

func sysctlSummary(cfg config.Config) string {
	var parts []string
	for _, s := range guarantee.Sysctls(cfg) {
		parts = append(parts, s.Key+"="+s.Value)
	}
	return strings.Join(parts, ", ")
}

// fail records the reason in the marker, logs it at CRIT as event id, tells
// systemd and returns the exit code.
func (a *activation) fail(id msgid.ID, format string, args ...any) int {
	reason := fmt.Sprintf(format, args...)
	log := a.e.log
	log.Event(id, priolog.Crit, "%s", reason)
	written, planted := writeMarker(a.e, reason, "activate")
	a.planted += planted
	if !written {
		reason += " (and the failure marker could not be written)"
	}
	notify("STATUS=failed: " + firstLine(reason))
	a.writeMetrics()
	return ExitFail
}

// writeMarker appends reason to the marker and logs what happened; it
// reports whether a marker now records the failure, and how many planted
// markers it removed.
func writeMarker(e *env, reason, source string) (written bool, planted int) {
	// Removing needs no space: even when the marker cannot be written (a
	// full /run), the gate then stays closed.
	if err := marker.RemoveOK(e.root); err != nil {
		e.log.Event(msgid.RecordFailed, priolog.Crit, "cannot remove the success record %q: %v", marker.OKPath, err)
	}
	res, err := marker.Write(e.root, marker.Entry{Reason: reason, Time: time.Now(), BootID: marker.BootID(e.root), Source: source})
	alertPlanted(e.log, res.Planted)
	if err != nil {
		e.log.Event(msgid.MarkerWriteFailed, priolog.Crit, "cannot write the failure marker %q nor %q: %v; ransomeye-core.service may start without guaranteed resources", names.MarkerPath, marker.FallbackPath, err)
		return false, len(res.Planted)
	}
	if res.Written != names.MarkerPath {
		e.log.Event(msgid.MarkerFallback, priolog.Err, "cannot write the failure marker %q (%v): wrote %q instead, which the gate checks too", names.MarkerPath, errors.Join(res.Problems...), res.Written)
	}
	return true, len(res.Planted)
}

func (a *activation) alertPlanted(planted []string) {
	a.planted += len(planted)
	alertPlanted(a.e.log, planted)
}

// alertPlanted logs planted markers as a security event.
func alertPlanted(log *priolog.Logger, planted []string) {
	for _, p := range planted {
		log.Event(msgid.MarkerPlanted, priolog.Alert, "security: a marker not written by root was planted at %s; removed it (someone tried to keep the RansomEye core down or to redirect root's write)", p)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// provideSwap makes the swapfile usable, acting on the one swapfile
// decision (swapplan) and on the directory it opened. It returns the
// reason and false on failure.
func (a *activation) provideSwap() (string, bool) {
	log, root, cfg := a.e.log, a.e.root, a.cfg
	p := swapplan.Make(swapplan.Inputs{Root: root, Config: cfg})
	defer p.Close()
	a.target = p.Target
	log.Infof("swap target %s = max(MinSize %s, MemTotal %s)", fsinfo.Human(p.Target), fsinfo.Human(cfg.MinSize), fsinfo.Human(p.MemTotal))
	for _, s := range p.Others {
		log.Infof("other active swap %q (%s, %s): reported, not counted toward the target", s.Filename, s.Type, fsinfo.Human(s.Size))
	}
	for _, l := range p.Links {
		log.Infof("the swapfile's directory %q is %q (link %s)", p.Dir, p.Resolved, l)
	}
	if p.SELinux.Enabled {
		if p.SELinux.Err != nil {
			log.Warnf("SELinux is %s, but the swapfile cannot be labelled: %v", p.SELinux.Mode(), p.SELinux.Err)
		} else {
			log.Infof("SELinux is %s: the swapfile is labelled %s", p.SELinux.Mode(), p.SELinux.SwapContext)
			if p.SELinux.Unvalidated != nil {
				log.Noticef("the SELinux context %s could not be validated (%v): used as it is (a policy without it makes swapon fail, and the core stays down)", p.SELinux.SwapContext, p.SELinux.Unvalidated)
			}
		}
	}
	if p.Action == swapfile.ActRefuse {
		return p.Reason, false
	}
	d := p.OpenDir()
	if p.DirMissing {
		// Make checked where it would be; create it now, and check that it
		// is still the directory the plan was made for.
		nd, err := safefs.OpenDir(root, p.Dir, safefs.Options{Create: swapplan.DirMode, RootOnly: true})
		if err != nil {
			return fmt.Sprintf("create the swapfile's directory %q: %v", p.Dir, err), false
		}
		defer nd.Close()
		if nd.Host != p.Resolved {
			return fmt.Sprintf("the swapfile's directory %q resolved to %q while it was being created, not %q as planned: run activate again", p.Dir, nd.Host, p.Resolved), false
		}
		for _, c := range nd.Created {
			log.Noticef("created the directory %q", c)
		}
		d = nd
	}
	removed, skipped, err := swapfile.CleanLeftoversAt(d.Fd(), d.Host)
	for _, r := range removed {
		log.Noticef("removed %q, left by an interrupted run", r)
	}
	if len(removed) > 0 {
		// Why: btrfs frees a removed file's extents only when its
		// transaction commits; right after a power loss mid-creation the
		// 16 GiB left behind still counted as used and the new file did
		// not fit (boot case 23c). syncfs commits it.
		if err := unix.Syncfs(d.Fd()); err != nil {
			log.Warnf("syncfs %q after removing leftovers: %v", d.Host, err)
		}
	}
	for _, s := range skipped {
		log.Warnf("%q looks like a leftover of ours but is not a regular file owned by root: left it alone", s)
	}
	if err != nil {
		return err.Error(), false
	}
	log.Infof("%s", p.Reason)
	name := p.Name()
	if p.FixPerms {
		if err := swapfile.FixPermsAt(d.Fd(), d.Host, name); err != nil {
			return err.Error(), false
		}
		log.Noticef("set owner root:root and mode 0600 on %q (it had %d:%d, mode %04o)", cfg.SwapPath, p.File.UID, p.File.GID, uint32(p.File.Perm))
	}
	if p.DiscardImage {
		if err := swapfile.DiscardImageAt(d.Fd(), d.Host, name, p.PageSize, p.File); err != nil {
			return err.Error(), false
		}
		log.Noticef("discarded the stale hibernation image in %q (signature %s, left by a boot that did not resume from it): wrote the swap signature back, as swapon does", cfg.SwapPath, p.File.Header.Hibernation)
	}
	if p.FixContext {
		if err := swapfile.SetContextAt(d.Fd(), d.Host, name, p.SELinux.SwapContext); err != nil {
			return err.Error(), false
		}
		log.Noticef("relabelled %q %s (it had %q)", cfg.SwapPath, p.SELinux.SwapContext, p.File.Context)
	}
	fsi := p.FS
	if p.Action == swapfile.ActCreate || p.Action == swapfile.ActReplace {
		mkswap, err := swapfile.FindMkswap(a.e.getenv(swapfile.TestMkswapEnv))
		if err != nil {
			return err.Error(), false
		}
		// removed goes into the reason of a failure: the old file is gone
		// then, and the next activation creates the new one in its space.
		removed := ""
		if p.RemoveFirst {
			if err := swapfile.RemoveAt(d.Fd(), d.Host, name, p.File); err != nil {
				return err.Error(), false
			}
			removed = fmt.Sprintf("the old swapfile %q (%s) was removed first to make room for its replacement", cfg.SwapPath, fsinfo.Human(p.File.Size))
			log.Noticef("%s: the new %s file does not fit beside it", removed, fsinfo.Human(p.Target))
			// btrfs frees a removed file's extents when its transaction
			// commits: commit now, or the new file may not fit yet.
			if err := unix.Syncfs(d.Fd()); err != nil {
				log.Warnf("syncfs %q after removing the old swapfile: %v", d.Host, err)
			}
			var st unix.Statfs_t
			if unix.Fstatfs(d.Fd(), &st) == nil {
				fsi.Free = fsinfo.FromStatfs(d.Host, st).Free
			}
		}
		log.Infof("creating %q: %s on %s (%s free, reserve %s)", cfg.SwapPath, fsinfo.Human(p.Target), fsi.Name, fsinfo.Human(fsi.Free), fsinfo.Human(cfg.Reserve))
		t0 := time.Now()
		n, err := swapfile.Create(d, name, p.Target, swapfile.Options{
			Mkswap:  mkswap,
			Label:   names.SwapLabel,
			NoCOW:   fsi.Support == fsinfo.NeedsNoCOW,
			Replace: p.Action == swapfile.ActReplace && !p.RemoveFirst,
			Context: p.SELinux.SwapContext,
			Log:     log,
		})
		if err != nil {
			// btrfs frees the extents of the temporary file Create removed
			// when its transaction commits (up to 30 s later): a restart
			// right after this failure saw "0 B free" until then. syncfs
			// commits it now, and the free space below is what is free.
			if serr := unix.Syncfs(d.Fd()); serr != nil {
				log.Warnf("syncfs %q after the failed creation: %v", d.Host, serr)
			}
			free := "unknown"
			var st unix.Statfs_t
			if unix.Fstatfs(d.Fd(), &st) == nil {
				free = fsinfo.Human(fsinfo.FromStatfs(d.Host, st).Free)
			}
			reason := fmt.Sprintf("cannot create the swapfile %q (%s) on the %s filesystem holding %q (%s free, reserve %s): %v", cfg.SwapPath, fsinfo.Human(p.Target), fsi.Name, d.Host, free, fsinfo.Human(cfg.Reserve), err)
			if removed != "" {
				reason += "; " + removed
			}
			return reason, false
		}
		log.Noticef("created %q (%s, mode 0600, label %s) in %s", cfg.SwapPath, fsinfo.Human(n), names.SwapLabel, time.Since(t0).Round(time.Millisecond))
	}
	// Whatever happened, what is there now must be usable: the same
	// decision on the file now there, through the same descriptor.
	ex, err := swapfile.InspectAt(d.Fd(), d.Host, name, p.PageSize)
	if err != nil {
		return err.Error(), false
	}
	ex.Path = cfg.SwapPath
	if d2 := swapfile.Decide(ex, p.Target, p.Ours != nil, fsi.Support == fsinfo.NeedsNoCOW, names.SwapLabel, p.Unit); d2.Action != swapfile.ActKeep || d2.FixPerms {
		return fmt.Sprintf("after provisioning, %s", d2.Reason), false
	}
	if c := swapfile.DecideContext(ex, p.SELinux.SwapContext, names.SwapLabel); c.Fix || c.Refuse {
		return fmt.Sprintf("after provisioning, %q: %s", cfg.SwapPath, c.Reason), false
	}
	if ex.Header.Label == names.SwapLabel {
		a.recordSwapfile(path.Join(d.Host, name))
	}
	return "", true
}

// recordSwapfile adds our swapfile, by its resolved host path, to the
// record a purge of the package reads (statedir.Swapfiles): a purge must
// find every file the tuner made, also after [Swap] Path= moved it, and
// without the binary (a Debian purge runs after the package's files are
// gone). Not a failure: the swap is provided either way.
func (a *activation) recordSwapfile(hostPath string) {
	added, err := statedir.AddSwapfile(a.e.root, hostPath)
	switch {
	case errors.Is(err, statedir.ErrNotNow):
		a.e.log.Infof("the swapfile %q is not recorded for a purge now (%v); the next activation records it", hostPath, err)
	case err != nil:
		a.e.log.Warnf("%v: a purge of the package may leave the swapfile %q behind", err, hostPath)
	case added:
		a.e.log.Infof("recorded the swapfile %q in %s, for a purge of the package", hostPath, path.Join(statedir.Dir, statedir.Swapfiles))
	}
}

// recordBefore notes the value s.Key has before activate sets it, the
// first time, so that the package's removal can give it back
// (sysctld.GiveBack). Not a failure: the guarantee does not depend on it.
func (a *activation) recordBefore(s sysctl.Setting) {
	found, err := sysctl.Read(a.e.root, s.Key)
	if err != nil || found == s.Value {
		return // nothing changes, or Apply says why it cannot
	}
	err = sysctld.RecordBefore(a.e.root, s.Key, found)
	switch {
	case errors.Is(err, statedir.ErrNotNow):
		a.e.log.Infof("%s = %s is not recorded now (%v): the package's removal may not give it back", s.Key, found, err)
	case err != nil:
		a.e.log.Warnf("%v: the package's removal may not give back %s = %s", err, s.Key, found)
	}
}

// checkCPU compares the CPU drop-ins in effect with a fresh plan.
func (a *activation) checkCPU() (string, bool) {
	log, root := a.e.log, a.e.root
	in := generate.Gather(root, log)
	out := generate.Render(in)
	c := status.GatherCPU(root, in, out)
	if t, ok := guarantee.Topology(root, in); ok {
		if t.Failed() {
			return t.Problem(), false
		}
		log.Warnf("%s", t.Reason)
		return "", true
	}
	if d := guarantee.DropIns(root, in, out); d.Failed() {
		return d.Problem(), false
	}
	switch {
	case c.Reserved:
		var parts []string
		for _, svc := range []string{a.cfg.CoreService, a.cfg.DPIService, a.cfg.TrainingService} {
			parts = append(parts, svc+" "+c.Sets[svc])
		}
		log.Infof("CPU plan in effect (%s): %s", c.Mode, strings.Join(parts, ", "))
	default:
		log.Noticef("no CPU reservation: %s", c.Reason)
	}
	return "", true
}

// writeMetrics writes the node_exporter textfile from a status report of
// the state now, with the code the metrics command uses (Snapshot);
// failures are warnings. At boot activate runs before swapon, so the
// textfile says the swap is not active yet (and the core gated) until the
// metrics timer's first run, a minute later: that is the state then.
func (a *activation) writeMetrics() status.Report {
	if a.cfg.MetricsPath == "" && a.cfg.SwapPath == "" {
		a.cfg.MetricsPath = names.DefaultMetricsPath // config not loaded: the default
	}
	r := status.GatherWith(a.e.root, priolog.New(io.Discard, ""), beforeCore)
	s := Snapshot(r, a.start, time.Since(a.start))
	s.PlantedMarkers += a.planted
	writeSnapshot(a.e.log, a.e.root, a.cfg.MetricsPath, s)
	return r
}

// logIsolation warns once per activation when the CPU isolation does not
// hold (status.Isolation): a warning, never a failure, since the gate
// guards the core's own CPUs. The metrics timer does not log it, or it
// would every minute.
func logIsolation(log *priolog.Logger, r status.Report) {
	if r.Placement == nil || !r.Placement.Isolation.Degraded() {
		return
	}
	i := r.Placement.Isolation
	units := make([]string, 0, len(i.Escapes))
	for _, e := range i.Escapes {
		units = append(units, e.Unit)
	}
	log.Event(msgid.IsolationDegraded, priolog.Warning, "CPU isolation degraded: %s; escaping: %s; remedy: %s",
		i.Cause, strings.Join(units, ", "), i.Remedy)
}

// beforeCore is the measure of the core's CPUs while activate runs: the
// core has not started, and systemd is not asked. Why: at boot activate
// runs early (before the swap unit), when the D-Bus system bus may not be
// up yet; activate must not wait on it.
func beforeCore(core string, _ generate.CPUMode, _ cpuset.Set) guarantee.Measurement {
	return guarantee.Measurement{NotMeasured: "activate runs before " + core + " starts"}
}

func writeSnapshot(log *priolog.Logger, root hostroot.Root, path string, s metrics.Snapshot) {
	if _, err := metrics.Write(root, path, s); err != nil {
		log.Warnf("metrics: %v", err)
	}
}
