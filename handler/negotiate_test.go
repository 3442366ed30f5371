package handler

import "testing"

// prometheus242Accept is what Prometheus 2.42 sends when scraping.
const prometheus242Accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// prometheus3Accept is what Prometheus 3 sends by default.
const prometheus3Accept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

func TestWantsOpenMetrics(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   bool
	}{
		{"no header", nil, false},
		{"empty", []string{""}, false},
		{"Prometheus 2.42", []string{prometheus242Accept}, true},
		{"Prometheus 3", []string{prometheus3Accept}, true},
		{"Prometheus text only", []string{"text/plain;version=0.0.4;q=1,*/*;q=0.1"}, false},
		{"OpenMetrics without version", []string{"application/openmetrics-text"}, true},
		{"OpenMetrics with spaces and quotes", []string{`application/openmetrics-text ; version="1.0.0" ; charset=utf-8`}, true},
		{"case-insensitive type", []string{"Application/OpenMetrics-Text; Version=1.0.0"}, true},
		{"only an unsupported version", []string{"application/openmetrics-text;version=2.0.0"}, false},
		{"only OpenMetrics 0.0.1", []string{"application/openmetrics-text;version=0.0.1"}, false},
		{"OpenMetrics q=0", []string{"application/openmetrics-text;q=0"}, false},
		{"OpenMetrics q=0 beside a wildcard", []string{"application/openmetrics-text;q=0,*/*"}, false},
		{"text q=0, wildcard", []string{"text/plain;q=0,*/*"}, true},
		{"higher q wins", []string{"text/plain;q=0.9,application/openmetrics-text;q=0.95"}, true},
		{"higher q wins, text", []string{"text/plain,application/openmetrics-text;q=0.5"}, false},
		{"tie goes to the first listed", []string{"application/openmetrics-text,text/plain"}, true},
		{"tie goes to the first listed, text", []string{"text/plain,application/openmetrics-text"}, false},
		{"tie broken by specificity", []string{"application/*,text/plain"}, false},
		{"application wildcard", []string{"application/*"}, true},
		{"any", []string{"*/*"}, false},
		{"browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{"nothing acceptable", []string{"application/json"}, false},
		{"malformed q skips the range", []string{"application/openmetrics-text;q=abc,text/plain;q=0.1"}, false},
		{"q above 1 is malformed", []string{"application/openmetrics-text;q=2"}, false},
		{"several header lines", []string{"text/plain;q=0.5", "application/openmetrics-text"}, true},
		{"junk elements", []string{",,;;,garbage,application/openmetrics-text"}, true},
	}
	for _, tc := range tests {
		if got := wantsOpenMetrics(tc.accept); got != tc.want {
			t.Errorf("%s: wantsOpenMetrics(%q) = %v, want %v", tc.name, tc.accept, got, tc.want)
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
		{[]string{"br, deflate"}, false},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip;q=0.0"}, false},
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

func TestNegotiationDoesNotAllocate(t *testing.T) {
	accept := []string{prometheus3Accept}
	acceptEncoding := []string{"gzip;q=0.9, deflate, identity;q=0.5"}
	allocs := testing.AllocsPerRun(100, func() {
		wantsOpenMetrics(accept)
		acceptsGzip(acceptEncoding)
	})
	if allocs != 0 {
		t.Errorf("%v allocs per negotiation, want 0", allocs)
	}
}

// TestHandlerRemembersNegotiation alternates Accept headers through one
// handler, so that the remembered answers are hit, replaced and mixed, and
// checks every answer against a fresh negotiation.
func TestHandlerRemembersNegotiation(t *testing.T) {
	h := NewMetricsHandler()
	headers := [][]string{
		{"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"},
		{"text/plain;version=0.0.4"},
		{"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"},
		{"application/openmetrics-text;q=0"},
		{"text/plain", "application/openmetrics-text"},
		nil,
	}
	for round := range 3 {
		for i, accept := range headers {
			for _, a := range [][]string{accept, accept, headers[(i+round)%len(headers)]} {
				if got, want := h.wantsOpenMetrics(a), wantsOpenMetrics(a); got != want {
					t.Fatalf("round %d: Accept %q: remembered %v, negotiated %v", round, a, got, want)
				}
			}
		}
	}
}
