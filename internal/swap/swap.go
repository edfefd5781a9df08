// Package swap is the seam between the tuner and what provides the core's
// swap: a Provider is inspected once per run, decides purely, changes the
// machine only in its Apply and describes itself; nothing outside it knows
// what kind of swap it is (docs/design.md, "Swap providers").
package swap

import (
	"fmt"

	"github.com/ransomeye/ransomeye-tuner/internal/fsinfo"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
	"github.com/ransomeye/ransomeye-tuner/internal/procfs"
	"github.com/ransomeye/ransomeye-tuner/internal/units"
)

// Target is the swap the core needs: max(MinSize, MemTotal), page-rounded.
type Target struct {
	Bytes, MinSize, MemTotal int64
	PageSize                 int
	// Err: MemTotal not known (the target is MinSize; nothing is created).
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

// String is the target and how it was found, for people ("16.0 GiB =
// max(MinSize 16.0 GiB, MemTotal 8.0 GiB)"); never a MemTotal of 0 when it
// was not read.
func (t Target) String() string {
	h := fsinfo.Human
	if !t.Known() {
		return fmt.Sprintf("not known: MemTotal not read (%v); at least MinSize %s", t.Err, h(t.MinSize))
	}
	return fmt.Sprintf("%s = max(MinSize %s, MemTotal %s)", h(t.Bytes), h(t.MinSize), h(t.MemTotal))
}

// Satisfies reports whether a swap area of activeBytes (/proc/swaps's
// count, the header page left out) gives the target.
func (t Target) Satisfies(activeBytes int64) bool { return activeBytes+int64(t.PageSize) >= t.Bytes }

// The actions of a Decision.
const (
	Create  = "create"  // nothing there: make it
	Keep    = "keep"    // usable as it is (perhaps after a fix)
	Replace = "replace" // ours but unusable or too small, and not in use: make it anew
	Refuse  = "refuse"  // something that must not be touched, or cannot be used: fail closed
)

// Decision is what a provider would do for a target, and whether the
// swap guarantee is in effect now.
type Decision struct {
	Target Target
	// Action is one of the actions; Reason says why (the remedy for
	// Refuse).
	Action, Reason string
	// InEffect: active with the target and kept as it is; NotInEffect
	// says why not, and Remedy what brings it into effect, ending with
	// the command that checks again (names.ThenRecover): the swap check
	// shows both as they are, and status and the gate print the remedy.
	InEffect    bool
	NotInEffect string
	Remedy      string
	// NotMeasured says why the guarantee could not be judged (a run not
	// root's cannot read the provider): neither in effect nor failing, and
	// Action is "".
	NotMeasured string
	// Expected and Actual are the swap check's columns.
	Expected, Actual string
	// Active is the provider's swap active now (0: not active).
	Active int64
	// Detail is the provider's own part of the decision, for its Apply.
	Detail any
}

// NotInEffectLine is NotInEffect and its remedy in one sentence, as
// status --json's swap section and plan give it.
func (d Decision) NotInEffectLine() string {
	if d.Remedy == "" {
		return d.NotInEffect
	}
	return d.NotInEffect + "; " + d.Remedy
}

// Row is one row of status's text report.
type Row struct{ Key, Value string }

// Description is a provider and a decision, rendered for each reader:
type Description struct {
	// status --json's "swap" section; status's text rows; plan's lines;
	// activate's log before it acts.
	Status any
	Rows   []Row
	Plan   []string
	Log    []priolog.Note
	// Summary says in one line what is seen of the swap, for a failure
	// systemd did not explain.
	Summary string
	// Provides says what activate's success guarantees.
	Provides string
}

// Provider is one way of providing the swap.
type Provider interface {
	// Units are the unit files the generator writes for it, and notes.
	Units() ([]units.File, []priolog.Note)
	// Decide says purely what Apply would do for t.
	Decide(t Target) Decision
	// Apply carries d out, then inspects again: the only code that changes
	// the swap; the error is activate's reason to fail.
	Apply(d Decision, log *priolog.Logger) error
	// Describe renders the provider and d.
	Describe(d Decision) Description
	// Record adds what it made to the record a purge reads (without the
	// binary), logging what it did; never a failure.
	Record(log *priolog.Logger)
	// SwapUnit is the unit that turns the swap on: remedies name it, and
	// recover starts it.
	SwapUnit() string
	// Close releases what Inspect holds open.
	Close() error
}
