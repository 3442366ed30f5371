package check

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// The http.* rules judge the response an exposition came in (Input.HTTP;
// nil for files and stdin, and then none of them runs). They judge the
// facts the scraper recorded; fetching is package scrape's job.
//
// Negotiation is judged in two steps. Serving a format the request's Accept
// header does not allow at all (q=0, or matched by no range) is an error,
// http.negotiation: the scraper said it cannot take it. Serving an allowed
// format while Accept named another the engine knows with a higher q (say
// text when OpenMetrics was preferred) is legal HTTP, and many exporters
// only speak text, so it is a warning, http.negotiation-preference; the
// reference emitter, which DESIGN.md requires to serve OpenMetrics when
// asked, must pass it under --strict. Matching follows RFC 9110 §12.5.1 on
// the media type and its version parameter; other parameters (charset,
// Prometheus 3's escaping) are not part of the match, and a response
// without a version is taken as the version textparse assumes.
var httpRules = []Rule{
	{ID: "http.status", Severity: Error, Description: "the response status is 200 OK (Prometheus fails a scrape with any other)"},
	{ID: "http.content-type-missing", Severity: Error, Description: "the response has a Content-Type (Prometheus 3 fails a scrape without one)"},
	{ID: "http.content-type", Severity: Error, Description: "the Content-Type names a format Prometheus parses and this engine checks: text/plain or application/openmetrics-text 1.0"},
	{ID: "http.charset", Severity: Error, Description: "a charset parameter on the Content-Type, when given, is utf-8"},
	{ID: "http.negotiation", Severity: Error, Description: "the served format is one the request's Accept header allows"},
	{ID: "http.negotiation-preference", Severity: Warning, Description: "the served format is the one Accept prefers among text 0.0.4 and OpenMetrics 1.0"},
	{ID: "http.content-encoding", Severity: Error, Description: "Content-Encoding matches the body and is one Accept-Encoding allows"},
	{ID: "http.too-large", Severity: Error, Description: "the body fits the scraper's size limit (Prometheus fails scrapes over body_size_limit)"},
}

func checkHTTP(p *pass) {
	h := p.in.HTTP
	if h == nil {
		return
	}
	if h.StatusCode != 200 {
		// Prometheus drops the body of any other status; judging its
		// headers would only add noise to this finding.
		p.report("http.status", 0, "", "", "status %d %s: Prometheus fails a scrape unless the status is 200 OK", h.StatusCode, statusText(h.StatusCode))
		return
	}
	checkContentType(p, h)
	checkContentEncoding(p, h)
	if h.TooLarge {
		limit := "its limit"
		if h.Limit > 0 {
			limit = strconv.FormatInt(h.Limit, 10) + " bytes"
		}
		p.report("http.too-large", 0, "", "", "the body exceeds the scraper's limit of %s and was cut there: Prometheus fails scrapes over body_size_limit; bound the cardinality (fold rare label values into one bucket)", limit)
	}
}

// statusText names a status and, for the common failures, its usual cause.
func statusText(code int) string {
	text := http.StatusText(code)
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		text += " (a redirect the scraper did not follow)"
	case http.StatusUnauthorized, http.StatusForbidden:
		text += " (the scraper is not authorised)"
	case http.StatusNotFound:
		text += " (is the path right?)"
	case http.StatusNotAcceptable:
		text += " (the server refused every format Accept offered)"
	}
	return text
}

// versionDefault is the version textparse assumes for a media type given
// without one.
var versionDefault = map[string]string{
	"text/plain":                   "0.0.4",
	"application/openmetrics-text": "1.0.0",
}

func checkContentType(p *pass, h *HTTPFacts) {
	ct := h.Header.Get("Content-Type")
	if ct == "" {
		p.report("http.content-type-missing", 0, "", "", "the response has no Content-Type: Prometheus 3 fails such scrapes (unless fallback_scrape_protocol is set); send %q", ContentTypeText)
		return
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		p.report("http.content-type", 0, "", "", "Content-Type %q does not parse (%v): Prometheus fails the scrape; send %q", ct, err, ContentTypeText)
		return
	}
	switch mediaType {
	case "text/plain":
	case "application/openmetrics-text":
		if params["version"] == "2.0.0" {
			p.report("http.content-type", 0, "", "", "Content-Type %q is OpenMetrics 2.0, which Prometheus parses only behind a feature flag; serve %q", ct, ContentTypeOpenMetrics)
		}
	case "application/vnd.google.protobuf":
		p.report("http.content-type", 0, "", "", "Content-Type %q is Prometheus's protobuf format: Prometheus parses it, but this engine checks only the text formats; scrape with an Accept header that asks for text", ct)
	default:
		p.report("http.content-type", 0, "", "", "Content-Type %q names no format Prometheus parses (it takes text/plain and application/openmetrics-text): the scrape fails; send %q", ct, ContentTypeText)
		return
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		p.report("http.charset", 0, "", "", "Content-Type %q declares charset %q: both exposition formats are UTF-8; declare charset=utf-8 or none", ct, cs)
	}
	checkNegotiation(p, h, ct, mediaType, params["version"])
}

// checkNegotiation judges the served media type against the Accept header
// the scraper sent.
func checkNegotiation(p *pass, h *HTTPFacts, ct, mediaType, version string) {
	if h.Accept == "" {
		return
	}
	if version == "" {
		version = versionDefault[mediaType]
	}
	ranges := parseAccept(h.Accept)
	served, _ := acceptQ(ranges, mediaType, version, false)
	if served <= 0 {
		p.report("http.negotiation", 0, "", "", "served %q, which the request's Accept header %q does not allow: serve a format it lists (the reference emitter serves %q unless OpenMetrics is asked for)",
			ct, h.Accept, ContentTypeText)
		return
	}
	bestType, bestVersion, best := "", "", served
	for _, c := range []struct{ mediaType, version string }{
		{"application/openmetrics-text", "1.0.0"},
		{"application/openmetrics-text", "0.0.1"},
		{"text/plain", "0.0.4"},
	} {
		if q, named := acceptQ(ranges, c.mediaType, c.version, true); named && q > best {
			bestType, bestVersion, best = c.mediaType, c.version, q
		}
	}
	if bestType != "" {
		p.report("http.negotiation-preference", 0, "", "", "served %q (q=%s), but the request's Accept header %q prefers %s; version=%s (q=%s): serve the preferred format when you can",
			ct, formatValue(served), h.Accept, bestType, bestVersion, formatValue(best))
	}
}

// mediaRange is one element of an Accept header.
type mediaRange struct {
	mediaType string // "type/subtype", lower case, possibly with wildcards
	version   string // the version parameter, "" when none
	q         float64
}

// parseAccept splits an Accept (or Accept-Encoding) header into ranges,
// skipping elements that do not parse. A missing or malformed q counts as
// 1, as most servers read it.
func parseAccept(header string) []mediaRange {
	var out []mediaRange
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, params, err := mime.ParseMediaType(part)
		if err != nil {
			// Accept-Encoding codings have no slash, which ParseMediaType
			// accepts; anything else malformed is skipped.
			continue
		}
		r := mediaRange{mediaType: name, version: params["version"], q: 1}
		if qs, ok := params["q"]; ok {
			if q, err := strconv.ParseFloat(qs, 64); err == nil && q >= 0 && q <= 1 {
				r.q = q
			}
		}
		out = append(out, r)
	}
	return out
}

// acceptQ returns the q the ranges give mediaType at version: that of the
// most specific matching range (RFC 9110 §12.5.1), the highest on a tie.
// With namedOnly, wildcard ranges are ignored, and named reports whether a
// range named the type at all.
func acceptQ(ranges []mediaRange, mediaType, version string, namedOnly bool) (q float64, named bool) {
	typ, _, _ := strings.Cut(mediaType, "/")
	bestSpec := -1
	for _, r := range ranges {
		spec := -1
		switch {
		case r.mediaType == mediaType && r.version != "":
			if r.version == version {
				spec = 3
			}
		case r.mediaType == mediaType:
			spec = 2
		case r.mediaType == typ+"/*" && !namedOnly:
			spec = 1
		case r.mediaType == "*/*" && !namedOnly:
			spec = 0
		}
		switch {
		case spec < 0:
		case spec > bestSpec:
			bestSpec, q = spec, r.q
		case spec == bestSpec:
			q = max(q, r.q)
		}
	}
	return q, bestSpec >= 0
}

func checkContentEncoding(p *pass, h *HTTPFacts) {
	encoding := strings.ToLower(strings.TrimSpace(h.Header.Get("Content-Encoding")))
	if h.DecodeError != "" {
		p.report("http.content-encoding", 0, "", "", "%s: send Content-Encoding only with a body encoded that way, and only an encoding the request's Accept-Encoding (%q) offers", h.DecodeError, h.AcceptEncoding)
		return
	}
	if encoding != "" && encoding != "identity" && h.AcceptEncoding != "" && !codingAllowed(h.AcceptEncoding, encoding) {
		p.report("http.content-encoding", 0, "", "", "Content-Encoding %q, which the request's Accept-Encoding %q does not allow: send the body unencoded", encoding, h.AcceptEncoding)
	}
	if b := p.in.Body; len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		if encoding == "gzip" {
			p.report("http.content-encoding", 0, "", "", "the body is still gzip data after decoding Content-Encoding gzip: it was compressed twice; compress once")
		} else {
			p.report("http.content-encoding", 0, "", "", "the body is gzip data but the response does not say Content-Encoding: gzip; send the header with the compressed body")
		}
	}
}

// codingAllowed reports whether an Accept-Encoding header allows coding.
func codingAllowed(acceptEncoding, coding string) bool {
	ranges := parseAccept(acceptEncoding)
	q, found := 0.0, false
	for _, r := range ranges {
		if r.mediaType == coding {
			return r.q > 0
		}
		if r.mediaType == "*" {
			q, found = r.q, true
		}
	}
	return found && q > 0
}
