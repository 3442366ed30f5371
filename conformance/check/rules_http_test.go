package check

import (
	"net/http"
	"strings"
	"testing"
)

// httpCheck checks a good deploy body served with the given response
// header and facts.
func httpCheck(t *testing.T, facts HTTPFacts, header ...string) *Report {
	t.Helper()
	facts.Header = http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		facts.Header.Set(header[i], header[i+1])
	}
	if facts.StatusCode == 0 {
		facts.StatusCode = http.StatusOK
	}
	body := deployBody(FormatText, DefaultNamespace, []string{"NGINX"}, 1)
	return Check(Input{Body: []byte(body), ContentType: facts.Header.Get("Content-Type"), HTTP: &facts}, NewOptions())
}

func TestHTTPRulesNeedHTTPFacts(t *testing.T) {
	r := Check(Input{Body: []byte("not: an exposition\n")}, NewOptions())
	if got := r.Rule("http.*"); len(got) != 0 {
		t.Errorf("no HTTP facts (a file): want no http findings, got %v", got)
	}
}

func TestHTTPStatusSilencesTheRest(t *testing.T) {
	r := httpCheck(t, HTTPFacts{StatusCode: 503, TooLarge: true}) // no Content-Type either
	if got := r.Rule("http.*"); len(got) != 1 || got[0].Rule != "http.status" || !strings.Contains(got[0].Message, "503 Service Unavailable") {
		t.Errorf("want only http.status naming 503, got %v", got)
	}
}

func TestHTTPScraperFacts(t *testing.T) {
	r := httpCheck(t, HTTPFacts{TooLarge: true, Limit: 4096, AcceptEncoding: "gzip", DecodeError: "gzip: invalid header"},
		"Content-Type", ContentTypeText, "Content-Encoding", "gzip")
	if got := r.Rule("http.too-large"); len(got) != 1 || !strings.Contains(got[0].Message, "4096 bytes") {
		t.Errorf("want http.too-large naming the limit, got %v", got)
	}
	if got := r.Rule("http.content-encoding"); len(got) != 1 || !strings.Contains(got[0].Message, "gzip: invalid header") {
		t.Errorf("want http.content-encoding quoting the decode error, got %v", got)
	}
}

func TestHTTPGoodResponse(t *testing.T) {
	r := httpCheck(t, HTTPFacts{Accept: "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.9", AcceptEncoding: "identity"},
		"Content-Type", ContentTypeText)
	if got := r.Rule("http.*"); len(got) != 0 {
		t.Errorf("text preferred and served: want no http findings, got %v", got)
	}
}

func TestAcceptQ(t *testing.T) {
	const prometheus = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
	tests := []struct {
		accept, mediaType, version string
		namedOnly                  bool
		q                          float64
		named                      bool
	}{
		{prometheus, "application/openmetrics-text", "1.0.0", false, 0.6, true},
		{prometheus, "application/openmetrics-text", "0.0.1", false, 0.5, true},
		{prometheus, "text/plain", "0.0.4", false, 0.3, true},
		{prometheus, "text/plain", "1.0.0", false, 0.4, true},
		{prometheus, "application/json", "", false, 0.2, true}, // */*
		{prometheus, "application/json", "", true, 0, false},
		{"text/plain", "text/plain", "0.0.4", false, 1, true},
		{"text/*;q=0.4, */*;q=0.9", "text/plain", "0.0.4", false, 0.4, true}, // the more specific range wins
		{"text/plain;version=0.0.4", "text/plain", "1.0.0", false, 0, false},
		{"text/plain;q=0, */*", "text/plain", "0.0.4", false, 0, true},
		{"text/plain;q=bogus", "text/plain", "0.0.4", false, 1, true},
		{"garbage;;, text/plain;q=0.5", "text/plain", "0.0.4", false, 0.5, true},
		// Protobuf matches on its message and encoding, not a version.
		{AcceptPrometheus3Proto, mediaProtobuf, "", false, 0.7, true},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text, */*;q=0.1", mediaProtobuf, "", false, 0.1, true},
		{"application/vnd.google.protobuf;q=0.5", mediaProtobuf, "", true, 0.5, true},
		{AcceptPrometheus3, mediaProtobuf, "", false, 0.3, true},
		{AcceptPrometheus3, mediaProtobuf, "", true, 0, false},
	}
	for _, tt := range tests {
		q, named := (&served{ranges: parseAccept(tt.accept)}).q(tt.mediaType, tt.version, tt.namedOnly)
		if q != tt.q || named != tt.named {
			t.Errorf("acceptQ(%q, %s;version=%s, namedOnly=%v) = %v, %v; want %v, %v", tt.accept, tt.mediaType, tt.version, tt.namedOnly, q, named, tt.q, tt.named)
		}
	}
}

func TestCodingAllowed(t *testing.T) {
	tests := []struct {
		acceptEncoding, coding string
		want                   bool
	}{
		{"gzip", "gzip", true},
		{"gzip, deflate", "deflate", true},
		{"identity", "gzip", false},
		{"gzip;q=0", "gzip", false},
		{"*", "br", true},
		{"*;q=0, gzip", "gzip", true},
		{"*;q=0, gzip", "br", false},
		{"gzip", "x-gzip", true},
		{"x-gzip", "gzip", true},
		{"GZIP;Q=0", "gzip", false},
	}
	for _, tt := range tests {
		if got := codingAllowed(tt.acceptEncoding, tt.coding); got != tt.want {
			t.Errorf("codingAllowed(%q, %q) = %v, want %v", tt.acceptEncoding, tt.coding, got, tt.want)
		}
	}
}

// content_negotiation.md, Selection of Format, step 3: "If no fallback is
// specified, the target MUST use PrometheusText0.0.4 as a last resort."
// Text 0.0.4 answering a header that allows nothing the target supports is
// that last resort, never http.negotiation; it is a missed preference only
// where the target served an allowed protocol in another scrape.
func TestNegotiationLastResort(t *testing.T) {
	tests := []struct {
		accept      string
		served      []Protocol
		contentType string
		want        string // the http.negotiation* rule reported, "" for none
	}{
		{"application/json", nil, ContentTypeText, ""},
		{"text/plain;q=0", nil, ContentTypeText, ""},
		{"text/plain;version=0.0.4;q=0", nil, "text/plain; version=0.0.4", ""},
		{"application/openmetrics-text;version=1.0.0, text/plain;q=0", []Protocol{PrometheusText0_0_4}, ContentTypeText, ""},
		{"application/openmetrics-text;version=1.0.0, text/plain;q=0", []Protocol{OpenMetricsText1_0_0}, ContentTypeText, "http.negotiation-preference"},
		{"text/plain;q=0, */*;q=0.3", []Protocol{OpenMetricsText1_0_0}, ContentTypeText, "http.negotiation-preference"},
		{"application/json", []Protocol{OpenMetricsText1_0_0}, ContentTypeText, ""}, // nothing it serves is allowed
		// Only text 0.0.4 is the last resort: anything else unasked is refused.
		{"text/plain;q=0", nil, ContentTypeOpenMetrics, "http.negotiation"},
		{"application/json", nil, PrometheusText1_0_0.ContentType(EscapingUnderscores), "http.negotiation"},
		{"application/json", nil, ContentTypeProtobuf, "http.negotiation"},
	}
	for _, tt := range tests {
		r := httpCheck(t, HTTPFacts{Accept: tt.accept, ServedProtocols: tt.served}, "Content-Type", tt.contentType)
		got := append(r.Rule("http.negotiation"), r.Rule("http.negotiation-preference")...)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("Accept %q served %q (served elsewhere: %v): want no negotiation finding, got %v", tt.accept, tt.contentType, tt.served, got)
		case tt.want != "" && (len(got) != 1 || got[0].Rule != tt.want):
			t.Errorf("Accept %q served %q (served elsewhere: %v): want one %s, got %v", tt.accept, tt.contentType, tt.served, tt.want, got)
		}
	}
}

// Wildcard ranges count for the protocols a target showed it serves.
func TestNegotiationPreferenceWildcards(t *testing.T) {
	om := []Protocol{OpenMetricsText1_0_0, PrometheusText0_0_4}
	tests := []struct {
		accept string
		served []Protocol
		want   bool
	}{
		{"application/*;q=0.9, text/plain;q=0.5", om, true},
		{"application/*;q=0.9, text/plain;q=0.5", []Protocol{PrometheusText0_0_4}, false},
		{"*/*;q=0.9, text/plain;q=0.5", om, true},
		{"text/plain;q=0.5, */*;q=0.1", om, false},
		{"application/*;q=0.5, text/plain;q=0.5", om, false},                                     // a tie is no preference
		{"application/*;q=0.9, application/openmetrics-text;q=0.1, text/plain;q=0.5", om, false}, // the named range wins
		{"application/*;q=0.9, text/plain;q=0.5", []Protocol{PrometheusProto}, true},
		// OpenMetrics 2.0 counts only where asked for by version.
		{"application/*;q=0.9, text/plain;q=0.5", []Protocol{OpenMetricsText2_0_0}, false},
		{"application/openmetrics-text;version=2.0.0;q=0.9, text/plain;q=0.5", []Protocol{OpenMetricsText2_0_0}, true},
	}
	for _, tt := range tests {
		r := httpCheck(t, HTTPFacts{Accept: tt.accept, ServedProtocols: tt.served}, "Content-Type", ContentTypeText)
		if got := r.Rule("http.negotiation-preference"); (len(got) > 0) != tt.want {
			t.Errorf("Accept %q, text served, %v served elsewhere: want a preference warning %v, got %v", tt.accept, tt.served, tt.want, got)
		}
		if got := r.Rule("http.negotiation"); len(got) > 0 {
			t.Errorf("Accept %q: text is allowed, want no http.negotiation, got %v", tt.accept, got)
		}
	}
}

func TestGzipPreferred(t *testing.T) {
	tests := []struct {
		acceptEncoding string
		gzipQ, idQ     float64
		want           bool
	}{
		{"gzip", 1, 1, true}, // Prometheus's
		{"gzip, identity", 1, 1, true},
		{"GZip", 1, 1, true},
		{"x-gzip", 1, 1, true},
		{"gzip;q=0.5", 0.5, 1, false}, // identity, unnamed, stays acceptable at 1
		{"gzip;q=0.5, identity;q=0.5", 0.5, 0.5, true},
		{"gzip;q=0.5, identity", 0.5, 1, false},
		{"identity;q=0.5, gzip", 1, 0.5, true},
		{"gzip;q=0", 0, 1, false},
		{"gzip;q=0, x-gzip;q=0.8, identity;q=0.1", 0.8, 0.1, true},
		{"identity", 0, 1, false},
		{"*", 1, 1, true},
		{"*;q=0.3", 0.3, 0.3, true},
		{"*;q=0, identity", 0, 1, false},
		{"*, gzip;q=0", 0, 1, false}, // gzip named: * does not speak for it
		{"deflate, br", 0, 1, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		gzipQ, idQ, ok := gzipPreferred(tt.acceptEncoding)
		if ok != tt.want || (tt.acceptEncoding != "" && (gzipQ != tt.gzipQ || idQ != tt.idQ)) {
			t.Errorf("gzipPreferred(%q) = %v, %v, %v; want %v, %v, %v", tt.acceptEncoding, gzipQ, idQ, ok, tt.gzipQ, tt.idQ, tt.want)
		}
	}
}

// The rule judges what arrived: a compressed body, or one whose encoding
// is wrong (http.content-encoding's case), is no missed preference.
func TestContentEncodingPreference(t *testing.T) {
	tests := []struct {
		name     string
		facts    HTTPFacts
		encoding string
		want     bool
	}{
		{"uncompressed", HTTPFacts{AcceptEncoding: "gzip"}, "", true},
		{"identity said", HTTPFacts{AcceptEncoding: "gzip"}, "identity", true},
		{"gzip", HTTPFacts{AcceptEncoding: "gzip"}, "gzip", false},
		{"x-gzip", HTTPFacts{AcceptEncoding: "gzip"}, "x-gzip", false},
		{"false gzip", HTTPFacts{AcceptEncoding: "gzip", DecodeError: "Content-Encoding is gzip but the body is not gzip"}, "gzip", false},
		{"deflate", HTTPFacts{AcceptEncoding: "gzip, deflate"}, "deflate", false},
		{"no Accept-Encoding", HTTPFacts{}, "", false},
	}
	for _, tt := range tests {
		header := []string{"Content-Type", ContentTypeText}
		if tt.encoding != "" {
			header = append(header, "Content-Encoding", tt.encoding)
		}
		r := httpCheck(t, tt.facts, header...)
		got := r.Rule("http.content-encoding-preference")
		if (len(got) > 0) != tt.want {
			t.Errorf("%s: want a finding %v, got %v", tt.name, tt.want, got)
		}
		if len(got) > 0 && (got[0].Severity != Info || !strings.Contains(got[0].Message, `"gzip"`)) {
			t.Errorf("%s: want an info finding quoting Accept-Encoding, got %v", tt.name, got[0])
		}
	}
}
