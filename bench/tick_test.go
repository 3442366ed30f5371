package bench

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// The baselines below are written here from the descriptions of the designs
// they stand for, so the comparison measures the designs, not someone's code.

// syncMapTable is the modelled design: a sync.Map from target type to a bucket
// of eight counters, ticked one by one.
type syncMapTable struct{ m sync.Map } // string → *[8]atomic.Uint64

func (t *syncMapTable) inc(targetType string, i int) {
	v, ok := t.m.Load(targetType)
	if !ok {
		v, _ = t.m.LoadOrStore(targetType, new([8]atomic.Uint64))
	}
	v.(*[8]atomic.Uint64)[i].Add(1)
}

// total returns counter i summed over all target types.
func (t *syncMapTable) total(i int) uint64 {
	var n uint64
	t.m.Range(func(_, v any) bool {
		n += v.(*[8]atomic.Uint64)[i].Load()
		return true
	})
	return n
}

// mutexMapTable is the first thing most people write: one mutex around a map
// of plain counters.
type mutexMapTable struct {
	mu sync.Mutex
	m  map[string]*[8]uint64
}

func newMutexMapTable() *mutexMapTable { return &mutexMapTable{m: make(map[string]*[8]uint64)} }

func (t *mutexMapTable) inc(targetType string, i int) {
	t.mu.Lock()
	b := t.m[targetType]
	if b == nil {
		b = new([8]uint64)
		t.m[targetType] = b
	}
	b[i]++
	t.mu.Unlock()
}

// total returns counter i summed over all target types.
func (t *mutexMapTable) total(i int) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n uint64
	for _, b := range t.m {
		n += b[i]
	}
	return n
}

// newAttemptsVec is the client_golang equivalent of the attempts family.
func newAttemptsVec() *prometheus.CounterVec {
	attempts := deploy.Families()[deploy.Attempts]
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns,
		Name:      attempts.Base,
		Help:      "Deployment attempts by target type and result.",
	}, attempts.Labels())
}

// vmAttemptSuccessName is the VictoriaMetrics/metrics series name of
// attempts{result="success"} for targetType. The target types used here need
// no escaping.
func vmAttemptSuccessName(targetType string) string {
	attempts := deploy.Families()[deploy.Attempts]
	return attempts.Name(ns) + `{` + deploy.KeyLabel + `="` + targetType + `",` + attempts.SubLabel + `="` + deploy.ResultSuccess + `"}`
}

// A shape is how the goroutines of a parallel benchmark spread over target
// types.
type shape int

const (
	shapeSame  shape = iota // all goroutines tick one target type
	shapeOwn                // each goroutine ticks its own target type
	shapeMixed              // each goroutine cycles through all 16, starting at a different one
)

var shapes = []struct {
	name  string
	shape shape
}{{"same", shapeSame}, {"own", shapeOwn}, {"mixed16", shapeMixed}}

// tickTypes are the 16 target types of the tick benchmarks; the loops index
// them with i&15 and keep per-type state in [16] arrays.
var tickTypes = counters.KnownTargetTypes()[:16]

// runParallel runs body on every goroutine of b.RunParallel, telling it which
// target type to tick: fixed ≥ 0 is an index into tickTypes for the whole
// run; fixed < 0 means cycle through all of them starting at start. Each
// implementation writes its own loops, so no indirect call sits between
// pb.Next and the tick being measured. Afterwards count must return the
// number of ticks the implementation holds, summed over target types: it must
// be b.N, or the benchmark measured something other than counting.
func runParallel(b *testing.B, sh shape, count func() uint64, body func(pb *testing.PB, fixed, start int)) {
	var next atomic.Int64
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1) - 1)
		switch sh {
		case shapeSame:
			body(pb, 0, 0)
		case shapeOwn:
			body(pb, g%len(tickTypes), 0)
		default:
			// Goroutines start apart so they are not in lockstep on one row.
			body(pb, -1, g*5)
		}
	})
	b.StopTimer()
	cpu.report(b)
	if got := count(); got != uint64(b.N) {
		b.Fatalf("counted %d ticks, want b.N = %d", got, b.N)
	}
}

// cgAttemptSuccesses returns the total of attempts{success} in vec.
func cgAttemptSuccesses(vec *prometheus.CounterVec) uint64 {
	var n uint64
	for _, tt := range tickTypes {
		var m dto.Metric
		if err := vec.WithLabelValues(tt, "success").Write(&m); err != nil {
			return 0 // never happens for a counter; if it did, the count check fails
		}
		n += uint64(m.GetCounter().GetValue())
	}
	return n
}

// vmAttemptSuccesses returns the total of attempts{success} in set.
func vmAttemptSuccesses(set *metrics.Set) uint64 {
	var n uint64
	for _, tt := range tickTypes {
		n += set.GetOrCreateCounter(vmAttemptSuccessName(tt)).Get()
	}
	return n
}

// attemptSuccesses returns the total of attempts{success} in dc.
func attemptSuccesses(dc *counters.DeployCounters) uint64 {
	var n uint64
	for _, s := range dc.Snapshot() {
		n += s.AttemptsSuccess
	}
	return n
}

// tickImpls are the implementations of one tick of attempts{success}, in the
// column order of the tables (benchstat compares every column with the
// first: the reference string API).
var tickImpls = []struct {
	name  string
	bench func(b *testing.B, sh shape)
}{
	{"string", benchTickString},
	{"bound", benchTickBound},
	{"record", benchTickRecord},
	{"syncmap", benchTickSyncMap},
	{"mutexmap", benchTickMutexMap},
	{"atomic", benchTickAtomic},
	{"cg-vec", benchTickCGVec},
	{"cg-cached", benchTickCGCached},
	{"vm", benchTickVM},
}

// BenchmarkTick measures one counter tick under contention, for every
// implementation and shape. Run it with -cpu=1,2.
func BenchmarkTick(b *testing.B) {
	for _, sh := range shapes {
		b.Run("shape="+sh.name, func(b *testing.B) {
			for _, impl := range tickImpls {
				b.Run("impl="+impl.name, func(b *testing.B) {
					b.ReportAllocs()
					impl.bench(b, sh.shape)
				})
			}
		})
	}
}

// newTickTable returns a table with the tick types already present, so the
// benchmarks measure steady-state ticks, not row creation.
func newTickTable() *counters.DeployCounters {
	dc := counters.NewDeployCounters()
	for _, tt := range tickTypes {
		dc.Bind(tt)
	}
	return dc
}

func benchTickString(b *testing.B, sh shape) {
	dc := newTickTable()
	runParallel(b, sh, func() uint64 { return attemptSuccesses(dc) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			tt := tickTypes[fixed]
			for pb.Next() {
				dc.IncAttemptSuccess(tt)
			}
			return
		}
		for i := start; pb.Next(); i++ {
			dc.IncAttemptSuccess(tickTypes[i&15])
		}
	})
}

func benchTickBound(b *testing.B, sh shape) {
	dc := newTickTable()
	var handles [16]*counters.Target
	for i, tt := range tickTypes {
		handles[i] = dc.Bind(tt)
	}
	runParallel(b, sh, func() uint64 { return attemptSuccesses(dc) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			t := handles[fixed]
			for pb.Next() {
				t.IncAttemptSuccess()
			}
			return
		}
		for i := start; pb.Next(); i++ {
			handles[i&15].IncAttemptSuccess()
		}
	})
}

func benchTickRecord(b *testing.B, sh shape) {
	dc := newTickTable()
	runParallel(b, sh, func() uint64 { return attemptSuccesses(dc) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			tt := tickTypes[fixed]
			for pb.Next() {
				dc.Record(tt, counters.OutcomeSucceeded)
			}
			return
		}
		for i := start; pb.Next(); i++ {
			dc.Record(tickTypes[i&15], counters.OutcomeSucceeded)
		}
	})
}

func benchTickSyncMap(b *testing.B, sh shape) {
	t := new(syncMapTable)
	for _, tt := range tickTypes {
		t.inc(tt, 1) // create the buckets; a different counter, so no effect on the one ticked
	}
	runParallel(b, sh, func() uint64 { return t.total(0) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			tt := tickTypes[fixed]
			for pb.Next() {
				t.inc(tt, 0)
			}
			return
		}
		for i := start; pb.Next(); i++ {
			t.inc(tickTypes[i&15], 0)
		}
	})
}

func benchTickMutexMap(b *testing.B, sh shape) {
	t := newMutexMapTable()
	for _, tt := range tickTypes {
		t.inc(tt, 1)
	}
	runParallel(b, sh, func() uint64 { return t.total(0) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			tt := tickTypes[fixed]
			for pb.Next() {
				t.inc(tt, 0)
			}
			return
		}
		for i := start; pb.Next(); i++ {
			t.inc(tickTypes[i&15], 0)
		}
	})
}

// paddedAtomic is an atomic.Uint64 padded to 128 bytes, as counters pads
// its rows: in an array of them, two atomics are 128 bytes apart and so
// never share a 64- or 128-byte line, wherever the array starts, and adds
// to one never slow adds to another.
type paddedAtomic struct {
	n atomic.Uint64
	_ [120]byte
}

// benchTickAtomic is the floor: one padded atomic.Uint64 per target type,
// added to with no lookup. It is per target type because the designs it is
// the floor of are: in shape=own each goroutine adds to an atomic of its
// own, as it ticks a row of its own; in shape=same all add to one, which is
// then contended, as a single unstriped counter would be. (A single atomic
// shared by every shape would be more contended than any per-target design
// in shape=own and mixed16, and flatter them.)
func benchTickAtomic(b *testing.B, sh shape) {
	floor := new([16]paddedAtomic)
	count := func() uint64 {
		var n uint64
		for i := range floor {
			n += floor[i].n.Load()
		}
		return n
	}
	runParallel(b, sh, count, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			n := &floor[fixed].n
			for pb.Next() {
				n.Add(1)
			}
			return
		}
		for i := start; pb.Next(); i++ {
			floor[i&15].n.Add(1)
		}
	})
}

func benchTickCGVec(b *testing.B, sh shape) {
	vec := newAttemptsVec()
	for _, tt := range tickTypes {
		vec.WithLabelValues(tt, "success")
	}
	runParallel(b, sh, func() uint64 { return cgAttemptSuccesses(vec) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			tt := tickTypes[fixed]
			for pb.Next() {
				vec.WithLabelValues(tt, "success").Inc()
			}
			return
		}
		for i := start; pb.Next(); i++ {
			vec.WithLabelValues(tickTypes[i&15], "success").Inc()
		}
	})
}

func benchTickCGCached(b *testing.B, sh shape) {
	vec := newAttemptsVec()
	var cached [16]prometheus.Counter
	for i, tt := range tickTypes {
		cached[i] = vec.WithLabelValues(tt, "success")
	}
	runParallel(b, sh, func() uint64 { return cgAttemptSuccesses(vec) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			c := cached[fixed]
			for pb.Next() {
				c.Inc()
			}
			return
		}
		for i := start; pb.Next(); i++ {
			cached[i&15].Inc()
		}
	})
}

func benchTickVM(b *testing.B, sh shape) {
	set := metrics.NewSet()
	var names [16]string
	for i, tt := range tickTypes {
		names[i] = vmAttemptSuccessName(tt)
		set.GetOrCreateCounter(names[i])
	}
	runParallel(b, sh, func() uint64 { return vmAttemptSuccesses(set) }, func(pb *testing.PB, fixed, start int) {
		if fixed >= 0 {
			name := names[fixed]
			for pb.Next() {
				set.GetOrCreateCounter(name).Inc()
			}
			return
		}
		for i := start; pb.Next(); i++ {
			set.GetOrCreateCounter(names[i&15]).Inc()
		}
	})
}
