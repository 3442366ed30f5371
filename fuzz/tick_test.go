package fuzz

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// tickNames are the target types a tick program uses, chosen so that the
// table's corner cases meet: names that normalise to the same row ("x\ty"
// and "x\ny"), the empty name, invalid UTF-8, a name past the length cap,
// and the reserved overflow row used directly.
var tickNames = [8]string{
	"NGINX",
	`a"b\c`,
	"",
	"x\ty",
	"x\ny",
	strings.Repeat("é", 70), // 140 bytes, cut to 128
	"\xff\xfe",
	counters.OverflowTargetType,
}

// Op kinds: an op byte is kind<<3 | name index.
const (
	opRecord       = 0  // 0..7: Record(name, Outcome(kind+1))
	opRecordBad0   = 8  // Record(name, Outcome(0)): invalid, counts as Failed
	opRecordBad200 = 9  // Record(name, Outcome(200)): invalid, counts as Failed
	opInc          = 10 // 10..17: raw Inc tick kind-10 (Record of the same outcome in outcome-only mode)
	opBind         = 18 // 18..25: Bind(name).Record(Outcome(kind-17))
	opSnapshot     = 26
	opAppendSnap   = 27
	opScrapeText   = 28
	opScrapeOM     = 29
	opScrapeGzip   = 30
	opBindInc      = 31 // Bind(name).IncAttemptFailure (Record(Failed) in outcome-only mode)
)

// maxTickOps bounds one program, so one input stays fast.
const maxTickOps = 2048

// tickCaps are the cardinality caps a program may run under; 0 is the
// default (no folding with eight names).
var tickCaps = [4]int{0, 1, 2, 4}

// tickProgram is a decoded input.
type tickProgram struct {
	goroutines  int
	outcomeOnly bool // only the outcome API: invariants must hold everywhere
	cap         int
	ops         [][]byte // per goroutine
}

// decodeTicks turns bytes into a program: the first byte picks the number
// of goroutines (2-4), the mode and the cap; every following byte is one
// op, dealt round-robin to the goroutines.
func decodeTicks(data []byte) tickProgram {
	if len(data) == 0 {
		data = []byte{0}
	}
	head := data[0]
	p := tickProgram{
		goroutines:  2 + int(head%3),
		outcomeOnly: head&0x04 != 0,
		cap:         tickCaps[(head>>3)&3],
	}
	p.ops = make([][]byte, p.goroutines)
	for i, op := range data[1:min(len(data), 1+maxTickOps)] {
		p.ops[i%p.goroutines] = append(p.ops[i%p.goroutines], op)
	}
	return p
}

// FuzzTickSequences runs a program of ticks, outcomes, binds, snapshots
// and scrapes on 2-4 goroutines against one table and compares it with a
// sequential model: exact final counts per row (and, under a cap, exactly
// the documented folding), every snapshot and scrape sorted and monotonic
// with respect to what the same goroutine saw before, I1/I2 in every one
// when only the outcome API is used, and every scrape passing the check
// engine with the previous scrape of its goroutine as Previous.
func FuzzTickSequences(f *testing.F) {
	f.Add([]byte{0x04, 0x00, 0x11, 0x22, 0xd0, 0xe1, 0xe8, 0xf0})
	f.Add([]byte{0x00, 0x50, 0x58, 0x60, 0x68, 0x70, 0x78, 0x80, 0x88, 0xd0, 0xe0})
	f.Add([]byte{0x0c, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xd0, 0xd8, 0xe0, 0xe8, 0xf0})
	f.Add([]byte{0x1d, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x97, 0x90, 0xf8, 0xd0})
	f.Add([]byte{0x0a, 0x40, 0x49, 0x91, 0x9a, 0xfb, 0xfc, 0xe0, 0xe8, 0xf0})
	f.Add(bytes.Repeat([]byte{0x2e, 0x03, 0x04, 0x1f, 0xd1, 0xe7}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := runTicks(decodeTicks(data)); err != nil {
			t.Fatalf("program %x: %v", data, err)
		}
	})
}

// tickModel is what one goroutine did, for the sequential model.
type tickModel struct {
	counts map[string]*counts // by normalised name
	ops    map[string]uint64  // ticks and records per normalised name
	used   map[string]bool    // every normalised name touched, binds included
	bound  map[string]string  // normalised name -> the Name() its handle reported
}

func newTickModel() *tickModel {
	return &tickModel{counts: map[string]*counts{}, ops: map[string]uint64{}, used: map[string]bool{}, bound: map[string]string{}}
}

// outcomeCounts are the counters each outcome ticks (SPEC.md §2.1), indexed
// by Outcome-1.
var outcomeCounts = [8][]int{
	{cIdempotentSkips},
	{cAttemptsSuccess},
	{cAttemptsFailure, cValidateFailures},
	{cAttemptsFailure, cReloadFailures, cRollbackRestored},
	{cAttemptsFailure, cReloadFailures, cRollbackAlsoFail},
	{cAttemptsFailure, cPostVerifyFails, cRollbackRestored},
	{cAttemptsFailure, cPostVerifyFails, cRollbackAlsoFail},
	{cAttemptsFailure},
}

func (m *tickModel) count(name string, slots ...int) {
	c := m.counts[name]
	if c == nil {
		c = new(counts)
		m.counts[name] = c
	}
	for _, s := range slots {
		c[s]++
	}
	m.ops[name]++
	m.used[name] = true
}

func (m *tickModel) record(name string, o counters.Outcome) {
	if !o.Valid() {
		o = counters.OutcomeFailed
	}
	m.count(name, outcomeCounts[o-1]...)
}

// tickWorker is one goroutine of a program.
type tickWorker struct {
	prog  *tickProgram
	dc    *counters.DeployCounters
	h     *handler.MetricsHandler
	model *tickModel
	norm  [len(tickNames)]string
	// last is the latest state this goroutine observed, by snapshot or
	// scrape; later observations must not go below it.
	last     map[string]counts
	prevExp  *check.Exposition
	snapBuf  []counters.DeploySnapshot
	scrapeNo int
}

func runTicks(prog tickProgram) error {
	var opts []counters.Option
	if prog.cap > 0 {
		opts = append(opts, counters.WithMaxTargetTypes(prog.cap))
	}
	dc := counters.NewDeployCounters(opts...)
	h := handler.NewMetricsHandler()
	h.SetDeployCounters(dc)
	var norm [len(tickNames)]string
	for i, n := range tickNames {
		norm[i] = dc.Normalize(n)
	}

	workers := make([]*tickWorker, prog.goroutines)
	errs := make([]error, prog.goroutines)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range workers {
		w := &tickWorker{prog: &prog, dc: dc, h: h, model: newTickModel(), norm: norm}
		workers[g] = w
		wg.Go(func() {
			<-start // start together, to overlap as much as possible
			errs[g] = w.run(prog.ops[g])
		})
	}
	close(start)
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			return fmt.Errorf("goroutine %d: %w", g, err)
		}
	}

	// Merge the per-goroutine models into the sequential one.
	total := newTickModel()
	for _, w := range workers {
		for name, c := range w.model.counts {
			tc := total.counts[name]
			if tc == nil {
				tc = new(counts)
				total.counts[name] = tc
			}
			for i := range c {
				tc[i] += c[i]
			}
		}
		for name, n := range w.model.ops {
			total.ops[name] += n
		}
		for name := range w.model.used {
			total.used[name] = true
		}
		for name, got := range w.model.bound {
			if prev, ok := total.bound[name]; ok && prev != got {
				return fmt.Errorf("Bind of %q named the handle %q once and %q once", name, prev, got)
			}
			total.bound[name] = got
		}
	}
	final := dc.Snapshot()
	if err := checkFinal(&prog, dc, final, total); err != nil {
		return err
	}
	// Every observation was below the final state.
	finalMap := make(map[string]counts, len(final))
	for _, s := range final {
		finalMap[s.TargetType] = countsOf(&s)
	}
	for g, w := range workers {
		if err := monotonic(w.last, finalMap); err != nil {
			return fmt.Errorf("goroutine %d's last observation vs the final snapshot: %w", g, err)
		}
	}
	return nil
}

// checkFinal compares the final snapshot with the model. Without a cap
// every name has its row with exactly the model's counts. With one, which
// names got rows depends on the interleaving, but the rest does not: at
// most cap regular rows (exactly cap when more names were used), each with
// exactly its name's counts; the overflow row holding everything else; and
// Folded counting exactly the operations on names without a row.
func checkFinal(prog *tickProgram, dc *counters.DeployCounters, final []counters.DeploySnapshot, m *tickModel) error {
	rows := make(map[string]counts, len(final))
	for i, s := range final {
		if i > 0 && final[i-1].TargetType >= s.TargetType {
			return fmt.Errorf("final snapshot not strictly sorted: %q then %q", final[i-1].TargetType, s.TargetType)
		}
		rows[s.TargetType] = countsOf(&s)
	}
	limit := prog.cap
	if limit == 0 {
		limit = counters.DefaultMaxTargetTypes
	}
	var wantOverflow counts
	overflowUsed := m.used[counters.OverflowTargetType]
	if c := m.counts[counters.OverflowTargetType]; c != nil {
		wantOverflow = *c
	}
	var folded uint64
	regular, usedRegular := 0, 0
	for name := range m.used {
		if name == counters.OverflowTargetType {
			continue
		}
		usedRegular++
		var want counts
		if c := m.counts[name]; c != nil {
			want = *c
		}
		got, ok := rows[name]
		if bound, wasBound := m.bound[name]; wasBound {
			wantBound := name
			if !ok {
				wantBound = counters.OverflowTargetType
			}
			if bound != wantBound {
				return fmt.Errorf("Bind(%q).Name() = %q, want %q (row present: %v)", name, bound, wantBound, ok)
			}
		}
		if !ok {
			// Folded: every operation on it went to the overflow row.
			for i := range want {
				wantOverflow[i] += want[i]
			}
			folded += m.ops[name]
			overflowUsed = true
			continue
		}
		regular++
		if got != want {
			return fmt.Errorf("row %q: got %v, want %v", name, got, want)
		}
	}
	for name := range rows {
		if name != counters.OverflowTargetType && !m.used[name] {
			return fmt.Errorf("row %q that no operation used", name)
		}
	}
	if regular > limit || (usedRegular > limit && regular != limit) {
		return fmt.Errorf("%d regular rows for %d names used under a cap of %d", regular, usedRegular, limit)
	}
	got, ok := rows[counters.OverflowTargetType]
	switch {
	case ok != overflowUsed:
		return fmt.Errorf("overflow row present: %v, want %v", ok, overflowUsed)
	case got != wantOverflow:
		return fmt.Errorf("overflow row: got %v, want %v", got, wantOverflow)
	}
	if n := dc.Folded(); n != folded {
		return fmt.Errorf("Folded() = %d, want %d", n, folded)
	}
	if prog.outcomeOnly {
		for name, c := range rows {
			if err := invariantsHold(&c); err != nil {
				return fmt.Errorf("final row %q: %v", name, err)
			}
		}
	}
	return nil
}

func (w *tickWorker) run(ops []byte) error {
	for i, op := range ops {
		if err := w.step(op); err != nil {
			return fmt.Errorf("op %d (%#02x): %w", i, op, err)
		}
	}
	return nil
}

func (w *tickWorker) step(op byte) error {
	kind, idx := int(op>>3), int(op&7)
	name, norm := tickNames[idx], w.norm[idx]
	switch {
	case kind < opRecordBad0:
		o := counters.Outcome(kind + 1)
		w.dc.Record(name, o)
		w.model.record(norm, o)
	case kind == opRecordBad0 || kind == opRecordBad200:
		o := counters.Outcome(0)
		if kind == opRecordBad200 {
			o = 200
		}
		w.dc.Record(name, o)
		w.model.record(norm, o)
	case kind < opBind:
		i := kind - opInc
		if w.prog.outcomeOnly {
			o := counters.Outcome(i + 1)
			w.dc.Record(name, o)
			w.model.record(norm, o)
			return nil
		}
		rawIncs[i](w.dc, name)
		w.model.count(norm, i)
	case kind < opSnapshot:
		o := counters.Outcome(kind - opBind + 1)
		t := w.dc.Bind(name)
		w.model.used[norm] = true
		if err := w.noteBound(norm, t.Name()); err != nil {
			return err
		}
		t.Record(o)
		w.model.record(norm, o)
	case kind == opSnapshot:
		return w.observeSnapshot(w.dc.Snapshot())
	case kind == opAppendSnap:
		w.snapBuf = w.dc.AppendSnapshot(w.snapBuf[:0])
		return w.observeSnapshot(w.snapBuf)
	case kind <= opScrapeGzip:
		return w.scrape(kind)
	case kind == opBindInc:
		t := w.dc.Bind(name)
		w.model.used[norm] = true
		if err := w.noteBound(norm, t.Name()); err != nil {
			return err
		}
		if w.prog.outcomeOnly {
			t.Record(counters.OutcomeFailed)
			w.model.record(norm, counters.OutcomeFailed)
			return nil
		}
		t.IncAttemptFailure()
		w.model.count(norm, cAttemptsFailure)
	}
	return nil
}

// rawIncs are the table's Inc methods, in counts order.
var rawIncs = [8]func(*counters.DeployCounters, string){
	(*counters.DeployCounters).IncAttemptSuccess,
	(*counters.DeployCounters).IncAttemptFailure,
	(*counters.DeployCounters).IncValidateFailure,
	(*counters.DeployCounters).IncReloadFailure,
	(*counters.DeployCounters).IncPostVerifyFailure,
	(*counters.DeployCounters).IncRollbackRestored,
	(*counters.DeployCounters).IncRollbackAlsoFailed,
	(*counters.DeployCounters).IncIdempotentSkip,
}

// noteBound checks a handle's name: the normalised name, or the overflow
// row when folded, and the same every time for one name.
func (w *tickWorker) noteBound(norm, got string) error {
	if got != norm && got != counters.OverflowTargetType {
		return fmt.Errorf("Bind: handle named %q, want %q or %q", got, norm, counters.OverflowTargetType)
	}
	if prev, ok := w.model.bound[norm]; ok && prev != got {
		return fmt.Errorf("Bind(%q): handle named %q, earlier %q", norm, got, prev)
	}
	w.model.bound[norm] = got
	return nil
}

// observeSnapshot checks one snapshot: strictly sorted, within the cap,
// monotonic against this goroutine's previous observation, invariants in
// outcome-only mode.
func (w *tickWorker) observeSnapshot(snaps []counters.DeploySnapshot) error {
	for i := 1; i < len(snaps); i++ {
		if snaps[i-1].TargetType >= snaps[i].TargetType {
			return fmt.Errorf("snapshot not strictly sorted: %q then %q", snaps[i-1].TargetType, snaps[i].TargetType)
		}
	}
	return w.observe(snaps, "snapshot")
}

func (w *tickWorker) observe(snaps []counters.DeploySnapshot, what string) error {
	limit := w.prog.cap
	if limit == 0 {
		limit = counters.DefaultMaxTargetTypes
	}
	if len(snaps) > limit+1 {
		return fmt.Errorf("%s: %d rows under a cap of %d", what, len(snaps), limit)
	}
	cur := make(map[string]counts, len(snaps))
	for i := range snaps {
		c := countsOf(&snaps[i])
		cur[snaps[i].TargetType] = c
		if w.prog.outcomeOnly {
			if err := invariantsHold(&c); err != nil {
				return fmt.Errorf("%s, row %q: %v", what, snaps[i].TargetType, err)
			}
		}
	}
	if err := monotonic(w.last, cur); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	w.last = cur
	return nil
}

// monotonic reports a row of prev missing from cur or a counter that went
// down.
func monotonic(prev, cur map[string]counts) error {
	for name, p := range prev {
		c, ok := cur[name]
		if !ok {
			return fmt.Errorf("row %q vanished", name)
		}
		for i := range p {
			if c[i] < p[i] {
				return fmt.Errorf("row %q counter %d went from %d to %d", name, i, p[i], c[i])
			}
		}
	}
	return nil
}

// scrape serves one request through the handler, reads the body back with
// textparse into a table (which must be exactly what a correct renderer
// writes for it), observes it like a snapshot, and runs the engine on it
// with this goroutine's previous scrape as Previous.
func (w *tickWorker) scrape(kind int) error {
	req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
	switch kind {
	case opScrapeOM:
		req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	case opScrapeGzip:
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	what := fmt.Sprintf("scrape %d (%s)", w.scrapeNo, req.Header)
	w.scrapeNo++
	resp := rec.Result()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", what, resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	wantCT := check.ContentTypeText
	if kind == opScrapeOM {
		// The reference names the escaping scheme of a 1.0.0 format; this
		// Accept header names none, so it is the default.
		wantCT = check.ContentTypeOpenMetrics + "; escaping=underscores"
	}
	if ct != wantCT {
		return fmt.Errorf("%s: Content-Type %q, want %q", what, ct, wantCT)
	}
	body := rec.Body.Bytes()
	if kind == opScrapeGzip {
		if resp.Header.Get("Content-Encoding") != "gzip" {
			return fmt.Errorf("%s: Content-Encoding %q, want gzip", what, resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: gzip: %v", what, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("%s: gzip: %v", what, err)
		}
	}
	samples, err := bareParse(body, ct)
	if err != nil {
		return fmt.Errorf("%s: textparse rejects it: %v\n%s", what, err, body)
	}
	ds, err := deploySamplesOf(samples)
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", what, err, body)
	}
	snaps, err := tableOf(ds)
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", what, err, body)
	}
	names := make([]string, len(snaps))
	for i, s := range snaps {
		names[i] = s.TargetType
	}
	if !slices.IsSorted(names) {
		return fmt.Errorf("%s: target types not sorted: %q", what, names)
	}
	if err := w.observeSnapshot(snaps); err != nil {
		return err
	}

	opts := check.NewOptions()
	opts.Strict = w.prog.outcomeOnly
	report := check.Check(check.Input{Body: body, ContentType: ct, Previous: w.prevExp}, opts)
	var bad []check.Finding
	for _, f := range report.Findings {
		// Raw Inc ticks may break the invariants (that is the caller's
		// business, SPEC.md §2.3); anything else is the emitter's or the
		// engine's fault.
		if w.prog.outcomeOnly || !strings.HasPrefix(f.Rule, "invariant.") {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: the engine judges a reference scrape:%s\n%s", what, findingsOf(bad), body)
	}
	w.prevExp = report.Exposition
	return nil
}
