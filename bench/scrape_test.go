package bench

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// referenceHelp returns the HELP text of each family as the reference
// handler writes it, keyed by family name without namespace or "_total", so
// that every exposer here writes the same bytes and only the way of writing
// them differs.
func referenceHelp() map[string]string {
	help := make(map[string]string)
	for line := range strings.Lines(string(handler.AppendText(nil, ns, nil))) {
		rest, ok := strings.CutPrefix(line, "# HELP "+ns+"_")
		if !ok {
			continue
		}
		name, text, _ := strings.Cut(strings.TrimSuffix(rest, "\n"), " ")
		help[strings.TrimSuffix(name, "_total")] = text
	}
	return help
}

// fprintfExposer is the modelled design's exposer: a loop over Snapshot()
// with one fmt.Fprintf per line, straight to the ResponseWriter. It writes
// label values with %q, which is only correct for printable ASCII (SPEC.md §1.8);
// the target types here are, so its output equals the reference's.
type fprintfExposer struct {
	dc   *counters.DeployCounters
	help map[string]string
	// lines[i][k] is the format of a sample of families[i] with its k-th
	// sub-label value, like "%s{target_type=%q,result=\"success\"} %d\n".
	lines [][2]string
}

func newFprintfExposer(dc *counters.DeployCounters) *fprintfExposer {
	e := &fprintfExposer{dc: dc, help: referenceHelp()}
	for _, f := range families {
		var l [2]string
		if f.sub == "" {
			l[0] = "%s_total{target_type=%q} %d\n"
		} else {
			for k, v := range f.subValues {
				l[k] = "%s_total{target_type=%q," + f.sub + "=\"" + v + "\"} %d\n"
			}
		}
		e.lines = append(e.lines, l)
	}
	return e
}

func (e *fprintfExposer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	om := strings.Contains(r.Header.Get("Accept"), "application/openmetrics-text")
	if om {
		w.Header().Set("Content-Type", handler.ContentTypeOpenMetrics)
	} else {
		w.Header().Set("Content-Type", handler.ContentTypeText)
	}
	snaps := e.dc.Snapshot()
	for i, f := range families {
		name := ns + "_" + f.name
		meta := name + "_total"
		if om {
			meta = name
		}
		fmt.Fprintf(w, "# HELP %s %s\n", meta, e.help[f.name])
		fmt.Fprintf(w, "# TYPE %s counter\n", meta)
		for j := range snaps {
			v := f.values(&snaps[j])
			fmt.Fprintf(w, e.lines[i][0], name, snaps[j].TargetType, v[0])
			if f.sub != "" {
				fmt.Fprintf(w, e.lines[i][1], name, snaps[j].TargetType, v[1])
			}
		}
	}
	if om {
		fmt.Fprint(w, "# EOF\n")
	}
}

// promVecs are the six deploy families as client_golang CounterVecs.
type promVecs [6]*prometheus.CounterVec

func newPromVecs() promVecs {
	help := referenceHelp()
	var v promVecs
	for i, f := range families {
		labels := []string{"target_type"}
		if f.sub != "" {
			labels = append(labels, f.sub)
		}
		v[i] = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: f.name + "_total", Help: help[f.name],
		}, labels)
	}
	return v
}

// with returns the counter of families[i] for targetType and its k-th
// sub-label value.
func (v *promVecs) with(i int, targetType string, k int) prometheus.Counter {
	if families[i].sub == "" {
		return v[i].WithLabelValues(targetType)
	}
	return v[i].WithLabelValues(targetType, families[i].subValues[k])
}

// newPromHandler returns a promhttp handler over a registry holding the six
// families with the values of snaps, and the vectors for tickers to use.
func newPromHandler(snaps []counters.DeploySnapshot) (http.Handler, promVecs) {
	vecs := newPromVecs()
	reg := prometheus.NewRegistry()
	for i, f := range families {
		reg.MustRegister(vecs[i])
		for j := range snaps {
			v := f.values(&snaps[j])
			vecs.with(i, snaps[j].TargetType, 0).Add(float64(v[0]))
			if f.sub != "" {
				vecs.with(i, snaps[j].TargetType, 1).Add(float64(v[1]))
			}
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}), vecs
}

// scrapeSizes are the numbers of target types rendered: one, the sixteen of
// the modelled system, and two large tables to show how the cost grows.
var scrapeSizes = []int{1, 16, 256, 4096}

var formats = []struct {
	name   string
	accept http.Header
}{{"text", acceptText}, {"openmetrics", acceptOpenMetrics}}

// acceptProtobuf is what Prometheus 3 (v0.316.0) sends with its scrape
// protocols starting with PrometheusProto, as scrape_native_histograms sets
// them: both the reference handler and promhttp answer it with protobuf.
var acceptProtobuf = http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7," +
	"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5," +
	"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"}}

// BenchmarkScrape renders the six families of n target types in both text
// formats and in protobuf: the reference handler (ServeHTTP with a reused
// ResponseWriter, and the snapshot and renderer called directly), the
// modelled fmt.Fprintf exposer (text formats only), and client_golang's
// promhttp over the same values (for protobuf, client_golang's own
// encoding: the registry gathers client_model structs and expfmt marshals
// them).
func BenchmarkScrape(b *testing.B) {
	for _, n := range scrapeSizes {
		b.Run("types="+strconv.Itoa(n), func(b *testing.B) {
			// A benchmark with sub-benchmarks runs its body once, so the
			// fixture is built once per size.
			dc := filledTable(n)
			h := handler.NewMetricsHandler()
			h.SetDeployCounters(dc)
			fp := newFprintfExposer(dc)
			ph, _ := newPromHandler(dc.Snapshot())
			for _, f := range formats {
				render := handler.AppendText
				if f.name == "openmetrics" {
					render = handler.AppendOpenMetrics
				}
				b.Run("format="+f.name, func(b *testing.B) {
					b.Run("impl=handler", func(b *testing.B) { benchServe(b, h, f.accept) })
					b.Run("impl=append", func(b *testing.B) { benchAppend(b, dc, render) })
					b.Run("impl=fprintf", func(b *testing.B) { benchServe(b, fp, f.accept) })
					b.Run("impl=promhttp", func(b *testing.B) { benchServe(b, ph, f.accept) })
				})
			}
			b.Run("format=protobuf", func(b *testing.B) {
				b.Run("impl=handler", func(b *testing.B) { benchServe(b, h, acceptProtobuf) })
				b.Run("impl=append", func(b *testing.B) { benchAppend(b, dc, handler.AppendProtobuf) })
				b.Run("impl=promhttp", func(b *testing.B) { benchServe(b, ph, acceptProtobuf) })
			})
		})
	}
}

// benchServe measures h.ServeHTTP with one request and one ResponseWriter
// reused across scrapes, as a steady-state server sees it.
func benchServe(b *testing.B, h http.Handler, accept http.Header) {
	req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
	req.Header = accept
	w := newDiscardWriter()
	h.ServeHTTP(w, req) // warm pools and caches, as every scrape but the first finds them
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		w.n = 0
		h.ServeHTTP(w, req)
	}
	cpu.report(b)
	if w.status != http.StatusOK || w.n == 0 {
		b.Fatalf("scrape: status %d, %d bytes", w.status, w.n)
	}
}

// benchAppend measures a reference renderer without HTTP: a snapshot into
// a reused slice and rendering into a reused buffer.
func benchAppend(b *testing.B, dc *counters.DeployCounters, render func([]byte, string, []counters.DeploySnapshot) []byte) {
	var snaps []counters.DeploySnapshot
	var buf []byte
	snaps = dc.AppendSnapshot(snaps[:0])
	buf = render(buf[:0], ns, snaps)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		snaps = dc.AppendSnapshot(snaps[:0])
		buf = render(buf[:0], ns, snaps)
	}
	cpu.report(b)
}

// TestProtobufExposersAgree checks that the protobuf rows of BenchmarkScrape
// compare like with like: asked with acceptProtobuf, the reference handler
// and promhttp both answer in protobuf, and Prometheus's parser reads the
// same samples with the same values from both, the ones the text format
// carries. (The bytes differ: client_golang sorts a family's metrics by
// label values, the handler by target type first.)
func TestProtobufExposersAgree(t *testing.T) {
	const protobuf = "application/vnd.google.protobuf"
	for _, n := range []int{1, 16, 40} {
		dc := filledTable(n)
		h := handler.NewMetricsHandler()
		h.SetDeployCounters(dc)
		ph, _ := newPromHandler(dc.Snapshot())
		want := samplesOf(t, scrapeBody(t, h, acceptText), handler.ContentTypeText)
		for name, srv := range map[string]http.Handler{"handler": h, "promhttp": ph} {
			req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
			req.Header = acceptProtobuf
			w := &captureWriter{header: http.Header{}}
			srv.ServeHTTP(w, req)
			ct := w.header.Get("Content-Type")
			if !strings.HasPrefix(ct, protobuf+";") || !strings.Contains(ct, "encoding=delimited") {
				t.Fatalf("%d types, %s: Content-Type %q, want delimited protobuf", n, name, ct)
			}
			got := samplesOf(t, w.body.String(), ct)
			if len(got) != n*seriesPerTargetType || !maps.Equal(got, want) {
				t.Errorf("%d types, %s: protobuf samples differ from the text format's:\n%v\nwant:\n%v", n, name, got, want)
			}
		}
	}
}

// BenchmarkScrapeUnderTicks measures a scrape of 16 target types (text
// format) while two goroutines tick flat out, each through the fastest API of
// the design scraped (bound handles; cached client_golang Counters), so the
// scrape competes for the CPU and for the counters' cache lines. ticks/s
// reports how hard the tickers pushed meanwhile.
func BenchmarkScrapeUnderTicks(b *testing.B) {
	b.Run("impl=handler", func(b *testing.B) {
		dc := filledTable(16)
		h := handler.NewMetricsHandler()
		h.SetDeployCounters(dc)
		benchScrapeUnderTicks(b, h, referenceTicker(dc))
	})
	b.Run("impl=fprintf", func(b *testing.B) {
		dc := filledTable(16)
		benchScrapeUnderTicks(b, newFprintfExposer(dc), referenceTicker(dc))
	})
	b.Run("impl=promhttp", func(b *testing.B) {
		ph, vecs := newPromHandler(synthSnapshots(16))
		var cached [16]prometheus.Counter
		for i, tt := range targetTypes(16) {
			cached[i] = vecs.with(0, tt, 0)
		}
		benchScrapeUnderTicks(b, ph, func(stop *atomic.Bool, start int) uint64 {
			var n uint64
			for i := start; !stop.Load(); i++ {
				cached[i&15].Inc()
				n++
			}
			return n
		})
	})
}

// referenceTicker returns a ticker over bound handles of dc's 16 target types.
func referenceTicker(dc *counters.DeployCounters) func(stop *atomic.Bool, start int) uint64 {
	var handles [16]*counters.Target
	for i, tt := range targetTypes(16) {
		handles[i] = dc.Bind(tt)
	}
	return func(stop *atomic.Bool, start int) uint64 {
		var n uint64
		for i := start; !stop.Load(); i++ {
			handles[i&15].IncAttemptSuccess()
			n++
		}
		return n
	}
}

// benchScrapeUnderTicks runs two copies of tick until the scrapes are done
// and measures h.ServeHTTP meanwhile. tick returns how many ticks it did.
func benchScrapeUnderTicks(b *testing.B, h http.Handler, tick func(stop *atomic.Bool, start int) uint64) {
	req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
	w := newDiscardWriter()
	h.ServeHTTP(w, req)

	var stop atomic.Bool
	var ticks atomic.Uint64
	var wg sync.WaitGroup
	started := time.Now()
	for g := range 2 {
		wg.Go(func() { ticks.Add(tick(&stop, g*5)) })
	}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		h.ServeHTTP(w, req)
	}
	stop.Store(true)
	wg.Wait()
	// The tickers' rate over their whole life, which is mostly the timed loop.
	ticking := time.Since(started)
	if w.status != http.StatusOK || w.n == 0 {
		b.Fatalf("scrape: status %d, %d bytes", w.status, w.n)
	}
	b.ReportMetric(float64(ticks.Load())/ticking.Seconds(), "ticks/s")
}
