package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// The Accept headers of Prometheus servers, written out from SPEC.md §4.6
// independently of the engine's constants.
const (
	prometheus2Accept      = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	prometheus3Accept      = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	prometheus3ProtoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)

// --accept sends, in every round of scrapes and in the order given, the
// Accept header each value names: the presets byte for byte as the
// servers send them, a protocol list as Prometheus 3 would build it.
func TestAcceptChoices(t *testing.T) {
	rec := &recorder{next: scrapetest.Good()}
	srv := server(t, rec)
	r := promcheck(t, "", "check", "--schema", "none", "--output", "json", "--scrapes", "2", "--interval", "0s",
		"--accept", "prometheus2", "--accept", "prometheus3", "--accept", "prometheus3-proto",
		"--accept", "PrometheusProto,OpenMetricsText1.0.0,PrometheusText0.0.4", "--accept", "both",
		"--accept", "text", // already asked by both: once per round
		srv.URL)
	if r.code == exitCannotCheck {
		t.Fatalf("could not check:\n%s", r)
	}
	want := []struct{ name, header string }{
		{"prometheus2", prometheus2Accept},
		{"prometheus3", prometheus3Accept},
		{"prometheus3-proto", prometheus3ProtoAccept},
		{"PrometheusProto,OpenMetricsText1.0.0,PrometheusText0.0.4", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"},
		{"text", "text/plain;version=0.0.4"},
		{"openmetrics", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5"},
	}
	h := rec.headers()
	scrapes := decodeJSON(t, r).Targets[0].Scrapes
	if len(h) != 2*len(want) || len(scrapes) != len(h) {
		t.Fatalf("%d requests, %d scrapes reported; want %d", len(h), len(scrapes), 2*len(want))
	}
	for i := range h {
		w := want[i%len(want)]
		if got := h[i].Values("Accept"); len(got) != 1 || got[0] != w.header {
			t.Errorf("request %d (--accept %s): Accept %q, want %q", i, w.name, got, w.header)
		}
		if s := scrapes[i]; s.Accept != w.name || s.AcceptHeader != w.header {
			t.Errorf("scrape %d: reported as --accept %q with Accept %q, want %q with %q", i, s.Accept, s.AcceptHeader, w.name, w.header)
		}
	}
}

// An Accept header given with --header is sent as given, every line,
// instead of --accept's; so is Accept-Encoding instead of gzip.
func TestHeaderAcceptSentAsGiven(t *testing.T) {
	rec := &recorder{next: scrapetest.Good()}
	srv := server(t, rec)
	r := promcheck(t, "", "check", "--schema", "none", "--accept", "both", "--output", "json",
		"--header", "Accept: text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5",
		"--header", "Accept: text/plain;version=0.0.4;q=0.2",
		"--header", "Accept-Encoding: identity", srv.URL)
	wantExit(t, r, exitConforms)
	h := rec.headers()
	if len(h) != 1 {
		t.Fatalf("%d requests, want 1: the header replaces --accept both", len(h))
	}
	if got := h[0].Values("Accept"); len(got) != 2 || got[0] != "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5" || got[1] != "text/plain;version=0.0.4;q=0.2" {
		t.Errorf("Accept lines sent: %q", got)
	}
	if got := h[0].Values("Accept-Encoding"); len(got) != 1 || got[0] != "identity" {
		t.Errorf("Accept-Encoding lines sent: %q", got)
	}
	s := decodeJSON(t, r).Targets[0].Scrapes[0]
	if s.Accept != "header" || s.AcceptHeader != "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5, text/plain;version=0.0.4;q=0.2" {
		t.Errorf("scrape reported as --accept %q with Accept %q", s.Accept, s.AcceptHeader)
	}
	// Asked for no compression and given none: nothing to report.
	if len(s.Findings) != 0 {
		t.Errorf("findings: %+v", s.Findings)
	}
	r = promcheck(t, "", "check", "--schema", "none", "--header", "Accept: */*", srv.URL)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "scrape (Accept from --header): ")
}

// prometheus3Blind answers OpenMetrics only to an OpenMetrics range
// without an escaping parameter, as Prometheus 2 writes it, and text 0.0.4
// to everything else, Prometheus 3's header included: it can serve
// OpenMetrics, and does not when Prometheus 3 prefers it.
func prometheus3Blind() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
		if strings.HasPrefix(first, "application/openmetrics-text") && !strings.Contains(first, "escaping=") {
			scrapetest.Serve(200, scrapetest.ContentTypeOpenMetrics, scrapetest.OpenMetrics).ServeHTTP(w, r)
			return
		}
		scrapetest.IgnoresAccept().ServeHTTP(w, r)
	})
}

// http.negotiation-preference warns a target that showed, in another
// scrape of the run, that it can serve the protocol Accept preferred, in
// whichever order the scrapes came; a target that only serves text is
// never warned.
func TestServedProtocolsAcrossScrapes(t *testing.T) {
	blind := server(t, prometheus3Blind()).URL
	textOnly := server(t, scrapetest.IgnoresAccept()).URL
	for _, c := range []struct {
		name     string
		url      string
		args     []string
		code     int
		warnedAt []string // the scrapes warned, by name and --accept
	}{
		{"OpenMetrics seen first", blind, []string{"--accept", "openmetrics", "--accept", "prometheus3"}, exitViolations,
			[]string{"scrape prometheus3"}},
		{"OpenMetrics seen after", blind, []string{"--accept", "prometheus3", "--accept", "openmetrics"}, exitViolations,
			[]string{"scrape prometheus3"}},
		{"two rounds", blind, []string{"--accept", "prometheus3", "--accept", "openmetrics", "--scrapes", "2"}, exitViolations,
			[]string{"scrape 1/2 prometheus3", "scrape 2/2 prometheus3"}},
		{"never seen", blind, []string{"--accept", "prometheus3", "--scrapes", "2"}, exitConforms, nil},
		{"text only", textOnly, []string{"--accept", "both", "--accept", "prometheus3", "--accept", "prometheus3-proto"}, exitConforms, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"check", "--schema", "none", "--strict", "--interval", "0s", "--output", "json"}, c.args...)
			r := promcheck(t, "", append(args, c.url)...)
			wantExit(t, r, c.code)
			var warned []string
			for _, s := range decodeJSON(t, r).Targets[0].Scrapes {
				for _, f := range s.Findings {
					switch {
					case f.Rule == "http.negotiation-preference" && f.Severity == "warning":
						warned = append(warned, s.Name+" "+s.Accept)
						if !strings.Contains(f.Message, "prefers OpenMetricsText1.0.0 (q=0.7)") {
							t.Errorf("%s: %s", s.Name, f.Message)
						}
					case f.Rule != "http.content-encoding-preference":
						t.Errorf("%s (%s): unexpected finding %+v", s.Name, s.Accept, f)
					}
				}
			}
			if strings.Join(warned, "; ") != strings.Join(c.warnedAt, "; ") {
				t.Errorf("warned %q, want %q", warned, c.warnedAt)
			}
		})
	}
	// Judged again at the end, the finding counts against --max-findings
	// like any other: the first listed, the second counted.
	r := promcheck(t, "", "check", "--schema", "none", "--interval", "0s", "--scrapes", "2", "--max-findings", "1",
		"--accept", "prometheus3", "--accept", "openmetrics", blind)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "warning http.negotiation-preference: ", "and 1 more like this: warning http.negotiation-preference", "2 warnings")
}

// quotedText is a text exposition with UTF-8 names, quoted as text 1.0.0
// writes them (and client_golang and the OpenTelemetry exporter send them
// under escaping=allow-utf-8).
const quotedText = `# HELP "http.server.requests" Requests served.
# TYPE "http.server.requests" counter
{"http.server.requests","http.request.method"="get"} 171
`

// openMetrics001 is OpenMetrics as Python's prometheus_client writes it
// when Prometheus asks for OpenMetrics: version 0.0.1.
const openMetrics001 = `# HELP jobs Jobs processed.
# TYPE jobs counter
jobs_total{queue="a"} 3.0
jobs_created{queue="a"} 1.7e+09
# EOF
`

// openMetrics2 is OpenMetrics 2.0 (rc): a native histogram as a composite
// value, a start timestamp, a quoted UTF-8 name.
const openMetrics2 = `# TYPE acme_http_request_seconds histogram
acme_http_request_seconds{path="/api/v1"} {count:59,sum:1.2e2,schema:7,zero_threshold:1e-4,zero_count:0,negative_spans:[1:2],negative_buckets:[5,7],positive_spans:[-1:2,3:4],positive_buckets:[5,7,10,9,8,8]} st@1520430000.123
# TYPE "foodb.read.errors" counter
{"foodb.read.errors","service.name"="my_service"} 3482
# EOF
`

// Protobuf bodies, written with client_model's types.
var (
	protoGood = delimited(counterFamily("jobs_total", 3), nativeFamily("rpc_duration_seconds", &dto.Histogram{
		SampleCount: proto.Uint64(3), SampleSum: proto.Float64(1.5), Schema: proto.Int32(1), ZeroThreshold: proto.Float64(1e-6),
		PositiveSpan: []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(2)}}, PositiveDelta: []int64{1, 1}, // 1, 2
	}))
	// The histogram's count is 10, its buckets hold 3.
	protoBrokenNative = delimited(counterFamily("jobs_total", 3), nativeFamily("rpc_duration_seconds", &dto.Histogram{
		SampleCount: proto.Uint64(10), SampleSum: proto.Float64(1.5), Schema: proto.Int32(1), ZeroThreshold: proto.Float64(1e-6),
		PositiveSpan: []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(2)}}, PositiveDelta: []int64{1, 1},
	}))
	protoNegativeCounter = delimited(counterFamily("jobs_total", -4))
)

func delimited(families ...*dto.MetricFamily) []byte {
	var b bytes.Buffer
	for _, f := range families {
		if _, err := protodelim.MarshalTo(&b, f); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

func counterFamily(name string, value float64) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String("A counter."), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(value)}}}}
}

func nativeFamily(name string, h *dto.Histogram) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String("A native histogram."), Type: dto.MetricType_HISTOGRAM.Enum(),
		Metric: []*dto.Metric{{Histogram: h}}}
}

// Files and stdin are judged by the protocol --content-type names (or
// parsed as --format says): quoted names are legal in text 1.0.0 under
// escaping=allow-utf-8 and an error in what a Prometheus 2 scraper is
// served; OpenMetrics 0.0.1, OpenMetrics 2.0 and protobuf are judged as
// their specs say.
func TestFilesByContentType(t *testing.T) {
	for _, c := range []struct {
		name, body string
		args       []string
		code       int
		format     string
		protocol   string
		escaping   string
		errors     []string // the rules of the errors, in order
	}{
		{"quoted names, text 1.0.0 allow-utf-8", quotedText, []string{"--content-type", "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"}, exitConforms, "text", "PrometheusText1.0.0", "allow-utf-8", nil},
		{"quoted names sniffed", quotedText, nil, exitConforms, "text", "", "", nil},
		{"quoted names --format text", quotedText, []string{"--format", "text"}, exitConforms, "text", "", "", nil},
		{"quoted names served to Prometheus 2", quotedText, []string{"--content-type", "text/plain; version=0.0.4; charset=utf-8"}, exitViolations, "text", "PrometheusText0.0.4", "", []string{"spec.quoted-name"}},
		{"quoted names under escaping=underscores", quotedText, []string{"--content-type", "text/plain; version=1.0.0; escaping=underscores"}, exitViolations, "text", "PrometheusText1.0.0", "underscores", []string{"spec.quoted-name"}},
		{"OpenMetrics 0.0.1", openMetrics001, []string{"--content-type", "application/openmetrics-text; version=0.0.1; charset=utf-8"}, exitConforms, "openmetrics", "OpenMetricsText0.0.1", "", nil},
		{"OpenMetrics 2.0 by Content-Type", openMetrics2, []string{"--content-type", "application/openmetrics-text; version=2.0.0; charset=utf-8"}, exitConforms, "openmetrics2", "OpenMetricsText2.0.0", "", nil},
		{"OpenMetrics 2.0 by --format", openMetrics2, []string{"--format", "openmetrics2"}, exitConforms, "openmetrics2", "", "", nil},
		{"OpenMetrics 2.0 broken native histogram", strings.Replace(openMetrics2, "count:59", "count:60", 1), []string{"--format", "openmetrics2"}, exitViolations, "openmetrics2", "", "", []string{"format.rejected"}},
		{"OpenMetrics 2.0 read as 1.0", openMetrics2, []string{"--format", "openmetrics"}, exitViolations, "openmetrics", "", "", []string{"format.rejected"}},
		{"protobuf sniffed", string(protoGood), nil, exitConforms, "protobuf", "", "", nil},
		{"protobuf by Content-Type", string(protoGood), []string{"--content-type", check.ContentTypeProtobuf}, exitConforms, "protobuf", "PrometheusProto", "", nil},
		{"protobuf by --format", string(protoGood), []string{"--format", "protobuf"}, exitConforms, "protobuf", "", "", nil},
		{"protobuf broken native histogram", string(protoBrokenNative), []string{"--content-type", check.ContentTypeProtobuf}, exitViolations, "protobuf", "PrometheusProto", "", []string{"spec.native-histogram"}},
		{"protobuf negative counter", string(protoNegativeCounter), []string{"--content-type", check.ContentTypeProtobuf}, exitViolations, "protobuf", "PrometheusProto", "", []string{"spec.counter-value"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "exposition", c.body)
			args := append(append([]string{"check", "--schema", "none", "--output", "json"}, c.args...), path)
			for _, run := range []struct{ stdin, target string }{{"", path}, {c.body, "-"}} {
				args[len(args)-1] = run.target
				r := promcheck(t, run.stdin, args...)
				wantExit(t, r, c.code)
				s := decodeJSON(t, r).Targets[0].Scrapes[0]
				if s.Format != c.format || s.Protocol != c.protocol || s.Escaping != c.escaping {
					t.Errorf("%s: format %q, protocol %q, escaping %q; want %q, %q, %q", run.target, s.Format, s.Protocol, s.Escaping, c.format, c.protocol, c.escaping)
				}
				var errors []string // each rule once
				for _, f := range s.Findings {
					if f.Severity == "error" && !slices.Contains(errors, f.Rule) {
						errors = append(errors, f.Rule)
					}
				}
				if strings.Join(errors, " ") != strings.Join(c.errors, " ") {
					t.Errorf("%s: errors %v, want %v: %+v", run.target, errors, c.errors, s.Findings)
				}
			}
		})
	}
}

// A protobuf finding names its message (protobuf has no lines) in every
// output format.
func TestProtobufMessageIndexEveryFormat(t *testing.T) {
	path := writeFile(t, "broken.pb", string(protoBrokenNative))
	args := func(output string) []string {
		return []string{"check", "--schema", "none", "--content-type", check.ContentTypeProtobuf, "--output", output, path}
	}
	r := promcheck(t, "", args("text")...)
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "broken.pb\n  exposition: PrometheusProto, ", "      message 2: error spec.native-histogram: ")

	r = promcheck(t, "", args("json")...)
	wantExit(t, r, exitViolations)
	var native int
	for _, f := range decodeJSON(t, r).Targets[0].Scrapes[0].Findings {
		if f.Rule == "spec.native-histogram" {
			native++
			if f.MessageIndex != 2 || f.Line != 0 || f.Family != "rpc_duration_seconds" {
				t.Errorf("JSON finding %+v, want message_index 2 and no line", f)
			}
		}
	}
	if native == 0 {
		t.Errorf("JSON: no spec.native-histogram finding")
	}

	r = promcheck(t, "", args("junit")...)
	wantExit(t, r, exitViolations)
	suite := parseJUnit(t, r).Suites[0]
	if len(suite.Cases) == 0 || suite.Cases[0].Failure == nil || !strings.Contains(suite.Cases[0].Failure.Text, "message 2: error spec.native-histogram: ") {
		t.Errorf("JUnit: %+v", suite)
	}
	if len(suite.Properties) != 1 || suite.Properties[0].Value != path+": PrometheusProto" {
		t.Errorf("JUnit properties: %+v", suite.Properties)
	}

	r = promcheck(t, "", args("github")...)
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "::error file="+path+",title=spec.native-histogram::"+path+" [PrometheusProto] message 2: ")
}

// utf8Emitter is client_golang 1.25 with UTF-8 names (as OpenTelemetry's
// conventions name them) and a native histogram that also has classic
// buckets, served by promhttp with OpenMetrics on.
func utf8Emitter(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http.server.requests", Help: "Requests served."}, []string{"http.request.method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http.server.request.duration", Help: "Request latency.", Buckets: []float64{0.01, 0.1, 1},
		NativeHistogramBucketFactor: 1.1,
	}, []string{"http.route"})
	reg.MustRegister(requests, duration)
	for i, method := range []string{"GET", "POST"} {
		requests.WithLabelValues(method).Add(float64(10 * (i + 1)))
		for v := 0.001; v < 5; v *= 3 {
			duration.WithLabelValues("/api/" + method).Observe(v)
		}
	}
	return server(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})).URL + "/metrics"
}

// fetch GETs url, uncompressed, with accept unless it is empty, within 5
// seconds, and returns the body and its Content-Type.
func fetch(t *testing.T, url, accept string) ([]byte, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
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
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, resp.Header.Get("Content-Type")
}

// Issue 12's "done when", from the command line: client_golang 1.25's
// quoted UTF-8 names, OpenMetrics 0.0.1 and protobuf with native
// histograms, asked for with Prometheus 3's Accept headers, pass over HTTP
// and from files with the Content-Type they were served with; a Prometheus
// 2 scraper's request answered with quoted names, a broken native
// histogram and a negative counter in protobuf fail, over HTTP as from
// files.
func TestPrometheus3ProtocolsEndToEnd(t *testing.T) {
	emitter := utf8Emitter(t)
	for _, c := range []struct {
		name               string
		args               []string // how promcheck asks
		header             string   // the Accept header that sends
		protocol, escaping string   // what client_golang answers
		quoted             bool     // with quoted UTF-8 names
	}{
		{"prometheus3", []string{"--accept", "prometheus3"}, prometheus3Accept, "OpenMetricsText1.0.0", "allow-utf-8", true},
		{"prometheus3-proto", []string{"--accept", "prometheus3-proto"}, prometheus3ProtoAccept, "PrometheusProto", "underscores", false},
		{"OpenMetricsText0.0.1", []string{"--accept", "OpenMetricsText0.0.1"}, "application/openmetrics-text;version=0.0.1;q=0.7,*/*;q=0.6", "OpenMetricsText0.0.1", "underscores", false},
		// client_golang has no text 1.0.0: asked for it, it answers text
		// 0.0.4 with escaped names; asked for UTF-8 names in 0.0.4, it
		// quotes them there and says escaping=allow-utf-8.
		{"PrometheusText1.0.0", []string{"--accept", "PrometheusText1.0.0,PrometheusText0.0.4"}, "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.7,text/plain;version=0.0.4;q=0.6,*/*;q=0.5", "PrometheusText0.0.4", "underscores", false},
		{"text allow-utf-8", []string{"--header", "Accept: text/plain;version=0.0.4;escaping=allow-utf-8"}, "text/plain;version=0.0.4;escaping=allow-utf-8", "PrometheusText0.0.4", "allow-utf-8", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"check", "--schema", "none", "--output", "json"}, c.args...)
			r := promcheck(t, "", append(args, emitter)...)
			wantExit(t, r, exitConforms)
			s := decodeJSON(t, r).Targets[0].Scrapes[0]
			if s.AcceptHeader != c.header || s.Protocol != c.protocol || s.Escaping != c.escaping {
				t.Errorf("over HTTP: Accept %q answered as %s escaping=%q, want %q answered as %s escaping=%q", s.AcceptHeader, s.Protocol, s.Escaping, c.header, c.protocol, c.escaping)
			}
			for _, f := range s.Findings {
				if f.Severity == "error" {
					t.Errorf("over HTTP: false error %+v", f)
				}
			}

			// The same body from a file, with the Content-Type it came with.
			body, contentType := fetch(t, emitter, c.header)
			if c.quoted != bytes.Contains(body, []byte(`{"http.server.requests"`)) {
				t.Errorf("quoted names in the body: %v, want %v", !c.quoted, c.quoted)
			}
			if c.protocol == "PrometheusProto" && !bytes.Contains(body, []byte("http_server_request_duration")) {
				t.Errorf("the protobuf body has no histogram")
			}
			path := writeFile(t, "exposition", string(body))
			r = promcheck(t, "", "check", "--schema", "none", "--output", "json", "--content-type", contentType, path)
			wantExit(t, r, exitConforms)
			if s := decodeJSON(t, r).Targets[0].Scrapes[0]; s.Protocol != c.protocol || s.Escaping != c.escaping || s.ContentType != contentType {
				t.Errorf("from a file: %+v", s)
			}
		})
	}

	// Every way at once: what one way served is evidence for the others,
	// and client_golang serves each protocol where it is preferred.
	r := promcheck(t, "", "check", "--schema", "none", "--accept", "prometheus3", "--accept", "prometheus3-proto",
		"--accept", "OpenMetricsText0.0.1", "--accept", "prometheus2", emitter)
	wantExit(t, r, exitConforms)
	if strings.Contains(r.stdout, "http.negotiation") {
		t.Errorf("a negotiation finding on client_golang:\n%s", r.stdout)
	}
}

// The three violations issue 12 names are caught over HTTP as from files.
func TestPrometheus3ViolationsCaught(t *testing.T) {
	quoted := server(t, scrapetest.Serve(200, "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8", quotedText)).URL
	native := server(t, scrapetest.Serve(200, check.ContentTypeProtobuf, string(protoBrokenNative))).URL
	negative := server(t, scrapetest.Serve(200, check.ContentTypeProtobuf, string(protoNegativeCounter))).URL
	for _, c := range []struct {
		name, url, accept, rule string
	}{
		// Prometheus 2 never asks for UTF-8 names: it fails the scrape.
		{"quoted names to Prometheus 2", quoted, "prometheus2", "http.escaping"},
		{"broken native histogram", native, "prometheus3-proto", "spec.native-histogram"},
		{"negative protobuf counter", negative, "prometheus3-proto", "spec.counter-value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := promcheck(t, "", "check", "--schema", "none", "--accept", c.accept, c.url)
			wantExit(t, r, exitViolations)
			if !regexp.MustCompile(`(?m)^ +(line \d+: |message \d+: )?error ` + regexp.QuoteMeta(c.rule) + `: `).MatchString(r.stdout) {
				t.Errorf("no %s error:\n%s", c.rule, r.stdout)
			}
		})
	}
	// The same quoted names, served under Prometheus 3's header, pass.
	r := promcheck(t, "", "check", "--schema", "none", "--accept", "prometheus3", quoted)
	wantExit(t, r, exitConforms)
}

// openMetrics001Target negotiates as Python's prometheus_client does:
// OpenMetrics 0.0.1 whenever Accept names OpenMetrics, else text 0.0.4.
func openMetrics001Target() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "application/openmetrics-text") {
			scrapetest.Serve(200, "application/openmetrics-text; version=0.0.1; charset=utf-8", openMetrics001).ServeHTTP(w, r)
			return
		}
		scrapetest.Serve(200, "text/plain; version=0.0.4; charset=utf-8", "# HELP jobs_total Jobs processed.\n# TYPE jobs_total counter\njobs_total{queue=\"a\"} 3\n").ServeHTTP(w, r)
	})
}

// OpenMetrics 0.0.1 is what Prometheus 2 and 3 ask for after 1.0.0, and so
// does --accept openmetrics: a target that serves only 0.0.1 conforms,
// strictly, however promcheck asks.
func TestOpenMetrics001Target(t *testing.T) {
	url := server(t, openMetrics001Target()).URL
	r := promcheck(t, "", "check", "--schema", "none", "--strict", "--output", "json",
		"--accept", "both", "--accept", "prometheus2", "--accept", "prometheus3", url)
	wantExit(t, r, exitConforms)
	var protocols []string
	for _, s := range decodeJSON(t, r).Targets[0].Scrapes {
		protocols = append(protocols, s.Protocol)
		for _, f := range s.Findings {
			if f.Rule != "http.content-encoding-preference" {
				t.Errorf("%s (%s): %+v", s.Name, s.Accept, f)
			}
		}
	}
	if got, want := strings.Join(protocols, " "), "PrometheusText0.0.4 OpenMetricsText0.0.1 OpenMetricsText0.0.1 OpenMetricsText0.0.1"; got != want {
		t.Errorf("served %s, want %s", got, want)
	}
}

// OpenMetrics 2.0 (rc, experimental) over HTTP: judged when the request
// named version=2.0.0 and the answer says so, a broken native histogram in
// its composite values caught; served to a request that did not name it,
// it is an error (Prometheus parses it only when it asked).
func TestOpenMetrics2OverHTTP(t *testing.T) {
	dc := counters.NewDeployCounters()
	for _, tt := range []string{"Apache", "NGINX"} {
		dc.Record(tt, counters.OutcomeSucceeded)
		dc.Record(tt, counters.OutcomeSkipped)
	}
	reference := handler.NewMetricsHandler(handler.WithOpenMetrics2())
	reference.SetDeployCounters(dc)
	const om2 = "application/openmetrics-text; version=2.0.0; charset=utf-8"
	for _, c := range []struct {
		name    string
		h       http.Handler
		args    []string
		code    int
		pattern string
	}{
		{"the reference emitter", reference, []string{"--strict", "--accept", "OpenMetricsText2.0.0"}, exitConforms,
			`scrape \(Accept OpenMetricsText2.0.0\): OpenMetricsText2.0.0 escaping=allow-utf-8, HTTP 200, 16 samples in 6 families: no findings\n`},
		{"native histogram and quoted names", scrapetest.Serve(200, om2, openMetrics2), []string{"--schema", "none", "--accept", "OpenMetricsText2.0.0"}, exitConforms,
			`scrape \(Accept OpenMetricsText2.0.0\): OpenMetricsText2.0.0, HTTP 200, 2 samples in 2 families: conforms, 0 errors`},
		{"broken native histogram", scrapetest.Serve(200, om2, strings.Replace(openMetrics2, "count:59", "count:60", 1)), []string{"--schema", "none", "--accept", "OpenMetricsText2.0.0"}, exitViolations,
			`error format.rejected: `},
		{"not asked for", scrapetest.Serve(200, om2, openMetrics2), []string{"--schema", "none", "--accept", "prometheus3"}, exitViolations,
			`error http.content-type: Content-Type "application/openmetrics-text; version=2.0.0; charset=utf-8" is OpenMetrics 2.0`},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := server(t, c.h).URL
			r := promcheck(t, "", append(append([]string{"check"}, c.args...), url)...)
			wantExit(t, r, c.code)
			if !regexp.MustCompile(c.pattern).MatchString(r.stdout) {
				t.Errorf("report does not match %q:\n%s", c.pattern, r.stdout)
			}
		})
	}
}
