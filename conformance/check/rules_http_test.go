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
	r := httpCheck(t, HTTPFacts{Accept: "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.9", AcceptEncoding: "gzip"},
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
	}
	for _, tt := range tests {
		if got := codingAllowed(tt.acceptEncoding, tt.coding); got != tt.want {
			t.Errorf("codingAllowed(%q, %q) = %v, want %v", tt.acceptEncoding, tt.coding, got, tt.want)
		}
	}
}
