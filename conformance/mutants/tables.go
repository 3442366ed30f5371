package mutants

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/counters"
)

// window is how long the lossy and torn tables leave their defect open:
// long enough that concurrent tickers and scrapes fall into it on any
// machine, short enough to keep the runs quick.
const window = 20 * time.Microsecond

// The table mutants wrap the reference table, so that they keep its
// normalisation, cap and sorting, and break one thing.

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

// lossyTable counts each counter in a cell of its own and increments it
// with an atomic load, a pause, and an atomic store: no data race for the
// race detector to report, but a tick that lands between another's load
// and store is lost. The reference table registers the target types, so
// that normalisation, the cap and the sort order stay the reference's.
type lossyTable struct {
	refTable
	cells sync.Map // cellKey -> *atomic.Uint64
}

type cellKey struct {
	targetType string
	c          conformance.Counter
}

func (t *lossyTable) tick(c conformance.Counter, targetType string) {
	name := t.dc.Bind(targetType).Name()
	v, _ := t.cells.LoadOrStore(cellKey{name, c}, new(atomic.Uint64))
	cell := v.(*atomic.Uint64)
	n := cell.Load()
	time.Sleep(window) // another ticker's increment falls in here, and is lost
	cell.Store(n + 1)
}

func (t *lossyTable) record(targetType string, o counters.Outcome) {
	for _, c := range conformance.Ticks(o) {
		t.tick(c, targetType)
	}
}

func (t *lossyTable) snapshot() []counters.DeploySnapshot {
	snaps := t.dc.Snapshot() // registered rows, all zero
	for i := range snaps {
		for _, c := range conformance.Counters() {
			if v, ok := t.cells.Load(cellKey{snaps[i].TargetType, c}); ok {
				c.Add(&snaps[i], v.(*atomic.Uint64).Load())
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

// tornTable's Record ticks an outcome's counters one at a time, pausing
// between them, as an emitter modelled on the original table would if it
// claimed whole-outcome recording.
type tornTable struct{ refTable }

func (t tornTable) record(targetType string, o counters.Outcome) {
	for _, c := range conformance.Ticks(o) {
		t.tick(c, targetType)
		time.Sleep(window) // a scrape in here sees part of the deployment
	}
}
