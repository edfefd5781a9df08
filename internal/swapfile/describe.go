package swapfile

import (
	"fmt"
	"os"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/selinux"
	"github.com/ransomeye/ransomeye-tuner/internal/swap"
)

// Section is status --json's "swap" section (ransomeye-tuner(8)); fields
// are only added.
type Section struct {
	Path string `json:"path"`
	Unit string `json:"unit"`
	// MemTotal and Target are absent when /proc/meminfo could not be read
	// (MemTotalError says why), rather than a 0 that looks measured.
	MemTotal      *int64        `json:"mem_total_bytes,omitempty"`
	MemTotalError string        `json:"mem_total_error,omitempty"`
	MinSize       int64         `json:"min_size_bytes"`
	Target        *int64        `json:"target_bytes,omitempty"`
	File          FileView      `json:"file"`
	Active        bool          `json:"active"`
	ActiveBytes   int64         `json:"active_bytes"`
	Devices       []procfs.Swap `json:"active_swap"`
	OthersBytes   int64         `json:"other_swap_bytes"`
	Decision      string        `json:"decision"`
	Reason        string        `json:"reason"`
	Dir           string        `json:"dir"`
	ResolvedDir   string        `json:"resolved_dir"`
	Links         []string      `json:"links"`
	InEffect      bool          `json:"in_effect"`
	NotInEffect   string        `json:"not_in_effect"`
	Filesystem    *Filesystem   `json:"filesystem,omitempty"`
	SELinux       *SELinux      `json:"selinux,omitempty"`
}

// Filesystem is the swapfile's filesystem in Section.
type Filesystem struct {
	Type      string `json:"type"`
	FreeBytes int64  `json:"free_bytes"`
}

// SELinux is the SELinux state in Section.
type SELinux struct {
	Mode        string `json:"mode"`
	WantContext string `json:"want_context"`
	Error       string `json:"error,omitempty"`
}

// FileView describes the swapfile on disk.
type FileView struct {
	Kind      string `json:"kind"`
	Size      int64  `json:"size_bytes,omitempty"`
	Allocated int64  `json:"allocated_bytes,omitempty"`
	Mode      string `json:"mode,omitempty"`
	Owner     string `json:"owner,omitempty"`
	SwapArea  bool   `json:"swap_area"`
	// HibernationImage is the signature of a hibernation image found in
	// place of the swap signature.
	HibernationImage string `json:"hibernation_image,omitempty"`
	Label            string `json:"label,omitempty"`
	Inode            uint64 `json:"inode,omitempty"`
	// Usable is what the kernel would take (KernelPages).
	Usable         int64  `json:"usable_bytes,omitempty"`
	SELinuxContext string `json:"selinux_context,omitempty"`
}

// Describe renders the swapfile and d for status, plan and activate's log.
func (s *Swapfile) Describe(d swap.Decision) swap.Description {
	t, h := d.Target, fsinfo.Human
	sec := Section{Path: s.Path, Unit: s.Unit, MinSize: t.MinSize,
		File: s.fileView(), Active: s.Ours != nil, ActiveBytes: d.Active, Devices: append([]procfs.Swap{}, s.Swaps...), Decision: d.Action, Reason: d.Reason,
		Dir: s.Dir, ResolvedDir: s.Resolved, Links: append([]string{}, s.Links...), InEffect: d.InEffect, NotInEffect: d.NotInEffectLine()}
	if t.Known() {
		sec.MemTotal, sec.Target = &t.MemTotal, &t.Bytes
	} else {
		sec.MemTotalError = t.Err.Error()
	}
	for _, o := range s.Others {
		sec.OthersBytes += o.Size
	}
	if s.FSKnown {
		sec.Filesystem = &Filesystem{s.FS.Name, s.FS.Free}
	}
	se := s.SELinux
	if se.Enabled {
		sec.SELinux = &SELinux{Mode: se.Mode(), WantContext: se.SwapContext}
		if se.Err != nil {
			sec.SELinux.Error = se.Err.Error()
		}
	}
	out := swap.Description{Status: sec}

	// status, text
	row := func(k, format string, a ...any) {
		out.Rows = append(out.Rows, swap.Row{Key: k, Value: fmt.Sprintf(format, a...)})
	}
	row("swap target", "%s", t)
	f := sec.File
	file := f.Kind
	if f.Kind == string(Regular) {
		area := map[bool]string{true: "yes", false: "no"}[f.SwapArea]
		if f.HibernationImage != "" {
			area = "holding a hibernation image (" + f.HibernationImage + ")"
		}
		file = fmt.Sprintf("%s, mode %s, owner %s, swap area %s, label %q", h(f.Size), f.Mode, f.Owner, area, f.Label)
	}
	row("swapfile", "%s (%s): %s", s.Path, s.Unit, file)
	if se.Enabled {
		row("swapfile SELinux", "%s", s.selinuxRow())
	}
	if s.Resolved != s.Dir {
		row("swapfile directory", "%s is %s (%s)", s.Dir, s.Resolved, strings.Join(s.Links, ", "))
	}
	if s.FSKnown {
		row("filesystem", "%s, %s free", s.FS.Name, h(s.FS.Free))
	}
	switch {
	case d.NotMeasured != "" && s.Ours != nil:
		row("swapfile active", "yes, %s (not measured whether activate keeps it: %s)", h(d.Active), d.NotMeasured)
	case d.NotMeasured != "" && d.Actual == "":
		row("swapfile active", "not measured: %s", d.NotMeasured)
	case s.Ours != nil:
		row("swapfile active", "yes, %s%s", h(d.Active), map[bool]string{true: "  [ok]", false: "  [FAIL]"}[d.InEffect])
	default:
		row("swapfile active", "no  [FAIL]")
	}
	if len(s.Swaps) == 0 {
		row("active swap", "none")
	}
	for _, a := range s.Swaps {
		row("active swap", "%s (%s, %s, %s used, priority %d)", a.Filename, a.Type, h(a.Size), h(a.Used), a.Priority)
	}
	switch {
	case sec.OthersBytes > 0 && d.NotMeasured != "" && s.Ours == nil:
		row("other swap", "%s (not known whether the swapfile is among it: %s)", h(sec.OthersBytes), d.NotMeasured)
	case sec.OthersBytes > 0:
		row("other swap", "%s (reported, not counted toward the target)", h(sec.OthersBytes))
	}
	switch {
	case d.NotMeasured != "":
		row("activate would", "not known: %s", d.NotMeasured)
	case d.Action != "":
		row("activate would", "%s: %s", d.Action, d.Reason)
	}

	// activate's log, before it acts
	note := func(p priolog.Priority, format string, a ...any) {
		out.Log = append(out.Log, priolog.Notef(p, format, a...))
	}
	note(priolog.Info, "swap target %s", t)
	for _, o := range s.Others {
		note(priolog.Info, "other active swap %q (%s, %s): reported, not counted toward the target", o.Filename, o.Type, h(o.Size))
	}
	for _, l := range s.Links {
		note(priolog.Info, "the swapfile's directory %q is %q (link %s)", s.Dir, s.Resolved, l)
	}
	switch {
	case !se.Enabled:
	case se.Err != nil:
		note(priolog.Warning, "SELinux is %s, but the swapfile cannot be labelled: %v", se.Mode(), se.Err)
	default:
		note(priolog.Info, "SELinux is %s: the swapfile is labelled %s", se.Mode(), se.SwapContext)
		if se.Unvalidated != nil {
			note(priolog.Notice, "the SELinux context %s could not be validated (%v): used as it is (a policy without it makes swapon fail, and the core stays down)", se.SwapContext, se.Unvalidated)
		}
	}

	// plan
	line := func(format string, a ...any) { out.Plan = append(out.Plan, fmt.Sprintf(format, a...)) }
	line("target: %s, provided by %s alone (unit %s)", t, s.Path, s.Unit)
	for _, o := range s.Others {
		line("other active swap: %s (%s, %s): reported, not counted", o.Filename, o.Type, h(o.Size))
	}
	if s.Ours != nil {
		line("active: %s as %s (%s)", s.Path, s.Ours.Filename, h(s.Ours.Size))
	}
	if s.Resolved != s.Dir {
		line("directory: %s is %s (%s)", s.Dir, s.Resolved, strings.Join(s.Links, ", "))
	}
	if s.DirMissing {
		line("directory %s does not exist: activate would create it (%04o)", s.Resolved, DirMode)
	}
	if s.FSKnown {
		// Where it is mounted, not the directory asked about: "ext4 at
		// /ransomeye" read as a filesystem of its own when it was the root
		// filesystem.
		at := "mounted at " + s.FSMount
		if s.FSMountErr != nil {
			at = fmt.Sprintf("mount point not read: %v", s.FSMountErr)
		}
		line("filesystem: %s (%s) holding %s, %s free of %s", s.FS.Name, at, s.FS.Dir, h(s.FS.Free), h(s.FS.Size))
	}
	for _, l := range s.Leftovers {
		if l.Ours {
			line("leftover %s (%s): activate would remove it", l.Path, h(l.Bytes))
		}
	}
	switch {
	case !se.Enabled:
	case se.Err != nil:
		line("SELinux: %s; %v", se.Mode(), se.Err)
	case s.File.Kind == Regular:
		line("SELinux: %s; the swapfile has %s, swapon needs %s", se.Mode(), orNone(s.File.Context), se.SwapContext)
	default:
		line("SELinux: %s; activate would label the swapfile %s from its creation", se.Mode(), se.SwapContext)
	}
	if d.NotMeasured != "" || s.InspectErr != "" && d.Reason == s.InspectErr && os.Geteuid() != 0 {
		// Root reads what an unprivileged plan cannot: no verdict.
		line("swapfile: cannot inspect: %s (run as root to see what activate would do)", d.Reason)
	} else {
		line("swapfile: %s: %s", d.Action, d.Reason)
		if d.Action == swap.Refuse {
			line("  => activate would fail closed: marker %s, ransomeye-core would not start", names.MarkerPath)
		}
		if d.InEffect {
			line("swap guarantee: in effect")
		} else {
			line("swap guarantee: not in effect now: %s", d.NotInEffectLine())
		}
	}

	// a failure systemd did not explain
	state := "is not active"
	switch {
	case s.Ours != nil:
		state = "is active"
	case s.FileKnown && s.File.Kind == Missing:
		state = "does not exist (is its filesystem mounted?)"
	}
	out.Summary = fmt.Sprintf("swapfile %q %s; see journalctl -b -u %s -u %s", s.Path, state, names.ActivatorUnit, s.Unit)
	out.Provides = fmt.Sprintf("swapfile %q of at least %s", s.Path, h(t.Bytes))
	return out
}

// fileView describes the file as status shows it.
func (s *Swapfile) fileView() FileView {
	e := s.File
	if !s.FileKnown {
		return FileView{Kind: "unknown"}
	}
	f := FileView{Kind: string(e.Kind)}
	if e.Kind == Missing {
		return f
	}
	f.Size, f.Allocated, f.Inode = e.Size, e.Allocated, e.Inode
	f.Mode, f.Owner = fmt.Sprintf("%04o", uint32(e.Perm)), fmt.Sprintf("%d:%d", e.UID, e.GID)
	f.SwapArea, f.Label, f.SELinuxContext, f.HibernationImage = e.Header.Swap, e.Header.Label, e.Context, e.Header.Hibernation
	if e.Header.HasArea() {
		f.Usable = e.Avail()
	}
	return f
}

// selinuxRow says the swapfile's context and the one swapon needs.
func (s *Swapfile) selinuxRow() string {
	se, have := s.SELinux, orNone(s.File.Context)
	switch {
	case se.Err != nil:
		return fmt.Sprintf("%s (SELinux %s; %s)", have, se.Mode(), se.Err)
	case s.File.Kind != Regular || !s.FileKnown:
		return fmt.Sprintf("SELinux %s: activate labels it %s", se.Mode(), se.SwapContext)
	case selinux.Type(s.File.Context) == selinux.Type(se.SwapContext):
		return fmt.Sprintf("%s (SELinux %s)  [ok]", have, se.Mode())
	}
	return fmt.Sprintf("%s, want type %s (SELinux %s)  [FAIL]", have, selinux.Type(se.SwapContext), se.Mode())
}

func orNone(ctx string) string {
	if ctx == "" {
		return "no context"
	}
	return ctx
}
