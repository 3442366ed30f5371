package handler

import (
	"net/http"
	"strings"
	"testing"
)

// Accept headers real scrapers send, written out as they send them.
const (
	// prometheus242Accept is what Prometheus 2.42 sends.
	prometheus242Accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	// prometheus3Accept is what a Prometheus 3 server built from v0.316.0
	// sends by default (SPEC.md §4.6).
	prometheus3Accept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	// prometheus3ProtoFirstAccept is what it sends with scrape_protocols
	// starting with PrometheusProto (DefaultProtoFirstScrapeProtocols, as
	// scrape_native_histograms sets them).
	prometheus3ProtoFirstAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
	// specDefaultAccept and specProtoFirstAccept are the examples of
	// content_negotiation.md, which has "/" where Prometheus sends "*/*".
	specDefaultAccept    = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,/;q=0.1"
	specProtoFirstAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4,application/openmetrics-text;version=0.0.1;q=0.3,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.2,text/plain;version=0.0.4;q=0.1,/;q=0.0"
)

// Content-Types the handler must answer with, written out independently of
// the package's table.
const (
	wantText           = "text/plain; version=0.0.4; charset=utf-8"
	wantTextV1         = "text/plain; version=1.0.0; charset=utf-8; escaping="
	wantOpenMetrics    = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping="
	wantOpenMetricsV0  = "application/openmetrics-text; version=0.0.1; charset=utf-8"
	wantOpenMetricsV2  = "application/openmetrics-text; version=2.0.0; charset=utf-8; escaping="
	wantProtobuf       = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
	underscores        = "underscores"
	allowUTF8          = "allow-utf-8"
	prometheus3Single  = ";q=0.7,*/*;q=0.6" // what Prometheus 3 appends to a single scrape protocol
	withAllowUTF8      = ";escaping=allow-utf-8"
	protobufMediaRange = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
)

// protocolCases are the protocols as Prometheus 3 asks for each alone
// (scrape_protocols: [name]), with the Content-Type and body the handler
// must answer with (OpenMetrics 2.0 when enabled).
var protocolCases = []struct {
	name, accept, contentType string
	parsed                    parsedAs
}{
	{"PrometheusProto", protobufMediaRange + prometheus3Single, wantProtobuf, parsedProtobuf},
	{"PrometheusText0.0.4", "text/plain;version=0.0.4" + prometheus3Single, wantText, parsedText},
	{"PrometheusText1.0.0", "text/plain;version=1.0.0" + withAllowUTF8 + prometheus3Single, wantTextV1 + allowUTF8, parsedText},
	{"OpenMetricsText0.0.1", "application/openmetrics-text;version=0.0.1" + prometheus3Single, wantOpenMetricsV0, parsedOpenMetrics},
	{"OpenMetricsText1.0.0", "application/openmetrics-text;version=1.0.0" + withAllowUTF8 + prometheus3Single, wantOpenMetrics + allowUTF8, parsedOpenMetrics},
	{"OpenMetricsText2.0.0", "application/openmetrics-text;version=2.0.0" + withAllowUTF8 + prometheus3Single, wantOpenMetricsV2 + allowUTF8, parsedOpenMetrics2},
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   string // Content-Type
	}{
		// Real scrapers.
		{"no header", nil, wantText},
		{"empty", []string{""}, wantText},
		{"curl", []string{"*/*"}, wantText},
		{"browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, wantText},
		{"Prometheus 2.42", []string{prometheus242Accept}, wantOpenMetrics + underscores},
		{"Prometheus 3", []string{prometheus3Accept}, wantOpenMetrics + allowUTF8},
		{"Prometheus 3 protobuf first", []string{prometheus3ProtoFirstAccept}, wantProtobuf},
		{"spec example", []string{specDefaultAccept}, wantOpenMetrics + allowUTF8},
		{"spec protobuf-first example", []string{specProtoFirstAccept}, wantProtobuf},
		{"Prometheus text only", []string{"text/plain;version=0.0.4;q=1,*/*;q=0.1"}, wantText},

		// Each protocol alone, bare.
		{"text 0.0.4", []string{"text/plain;version=0.0.4"}, wantText},
		{"text 1.0.0", []string{"text/plain;version=1.0.0"}, wantTextV1 + underscores},
		{"OpenMetrics 0.0.1", []string{"application/openmetrics-text;version=0.0.1"}, wantOpenMetricsV0},
		{"OpenMetrics 1.0.0", []string{"application/openmetrics-text;version=1.0.0"}, wantOpenMetrics + underscores},
		{"protobuf", []string{protobufMediaRange}, wantProtobuf},

		// Escaping schemes: named, defaulted, validated.
		{"text 1.0.0 dots", []string{"text/plain;version=1.0.0;escaping=dots"}, wantTextV1 + "dots"},
		{"OpenMetrics values", []string{"application/openmetrics-text;version=1.0.0;escaping=values"}, wantOpenMetrics + "values"},
		{"OpenMetrics underscores", []string{"application/openmetrics-text;version=1.0.0;escaping=underscores"}, wantOpenMetrics + underscores},
		{"unknown scheme skips the range", []string{"application/openmetrics-text;version=1.0.0;escaping=bogus,text/plain;version=1.0.0;q=0.5"}, wantTextV1 + underscores},
		{"scheme names are case-sensitive", []string{"text/plain;version=1.0.0;escaping=Allow-UTF-8"}, wantText},
		{"injection in a scheme", []string{"text/plain;version=1.0.0;escaping=allow-utf-8\r\nX-Evil: 1"}, wantText},
		{"parameter names are case-insensitive", []string{"text/plain;VERSION=1.0.0;ESCAPING=dots;Q=0.5"}, wantTextV1 + "dots"},
		{"quoted scheme", []string{`text/plain; version="1.0.0"; escaping="allow-utf-8"`}, wantTextV1 + allowUTF8},

		// q-values.
		{"q=0 excludes", []string{"application/openmetrics-text;q=0,text/plain;q=0.1"}, wantText},
		{"q=0 beside a wildcard", []string{"application/openmetrics-text;q=0,*/*"}, wantText},
		{"q=0 protobuf beside a wildcard", []string{protobufMediaRange + ";q=0,*/*;q=0.5"}, wantText},
		{"text q=0, wildcard", []string{"text/plain;q=0,*/*"}, wantOpenMetrics + underscores},
		{"everything q=0 falls back to text 0.0.4", []string{"text/plain;q=0,application/*;q=0,*/*;q=0"}, wantText},
		{"everything named q=0 falls back to text 0.0.4", []string{"application/openmetrics-text;q=0,text/plain;version=1.0.0;q=0"}, wantText},
		{"equally specific ranges: the higher q counts", []string{"text/plain;q=0.1,text/plain;q=0.9,application/openmetrics-text;q=0.5"}, wantText},
		{"higher q wins", []string{"text/plain;q=0.9,application/openmetrics-text;q=0.95"}, wantOpenMetrics + underscores},
		{"higher q wins, text", []string{"text/plain,application/openmetrics-text;q=0.5"}, wantText},
		{"higher q wins, protobuf last", []string{"text/plain;version=0.0.4;q=0.2," + protobufMediaRange + ";q=0.3"}, wantProtobuf},
		{"q above 1 is malformed", []string{"application/openmetrics-text;q=2"}, wantText},
		{"malformed q skips the range", []string{"application/openmetrics-text;q=abc,text/plain;version=1.0.0;q=0.1"}, wantTextV1 + underscores},

		// Ties and specificity (RFC 9110 §12.5.1).
		{"tie goes to the first listed", []string{"application/openmetrics-text,text/plain"}, wantOpenMetrics + underscores},
		{"tie goes to the first listed, text", []string{"text/plain,application/openmetrics-text"}, wantText},
		{"tie broken by specificity", []string{"application/*,text/plain"}, wantText},
		{"version beats no version", []string{"text/plain,text/plain;version=1.0.0"}, wantTextV1 + underscores},
		{"the most specific range sets the q", []string{"text/plain;version=0.0.4;q=0,text/plain;q=0.9"}, wantTextV1 + underscores},
		{"application wildcard", []string{"application/*"}, wantOpenMetrics + underscores},
		{"OpenMetrics without version is 1.0.0", []string{"application/openmetrics-text"}, wantOpenMetrics + underscores},
		{"text without version is 0.0.4", []string{"text/plain"}, wantText},
		{"OpenMetrics without version, 1.0.0 refused", []string{"application/openmetrics-text,application/openmetrics-text;version=1.0.0;q=0"}, wantOpenMetricsV0},
		{"case-insensitive type", []string{"Application/OpenMetrics-Text; Version=1.0.0"}, wantOpenMetrics + underscores},
		{"spaces and quotes", []string{`application/openmetrics-text ; version="1.0.0" ; charset=utf-8`}, wantOpenMetrics + underscores},

		// What is not served.
		{"OpenMetrics 2.0 is off by default", []string{"application/openmetrics-text;version=2.0.0"}, wantText},
		{"OpenMetrics 2.0 refused falls to the next", []string{"application/openmetrics-text;version=2.0.0,text/plain;version=1.0.0;q=0.5"}, wantTextV1 + underscores},
		{"unknown version", []string{"text/plain;version=9.9.9"}, wantText},
		{"protobuf text encoding", []string{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"}, wantText},
		{"protobuf other message", []string{"application/vnd.google.protobuf;proto=other.Message;encoding=delimited"}, wantText},
		{"protobuf without parameters", []string{"application/vnd.google.protobuf"}, wantProtobuf},
		{"nothing acceptable", []string{"application/json"}, wantText},

		// Header shapes.
		{"several header lines", []string{"text/plain;q=0.5", "application/openmetrics-text"}, wantOpenMetrics + underscores},
		{"junk elements", []string{",,;;,garbage,application/openmetrics-text"}, wantOpenMetrics + underscores},
	}
	h := NewMetricsHandler()
	for _, tc := range tests {
		got, _ := h.Negotiate(http.Header{"Accept": tc.accept})
		if got != tc.want {
			t.Errorf("%s: Accept %q negotiates %q, want %q", tc.name, tc.accept, got, tc.want)
		}
	}
}

func TestNegotiateOpenMetrics2(t *testing.T) {
	tests := []struct {
		accept, want string
	}{
		{"application/openmetrics-text;version=2.0.0", wantOpenMetricsV2 + underscores},
		{"application/openmetrics-text;version=2.0.0;escaping=allow-utf-8;q=0.7,*/*;q=0.6", wantOpenMetricsV2 + allowUTF8},
		// Only when asked for by version: exposers default to 1.0.0.
		{"application/openmetrics-text", wantOpenMetrics + underscores},
		{"application/*", wantOpenMetrics + underscores},
		{"*/*", wantText},
		{prometheus3Accept, wantOpenMetrics + allowUTF8},
		{"application/openmetrics-text;version=2.0.0;q=0,application/openmetrics-text;version=1.0.0;q=0.1", wantOpenMetrics + underscores},
	}
	h := NewMetricsHandler(WithOpenMetrics2())
	for _, tc := range tests {
		if got, _ := h.Negotiate(http.Header{"Accept": {tc.accept}}); got != tc.want {
			t.Errorf("Accept %q negotiates %q, want %q", tc.accept, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		acceptEncoding []string
		want           bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip, deflate, br"}, true},
		{[]string{"zstd,gzip"}, true}, // Prometheus 3 with zstd enabled
		{[]string{"br, deflate"}, false},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip;q=0.0"}, false},
		{[]string{"gzip;q=0, identity"}, false},
		{[]string{"gzip;q=0.001"}, true},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"*, gzip;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"gzip;q=0.5, identity"}, false},
		{[]string{"gzip, identity;q=0.5"}, true},
		{[]string{"gzip;q=0.5, *"}, false},
		{[]string{"gzip;q=0.5, identity;q=0"}, true},
		{[]string{"gzip;q=bad"}, false},
		{[]string{"deflate", "gzip"}, true},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.acceptEncoding); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.acceptEncoding, got, tc.want)
		}
	}
}

func TestParseQ(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1000, true},
		{"1.", 1000, true},
		{"1.000", 1000, true},
		{"0", 0, true},
		{"0.", 0, true},
		{"0.5", 500, true},
		{"0.75", 750, true},
		{"0.001", 1, true},
		{"1.001", 0, false},
		{"0.0001", 0, false},
		{"2", 0, false},
		{".5", 0, false},
		{"", 0, false},
		{"0,5", 0, false},
		{"0.5x", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseQ(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseQ(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// hostileAccepts are Accept headers built to cost: a megabyte of ranges,
// of parameters, of one token, of separators, of q-values.
func hostileAccepts() map[string]string {
	return map[string]string{
		"100k ranges":        strings.Repeat("text/plain;version=1.0.0;escaping=dots;q=0.5,", 100_000),
		"one huge parameter": "application/openmetrics-text;version=" + strings.Repeat("1", 1<<20),
		"a megabyte of ;":    "text/plain" + strings.Repeat(";", 1<<20),
		"a megabyte of ,":    strings.Repeat(",", 1<<20),
		"a megabyte of /":    strings.Repeat("/", 1<<20),
		"many q":             "text/plain" + strings.Repeat(";q=0.1", 1<<17),
		"NUL and high bytes": strings.Repeat("\x00\xff/\xfe;q=\x80,", 1<<16),
	}
}

// TestNegotiationDoesNotAllocate checks that negotiating costs no
// allocation, for real scrapers' headers and for hostile ones of a megabyte
// (net/http's default limit for all headers), and that hostile headers
// still get an answer (the last resort, or a protocol they named).
func TestNegotiationDoesNotAllocate(t *testing.T) {
	h := NewMetricsHandler(WithOpenMetrics2())
	headers := map[string]string{
		"Prometheus 2.42": prometheus242Accept,
		"Prometheus 3":    prometheus3Accept,
		"protobuf first":  prometheus3ProtoFirstAccept,
	}
	for name, accept := range hostileAccepts() {
		headers[name] = accept
	}
	for name, accept := range headers {
		header := http.Header{"Accept": {accept}, "Accept-Encoding": {"gzip;q=0.9, deflate, identity;q=0.5"}}
		var ct string
		allocs := testing.AllocsPerRun(3, func() { ct, _ = h.Negotiate(header) })
		if allocs != 0 {
			t.Errorf("%s: %v allocs per negotiation, want 0", name, allocs)
		}
		if ct == "" {
			t.Errorf("%s: no Content-Type", name)
		}
	}
}

// TestServeHostileAccept serves the hostile Accept headers: each gets a
// well-formed answer from the last resort or a protocol it named, and
// serving it again allocates nothing (a header too long to remember is
// negotiated afresh, without allocating).
func TestServeHostileAccept(t *testing.T) {
	h, _ := newServing(t)
	w := &discardWriter{header: http.Header{}}
	for name, accept := range hostileAccepts() {
		req, err := http.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		h.ServeHTTP(w, req)
		ct := w.header.Get("Content-Type")
		if ct != wantText && ct != wantTextV1+"dots" {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if allocs := testing.AllocsPerRun(3, func() { h.ServeHTTP(w, req) }); allocs != 0 {
			t.Errorf("%s: %v allocs per scrape, want 0", name, allocs)
		}
	}
}

// TestHandlerRemembersNegotiation alternates Accept headers through one
// scratch's memo, more of them than it holds, so that remembered answers
// are hit, replaced and mixed, and checks every answer against a fresh
// negotiation.
func TestHandlerRemembersNegotiation(t *testing.T) {
	headers := [][]string{
		{"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"},
		{"text/plain;version=0.0.4"},
		{prometheus242Accept},
		{prometheus3Accept},
		{prometheus3ProtoFirstAccept},
		{"application/openmetrics-text;q=0"},
		{"text/plain;version=1.0.0;escaping=dots"},
		{"text/plain", "application/openmetrics-text"},
		{strings.Repeat("x", maxMemoAccept) + ",application/openmetrics-text"},
		nil,
	}
	for _, om2 := range []bool{false, true} {
		var m acceptMemo
		for round := range 3 {
			for i, accept := range headers {
				for _, a := range [][]string{accept, accept, headers[(i+round)%len(headers)]} {
					if got, want := m.negotiate(a, om2), negotiate(a, om2); got != want {
						t.Fatalf("round %d: Accept %q: remembered %v, negotiated %v", round, a, got, want)
					}
				}
			}
		}
		if m.n != memoEntries {
			t.Errorf("%d memo entries in use after %d distinct headers, want %d", m.n, len(headers), memoEntries)
		}
	}
}

func BenchmarkNegotiate(b *testing.B) {
	for name, accept := range map[string]string{"Prometheus3": prometheus3Accept, "ProtoFirst": prometheus3ProtoFirstAccept} {
		b.Run(name, func(b *testing.B) {
			a := []string{accept}
			b.ReportAllocs()
			for b.Loop() {
				negotiate(a, false)
			}
		})
	}
}
