package cli

import (
	"errors"
	"flag"
	"path"

	"github.com/ransomeye/ransomeye-tuner/internal/config"
	"github.com/ransomeye/ransomeye-tuner/internal/generate"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/statedir"
	"github.com/ransomeye/ransomeye-tuner/internal/swapfile"
	"github.com/ransomeye/ransomeye-tuner/internal/swapplan"
	"github.com/ransomeye/ransomeye-tuner/internal/sysctld"
)

var uninstallCmd = command{
	name:    "uninstall",
	summary: "give back what activate changed in the running system (the package's removal runs it)",
	help: `What the package's removal runs (Debian prerm, RPM %preun on erase) while
this binary is still installed. It gives back what activate changed in the
running system and the removal of the package's files does not:
  - the interrupts and unbound kernel work it placed (as place --undo);
  - each sysctl still at the value activate set in this boot gets what
    sysctl --system sets without the package's files, else the value it had
    before activate first set it; with neither, it keeps its value until the
    next boot (the kernel keeps a value until something sets it);
  - /run/sysctl.d/60-ransomeye-tuner.conf is removed (only when activate wrote
    it), so that a later sysctl --system no longer applies the tuner's values.
It also adds the swapfile now configured, by its resolved path, to the record
of swapfiles a purge removes (/var/lib/ransomeye-tuner/swapfiles). It waits for
an activation in progress first, and after it place places nothing until the
next activation (/run/ransomeye-tuner/withdrawn). It removes no swapfile (a
purge does) and stops nothing; run by hand, the next activation applies
everything again.
Exit code 0 when done, 1 when something could not be given back (said above).`,
	run: func(e *env, fs *flag.FlagSet, args []string) int {
		if code, ok := parse(fs, args); !ok {
			return code
		}
		return uninstall(e)
	},
}

func uninstall(e *env) int {
	code := ExitOK
	// After an activation, never in the middle of one: an activation that
	// was creating the swapfile when the package's removal began otherwise
	// finished after the give-back and wrote /run/sysctl.d and the
	// sysctls again, and the removal left them.
	if unlock, err := marker.Lock(e.root); err != nil {
		e.log.Warnf("cannot take the activation lock (%v): going on without it; an activation running now may apply the sysctls again", err)
	} else {
		defer unlock()
	}
	recordConfiguredSwapfile(e)
	in := generate.Gather(e.root, e.log)
	logPlacement(e.log, placement.WithdrawForRemoval(e.root, in, generate.Render(in)))
	given, err := sysctld.GiveBack(e.root)
	for _, g := range given {
		switch {
		case g.Err != nil:
			e.log.Warnf("%s: not given back: %v", g.Key, g.Err)
			code = ExitFail
		case g.Changed:
			e.log.Noticef("%s = %s (ransomeye-tuner had set %s): %s", g.Key, g.Now, g.Set, g.Why)
		default:
			e.log.Noticef("%s: %s", g.Key, g.Why)
		}
	}
	if len(given) > 0 {
		e.log.Noticef("removed %s: a later sysctl --system no longer applies the tuner's values", sysctld.RunFile)
	}
	if err != nil {
		e.log.Warnf("%v", err)
		code = ExitFail
	}
	return code
}

// recordConfiguredSwapfile adds the configured swapfile, when it is ours
// (labelled names.SwapLabel), by its resolved path to the record a purge
// reads: activate records every file it provides, but not when /var was not
// mounted yet at boot, nor a file an earlier version made.
func recordConfiguredSwapfile(e *env) {
	cfg, _, err := config.Load(e.root)
	if err != nil {
		e.log.Warnf("the configuration cannot be read (%v): the swapfile it names is not recorded for a purge", err)
		return
	}
	p := swapplan.Make(swapplan.Inputs{Root: e.root, Config: cfg})
	defer p.Close()
	if p.OpenDir() == nil || p.DirMissing || !p.FileKnown || p.File.Kind != swapfile.Regular || p.File.Header.Label != names.SwapLabel {
		return
	}
	hostPath := path.Join(p.Resolved, p.Name())
	added, err := statedir.AddSwapfile(e.root, hostPath)
	switch {
	case err != nil && !errors.Is(err, statedir.ErrNotNow):
		e.log.Warnf("%v: a purge may leave the swapfile %q behind", err, hostPath)
	case err != nil:
		e.log.Warnf("the swapfile %q is not recorded for a purge (%v)", hostPath, err)
	case added:
		e.log.Infof("recorded the swapfile %q for a purge", hostPath)
	}
}
