package handler

import "strings"

// The parsers below read the header values in place: they run on every
// scrape (unless remembered, see acceptMemo), so they allocate nothing,
// however long or malformed the header. They follow RFC 9110 §12.5 closely
// enough for real scrapers (Prometheus, curl, browsers) and are lenient
// elsewhere: an element they cannot read is skipped, never an error.

// qOne is q=1 in the thousandths the parsers work in.
const qOne = 1000

// Specificity of a media range for a protocol, from RFC 9110 §12.5.1: "the
// most specific reference has precedence".
const (
	specNone     = iota // the range does not match the protocol
	specAny             // */*
	specType            // text/* or application/*
	specMedia           // the media type, without the parameters that pick the protocol
	specProtocol        // the media type with the protocol's version (protobuf: encoding=delimited)
)

// mediaRange is one element of an Accept header, as far as the negotiation
// reads it.
type mediaRange struct {
	kind    rangeKind
	version string
	// proto and encoding are the parameters that name the protobuf message
	// and its framing.
	proto, encoding string
	esc             escaping // underscores unless the range names another
	q               int      // thousandths
}

// rangeKind is what a media range's type and subtype name, as far as the
// protocols served are concerned: it is worked out once per range, so that
// matching the range against each protocol compares no strings.
type rangeKind uint8

const (
	kindOther       rangeKind = iota // matches no protocol served
	kindAny                          // */*
	kindText                         // text/*
	kindApplication                  // application/*
	kindTextPlain                    // text/plain
	kindOpenMetrics                  // application/openmetrics-text
	kindProtobuf                     // application/vnd.google.protobuf
)

// kindOf classifies type/sub. Types and subtypes are case-insensitive
// (RFC 9110 §8.3.1).
func kindOf(typ, sub string) rangeKind {
	switch {
	case typ == "*" && sub == "*":
		return kindAny
	case strings.EqualFold(typ, "text"):
		switch {
		case sub == "*":
			return kindText
		case strings.EqualFold(sub, "plain"):
			return kindTextPlain
		}
	case strings.EqualFold(typ, "application"):
		switch {
		case sub == "*":
			return kindApplication
		case strings.EqualFold(sub, "openmetrics-text"):
			return kindOpenMetrics
		case strings.EqualFold(sub, "vnd.google.protobuf"):
			return kindProtobuf
		}
	}
	return kindOther
}

// rangeMatch is how well an Accept header matches one protocol: the q-value,
// specificity, position and escaping scheme of the most specific media range
// that matches it.
type rangeMatch struct {
	q, spec, pos int
	esc          escaping
}

// negotiate returns the protocol an Accept header selects among the enabled
// ones (content_negotiation.md, "Selection of Format"): each protocol gets
// the q of the most specific media range matching it; the protocol with the
// highest q wins, and q=0 means not acceptable. Equal q goes to the more
// specific range, then to the range listed first, then to the handler's
// preference (the order of the protocol constants). If nothing acceptable
// is offered, or there is no Accept header, it is PrometheusText0.0.4, the
// last resort the spec names, rather than a 406: a scraper is better served
// by the format every one of them reads.
//
// The escaping scheme is the one the winning range names, else underscores
// (escaping_schemes.md: "If no escaping scheme is specified in the Accept
// header, underscores escaping SHOULD be used").
func negotiate(accept []string, openMetrics2 bool) choice {
	offered := allProtocols
	if !openMetrics2 {
		offered &^= 1 << protoOpenMetricsV2
	}
	return negotiateAmong(accept, offered)
}

// protocolSet is a set of protocols, bit p for protocol p.
type protocolSet uint8

const (
	allProtocols protocolSet = 1<<numProtocols - 1
	// textProtocols are the text protocols every Prometheus reads:
	// neither protobuf nor the experimental OpenMetrics 2.0.
	textProtocols protocolSet = 1<<protoText | 1<<protoTextV1 | 1<<protoOpenMetrics | 1<<protoOpenMetricsV0
)

// negotiateAmong is negotiate among the offered protocols; text 0.0.4
// must be one of them, as the last resort.
func negotiateAmong(accept []string, offered protocolSet) choice {
	var best [numProtocols]rangeMatch
	pos := 0
	for _, v := range accept {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			r, ok := parseMediaRange(elem)
			if !ok {
				continue
			}
			for p := range numProtocols {
				if offered&(1<<p) == 0 {
					continue
				}
				spec := r.specificity(p)
				if m := &best[p]; spec > m.spec || (spec == m.spec && spec > specNone && r.q > m.q) {
					*m = rangeMatch{q: r.q, spec: spec, pos: pos, esc: r.esc}
				}
			}
			pos++
		}
	}
	won := choice{proto: protoText}
	var w *rangeMatch
	for p := range numProtocols {
		m := &best[p]
		if m.spec == specNone || m.q == 0 {
			continue
		}
		if w == nil || m.q > w.q || (m.q == w.q && (m.spec > w.spec || (m.spec == w.spec && m.pos < w.pos))) {
			w, won = m, choice{proto: p, esc: m.esc}
		}
	}
	return won
}

// parseMediaRange reads one element of an Accept header ("type/sub;k=v;q=0.5").
// ok is false for an element without a slash, with a malformed q-value or
// with an escaping scheme that is not one of the four: content_negotiation.md
// says the scheme "MUST be validated to prevent protocol confusion", and a
// range whose scheme cannot be honoured is skipped rather than served
// under another scheme.
func parseMediaRange(elem string) (r mediaRange, ok bool) {
	mediaType, params, _ := strings.Cut(elem, ";")
	typ, sub, ok := strings.Cut(mediaType, "/")
	if !ok {
		return r, false
	}
	r.kind, r.q = kindOf(strings.TrimSpace(typ), strings.TrimSpace(sub)), qOne
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case strings.EqualFold(k, "q"):
			if r.q, ok = parseQ(v); !ok {
				return r, false
			}
		case strings.EqualFold(k, "version"):
			r.version = v
		case strings.EqualFold(k, "escaping"):
			if r.esc, ok = parseEscaping(v); !ok {
				return r, false
			}
		case strings.EqualFold(k, "proto"):
			r.proto = v
		case strings.EqualFold(k, "encoding"):
			r.encoding = v
		}
	}
	return r, true
}

// specificity returns how specifically r names protocol p, or specNone.
// Parameters other than version (and protobuf's proto and encoding) do not
// take part in the match.
func (r *mediaRange) specificity(p protocol) int {
	var typ, media rangeKind
	var version string
	switch p {
	case protoText:
		typ, media, version = kindText, kindTextPlain, "0.0.4"
	case protoTextV1:
		typ, media, version = kindText, kindTextPlain, "1.0.0"
	case protoOpenMetricsV0:
		typ, media, version = kindApplication, kindOpenMetrics, "0.0.1"
	case protoOpenMetrics:
		typ, media, version = kindApplication, kindOpenMetrics, "1.0.0"
	case protoOpenMetricsV2:
		typ, media, version = kindApplication, kindOpenMetrics, "2.0.0"
	case protoProtobuf:
		typ, media = kindApplication, kindProtobuf
	}
	switch r.kind {
	case kindAny:
		return specAny
	case typ:
		return specType
	case media:
		if p == protoProtobuf {
			return r.protobufSpecificity()
		}
		switch r.version {
		case "":
			return specMedia
		case version:
			return specProtocol
		}
	}
	return specNone
}

// protobufSpecificity is specificity for protobuf: the only message served
// is io.prometheus.client.MetricFamily and the only framing "delimited"
// (not the text or compact-text debugging encodings).
func (r *mediaRange) protobufSpecificity() int {
	if r.proto != "" && r.proto != "io.prometheus.client.MetricFamily" {
		return specNone
	}
	switch r.encoding {
	case "":
		return specMedia
	case "delimited":
		return specProtocol
	}
	return specNone
}

// parseQ parses an RFC 9110 qvalue ("0", "0.75", "1.000") into thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * qOne
	frac := s[1:]
	if frac == "" {
		return q, true
	}
	if frac[0] != '.' || len(frac) > 4 {
		return 0, false
	}
	scale := qOne / 10
	for _, c := range []byte(frac[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > qOne {
		return 0, false
	}
	return q, true
}

// acceptsGzip reports whether the Accept-Encoding header values allow gzip
// and do not prefer the uncompressed identity coding to it. q=0 excludes a
// coding (so "gzip;q=0" means no gzip); "*" stands for every coding not
// listed by name; x-gzip is an alias.
func acceptsGzip(acceptEncoding []string) bool {
	gzipQ, starQ, identityQ := -1, -1, -1
	for _, v := range acceptEncoding {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(elem, ";")
			q, ok := codingQ(params)
			if !ok {
				continue
			}
			switch coding = strings.TrimSpace(coding); {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				gzipQ = max(gzipQ, q)
			case coding == "*":
				starQ = max(starQ, q)
			case strings.EqualFold(coding, "identity"):
				identityQ = max(identityQ, q)
			}
		}
	}
	if gzipQ < 0 {
		gzipQ = starQ
	}
	if identityQ < 0 {
		identityQ = starQ
	}
	return gzipQ > 0 && gzipQ >= identityQ
}

// codingQ reads the q parameter of an Accept-Encoding element's parameters
// (";q=0.5"); ok is false if it is malformed.
func codingQ(params string) (q int, ok bool) {
	q = qOne
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			if q, ok = parseQ(strings.Trim(strings.TrimSpace(v), `"`)); !ok {
				return 0, false
			}
		}
	}
	return q, true
}
