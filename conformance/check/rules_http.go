package check

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// The http.* rules judge the response an exposition came in (Input.HTTP;
// nil for files and stdin, and then none of them runs). They judge the
// facts the scraper recorded; fetching is package scrape's job.
//
// Negotiation follows content_negotiation.md: the target serves the
// protocol with the highest q among those it supports, q=0 meaning "not
// acceptable", and falls back to PrometheusText0.0.4 when it supports none
// of those asked for ("Selection of Format", step 3: "If no fallback is
// specified, the target MUST use PrometheusText0.0.4 as a last resort").
// Matching follows RFC 9110 §12.5.1 on the media type and its version (for
// protobuf, its proto and encoding); other parameters (charset, escaping)
// are not part of the match, and a response without a version is taken as
// the version textparse assumes. So it is judged in two steps. Serving a
// protocol the Accept header does not allow (q=0, or matched by no range)
// is an error, http.negotiation, except for text 0.0.4: that is the last
// resort, which the spec requires of a target that supports nothing the
// header allows, even when the header refused text itself
// (text/plain;q=0) or named only formats no target serves
// (application/json). Serving an allowed protocol while Accept preferred
// another, or the last resort while Accept allowed another, breaks step 1
// only if the target supports that other protocol, and a target that only
// speaks text must do just what it did; so it is a warning,
// http.negotiation-preference, and only when the target showed it can
// serve the preferred protocol: HTTPFacts.ServedProtocols lists what it
// served in other scrapes of the same run. Wildcard ranges (*/*,
// application/*) count: a target that served OpenMetrics elsewhere and
// answers "application/*;q=0.9, text/plain;q=0.5" with text missed a
// preference.
//
// Compression follows RFC 9110 §12.5.3 and SPEC.md §4.8 ("gzip when
// Accept-Encoding allows"): an encoding the request did not allow is an
// error, http.content-encoding; an uncompressed answer to a request that
// preferred gzip is http.content-encoding-preference, only info by
// default: it is legal HTTP, no Prometheus spec asks a target to compress,
// and real exporters that do not (handlers writing VictoriaMetrics/metrics'
// WritePrometheus, promcheck exporter's own endpoints) are correct. The
// self-check raises it, holding the reference emitter to SPEC.md §4.8.
var httpRules = []Rule{
	{ID: "http.status", Severity: Error, Description: "the response status is 200 OK (Prometheus fails a scrape with any other)",
		Spec: "§4.9", Source: "SPEC.md §4.9", Quote: "A successful scrape answers `200 OK`; Prometheus fails a scrape with any other status."},
	{ID: "http.content-type-missing", Severity: Error, Description: "the response has a Content-Type (Prometheus 3 fails a scrape without one)",
		Spec: "§4.9", Source: "exposition_formats.md, HTTP Content-Type requirements", Quote: "If the `Content-Type` is missing, unparsable, or not a supported media type, **the scrape will fail**."},
	{ID: "http.content-type", Severity: Error, Description: "the Content-Type names a format Prometheus parses: text/plain, application/openmetrics-text (version 2.0.0 only when the request asked for it: Prometheus parses OpenMetrics 2.0 only behind a feature flag), or application/vnd.google.protobuf with encoding=delimited; an escaping parameter names a scheme of escaping_schemes.md",
		Spec: "§4.4", Source: "exposition_formats.md, HTTP Content-Type requirements", Quote: "If the `Content-Type` is missing, unparsable, or not a supported media type, **the scrape will fail**."},
	{ID: "http.content-type-params", Severity: Warning, Description: "the Content-Type carries the version parameter, and for text formats of version 1.0.0 and above (OpenMetrics 2.0 included) the escaping scheme used (content_negotiation.md: the Content-Type \"MUST include ... For text formats version 1.0.0 and above, the escaping scheme parameter\"); Prometheus parses the response without them",
		Spec: "§4.4", Source: "content_negotiation.md, Content-Type Response", Quote: "The Content-Type header MUST include:"},
	{ID: "http.charset", Severity: Error, Description: "a charset parameter on the Content-Type, when given, is utf-8",
		Spec: "§4.4", Source: "OpenMetrics 1.0, Overall Structure", Quote: "UTF-8 MUST be used."},
	{ID: "http.negotiation", Severity: Error, Description: "the served protocol is one the request's Accept header allows (q>0), or text 0.0.4, the last resort a target MUST use when it supports nothing the header allows (content_negotiation.md, Selection of Format)",
		Spec: "§4.3", Source: "content_negotiation.md, Selection of Format", Quote: "It MUST use the protocol in the Accept header with the highest weighting that is supported by Prometheus."},
	{ID: "http.negotiation-preference", Severity: Warning, Description: "the served protocol is the one Accept prefers, wildcards included, among those the target showed it can serve (HTTPFacts.ServedProtocols: what it served in other scrapes of the same run), and the text 0.0.4 last resort is used only when it can serve nothing Accept allows (content_negotiation.md: it MUST use the supported protocol with the highest weighting); a text-only target is never warned",
		Spec: "§4.3", Source: "content_negotiation.md, Selection of Format", Quote: "It MUST use the protocol in the Accept header with the highest weighting that is supported by Prometheus."},
	{ID: "http.escaping", Severity: Error, Description: "quoted (UTF-8) names, and in protobuf names outside [a-zA-Z_:][a-zA-Z0-9_:]*, only when the Accept range of the served protocol said escaping=allow-utf-8 (a scraper that did not, Prometheus 2 among them, fails the scrape); OpenMetrics 2.0 names are UTF-8 by definition",
		Spec: "§4.5", Source: "escaping_schemes.md, No Escaping (allow-utf-8)", Quote: "This scheme MUST only be used when both the producer and consumer support UTF-8 names."},
	{ID: "http.content-encoding", Severity: Error, Description: "Content-Encoding matches the body and is one Accept-Encoding allows",
		Spec: "§4.8", Source: "SPEC.md §4.8", Quote: "A body is compressed once; `Content-Encoding` is sent only with a body encoded that way, and never names an encoding the request did not allow."},
	{ID: "http.content-encoding-preference", Severity: Info, Description: "the body is gzip-compressed when Accept-Encoding allows gzip (or x-gzip, or * when neither is named) at a q at least that of identity (SPEC.md §4.8: a deploy emitter gzips when Accept-Encoding allows; Prometheus asks for gzip unless its enable_compression is off); no Prometheus spec requires a target to compress, so info: raise it with --severity to hold an emitter to SPEC.md §4.8",
		Spec: "§4.8", Source: "SPEC.md §4.8", Quote: "A target compresses the body with gzip, and says `Content-Encoding: gzip`, when the request's `Accept-Encoding` allows gzip (a `q` above 0, directly, as `x-gzip`, or through `*`), and otherwise sends it unencoded."},
	{ID: "http.too-large", Severity: Error, Description: "the body fits the scraper's size limit (Prometheus fails scrapes over body_size_limit)",
		Spec: "§4.9", Source: "SPEC.md §4.9", Quote: "A body larger than the scraper's limit (Prometheus's `body_size_limit`) fails the scrape."},
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
	checkContentEncodingPreference(p, h)
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
	mediaText:        "0.0.4",
	mediaOpenMetrics: "1.0.0",
}

// served is what the engine knows of the protocol a response was served
// with: its parsed Content-Type, the version it stands for, and the Accept
// ranges it is judged against.
type served struct {
	ct      string
	parsed  ParsedContentType
	version string
	ranges  []mediaRange
}

func checkContentType(p *pass, h *HTTPFacts) {
	ct := h.Header.Get("Content-Type")
	if ct == "" {
		p.report("http.content-type-missing", 0, "", "", "the response has no Content-Type: Prometheus 3 fails such scrapes (unless fallback_scrape_protocol is set); send %q", ContentTypeText)
		return
	}
	parsed, err := ParseContentType(ct)
	if err != nil && parsed.MediaType == "" {
		p.report("http.content-type", 0, "", "", "Content-Type %q does not parse (%v): Prometheus fails the scrape; send %q", ct, err, ContentTypeText)
		return
	}
	sv := &served{ct: ct, parsed: parsed, version: parsed.Version, ranges: parseAccept(h.Accept)}
	if sv.version == "" {
		sv.version = versionDefault[parsed.MediaType]
	}
	if err != nil {
		p.report("http.content-type", 0, "", "", "%v: the escaping parameter names the scheme the names were written in, one of allow-utf-8, underscores, dots and values", err)
	}
	switch parsed.Format {
	case FormatText, FormatOpenMetrics:
	case FormatOpenMetrics2:
		if h.Accept == "" || !sv.named(mediaOpenMetrics, "2.0.0") {
			p.report("http.content-type", 0, "", "", "Content-Type %q is OpenMetrics 2.0 (a release candidate), which Prometheus parses only behind a feature flag and only when its Accept header names version=2.0.0, which this request's did not: the scrape fails; serve %q", ct, ContentTypeOpenMetrics)
		}
	case FormatProtobuf:
		if parsed.Protocol == "" {
			p.report("http.content-type", 0, "", "", "Content-Type %q is protobuf but not length-delimited io.prometheus.client.MetricFamily messages, the only protobuf Prometheus reads: send %q", ct, ContentTypeProtobuf)
			return
		}
	default:
		p.report("http.content-type", 0, "", "", "Content-Type %q names no format Prometheus parses (it takes text/plain, application/openmetrics-text and application/vnd.google.protobuf): the scrape fails; send %q", ct, ContentTypeText)
		return
	}
	if cs, ok := parsed.Params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		p.report("http.charset", 0, "", "", "Content-Type %q declares charset %q: every exposition format is UTF-8; declare charset=utf-8 or none", ct, cs)
	}
	checkContentTypeParams(p, h, sv)
	checkNegotiation(p, h, sv)
	p.served = sv
}

// checkContentTypeParams judges the parameters content_negotiation.md
// requires on the response: a version, and the escaping scheme of the
// text formats of version 1.0.0 and above when the request named one.
func checkContentTypeParams(p *pass, h *HTTPFacts, sv *served) {
	parsed := sv.parsed
	if parsed.Format != FormatProtobuf && parsed.Version == "" {
		p.report("http.content-type-params", 0, "", "", "Content-Type %q has no version: content_negotiation.md requires one, and Prometheus takes it for version %s; say version=%s", sv.ct, sv.version, sv.version)
	}
	if parsed.Protocol.escaped() && parsed.Escaping == "" {
		// The escaping the request asked for, or the default a target
		// uses when it named none (escaping_schemes.md: "If no escaping
		// scheme is specified in the Accept header, underscores escaping
		// SHOULD be used").
		scheme, asked := "underscores", "named no scheme, so underscores applies"
		if r, ok := sv.match(); ok && r.escaping != "" {
			scheme, asked = r.escaping, "asked for escaping="+r.escaping
		}
		p.report("http.content-type-params", 0, "", "", "Content-Type %q does not say which escaping scheme the names were written in (the request's Accept %q %s): content_negotiation.md requires the escaping parameter on text formats of version 1.0.0 and above; add escaping=%s (or the scheme used)", sv.ct, h.Accept, asked, scheme)
	}
}

// checkNegotiation judges the served protocol against the Accept header
// the scraper sent.
func checkNegotiation(p *pass, h *HTTPFacts, sv *served) {
	if h.Accept == "" {
		return
	}
	q, _ := sv.q(sv.parsed.MediaType, sv.version, false)
	lastResort := q <= 0 && sv.parsed.Protocol == PrometheusText0_0_4
	if q <= 0 && !lastResort {
		p.report("http.negotiation", 0, "", "", "served %q, which the request's Accept header %q does not allow: serve a protocol it lists with q>0, or text 0.0.4 (%q), the last resort for a target that supports none of them",
			sv.ct, h.Accept, ContentTypeText)
		return
	}
	better, best := sv.preferred(h.ServedProtocols, q)
	switch {
	case better == "":
	case lastResort:
		p.report("http.negotiation-preference", 0, "", "", "served %q, the last resort for a target that supports none of the protocols the request's Accept header %q allows, but it allows %s (q=%s), which this target served in another scrape: content_negotiation.md has a target use the supported protocol with the highest weighting, and text 0.0.4 only when it supports none",
			sv.ct, h.Accept, better, formatValue(best))
	default:
		p.report("http.negotiation-preference", 0, "", "", "served %q (q=%s), but the request's Accept header %q prefers %s (q=%s), which this target served in another scrape: content_negotiation.md has a target serve the protocol with the highest q among those it supports",
			sv.ct, formatValue(q), h.Accept, better, formatValue(best))
	}
}

// preferred returns the protocol among served, other than the one served
// now, that the Accept header gives the highest q above q, wildcard
// ranges included; "" when none beats q. OpenMetrics 2.0 counts only
// where the header names version=2.0.0, as Prometheus parses it only then.
func (sv *served) preferred(served []Protocol, q float64) (Protocol, float64) {
	var better Protocol
	best := q
	for _, c := range served {
		m, ok := protocolMedia[c]
		if !ok || c == sv.parsed.Protocol || c.Experimental() && !sv.named(m.mediaType, m.version) {
			continue
		}
		if cq, matched := sv.q(m.mediaType, m.version, false); matched && cq > best {
			better, best = c, cq
		}
	}
	return better, best
}

// checkEscaping judges UTF-8 names against the Accept range that allowed
// the served protocol: only escaping=allow-utf-8 says the scraper takes
// them. It runs after the spec rules, which find the names.
func checkEscaping(p *pass) {
	h, sv := p.in.HTTP, p.served
	if h == nil || sv == nil || h.Accept == "" || sv.parsed.Format == FormatOpenMetrics2 {
		return
	}
	name := p.utf8Name
	if name.name == "" {
		return
	}
	r, ok := sv.match()
	if ok && r.escaping == string(EscapingAllowUTF8) {
		return
	}
	asked := "named no escaping scheme for it"
	switch {
	case !ok:
		asked = "did not list it"
	case r.escaping != "":
		asked = "asked for escaping=" + r.escaping
	}
	p.reportAt(Finding{Rule: "http.escaping", Line: name.line, Family: name.family,
		Message: fmt.Sprintf("the exposition has the UTF-8 name %q, but the Accept range the served protocol matched (%q) %s, so the scraper may not take UTF-8 names (Prometheus 2 fails the scrape): serve UTF-8 names only when the request says escaping=allow-utf-8, and escape them otherwise (%s)",
			name.name, h.Accept, asked, escapedExample(name.name))})
}

// utf8Name is the first UTF-8 name of an exposition, for http.escaping: a
// quoted name in the text formats, a name outside the legacy set in
// protobuf.
type utf8Name struct {
	name, family string
	line         int
}

// mediaRange is one element of an Accept header.
type mediaRange struct {
	mediaType string // "type/subtype", lower case, possibly with wildcards
	version   string // the version parameter, "" when none
	// proto and encoding are the protobuf parameters, "" when none.
	proto, encoding string
	escaping        string // the escaping parameter, "" when none
	q               float64
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
		r := mediaRange{mediaType: name, version: params["version"], proto: params["proto"], encoding: params["encoding"], escaping: params["escaping"], q: 1}
		if qs, ok := params["q"]; ok {
			if q, err := strconv.ParseFloat(qs, 64); err == nil && q >= 0 && q <= 1 {
				r.q = q
			}
		}
		out = append(out, r)
	}
	return out
}

// specificity says how specifically range r names the media type at
// version (RFC 9110 §12.5.1): 3 with the version (for protobuf, the
// message and encoding), 2 without, 1 for type/*, 0 for */*, -1 when it
// does not match. With namedOnly, wildcards do not match.
func (r *mediaRange) specificity(mediaType, version string, namedOnly bool) int {
	typ, _, _ := strings.Cut(mediaType, "/")
	switch {
	case r.mediaType == mediaType && mediaType == mediaProtobuf:
		if (r.proto != "" && r.proto != protoMessageName) || (r.encoding != "" && r.encoding != "delimited") {
			return -1
		}
		if r.proto != "" || r.encoding != "" {
			return 3
		}
		return 2
	case r.mediaType == mediaType && r.version != "":
		if r.version == version {
			return 3
		}
		return -1
	case r.mediaType == mediaType:
		return 2
	case r.mediaType == typ+"/*" && !namedOnly:
		return 1
	case r.mediaType == "*/*" && !namedOnly:
		return 0
	}
	return -1
}

// q returns the q the Accept ranges give mediaType at version: that of the
// most specific matching range, the highest on a tie. With namedOnly,
// wildcard ranges are ignored, and named reports whether a range named the
// type at all.
func (sv *served) q(mediaType, version string, namedOnly bool) (q float64, named bool) {
	bestSpec := -1
	for i := range sv.ranges {
		r := &sv.ranges[i]
		spec := r.specificity(mediaType, version, namedOnly)
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

// named reports whether an Accept range names mediaType at version
// explicitly with q>0.
func (sv *served) named(mediaType, version string) bool {
	for i := range sv.ranges {
		if r := &sv.ranges[i]; r.q > 0 && r.specificity(mediaType, version, true) == 3 {
			return true
		}
	}
	return false
}

// match returns the most specific Accept range that allows the served
// protocol (the first on a tie), false when none does.
func (sv *served) match() (mediaRange, bool) {
	best, bestSpec := -1, -1
	for i := range sv.ranges {
		r := &sv.ranges[i]
		if spec := r.specificity(sv.parsed.MediaType, sv.version, false); spec > bestSpec && r.q > 0 {
			best, bestSpec = i, spec
		}
	}
	if best < 0 {
		return mediaRange{}, false
	}
	return sv.ranges[best], true
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
	if isGzip(p.in.Body) {
		if canonicalCoding(encoding) == "gzip" {
			p.report("http.content-encoding", 0, "", "", "the body is still gzip data after decoding Content-Encoding gzip: it was compressed twice; compress once")
		} else {
			p.report("http.content-encoding", 0, "", "", "the body is gzip data but the response does not say Content-Encoding: gzip; send the header with the compressed body")
		}
	}
}

// isGzip reports whether body starts with the gzip magic bytes.
func isGzip(body []byte) bool {
	return len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b
}

// checkContentEncodingPreference warns of an uncompressed body sent to a
// request that preferred gzip.
func checkContentEncodingPreference(p *pass, h *HTTPFacts) {
	encoding := strings.ToLower(strings.TrimSpace(h.Header.Get("Content-Encoding")))
	if h.DecodeError != "" || (encoding != "" && encoding != "identity") || isGzip(p.in.Body) {
		// Compressed, or falsely announced: http.content-encoding's case.
		return
	}
	gzipQ, identityQ, ok := gzipPreferred(h.AcceptEncoding)
	if !ok {
		return
	}
	p.report("http.content-encoding-preference", 0, "", "", "the body (%d bytes) is not compressed, though the request's Accept-Encoding %q takes gzip (q=%s) at least as gladly as no encoding (q=%s): SPEC.md §4.8 has an emitter gzip when Accept-Encoding allows, and Prometheus asks for gzip on every scrape; compress the body and send Content-Encoding: gzip (client_golang's promhttp and Python's prometheus_client do when Accept-Encoding names gzip)",
		len(p.in.Body), h.AcceptEncoding, formatValue(gzipQ), formatValue(identityQ))
}

// gzipPreferred returns the q an Accept-Encoding header gives gzip and the
// one it gives identity (no encoding), and whether gzip is acceptable at a
// q at least identity's (RFC 9110 §12.5.3). Codings are case-insensitive,
// and x-gzip is gzip (§8.4.1.3). gzip takes the q of its own range, else
// that of "*"; identity the q of its own range, else that of "*", else 1:
// it is acceptable unless refused.
func gzipPreferred(acceptEncoding string) (gzipQ, identityQ float64, ok bool) {
	if acceptEncoding == "" {
		return 0, 0, false
	}
	gzipNamed, identityNamed := false, false
	anyQ, anyNamed := 0.0, false
	identityQ = 1
	for _, r := range parseAccept(acceptEncoding) {
		switch r.mediaType {
		case "gzip", "x-gzip":
			// Both named: the more willing one, as either coding does.
			gzipQ = max(gzipQ, r.q)
			gzipNamed = true
		case "identity":
			identityQ, identityNamed = r.q, true
		case "*":
			anyQ, anyNamed = r.q, true
		}
	}
	if !gzipNamed && anyNamed {
		gzipQ = anyQ
	}
	if !identityNamed && anyNamed {
		identityQ = anyQ
	}
	return gzipQ, identityQ, gzipQ > 0 && gzipQ >= identityQ
}

// codingAllowed reports whether an Accept-Encoding header allows coding.
// x-gzip and gzip are one coding (RFC 9110 §8.4.1.3).
func codingAllowed(acceptEncoding, coding string) bool {
	coding = canonicalCoding(coding)
	ranges := parseAccept(acceptEncoding)
	q, found := 0.0, false
	for _, r := range ranges {
		if canonicalCoding(r.mediaType) == coding {
			return r.q > 0
		}
		if r.mediaType == "*" {
			q, found = r.q, true
		}
	}
	return found && q > 0
}

// canonicalCoding names x-gzip gzip, as RFC 9110 §8.4.1.3 has a recipient
// read it.
func canonicalCoding(coding string) string {
	if coding == "x-gzip" {
		return "gzip"
	}
	return coding
}
