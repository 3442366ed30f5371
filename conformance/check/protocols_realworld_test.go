package check

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
)

// The protocol tests hold the engine to real output of every protocol
// Prometheus 3 negotiates, fetched with the Accept headers real Prometheus
// servers send: any format.*, spec.* or http.* error is a false error of
// the engine, unless the test names it as a known violation of the source.

// scrapeAs fetches url with an Accept header (none for "") and returns the
// body and the HTTP facts the engine judges, as package scrape would
// record them.
func scrapeAs(t *testing.T, ctx context.Context, url, accept string) Input {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
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
	utf8 bool
	// native says whether the exposition must carry a native histogram.
	native bool
	known  []string // rule IDs of true errors of the source
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
	if hasUTF8 := hasUTF8Names(e); hasUTF8 != c.utf8 {
		t.Errorf("%s: UTF-8 names served as such: %v, want %v", c.name, hasUTF8, c.utf8)
	}
	natives := 0
	for _, s := range e.Samples {
		if s.Histogram() != nil {
			natives++
		}
	}
	if (natives > 0) != c.native {
		t.Errorf("%s: %d native histograms, want some: %v", c.name, natives, c.native)
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

// hasUTF8Names reports whether a metric or label name of e is outside the
// legacy set.
func hasUTF8Names(e *Exposition) bool {
	for _, s := range e.Samples {
		if !model.IsValidLegacyMetricName(s.Name) {
			return true
		}
		for _, l := range s.Labels {
			if !model.LabelName(l.Name).IsValidLegacy() {
				return true
			}
		}
	}
	return false
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

// TestClientGolangProtocols serves UTF-8 names and native histograms from
// client_golang 1.25 and checks what it answers each Accept header with:
// OpenMetrics 1.0.0 with quoted names under Prometheus 3's, escaped names
// under Prometheus 2's, text 0.0.4 from a handler without OpenMetrics,
// quoted names in text when asked for escaping=allow-utf-8, protobuf with
// native histograms under Prometheus 3's protobuf-first header.
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
		// Prometheus 3 asks for protobuf first when it scrapes native
		// histograms, without an escaping parameter for it.
		{openMetrics.URL, protocolCase{name: "openmetrics handler, Prometheus 3 protobuf first", accept: AcceptPrometheus3Proto, protocol: PrometheusProto, escaping: EscapingUnderscores, native: true}},
		{textOnly.URL, protocolCase{name: "text handler, Prometheus 3 protobuf first", accept: AcceptPrometheus3Proto, protocol: PrometheusProto, escaping: EscapingUnderscores, native: true}},
		{textOnly.URL, protocolCase{name: "text handler, protobuf allow-utf-8", accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8", protocol: PrometheusProto, escaping: EscapingAllowUTF8, utf8: true, native: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			report := checkProtocolCase(t, ctx, c.url+"/metrics", c.protocolCase)
			if c.utf8 && c.protocol != PrometheusProto && !strings.Contains(string(report.Exposition.Body), `{"http.server.requests"`) {
				t.Errorf("the exposition has no quoted name: the UTF-8 path went unchecked")
			}
		})
	}
}

// pythonExporter serves a prometheus_client registry of every metric type
// over WSGI on a loopback port it prints, negotiating as the client does
// (OpenMetrics 0.0.1 whenever Accept names OpenMetrics, else text 0.0.4).
const pythonExporter = `
import sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, Info, Enum, make_wsgi_app

r = CollectorRegistry()
c = Counter('requests', 'Requests served.', ['path'], registry=r)
c.labels('/').inc(3)
c.labels('/a"b\\c\nd').inc()
Gauge('temperature_celsius', 'Temperature.', registry=r).set(-3.5)
h = Histogram('latency_seconds', 'Latency.', buckets=(0.1, 1, 10), registry=r)
for v in (0.05, 0.5, 5, 50):
    h.observe(v)
Summary('size_bytes', 'Sizes.', registry=r).observe(512)
Info('build', 'Build information.', registry=r).info({'version': '1.2.3'})
Enum('state', 'Task state.', states=['starting', 'running'], registry=r).state('running')

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server('127.0.0.1', 0, make_wsgi_app(r), handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
`

// TestPythonClientProtocols checks Python's prometheus_client (Debian's
// python3-prometheus-client): it answers OpenMetrics 0.0.1, which
// Prometheus 2 and 3 both ask for, and text 0.0.4 otherwise.
func TestPythonClientProtocols(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Python exporter; skipped in -short mode")
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import prometheus_client").Run(); err != nil {
		t.Skipf("%s with prometheus_client not found (%v): apt-get install python3-prometheus-client", python, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, python, "-c", pythonExporter)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the Python exporter printed no port: %v", err)
	}
	url := "http://127.0.0.1:" + strings.TrimSpace(port) + "/metrics"
	for _, c := range []protocolCase{
		{name: "Prometheus 3", accept: AcceptPrometheus3, protocol: OpenMetricsText0_0_1},
		{name: "Prometheus 2", accept: AcceptPrometheus2, protocol: OpenMetricsText0_0_1},
		{name: "text", accept: "text/plain;version=0.0.4", protocol: PrometheusText0_0_4},
	} {
		t.Run(c.name, func(t *testing.T) {
			report := checkProtocolCase(t, ctx, url, c)
			e := report.Exposition
			if c.protocol == OpenMetricsText0_0_1 {
				// The _created samples of the counter become the start
				// timestamps of its metric.
				requests := e.Family("requests")
				if requests == nil || requests.Samples[0].StartTimestamp == 0 {
					t.Errorf("the counter's _created did not become its start timestamp: %+v", requests)
				}
				if f := e.Family("state"); f == nil || f.Type != "stateset" {
					t.Errorf("the Enum is not a stateset family: %+v", f)
				}
			}
		})
	}
}
