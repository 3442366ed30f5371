package check

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The protocol tests hold the engine to real output of every protocol
// Prometheus 3 negotiates, fetched with the Accept headers real Prometheus
// servers send: any format.*, spec.* or http.* error is a false error of
// the engine, unless the test names it as a known violation of the source.

// scrapeAs fetches url with an Accept header and returns the body and the
// HTTP facts the engine judges, as package scrape would record them.
func scrapeAs(t *testing.T, ctx context.Context, url, accept string) Input {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return Input{Body: body, ContentType: resp.Header.Get("Content-Type"), HTTP: &HTTPFacts{
		URL: url, Accept: accept, AcceptEncoding: "identity", StatusCode: resp.StatusCode,
		Header: resp.Header, WireBytes: int64(len(body)),
	}}
}

// protocolCase is one scrape of a real source: the Accept header sent,
// what must come back, and the errors the source truly has.
type protocolCase struct {
	name, accept string
	// protocol and escaping are what the response must be served as.
	protocol Protocol
	escaping EscapingScheme
	// utf8 says whether the exposition must carry UTF-8 names as such
	// (quoted, or unescaped in protobuf).
	utf8  bool
	known []string // rule IDs of true errors of the source
}

// checkProtocolCase scrapes url as c says and fails on any error of the
// format, spec, http and name rules but the known ones.
func checkProtocolCase(t *testing.T, ctx context.Context, url string, c protocolCase) *Report {
	t.Helper()
	in := scrapeAs(t, ctx, url, c.accept)
	report := Check(in, Options{})
	e := report.Exposition
	t.Logf("%s: %q, %d bytes, %d samples in %d families: %d errors, %d warnings", c.name, in.ContentType, len(in.Body), len(e.Samples), len(e.Families), report.Count(Error), report.Count(Warning))
	if e.Protocol != c.protocol || e.Escaping != c.escaping {
		t.Errorf("%s: served as %s with escaping %q (%q), want %s with %q", c.name, e.Protocol, e.Escaping, in.ContentType, c.protocol, c.escaping)
	}
	if len(e.Samples) == 0 {
		t.Errorf("%s: no samples: nothing was checked", c.name)
	}
	hasUTF8 := e.Family("http.server.requests") != nil
	if hasUTF8 != c.utf8 {
		t.Errorf("%s: UTF-8 family name served as such: %v, want %v", c.name, hasUTF8, c.utf8)
	}
	for _, f := range report.Findings {
		switch group := (Rule{ID: f.Rule}).Group(); {
		case f.Severity != Error:
			t.Logf("%s: %s", c.name, f)
		case slices.Contains(c.known, f.Rule):
			t.Logf("%s: known violation: %s", c.name, f)
		case group == "format" || group == "spec" || group == "http":
			t.Errorf("%s: false %s error on client_golang output (%s): %s\n  line: %q", c.name, group, in.ContentType, f, e.Line(f.Line))
		}
	}
	return report
}

// utf8Registry registers client_golang metrics of every type, some named
// with UTF-8 names as the OpenTelemetry conventions name them.
func utf8Registry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http.server.requests", Help: "Requests served."}, []string{"http.request.method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http.server.request.duration", Help: "Request latency.", Buckets: []float64{0.01, 0.1, 1},
		NativeHistogramBucketFactor: 1.1, NativeHistogramZeroThreshold: 1e-6,
	}, []string{"http.route"})
	size := prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: "rpc.size_bytes", Help: "Sizes.", Objectives: map[float64]float64{0.5: 0.05, 0.99: 0.001}}, []string{"rpc.method"})
	legacy := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "legacy_temperature_celsius", Help: "A name of the legacy set."}, []string{"room"})
	reg.MustRegister(requests, duration, size, legacy)
	for i, method := range []string{"GET", "POST", "caf\u00e9"} {
		requests.WithLabelValues(method, "200").Add(float64(10 * (i + 1)))
		for v := 0.0001; v < 10; v *= 2.5 {
			duration.WithLabelValues("/api/" + method).Observe(v * float64(i+1))
			size.WithLabelValues(method).Observe(v * 1000)
		}
	}
	legacy.WithLabelValues("cellar").Set(12.5)
	return reg
}

// TestClientGolangProtocols serves UTF-8 names from client_golang 1.25 and
// checks what it answers each Accept header with: OpenMetrics 1.0.0 with
// quoted names under Prometheus 3's, escaped names under Prometheus 2's,
// text 0.0.4 from a handler without OpenMetrics, quoted names in text when
// asked for escaping=allow-utf-8.
func TestClientGolangProtocols(t *testing.T) {
	reg := utf8Registry(t)
	openMetrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.Cleanup(openMetrics.Close)
	textOnly := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(textOnly.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	for _, c := range []struct {
		url string
		protocolCase
	}{
		{openMetrics.URL, protocolCase{name: "openmetrics handler, Prometheus 3", accept: AcceptPrometheus3, protocol: OpenMetricsText1_0_0, escaping: EscapingAllowUTF8, utf8: true}},
		{openMetrics.URL, protocolCase{name: "openmetrics handler, Prometheus 2", accept: AcceptPrometheus2, protocol: OpenMetricsText1_0_0, escaping: EscapingUnderscores}},
		{textOnly.URL, protocolCase{name: "text handler, Prometheus 3", accept: AcceptPrometheus3, protocol: PrometheusText0_0_4, escaping: EscapingUnderscores}},
		{textOnly.URL, protocolCase{name: "text handler, Prometheus 2", accept: AcceptPrometheus2, protocol: PrometheusText0_0_4, escaping: EscapingUnderscores}},
		// client_golang has no text 1.0.0: asked for UTF-8 names in text,
		// it quotes them in text 0.0.4 and says escaping=allow-utf-8.
		{textOnly.URL, protocolCase{name: "text handler, allow-utf-8", accept: "text/plain;version=0.0.4;escaping=allow-utf-8", protocol: PrometheusText0_0_4, escaping: EscapingAllowUTF8, utf8: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			report := checkProtocolCase(t, ctx, c.url+"/metrics", c.protocolCase)
			if c.utf8 && !strings.Contains(string(report.Exposition.Body), `{"http.server.requests"`) {
				t.Errorf("the exposition has no quoted name: the UTF-8 path went unchecked")
			}
		})
	}
}
