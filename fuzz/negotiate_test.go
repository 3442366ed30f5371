package fuzz

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// Accept headers real scrapers send: Prometheus 2.42, Prometheus 3
// (v0.316.0) by default and protobuf first, and one scrape protocol alone.
const (
	acceptPrometheus2         = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	acceptPrometheus3         = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	acceptPrometheus3Protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)

// FuzzNegotiate sends arbitrary Accept and Accept-Encoding headers to the
// reference handler (with and without OpenMetrics 2.0). Whatever they hold:
//
//   - negotiating never panics and allocates nothing (content_negotiation.md
//     asks targets to validate the header; a malformed or huge one must not
//     cost the scrape);
//   - the Content-Type is one of the protocols' own, so nothing of the
//     header leaks into the response;
//   - the answer does not change when the header's elements are sent as
//     separate header lines (RFC 9110 §5.3) or followed by an element that
//     is not a media range;
//   - where every element is a media range mime.ParseMediaType reads
//     unambiguously, the answer is the one negotiateOracle, an independent
//     implementation of the spec on top of mime.ParseMediaType, gives;
//   - ServeHTTP answers with that Content-Type and encoding, again when the
//     header is remembered, and the body parses with textparse as that
//     Content-Type.
func FuzzNegotiate(f *testing.F) {
	for _, accept := range []string{
		"", "*/*", acceptPrometheus2, acceptPrometheus3, acceptPrometheus3Protobuf,
		"text/plain;version=1.0.0;escaping=dots;q=0.7,*/*;q=0.6",
		"application/openmetrics-text;version=2.0.0;escaping=allow-utf-8;q=0.7,*/*;q=0.6",
		"application/openmetrics-text;q=0,*/*",
		"application/openmetrics-text;version=1.0.0;escaping=bogus,text/plain;version=1.0.0;q=0.5",
	} {
		f.Add(accept, "gzip", byte(0))
		f.Add(accept, "gzip;q=0, identity", byte(1))
	}
	// options is a byte rather than a bool because the corpus reader of
	// pending_test.go reads []byte, string and byte: bit 0 enables
	// OpenMetrics 2.0, the other bits are ignored.
	f.Fuzz(func(t *testing.T, accept, acceptEncoding string, options byte) {
		openMetrics2 := options&1 == 1
		if err := negotiateOnce(accept, acceptEncoding, openMetrics2); err != nil {
			t.Fatalf("Accept %q, Accept-Encoding %q, OpenMetrics 2.0 %v: %v", accept, acceptEncoding, openMetrics2, err)
		}
	})
}

func negotiateOnce(accept, acceptEncoding string, openMetrics2 bool) error {
	var opts []handler.Option
	if openMetrics2 {
		opts = append(opts, handler.WithOpenMetrics2())
	}
	h := handler.NewMetricsHandler(opts...)
	header := http.Header{"Accept": {accept}, "Accept-Encoding": {acceptEncoding}}

	var ct string
	var gzipped bool
	if allocs := testing.AllocsPerRun(1, func() { ct, gzipped = h.Negotiate(header) }); allocs != 0 {
		return fmt.Errorf("negotiation made %v allocations, want 0", allocs)
	}
	if !knownContentTypes[ct] {
		return fmt.Errorf("Content-Type %q is not one the protocols have", ct)
	}
	if !openMetrics2 && strings.Contains(ct, "version=2.0.0") {
		return fmt.Errorf("Content-Type %q without WithOpenMetrics2", ct)
	}

	if split, _ := h.Negotiate(http.Header{"Accept": strings.Split(accept, ",")}); split != ct {
		return fmt.Errorf("the elements as separate header lines negotiate %q, as one %q", split, ct)
	}
	if extended, _ := h.Negotiate(http.Header{"Accept": {accept + ",not-a-media-range;q=1"}}); extended != ct {
		return fmt.Errorf("followed by an element without a slash it negotiates %q, alone %q", extended, ct)
	}
	if want, ok := negotiateOracle(accept, openMetrics2); ok && want != ct {
		return fmt.Errorf("negotiates %q, the oracle %q", ct, want)
	}

	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeReloadFailedRestored)
	h.SetDeployCounters(dc)
	for scrape := range 2 { // the second finds the header remembered
		req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
		req.Header = header
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Type"); got != ct {
			return fmt.Errorf("scrape %d: served Content-Type %q, Negotiate says %q", scrape, got, ct)
		}
		body := rec.Body.Bytes()
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != gzipped {
			return fmt.Errorf("scrape %d: gzipped %v, Negotiate says %v", scrape, got, gzipped)
		}
		if gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return fmt.Errorf("scrape %d: gzip: %w", scrape, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("scrape %d: gzip: %w", scrape, err)
			}
		}
		if n, err := countSeries(body, ct); err != nil || n != 8 {
			return fmt.Errorf("scrape %d: textparse read %d series as %q (%v), want the 8 of one target type", scrape, n, ct, err)
		}
	}
	return nil
}

// countSeries parses body as Prometheus would for contentType and counts
// its series.
func countSeries(body []byte, contentType string) (int, error) {
	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{EnableOpenMetrics2: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if e == textparse.EntrySeries {
			n++
		}
	}
}

// oracleProtocol is a protocol as the oracle knows it, written out from
// content_negotiation.md and the package documentation of handler, not
// from its code.
type oracleProtocol struct {
	mediaType, version string
	contentType        string // without escaping
	escaping           bool   // the Content-Type names the escaping scheme
	openMetrics2       bool
}

// oracleProtocols are in the handler's documented order of preference for
// ties: text 0.0.4, OpenMetrics 1.0.0, 0.0.1, text 1.0.0, OpenMetrics 2.0,
// protobuf.
var oracleProtocols = []oracleProtocol{
	{"text/plain", "0.0.4", "text/plain; version=0.0.4; charset=utf-8", false, false},
	{"application/openmetrics-text", "1.0.0", "application/openmetrics-text; version=1.0.0; charset=utf-8", true, false},
	{"application/openmetrics-text", "0.0.1", "application/openmetrics-text; version=0.0.1; charset=utf-8", false, false},
	{"text/plain", "1.0.0", "text/plain; version=1.0.0; charset=utf-8", true, false},
	{"application/openmetrics-text", "2.0.0", "application/openmetrics-text; version=2.0.0; charset=utf-8", true, true},
	{"application/vnd.google.protobuf", "", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", false, false},
}

var escapingSchemes = []string{"underscores", "allow-utf-8", "dots", "values"}

// knownContentTypes are every Content-Type the handler may answer with.
var knownContentTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range oracleProtocols {
		if !p.escaping {
			m[p.contentType] = true
			continue
		}
		for _, e := range escapingSchemes {
			m[p.contentType+"; escaping="+e] = true
		}
	}
	return m
}()

// qvalue is RFC 9110's qvalue grammar.
var qvalue = regexp.MustCompile(`^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$`)

// negotiateOracle negotiates accept the straightforward way, parsing each
// element with mime.ParseMediaType: each protocol takes the q of the most
// specific range naming it (then the higher q), the highest q wins, then
// the more specific range, the earlier range, the preferred protocol;
// nothing acceptable means text 0.0.4. ok is false when accept holds
// something mime.ParseMediaType reads differently from a plain split on
// ";" and "=" (quoted strings, RFC 2231 parameters) or rejects, where the
// two parsers may legitimately differ.
func negotiateOracle(accept string, openMetrics2 bool) (contentType string, ok bool) {
	type match struct {
		q, spec, pos int
		escaping     string
	}
	best := make([]match, len(oracleProtocols))
	pos := 0
	for _, elem := range strings.Split(accept, ",") {
		if strings.TrimSpace(elem) == "" {
			continue
		}
		if !strings.Contains(elem, "/") {
			continue // not a media range: skipped by both
		}
		_, rawParams, _ := strings.Cut(elem, ";")
		if strings.ContainsAny(elem, `"\`) || strings.Contains(rawParams, "*") {
			return "", false
		}
		mediaType, params, err := mime.ParseMediaType(elem)
		if err != nil {
			return "", false
		}
		q := 1000
		if v, has := params["q"]; has {
			if !qvalue.MatchString(v) {
				continue // a malformed q-value skips the range
			}
			f, _ := strconv.ParseFloat(v, 64)
			q = int(f*1000 + 0.5)
		}
		esc, hasEsc := params["escaping"]
		if hasEsc && !slices.Contains(escapingSchemes, esc) {
			continue // an unknown scheme skips the range
		}
		if !hasEsc {
			esc = "underscores"
		}
		for i, p := range oracleProtocols {
			if p.openMetrics2 && !openMetrics2 {
				continue
			}
			pTyp, _, _ := strings.Cut(p.mediaType, "/")
			spec := 0
			switch {
			case mediaType == "*/*":
				spec = 1
			case mediaType == pTyp+"/*":
				spec = 2
			case mediaType != p.mediaType:
			case p.version == "": // protobuf
				proto, encoding := params["proto"], params["encoding"]
				if proto == "" || proto == "io.prometheus.client.MetricFamily" {
					switch encoding {
					case "":
						spec = 3
					case "delimited":
						spec = 4
					}
				}
			case params["version"] == "":
				spec = 3
			case params["version"] == p.version:
				spec = 4
			}
			if spec > best[i].spec || (spec == best[i].spec && spec > 0 && q > best[i].q) {
				best[i] = match{q: q, spec: spec, pos: pos, escaping: esc}
			}
		}
		pos++
	}
	won := -1
	for i, m := range best {
		if m.spec == 0 || m.q == 0 {
			continue
		}
		if w := best[max(won, 0)]; won < 0 || m.q > w.q || (m.q == w.q && (m.spec > w.spec || (m.spec == w.spec && m.pos < w.pos))) {
			won = i
		}
	}
	if won < 0 {
		return oracleProtocols[0].contentType, true
	}
	p := oracleProtocols[won]
	if p.escaping {
		return p.contentType + "; escaping=" + best[won].escaping, true
	}
	return p.contentType, true
}

// TestNegotiateOracle pins the oracle itself on headers whose answer the
// spec settles, so that FuzzNegotiate compares with something right, and
// checks that it does compare (ok) on real scrapers' headers.
func TestNegotiateOracle(t *testing.T) {
	tests := []struct {
		accept       string
		openMetrics2 bool
		want         string
	}{
		{"", false, "text/plain; version=0.0.4; charset=utf-8"},
		{"*/*", false, "text/plain; version=0.0.4; charset=utf-8"},
		{acceptPrometheus2, false, "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"},
		{acceptPrometheus3, false, "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"},
		{acceptPrometheus3Protobuf, false, "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"},
		{"application/openmetrics-text;version=2.0.0;q=0.7,*/*;q=0.6", false, "text/plain; version=0.0.4; charset=utf-8"},
		{"application/openmetrics-text;version=2.0.0;q=0.7,*/*;q=0.6", true, "application/openmetrics-text; version=2.0.0; charset=utf-8; escaping=underscores"},
		{"text/plain;version=1.0.0;escaping=dots;q=0.2,application/openmetrics-text;version=0.0.1;q=0.1", false, "text/plain; version=1.0.0; charset=utf-8; escaping=dots"},
		{"application/openmetrics-text;q=0,text/plain;version=0.0.4;q=0", false, "text/plain; version=0.0.4; charset=utf-8"},
		{"application/openmetrics-text;q=0,*/*", false, "text/plain; version=0.0.4; charset=utf-8"},
	}
	for _, tc := range tests {
		got, ok := negotiateOracle(tc.accept, tc.openMetrics2)
		if !ok || got != tc.want {
			t.Errorf("oracle(%q, OpenMetrics 2.0 %v) = %q, %v; want %q, true", tc.accept, tc.openMetrics2, got, ok, tc.want)
		}
	}
}
