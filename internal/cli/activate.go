package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/guarantee"
	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/klog"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/metrics"
	"github.com/ransomeye/ransomeye-tuner/internal/mounts"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/status"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctl"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

var activateCmd = command{
	name:    "activate",
	summary: "provide the swapfile, apply the sysctls, check the CPU plan (what ransomeye-tuner.service runs)",
	help: `Makes this machine's resources what the RansomEye core needs, or records why not:
  - swapfile of max([Swap] MinSize=, MemTotal) at [Swap] Path=: kept when usable,
    created (or replaced when a smaller, inactive swap area is there) otherwise;
    anything that is not a swap area is left untouched and refused;
  - vm.swappiness and vm.vfs_cache_pressure written and read back;
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
	snap  metrics.Snapshot
	okErr error // removing the earlier success record failed
}

// notify sends a status line to systemd when run as a service; outside a
// service it does nothing.
func notify(state string) {
	_, _ = daemon.SdNotify(false, state)
}

func activate(e *env) int {
	a := &activation{e: e, start: time.Now()}
	a.snap = metrics.Snapshot{Version: version.Version, LastRun: a.start}
	log := e.log
	root := e.root

	// One activation at a time: a run started by hand must not take the
	// unit's temporary swapfile for a leftover (FAULTS.md, open finding 3).
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
		log.Warnf("disabled by kernel command line; resources not guaranteed (%s=0)", names.CmdlineSwitch)
		notify("STATUS=disabled by kernel command line; resources not guaranteed")
		a.snap.Disabled = true
		a.writeMetrics(false)
		return ExitOK
	}

	cfg, warnings, err := config.Load(root)
	for _, w := range warnings {
		log.Warnf("%s", w.String())
	}
	if err != nil {
		return a.fail("%v", err)
	}
	a.cfg = cfg
	if reason, ok := a.provideSwap(); !ok {
		return a.fail("%s", reason)
	}
	for _, s := range guarantee.Sysctls(cfg) {
		if err := sysctl.Apply(root, s); err != nil {
			return a.fail("%v", err)
		}
		log.Infof("%s = %s (read back)", s.Key, s.Value)
	}
	if reason, ok := a.checkCPU(); !ok {
		return a.fail("%s", reason)
	}
	if a.okErr != nil {
		return a.fail("cannot remove the earlier success record: %v", a.okErr)
	}

	res, err := marker.Clear(root)
	a.alertPlanted(res.Planted)
	for _, p := range res.Removed {
		log.Noticef("removed the failure marker %q left from an earlier failure: the cause is fixed", p)
	}
	if err != nil {
		// The marker may still be there: the core stays down, which is the
		// safe side; say how to clear it.
		log.Errorf("cannot remove the failure marker: %v; remove it by hand once the cause is fixed", err)
	}
	if err := marker.WriteOK(root, marker.BootID(root), time.Now()); err != nil {
		return a.fail("cannot record the successful activation (the gate opens only with it): %v", err)
	}
	msg := fmt.Sprintf("resources guaranteed: swapfile %q of at least %s, %s", cfg.SwapPath, fsinfo.Human(a.snap.TargetSwapBytes), sysctlSummary(cfg))
	log.Noticef("%s", msg)
	notify("STATUS=" + msg)
	a.writeMetrics(true)
	return ExitOK
}

func sysctlSummary(cfg config.Config) string {
	var parts []string
	for _, s := range guarantee.Sysctls(cfg) {
		parts = append(parts, s.Key+"="+s.Value)
	}
	return strings.Join(parts, ", ")
}

// fail records the reason in the marker, logs it at CRIT, tells systemd and
// returns the exit code.
func (a *activation) fail(format string, args ...any) int {
	reason := fmt.Sprintf(format, args...)
	log := a.e.log
	log.Crit("%s", reason)
	if !writeMarker(a.e, reason, "activate") {
		reason += " (and the failure marker could not be written)"
	}
	notify("STATUS=failed: " + firstLine(reason))
	a.writeMetrics(false)
	return ExitFail
}

// writeMarker appends reason to the marker and logs what happened; it
// reports whether a marker now records the failure.
func writeMarker(e *env, reason, source string) bool {
	// Removing needs no space: even when the marker cannot be written (a
	// full /run), the gate then stays closed.
	if err := marker.RemoveOK(e.root); err != nil {
		e.log.Crit("cannot remove the success record %q: %v", marker.OKPath, err)
	}
	res, err := marker.Write(e.root, marker.Entry{Reason: reason, Time: time.Now(), BootID: marker.BootID(e.root), Source: source})
	alertPlanted(e.log, res.Planted)
	if err != nil {
		e.log.Crit("cannot write the failure marker %q nor %q: %v; ransomeye-core.service may start without guaranteed resources", names.MarkerPath, marker.FallbackPath, err)
		return false
	}
	if res.Written != names.MarkerPath {
		e.log.Errorf("cannot write the failure marker %q (%v): wrote %q instead, which the gate checks too", names.MarkerPath, errors.Join(res.Problems...), res.Written)
	}
	return true
}

func (a *activation) alertPlanted(planted []string) { alertPlanted(a.e.log, planted) }

// alertPlanted logs planted markers as a security event.
func alertPlanted(log *klog.Logger, planted []string) {
	for _, p := range planted {
		log.Printf(klog.Alert, "security: a marker not written by root was planted at %s; removed it (someone tried to keep the RansomEye core down or to redirect root's write)", p)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// provideSwap makes the swapfile usable. It returns the reason and false on
// failure.
func (a *activation) provideSwap() (string, bool) {
	log, root, cfg := a.e.log, a.e.root, a.cfg
	mem, err := procfs.ReadMeminfo(root)
	if err != nil {
		return err.Error(), false
	}
	pageSize := os.Getpagesize()
	target := swapfile.Target(cfg.MinSize, mem.MemTotal, pageSize)
	a.snap.TargetSwapBytes = target
	log.Infof("swap target %s = max(MinSize %s, MemTotal %s)", fsinfo.Human(target), fsinfo.Human(cfg.MinSize), fsinfo.Human(mem.MemTotal))
	swaps, err := procfs.ReadSwaps(root)
	if err != nil {
		return fmt.Sprintf("%v: cannot tell whether %q is in use", err, cfg.SwapPath), false
	}
	active := false
	for _, s := range swaps {
		a.snap.ActiveSwapBytes += s.Size
		if _, ok := status.ActiveSwap(root, []procfs.Swap{s}, cfg.SwapPath); ok {
			active = true
			a.snap.SwapfileActiveBytes = s.Size
			continue
		}
		log.Infof("other active swap %q (%s, %s): reported, not counted toward the target", s.Filename, s.Type, fsinfo.Human(s.Size))
	}

	path := root.Path(cfg.SwapPath)
	dir := filepath.Dir(path)
	// Before anything is made: with the data disk missing, its mount point
	// is a directory on the root filesystem.
	if err := mounts.Check(root, filepath.Dir(cfg.SwapPath)); err != nil {
		return err.Error(), false
	}
	if err := ensureDir(log, dir); err != nil {
		return err.Error(), false
	}
	fsi, err := fsinfo.Stat(dir)
	if err != nil {
		return err.Error(), false
	}
	if err := fsi.CheckUsable(); err != nil {
		return err.Error(), false
	}
	if err := swapfile.CheckDirSafe(root, filepath.Dir(cfg.SwapPath)); err != nil {
		return err.Error(), false
	}
	removed, skipped, err := swapfile.CleanLeftovers(dir)
	for _, r := range removed {
		log.Noticef("removed %q, left by an interrupted run", r)
	}
	for _, s := range skipped {
		log.Warnf("%q looks like a leftover of ours but is not a regular file owned by root: left it alone", s)
	}
	if err != nil {
		return err.Error(), false
	}
	ex, err := swapfile.Inspect(path, pageSize)
	if err != nil {
		return err.Error(), false
	}
	ex.Path = cfg.SwapPath // messages name the host path, not the root-prefixed one
	d := swapfile.Decide(ex, target, active, fsi.Support == fsinfo.NeedsNoCOW, names.SwapLabel)
	if d.Action == swapfile.ActRefuse {
		return d.Reason, false
	}
	log.Infof("%s", d.Reason)
	if d.FixPerms {
		if err := swapfile.FixPerms(path); err != nil {
			return err.Error(), false
		}
		log.Noticef("set owner root:root and mode 0600 on %q (it had %d:%d, mode %04o)", cfg.SwapPath, ex.UID, ex.GID, uint32(ex.Perm))
	}
	if d.Action == swapfile.ActCreate || d.Action == swapfile.ActReplace {
		if err := fsi.CheckSpace(target, cfg.Reserve); err != nil {
			return err.Error(), false
		}
		log.Infof("creating %q: %s on %s (%s free, reserve %s)", cfg.SwapPath, fsinfo.Human(target), fsi.Name, fsinfo.Human(fsi.Free), fsinfo.Human(cfg.Reserve))
		t0 := time.Now()
		err := swapfile.Create(path, target, swapfile.Options{
			Label:   names.SwapLabel,
			NoCOW:   fsi.Support == fsinfo.NeedsNoCOW,
			Replace: d.Action == swapfile.ActReplace,
			Log:     log,
		})
		if err != nil {
			free := "unknown"
			if now, serr := fsinfo.Stat(dir); serr == nil {
				free = fsinfo.Human(now.Free)
			}
			return fmt.Sprintf("cannot create the swapfile %q (%s) on the %s filesystem holding %q (%s free, reserve %s): %v", cfg.SwapPath, fsinfo.Human(target), fsi.Name, filepath.Dir(cfg.SwapPath), free, fsinfo.Human(cfg.Reserve), err), false
		}
		log.Noticef("created %q (%s, mode 0600, label %s) in %s", cfg.SwapPath, fsinfo.Human(target), names.SwapLabel, time.Since(t0).Round(time.Millisecond))
	}
	// Whatever happened, what is there now must be usable.
	ex, err = swapfile.Inspect(path, pageSize)
	if err != nil {
		return err.Error(), false
	}
	ex.Path = cfg.SwapPath
	if d2 := swapfile.Decide(ex, target, active, fsi.Support == fsinfo.NeedsNoCOW, names.SwapLabel); d2.Action != swapfile.ActKeep || d2.FixPerms {
		return fmt.Sprintf("after provisioning, %s", d2.Reason), false
	}
	return "", true
}

// ensureDir creates the swapfile's directory when it is missing (0755), and
// refuses a path component that is not a directory.
func ensureDir(log *klog.Logger, dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%q is not a directory: the swapfile cannot go there; fix [Swap] Path=", dir)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("swapfile directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the swapfile directory %q: %w", dir, err)
	}
	log.Noticef("created the directory %q", dir)
	return nil
}

// checkCPU compares the CPU drop-ins in effect with a fresh plan.
func (a *activation) checkCPU() (string, bool) {
	log, root := a.e.log, a.e.root
	in := generate.Gather(root, log)
	out := generate.Render(in)
	c := status.GatherCPU(root, in, out)
	a.snap.ReservedCPUs = c.Counts
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

// writeMetrics writes the node_exporter textfile; failures are warnings.
func (a *activation) writeMetrics(ok bool) {
	if a.cfg.MetricsPath == "" && a.cfg.SwapPath == "" {
		a.cfg.MetricsPath = names.DefaultMetricsPath // config not loaded: the default
	}
	// Why ok alone: at boot activate runs before swapon, so the swapfile is
	// not active yet; a swapon failure then writes the marker, which the
	// next status run (and marker_present) shows.
	a.snap.Compliant = ok
	for _, st := range marker.Inspect(a.e.root) {
		if st.Genuine {
			a.snap.MarkerPresent = true
		}
	}
	a.snap.Duration = time.Since(a.start)
	writeSnapshot(a.e.log, a.e.root, a.cfg.MetricsPath, a.snap)
}

func writeSnapshot(log *klog.Logger, root hostroot.Root, path string, s metrics.Snapshot) {
	if _, err := metrics.Write(root, path, s); err != nil {
		log.Warnf("metrics: %v", err)
	}
}
