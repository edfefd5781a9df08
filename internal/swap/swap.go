// Package swap is the seam between the tuner and what provides the core's
// swap. A provider is inspected once per run (facts), decides purely what
// activate would do for the target (plan), is changed only by its Apply
// (activate), and describes itself for status, plan and the logs: nothing
// outside a provider knows what kind of swap it is. The swapfile
// (internal/swapfile) is the only provider; docs/design.md, "Swap
// providers", says how a second one plugs in.
package swap

import (
	"fmt"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// Target is the swap the core needs: max(MinSize, MemTotal), rounded up to
// a whole page.
type Target struct {
	Bytes, MinSize, MemTotal int64
	PageSize                 int
	// Err says why MemTotal is not known (the target is then MinSize, and
	// nothing may be created for it).
	Err error
}

// NewTarget is the target for minSize and the machine's memory.
func NewTarget(minSize int64, mem procfs.Meminfo, memErr error, pageSize int) Target {
	t := Target{MinSize: minSize, MemTotal: mem.MemTotal, PageSize: pageSize, Err: memErr}
	t.Bytes = max(minSize, mem.MemTotal)
	ps := int64(pageSize)
	if ps <= 0 {
		ps = 4096
	}
	if r := t.Bytes % ps; r != 0 {
		t.Bytes += ps - r
	}
	return t
}

// Known reports whether the target is known: MemTotal was read.
func (t Target) Known() bool { return t.Err == nil }

// String is the target with how it was found, for people: "16.0 GiB =
// max(MinSize 16.0 GiB, MemTotal 8.0 GiB)"; when MemTotal was not read,
// that it is not known and the least it can be, never a MemTotal of 0.
func (t Target) String() string {
	h := fsinfo.Human
	if !t.Known() {
		return fmt.Sprintf("not known: MemTotal not read (%v); at least MinSize %s", t.Err, h(t.MinSize))
	}
	return fmt.Sprintf("%s = max(MinSize %s, MemTotal %s)", h(t.Bytes), h(t.MinSize), h(t.MemTotal))
}

// Satisfies reports whether a swap area of activeBytes as /proc/swaps
// counts it (the header page left out) gives at least the target: the
// gate's test, and activate's.
func (t Target) Satisfies(activeBytes int64) bool { return activeBytes+int64(t.PageSize) >= t.Bytes }

// The actions of a Decision.
const (
	Create  = "create"  // nothing there: make it
	Keep    = "keep"    // usable as it is (perhaps after fixing its owner, mode or label)
	Replace = "replace" // ours but unusable or too small, and not in use: make it anew
	Refuse  = "refuse"  // something that must not be touched, or cannot be used: fail closed
)

// Decision is what a provider would do for a target, and whether the swap
// guarantee is in effect now.
type Decision struct {
	Target Target
	// Action is one of the actions; Reason says why, with the remedy for
	// Refuse.
	Action, Reason string
	// InEffect: the provider's swap is active with at least the target,
	// and kept as it is. NotInEffect says why not, with the remedy.
	InEffect    bool
	NotInEffect string
	// NotMeasured, when not empty, says why the guarantee could not be
	// judged (a run that is not root's cannot read the provider): neither
	// in effect nor failing, and Action is "".
	NotMeasured string
	// Expected and Actual are the swap check's columns ("swapfile
	// \"/ransomeye/swap\" active with at least 16.0 GiB", "not active").
	Expected, Actual string
	// Active is the provider's swap active now, as /proc/swaps counts it
	// (0: not active).
	Active int64
	// Detail is the provider's own part of the decision, for its Apply.
	Detail any
}

// Row is one row of status's text report: a label and its value.
type Row struct{ Key, Value string }

// Description is a provider and a decision, rendered for each reader.
type Description struct {
	// Status is the "swap" section of status --json.
	Status any
	// Rows are status's text rows about the swap, in order.
	Rows []Row
	// Plan are the lines of `ransomeye-tuner plan` about the swap.
	Plan []string
	// Log are activate's lines before it acts on the decision.
	Log []priolog.Note
	// Summary says in one line what can be seen of the swap now, for a
	// failure that systemd did not explain.
	Summary string
	// Provides says what the provider gives once activate succeeded
	// ("swapfile \"/ransomeye/swap\" of at least 16.0 GiB").
	Provides string
}

// Provider is one way of providing the swap.
type Provider interface {
	// Units are the unit files the generator writes for it, and what to
	// log about them.
	Units() ([]units.File, []priolog.Note)
	// Decide says what Apply would do for t, from what was inspected. It
	// is pure.
	Decide(t Target) Decision
	// Apply carries d out (logging to log), then inspects again what is
	// there now, so that a later Decide sees it: the only code that
	// changes the swap. The error is the reason activate fails with.
	Apply(d Decision, log *priolog.Logger) error
	// Describe renders the provider and d.
	Describe(d Decision) Description
	// Record notes what the provider made in the record a purge of the
	// package reads (it must find it without the binary), logging what it
	// did; not a failure either way.
	Record(log *priolog.Logger)
	// SwapUnit is the unit that turns the swap on: remedies name it, and
	// recover starts it.
	SwapUnit() string
	// Close releases what Inspect holds open.
	Close() error
}
