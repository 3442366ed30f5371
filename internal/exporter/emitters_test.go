package exporter

import (
	"bytes"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// The targets the tests probe, on loopback.

// referenceEmitter serves the reference handler over a small counter table:
// a conforming deploy emitter.
func referenceEmitter(t *testing.T) string {
	t.Helper()
	dc := counters.NewDeployCounters()
	for i, tt := range []string{"NGINX", "Apache", "F5"} {
		for range i + 3 {
			dc.Record(tt, counters.OutcomeSucceeded)
		}
		dc.Record(tt, counters.OutcomeReloadFailedRestored)
	}
	h := handler.NewMetricsHandler()
	h.SetDeployCounters(dc)
	return serve(t, h) + "/metrics/prometheus"
}

// decreasingEmitter serves a deploy exposition whose attempts counter goes
// down on every scrape: each scrape conforms alone, two in a row do not
// (scrape.counter-decreased).
func decreasingEmitter(t *testing.T) string {
	t.Helper()
	var n atomic.Uint64
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		success := 1000 - n.Add(1)
		snaps := []counters.DeploySnapshot{{TargetType: "NGINX", AttemptsSuccess: success}}
		w.Header().Set("Content-Type", handler.ContentTypeText)
		_, _ = w.Write(handler.AppendText(nil, handler.DefaultNamespace, snaps))
	}))
}

// brokenEmitter serves an exposition with a duplicate series, an error in
// either format.
func brokenEmitter(t *testing.T) string {
	t.Helper()
	body := scrapetest.Text + "certctl_deploy_idempotent_skip_total{target_type=\"NGINX\"} 2\n"
	return serve(t, scrapetest.Serve(http.StatusOK, scrapetest.ContentTypeText, body))
}

// serve starts h on loopback and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	// Hostile handlers make the server log; the tests judge responses.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// unreachable returns a loopback URL nothing listens on.
func unreachable(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/metrics"
	srv.Close()
	return u
}

// syncBuffer is a log sink the exporter writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testExporter is an exporter served on loopback, with its log.
type testExporter struct {
	*Exporter
	url string
	log *syncBuffer
}

// startExporter serves an exporter with cfg (nil: the built-in modules).
func startExporter(t *testing.T, cfg *Config, opts Options) *testExporter {
	t.Helper()
	if cfg == nil {
		cfg = BuiltinConfig()
	}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	te := &testExporter{Exporter: e, url: serve(t, e), log: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exporter log:\n%s", logs.String())
		}
	})
	return te
}

// probeURL is the /probe URL for target and module.
func (te *testExporter) probeURL(target, module string) string {
	return te.url + "/probe?" + url.Values{"target": {target}, "module": {module}}.Encode()
}

// probe scrapes /probe and checks it with the engine, strictly and without
// a schema: the exporter's output must conform like any target's.
func (te *testExporter) probe(t *testing.T, target, module string) *check.Report {
	t.Helper()
	return scrapeAndCheck(t, te.probeURL(target, module), scrape.AcceptText, nil)
}

// scrapeAndCheck scrapes u with accept and checks the exposition against
// previous, strictly and without a schema; any finding fails the test.
func scrapeAndCheck(t *testing.T, u, accept string, previous *check.Exposition) *check.Report {
	t.Helper()
	in, err := scrape.Get(t.Context(), nil, u, scrape.Options{Accept: accept})
	if err != nil {
		t.Fatalf("scrape %s: %v", u, err)
	}
	in.Previous = previous
	// The exporter does not compress its answers: legal HTTP, which
	// http.content-encoding-preference reports as info; every other
	// finding fails the test.
	report := check.Check(in, check.Options{Strict: true, Disabled: []string{"http.content-encoding-preference"}})
	if len(report.Findings) > 0 {
		t.Fatalf("%s (Accept %s) does not pass promcheck check --schema none --strict:\n%s\n%s", u, accept, report, in.Body)
	}
	return report
}

// value returns the value of the sample written exactly as series, and
// whether there is one.
func value(r *check.Report, series string) (float64, bool) {
	for _, s := range r.Exposition.Samples {
		if s.Series == series {
			return s.Value, true
		}
	}
	return 0, false
}

// wantValue fails the test unless the report has series with value v.
func wantValue(t *testing.T, r *check.Report, series string, v float64) {
	t.Helper()
	got, ok := value(r, series)
	switch {
	case !ok:
		t.Errorf("no sample %s in:\n%s", series, r.Exposition.Body)
	case got != v:
		t.Errorf("%s = %v, want %v", series, got, v)
	}
}

// seriesOf returns the series of the samples named name.
func seriesOf(r *check.Report, name string) []string {
	var out []string
	for _, s := range r.Exposition.Samples {
		if s.Name == name {
			out = append(out, s.Series)
		}
	}
	return out
}

// get fetches u and returns the status and body.
func get(t *testing.T, method, u string, header http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

// wantContains fails the test unless s contains every one of subs.
func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

// testCAPEM returns a PEM certificate usable as a CA file.
func testCAPEM(t *testing.T) string {
	t.Helper()
	kp, err := scrapetest.SelfSigned("test CA")
	if err != nil {
		t.Fatal(err)
	}
	return string(kp.CertPEM)
}
