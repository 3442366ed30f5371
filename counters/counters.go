package counters

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// DeploySnapshot holds the eight counters of one target type at one instant.
// The field names are those of the table this package is modelled on.
type DeploySnapshot struct {
	TargetType       string
	AttemptsSuccess  uint64 // attempts{result="success"}
	AttemptsFailure  uint64 // attempts{result="failure"}
	ValidateFailures uint64
	ReloadFailures   uint64
	PostVerifyFails  uint64
	RollbackRestored uint64 // rollback{outcome="restored"}
	RollbackAlsoFail uint64 // rollback{outcome="also_failed"}
	IdempotentSkips  uint64
}

// The raw counters fed by the Inc methods, one per DeploySnapshot field.
const (
	rawAttemptSuccess = iota
	rawAttemptFailure
	rawValidateFailure
	rawReloadFailure
	rawPostVerifyFailure
	rawRollbackRestored
	rawRollbackAlsoFailed
	rawIdempotentSkip
	numRaw
)

// entry is one row of the sorted view.
type entry struct {
	name string
	row  *row
}

// index is a view of the table's rows. It is replaced, never modified, so
// readers need only an atomic load; the one exception is the fast table,
// which indexes share and which only gains names, each published with an
// atomic store (see fastindex.go).
type index struct {
	fast     fastTable // tried first on every lookup; its slots are shared, see fastindex.go
	byName   map[string]*row
	sorted   []entry // by name, bytewise ascending
	overflow *row    // nil until the first fold (or a direct use of the name)
}

// regular returns the number of rows that count toward the cap: all but the
// overflow row.
func (x *index) regular() int {
	if x.overflow != nil {
		return len(x.sorted) - 1
	}
	return len(x.sorted)
}

var emptyIndex = &index{fast: emptyFast}

// with returns a copy of x with the row r added under name. It may add name
// to the fast table x shares with older indexes, so it must be called under
// the table's mutex.
func (x *index) with(name string, r *row) *index {
	y := &index{
		byName:   make(map[string]*row, len(x.byName)+1),
		overflow: x.overflow,
	}
	for k, v := range x.byName {
		y.byName[k] = v
	}
	y.byName[name] = r
	i, _ := slices.BinarySearchFunc(x.sorted, name, func(e entry, name string) int {
		return strings.Compare(e.name, name)
	})
	y.sorted = slices.Insert(slices.Clip(x.sorted), i, entry{name, r})
	if name == OverflowTargetType {
		y.overflow = r
	}
	y.fast = x.fast
	if !y.fast.add(name, r, len(y.sorted)) {
		y.fast = buildFast(y.sorted)
	}
	return y
}

// DeployCounters is the counter table. Create it with NewDeployCounters; the
// zero value also works and has the default limits. All methods are safe for
// concurrent use. A DeployCounters must not be copied after first use.
type DeployCounters struct {
	idx      atomic.Pointer[index]
	maxTypes int
	maxLen   int
	deal     atomic.Uint64 // which stripe each goroutine adds to; see stripeOf
	// The fields above are read on every tick; folded is written on every
	// folded tick. Keep them on separate lines.
	_      [cacheLine]byte
	folded atomic.Uint64
	_      [cacheLine - 8]byte
	mu     sync.Mutex // serialises growth of idx
}

// Option configures a DeployCounters.
type Option func(*DeployCounters)

// WithMaxTargetTypes sets the cardinality cap: the number of distinct target
// types kept before further new ones are folded into OverflowTargetType. The
// overflow row does not count toward the cap. It panics if n < 1, since a
// table that cannot keep a single target type is a configuration mistake.
func WithMaxTargetTypes(n int) Option {
	if n < 1 {
		panic("counters: WithMaxTargetTypes: n must be at least 1")
	}
	return func(c *DeployCounters) { c.maxTypes = n }
}

// WithMaxTargetTypeLen sets the length limit, in bytes, of a normalised target
// type. It panics if n < MinTargetTypeLen.
func WithMaxTargetTypeLen(n int) Option {
	if n < MinTargetTypeLen {
		panic("counters: WithMaxTargetTypeLen: n must be at least MinTargetTypeLen (16)")
	}
	return func(c *DeployCounters) { c.maxLen = n }
}

// NewDeployCounters returns an empty table. With no options it keeps up to
// DefaultMaxTargetTypes target types of up to DefaultMaxTargetTypeLen bytes.
func NewDeployCounters(opts ...Option) *DeployCounters {
	c := &DeployCounters{maxTypes: DefaultMaxTargetTypes, maxLen: DefaultMaxTargetTypeLen}
	for _, o := range opts {
		o(c)
	}
	c.idx.Store(emptyIndex)
	return c
}

// load returns the current index; the zero DeployCounters has none yet.
func (c *DeployCounters) load() *index {
	if x := c.idx.Load(); x != nil {
		return x
	}
	return emptyIndex
}

func (c *DeployCounters) limits() (maxTypes, maxLen int) {
	maxTypes, maxLen = c.maxTypes, c.maxLen
	if maxTypes == 0 {
		maxTypes = DefaultMaxTargetTypes
	}
	if maxLen == 0 {
		maxLen = DefaultMaxTargetTypeLen
	}
	return maxTypes, maxLen
}

// Normalize returns the label value targetType is exported under (see the
// package documentation). It does not say whether the name would be folded
// into OverflowTargetType: that depends on what the table already holds.
func (c *DeployCounters) Normalize(targetType string) string {
	_, maxLen := c.limits()
	var buf [DefaultMaxTargetTypeLen]byte
	if b := appendNormalized(buf[:0], targetType, maxLen); string(b) != targetType {
		return string(b)
	}
	return targetType
}

// lookup returns the row that counts targetType and whether the operation is
// folded, i.e. redirected to the overflow row by the cap.
func (c *DeployCounters) lookup(targetType string) (*row, bool) {
	x := c.load()
	// Only normalised names are stored, and normalisation is idempotent, so
	// a hit in either structure means targetType is its own normal form.
	if r := x.fast.get(targetType); r != nil {
		return r, false
	}
	return c.lookupMiss(x, targetType)
}

// lookupMiss is lookup for a name the fast table of x does not hold.
func (c *DeployCounters) lookupMiss(x *index, targetType string) (*row, bool) {
	if r := x.byName[targetType]; r != nil {
		return r, false
	}
	return c.lookupSlow(x, targetType)
}

// lookupSlow handles names that are not normalised or not in the table yet.
// It allocates only when it adds a row: the normalised name is built on the
// stack and map lookups by string(bytes) do not copy. (With a length limit
// above DefaultMaxTargetTypeLen, a longer normalised name outgrows the stack
// buffer and costs one allocation per call.)
func (c *DeployCounters) lookupSlow(x *index, targetType string) (*row, bool) {
	maxTypes, maxLen := c.limits()
	var buf [DefaultMaxTargetTypeLen]byte
	name := appendNormalized(buf[:0], targetType, maxLen)
	if r := x.byName[string(name)]; r != nil {
		return r, false
	}
	if x.regular() >= maxTypes && string(name) != OverflowTargetType {
		if x.overflow != nil {
			return x.overflow, true
		}
		r, _ := c.insert(OverflowTargetType, maxTypes)
		return r, true
	}
	return c.insert(string(name), maxTypes)
}

// insert adds a row for the normalised name, unless another goroutine did so
// first or the cap has been reached meanwhile (then it returns the overflow row
// and true).
func (c *DeployCounters) insert(name string, maxTypes int) (*row, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.load()
	if r := x.byName[name]; r != nil {
		return r, false
	}
	folded := false
	if name != OverflowTargetType && x.regular() >= maxTypes {
		folded = true
		name = OverflowTargetType
		if x.overflow != nil {
			return x.overflow, true
		}
	}
	r := new(row)
	c.idx.Store(x.with(name, r))
	return r, folded
}

// tick adds one to raw counter i of targetType.
func (c *DeployCounters) tick(targetType string, i int) {
	// The stripe is picked first: it depends on nothing the lookup loads,
	// so the processor works it out while the lookup runs, instead of
	// between the lookup and the add. lookup's fast path is written out: a
	// tick is short enough that the calls would show.
	s := stripeOf(c.deal.Load())
	x := c.load()
	r := x.fast.get(targetType)
	if r != nil {
		inc(&r.stripe[s].raw[i], &c.deal)
		return
	}
	r, folded := c.lookupMiss(x, targetType)
	inc(&r.stripe[s].raw[i], &c.deal)
	if folded {
		c.folded.Add(1)
	}
}

// Record counts one deployment to targetType that ended in outcome o, with a
// single atomic add, so that no snapshot can see part of it. An invalid o is
// counted as OutcomeFailed (see Outcome).
func (c *DeployCounters) Record(targetType string, o Outcome) {
	s := stripeOf(c.deal.Load()) // first, as in tick
	x := c.load()
	r := x.fast.get(targetType)
	if r != nil {
		inc(&r.stripe[s].outcomes[o.slot()], &c.deal)
		return
	}
	r, folded := c.lookupMiss(x, targetType)
	inc(&r.stripe[s].outcomes[o.slot()], &c.deal)
	if folded {
		c.folded.Add(1)
	}
}

// IncAttemptSuccess ticks attempts{result="success"} for targetType.
func (c *DeployCounters) IncAttemptSuccess(targetType string) {
	c.tick(targetType, rawAttemptSuccess)
}

// IncAttemptFailure ticks attempts{result="failure"} for targetType.
func (c *DeployCounters) IncAttemptFailure(targetType string) {
	c.tick(targetType, rawAttemptFailure)
}

// IncValidateFailure ticks validate_failures for targetType.
func (c *DeployCounters) IncValidateFailure(targetType string) {
	c.tick(targetType, rawValidateFailure)
}

// IncReloadFailure ticks reload_failures for targetType.
func (c *DeployCounters) IncReloadFailure(targetType string) {
	c.tick(targetType, rawReloadFailure)
}

// IncPostVerifyFailure ticks post_verify_failures for targetType.
func (c *DeployCounters) IncPostVerifyFailure(targetType string) {
	c.tick(targetType, rawPostVerifyFailure)
}

// IncRollbackRestored ticks rollback{outcome="restored"} for targetType.
func (c *DeployCounters) IncRollbackRestored(targetType string) {
	c.tick(targetType, rawRollbackRestored)
}

// IncRollbackAlsoFailed ticks rollback{outcome="also_failed"} for targetType.
func (c *DeployCounters) IncRollbackAlsoFailed(targetType string) {
	c.tick(targetType, rawRollbackAlsoFailed)
}

// IncIdempotentSkip ticks idempotent_skip for targetType.
func (c *DeployCounters) IncIdempotentSkip(targetType string) {
	c.tick(targetType, rawIdempotentSkip)
}

// Snapshot returns the counters of every target type, sorted by target type
// (bytewise ascending). The slice is the caller's: changing it affects neither
// the table nor later snapshots. Counters never decrease from one snapshot to a
// later one, and a target type, once present, stays. A new table returns an
// empty slice.
func (c *DeployCounters) Snapshot() []DeploySnapshot {
	x := c.load()
	return x.appendSnapshot(make([]DeploySnapshot, 0, len(x.sorted)))
}

// AppendSnapshot is Snapshot appending to dst: a renderer that passes its
// previous buffer back as dst[:0] allocates nothing once the buffer is large
// enough.
func (c *DeployCounters) AppendSnapshot(dst []DeploySnapshot) []DeploySnapshot {
	return c.load().appendSnapshot(dst)
}

func (x *index) appendSnapshot(dst []DeploySnapshot) []DeploySnapshot {
	for _, e := range x.sorted {
		dst = append(dst, e.row.snapshot(e.name))
	}
	return dst
}

// Folded returns how many operations (Inc ticks and recorded outcomes, through
// the string methods or a bound Target) were redirected to OverflowTargetType
// because the cap had been reached. It counts operations, not distinct names:
// remembering the names would take the unbounded memory the cap exists to
// prevent. Direct uses of the name OverflowTargetType are not counted.
func (c *DeployCounters) Folded() uint64 { return c.folded.Load() }
