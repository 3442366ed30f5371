package bench

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/handler"
)

// The tests below keep the benchmarks honest: the baselines count what they
// are given, from many goroutines, without races; the exposers compared
// write the same samples; the inputs checked are valid, so the engine is
// measured on its common path.

func TestBaselineTablesCount(t *testing.T) {
	const goroutines, perGoroutine = 4, 1000
	tables := []struct {
		name string
		tab  interface {
			inc(tt string, i int)
			total(i int) uint64
		}
	}{{"syncmap", new(syncMapTable)}, {"mutexmap", newMutexMapTable()}}
	for _, tab := range tables {
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range perGoroutine {
					tab.tab.inc(tickTypes[(g+i)&15], i%2) // counters 0 and 1 alternate
				}
			})
		}
		wg.Wait()
		for i, want := range []uint64{goroutines * perGoroutine / 2, goroutines * perGoroutine / 2, 0} {
			if got := tab.tab.total(i); got != want {
				t.Errorf("%s: counter %d totals %d, want %d", tab.name, i, got, want)
			}
		}
	}
}

// TestAtomicFloorIsPadded checks that the floor of the tick benchmarks
// gives each target type's atomic cache lines of its own, as the reference
// table does for its rows: a floor whose atomics shared a line would be
// slowed by false sharing in shape=own and mixed16 and flatter the designs
// compared with it.
func TestAtomicFloorIsPadded(t *testing.T) {
	var floor [16]paddedAtomic
	for _, line := range []uintptr{64, 128} {
		seen := map[uintptr]int{}
		for i := range floor {
			l := uintptr(unsafe.Pointer(&floor[i].n)) / line
			if j, ok := seen[l]; ok {
				t.Errorf("atomics %d and %d share a %d-byte line", j, i, line)
			}
			seen[l] = i
		}
	}
}

// scrapeBody returns what h serves for a GET with the given Accept header.
func scrapeBody(t *testing.T, h http.Handler, accept http.Header) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
	req.Header = accept
	w := &captureWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	return w.body.String()
}

// samplesOf parses body as Prometheus would and returns its samples by
// series, failing the test if it does not parse.
func samplesOf(t *testing.T, body, contentType string) map[string]float64 {
	t.Helper()
	p, err := textparse.New([]byte(body), contentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		t.Fatalf("textparse.New: %v", err)
	}
	samples := make(map[string]float64)
	var lbls labels.Labels
	for {
		entry, err := p.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("parse: %v\n%s", err, body)
			}
			return samples
		}
		if entry == textparse.EntrySeries {
			_, _, v := p.Series()
			p.Labels(&lbls)
			samples[lbls.String()] = v
		}
	}
}

// TestScrapeExposersAgree checks that the scrape benchmarks compare like with
// like: the fmt.Fprintf exposer writes byte for byte what the reference
// handler writes, and promhttp serves the same samples with the same values.
func TestScrapeExposersAgree(t *testing.T) {
	for _, n := range []int{1, 16, 40} {
		dc := filledTable(n)
		h := handler.NewMetricsHandler()
		h.SetDeployCounters(dc)
		ph, _ := newPromHandler(dc.Snapshot())
		for _, f := range formats {
			ct := handler.ContentTypeText
			if f.name == "openmetrics" {
				ct = handler.ContentTypeOpenMetrics
			}
			ref := scrapeBody(t, h, f.accept)
			if got := scrapeBody(t, newFprintfExposer(dc), f.accept); got != ref {
				t.Errorf("%d types, %s: fprintf exposer differs from the reference:\n%s\nwant:\n%s", n, f.name, got, ref)
			}
			want := samplesOf(t, ref, ct)
			if len(want) != n*seriesPerTargetType {
				t.Errorf("%d types, %s: reference has %d samples, want %d", n, f.name, len(want), n*seriesPerTargetType)
			}
			if got := samplesOf(t, scrapeBody(t, ph, f.accept), ct); !maps.Equal(got, want) {
				t.Errorf("%d types, %s: promhttp samples differ from the reference:\n%v\nwant:\n%v", n, f.name, got, want)
			}
		}
	}
}

// TestSnapshotsMatchTable checks that the synthetic snapshots the check
// benchmarks render are what a table filled by the outcome API holds, so the
// check inputs are expositions the reference emitter really serves.
func TestSnapshotsMatchTable(t *testing.T) {
	got := filledTable(40).Snapshot()
	want := synthSnapshots(40)
	if len(got) != len(want) {
		t.Fatalf("table has %d target types, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target type %d: table %+v, synthetic %+v", i, got[i], want[i])
		}
	}
}

// TestCheckInputs checks that the check benchmarks' inputs are valid deploy
// expositions of the stated size, so the engine is measured on the path a
// conforming emitter takes, not on error reporting.
func TestCheckInputs(t *testing.T) {
	for _, f := range checkFormats {
		body, ct := checkInput(1000, f)
		n, err := parseSeries(body, ct)
		if err != nil || n != 1000 {
			t.Errorf("%s: textparse saw %d series (err %v), want 1000", f, n, err)
		}
		for _, opts := range []check.Options{{}, check.NewOptions()} {
			r := check.Check(check.Input{Body: body, ContentType: ct}, opts)
			if r.Failed() || len(r.Findings) > 0 {
				t.Errorf("%s, schema %v: check failed:\n%v", f, opts.Schema != nil, r)
			}
			if got := len(r.Exposition.Samples); got != 1000 {
				t.Errorf("%s, schema %v: engine saw %d samples, want 1000", f, opts.Schema != nil, got)
			}
		}
	}
}
