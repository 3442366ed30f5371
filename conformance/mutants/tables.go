package mutants

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/counters"
)

// The table mutants wrap the reference table, so that they keep its
// normalisation, cap and sorting, and break one thing. The racy ones break
// it the way real code does, in a window of nanoseconds that no sleep
// widens: the suite's race specs must find the defect on real timing.

// cachingTable returns its cached snapshot itself while no tick came in
// since it was taken: a caller that writes into the slice writes into
// what the next scrape renders.
type cachingTable struct {
	refTable
	gen       atomic.Uint64 // ticks so far
	mu        sync.Mutex
	cachedGen uint64
	cache     []counters.DeploySnapshot
}

func (t *cachingTable) tick(c conformance.Counter, targetType string) {
	t.refTable.tick(c, targetType)
	t.gen.Add(1)
}

func (t *cachingTable) record(targetType string, o counters.Outcome) {
	t.refTable.record(targetType, o)
	t.gen.Add(1)
}

func (t *cachingTable) snapshot() []counters.DeploySnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.gen.Load(); t.cache == nil || g != t.cachedGen {
		t.cache, t.cachedGen = t.refTable.snapshot(), g
	}
	return t.cache
}

// lossyTable keeps each target type's counters in an immutable array and
// ticks by copy-on-write without compare-and-swap: load the array, copy it
// with one count more, store the copy. Every step is atomic, so the race
// detector sees nothing, but a tick that stores between another's load
// and store is lost. The reference table registers the target types, so
// that normalisation, the cap and the sort order stay the reference's.
type lossyTable struct {
	refTable
	cells sync.Map // normalised target type -> *atomic.Pointer[lossyCounts]
}

// lossyCounts are one target type's counters, indexed by Counter.
type lossyCounts [conformance.IdempotentSkip + 1]uint64

func (t *lossyTable) tick(c conformance.Counter, targetType string) {
	name := t.dc.Bind(targetType).Name()
	v, _ := t.cells.LoadOrStore(name, new(atomic.Pointer[lossyCounts]))
	cell := v.(*atomic.Pointer[lossyCounts])
	cur := cell.Load()
	next := new(lossyCounts)
	if cur != nil {
		*next = *cur
	}
	next[c]++
	cell.Store(next) // a tick stored since the Load above is overwritten
}

func (t *lossyTable) record(targetType string, o counters.Outcome) {
	for _, c := range conformance.Ticks(o) {
		t.tick(c, targetType)
	}
}

func (t *lossyTable) snapshot() []counters.DeploySnapshot {
	snaps := t.dc.Snapshot() // registered rows, all zero
	for i := range snaps {
		v, ok := t.cells.Load(snaps[i].TargetType)
		if !ok {
			continue
		}
		if counts := v.(*atomic.Pointer[lossyCounts]).Load(); counts != nil {
			for _, c := range conformance.Counters() {
				c.Add(&snaps[i], counts[c])
			}
		}
	}
	return snaps
}

// deltaTable exports what was counted since its previous snapshot, the way
// a statsd-style flush does: each scrape resets the counters.
type deltaTable struct {
	refTable
	mu   sync.Mutex
	base map[string]counters.DeploySnapshot
}

func (t *deltaTable) snapshot() []counters.DeploySnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.base == nil {
		t.base = make(map[string]counters.DeploySnapshot)
	}
	snaps := t.refTable.snapshot()
	for i := range snaps {
		cur, base := snaps[i], t.base[snaps[i].TargetType]
		for _, c := range conformance.Counters() {
			c.Add(&snaps[i], -c.Of(&base))
		}
		t.base[cur.TargetType] = cur
	}
	return snaps
}

// lengthKeyedTable caches bound handles keyed by the length of the target
// type, a hash with nothing but collisions: every name after the first of
// its length ticks the first one's counters.
type lengthKeyedTable struct {
	refTable
	mu      sync.Mutex
	handles map[int]*counters.Target
}

func (t *lengthKeyedTable) bind(targetType string) *counters.Target {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.handles == nil {
		t.handles = make(map[int]*counters.Target)
	}
	h := t.handles[len(targetType)]
	if h == nil {
		h = t.dc.Bind(targetType)
		t.handles[len(targetType)] = h
	}
	return h
}

func (t *lengthKeyedTable) tick(c conformance.Counter, targetType string) {
	tickTarget(t.bind(targetType), c)
}

func (t *lengthKeyedTable) record(targetType string, o counters.Outcome) {
	t.bind(targetType).Record(o)
}

// tornTable's Record ticks an outcome's counters one at a time, as an
// emitter modelled on the original table would if it claimed whole-outcome
// recording: between two ticks, nanoseconds apart, a scrape sees part of
// the deployment.
type tornTable struct{ refTable }

func (t tornTable) record(targetType string, o counters.Outcome) {
	for _, c := range conformance.Ticks(o) {
		t.tick(c, targetType)
	}
}

// rowsTable keeps its rows in a slice, found through an index, and adds a
// target type's row on its first tick with the classic check-then-act
// race: it looks the name up, and on a miss builds the row and appends it,
// without looking again. Two goroutines that miss the same new name
// together both append one, and the exposition lists it twice. Every
// access holds a mutex, so the race detector sees nothing, and a row's
// counts change under its own, so that snapshots are never torn. The
// reference table normalises and caps the names.
type rowsTable struct {
	refTable
	mu    sync.Mutex
	rows  []*listedRow
	index map[string]*listedRow
}

// listedRow is one row of rowsTable.
type listedRow struct {
	name   string
	mu     sync.Mutex
	counts counters.DeploySnapshot
}

func (t *rowsTable) row(targetType string) *listedRow {
	name := t.dc.Bind(targetType).Name()
	t.mu.Lock()
	r := t.index[name]
	t.mu.Unlock()
	if r != nil {
		return r
	}
	r = &listedRow{name: strings.Clone(name)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.index == nil {
		t.index = make(map[string]*listedRow)
	}
	t.rows = append(t.rows, r) // another goroutine may have appended one since the lookup
	t.index[name] = r
	return r
}

func (t *rowsTable) tick(c conformance.Counter, targetType string) {
	r := t.row(targetType)
	r.mu.Lock()
	c.Add(&r.counts, 1)
	r.mu.Unlock()
}

func (t *rowsTable) record(targetType string, o counters.Outcome) {
	r := t.row(targetType)
	r.mu.Lock()
	for _, c := range conformance.Ticks(o) {
		c.Add(&r.counts, 1)
	}
	r.mu.Unlock()
}

func (t *rowsTable) snapshot() []counters.DeploySnapshot {
	t.mu.Lock()
	rows := slices.Clone(t.rows)
	t.mu.Unlock()
	snaps := make([]counters.DeploySnapshot, len(rows))
	for i, r := range rows {
		r.mu.Lock()
		snaps[i] = r.counts
		r.mu.Unlock()
		snaps[i].TargetType = r.name
	}
	slices.SortStableFunc(snaps, func(a, b counters.DeploySnapshot) int { return strings.Compare(a.TargetType, b.TargetType) })
	return snaps
}

// misrecordingTable records a failed verification whose rollback also
// failed as a failed reload: one wrong case in an outcome switch.
type misrecordingTable struct{ refTable }

func (t misrecordingTable) record(targetType string, o counters.Outcome) {
	if o == counters.OutcomeVerifyFailedAlsoFailed {
		o = counters.OutcomeReloadFailedAlsoFailed
	}
	t.refTable.record(targetType, o)
}
