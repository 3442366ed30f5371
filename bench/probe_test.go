package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/exporter"
)

// probeSizes are the emitters probed, in series.
var probeSizes = []struct {
	name   string
	series int
}{{"1k", 1_000}, {"100k", 100_000}}

// startReferenceEmitter serves on loopback the reference handler's text
// rendering of a table of series/8 target types, gzipped when asked (as
// the handler does), rendered and compressed once: a table of 12,500
// target types takes seconds to fill through the counters' API (minutes
// under -race), and a fixed body keeps the emitter's share of each
// benchmark small and equal.
func startReferenceEmitter(b *testing.B, series int) string {
	b.Helper()
	body := handler.AppendText(nil, ns, synthSnapshots(series/seriesPerTargetType))
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	_, _ = zw.Write(body)
	_ = zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", handler.ContentTypeText)
		w.Header().Set("Vary", "Accept, Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz.Bytes())
			return
		}
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL + "/metrics/prometheus"
}

// BenchmarkProbe compares a probe of the exporter with what promcheck check
// does for the same target, against a reference emitter on loopback (both
// pay for the HTTP exchange with it, in the same process):
//
//	impl=check           scrape.Get and check.Check with the deploy schema:
//	                     one "promcheck check URL"
//	impl=check-previous  the same, judged against the previous scrape: each
//	                     scrape after the first of "promcheck check --scrapes N"
//	impl=probe           GET /probe?target=URL&module=deploy served by the
//	                     exporter in process, in steady state (judged against
//	                     the previous probe from its store)
//
// The target: impl=probe at most 1.2 times impl=check. probes/s is 1/op,
// one probe at a time.
func BenchmarkProbe(b *testing.B) {
	for _, size := range probeSizes {
		b.Run("series="+size.name, func(b *testing.B) {
			target := startReferenceEmitter(b, size.series)
			client := scrape.NewClient(nil)
			b.Cleanup(client.CloseIdleConnections)
			opts := check.NewOptions()
			scrapeOpts := scrape.Options{Accept: scrape.AcceptText}
			checkOnce := func(previous *check.Exposition) *check.Report {
				in, err := scrape.Get(context.Background(), client, target, scrapeOpts)
				if err != nil {
					b.Fatal(err)
				}
				in.Previous = previous
				r := check.Check(in, opts)
				if r.Failed() || len(r.Exposition.Samples) != size.series {
					b.Fatalf("the reference emitter: %d samples, %s", len(r.Exposition.Samples), r)
				}
				return r
			}
			b.Run("impl=check", func(b *testing.B) {
				benchProbes(b, func() { checkOnce(nil) })
			})
			b.Run("impl=check-previous", func(b *testing.B) {
				previous := checkOnce(nil).Exposition
				benchProbes(b, func() { previous = checkOnce(previous).Exposition })
			})
			b.Run("impl=probe", func(b *testing.B) {
				e := newBenchExporter(b, exporter.StoreLimits{})
				req := probeRequest(target)
				w := newDiscardWriter()
				probe := func() {
					w.status, w.n = 0, 0
					e.ServeHTTP(w, req)
					if w.status != http.StatusOK || w.n == 0 {
						b.Fatalf("probe: status %d, %d bytes", w.status, w.n)
					}
				}
				probe() // steady state: the store holds the previous exposition
				benchProbes(b, probe)
				if got := probeSuccess(b, e, target); got != 1 {
					b.Fatalf("promcheck_probe_success %v for the reference emitter", got)
				}
			})
		})
	}
}

// benchProbes times probe and reports probes/s and CPU time beside ns/op.
func benchProbes(b *testing.B, probe func()) {
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		probe()
	}
	cpu.report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "probes/s")
}

func newBenchExporter(b *testing.B, limits exporter.StoreLimits) *exporter.Exporter {
	b.Helper()
	e, err := exporter.New(exporter.BuiltinConfig(), exporter.Options{Store: limits, MaxConcurrent: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	return e
}

func probeRequest(target string) *http.Request {
	return httptest.NewRequest(http.MethodGet, "/probe?"+url.Values{"target": {target}, "module": {"deploy"}}.Encode(), nil)
}

// probeSuccess probes target once more and returns promcheck_probe_success.
func probeSuccess(b *testing.B, e *exporter.Exporter, target string) float64 {
	b.Helper()
	return exporterValue(b, e, probeRequest(target), "promcheck_probe_success")
}

// exporterValue serves req and returns the value of the sample written as
// series in the exposition.
func exporterValue(b *testing.B, e *exporter.Exporter, req *http.Request, series string) float64 {
	b.Helper()
	w := &captureWriter{header: http.Header{}}
	e.ServeHTTP(w, req)
	r := check.Check(check.Input{Body: []byte(w.body.String()), ContentType: w.header.Get("Content-Type")}, check.Options{})
	for _, s := range r.Exposition.Samples {
		if s.Series == series {
			return s.Value
		}
	}
	b.Fatalf("no %s in:\n%s", series, w.body.String())
	return 0
}

// BenchmarkProbeMemory probes b.N distinct targets (one emitter of 128
// series, ten kilobytes of text, under b.N URLs), each once, and reports
// the live heap at its peak (sampled after a GC every 500 probes) and the
// store's own estimate of what it holds. Run it with -benchtime=10000x for
// the 10k distinct targets:
//
//	impl=bounded    a store bounded to 16 MiB: the heap stays flat
//	impl=unbounded  a store with room for every target: the heap grows
//	                with the number of targets (what the bound prevents)
func BenchmarkProbeMemory(b *testing.B) {
	target := startReferenceEmitter(b, 128)
	for _, c := range []struct {
		name   string
		limits exporter.StoreLimits
	}{
		{"bounded", exporter.StoreLimits{MaxEntries: 1 << 20, MaxBytes: 16 << 20}},
		{"unbounded", exporter.StoreLimits{MaxEntries: 1 << 20, MaxBytes: 1 << 40}},
	} {
		b.Run("impl="+c.name, func(b *testing.B) {
			e := newBenchExporter(b, c.limits)
			w := newDiscardWriter()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapAlloc, uint64(0)
			sample := func() {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			}
			i := 0
			for b.Loop() {
				w.status, w.n = 0, 0
				e.ServeHTTP(w, probeRequest(fmt.Sprintf("%s?instance=%d", target, i)))
				if w.status != http.StatusOK {
					b.Fatalf("probe %d: status %d", i, w.status)
				}
				i++
				if i%500 == 0 {
					b.StopTimer()
					sample()
					b.StartTimer()
				}
			}
			b.StopTimer()
			sample()
			metrics := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
			b.ReportMetric(exporterValue(b, e, metrics, "promcheck_exporter_store_bytes")/(1<<20), "store-MiB")
			b.ReportMetric(exporterValue(b, e, metrics, "promcheck_exporter_store_entries"), "store-entries")
			b.ReportMetric(float64(i), "targets")
		})
	}
}
