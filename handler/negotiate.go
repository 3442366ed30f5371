package handler

import "strings"

// The parsers below read the header values in place: they run on every
// scrape, so they allocate nothing. They follow RFC 9110 §12.5 closely
// enough for real scrapers (Prometheus, curl, browsers) and are lenient
// elsewhere: an element they cannot read is skipped, never an error.

// qOne is q=1 in the thousandths the parsers work in.
const qOne = 1000

// rangeMatch is how well one Accept header matches one format: the q-value
// and position of the most specific media range that matches it.
type rangeMatch struct {
	q    int // thousandths
	spec int // 0 no match, 1 */*, 2 type/*, 3 the exact type
	pos  int // index of the media range in the header
}

// wantsOpenMetrics reports whether the Accept header values prefer
// OpenMetrics 1.0.0 over the text format. The text format is the default:
// it is chosen without an Accept header, on a tie that order and specificity
// cannot break (Accept: */*), and when nothing acceptable is offered, because
// a scraper is better served by the format every one of them reads than by a
// 406.
//
// A media range for application/openmetrics-text matches only without a
// version parameter or with version=1.0.0, the only version served. Between
// the two formats the higher q wins, then the more specific range, then the
// range listed first (as in Prometheus's own negotiation).
func wantsOpenMetrics(accept []string) bool {
	var om, text rangeMatch
	pos := 0
	for _, v := range accept {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			mediaRange, params, _ := strings.Cut(elem, ";")
			typ, sub, ok := strings.Cut(strings.TrimSpace(mediaRange), "/")
			if !ok {
				continue
			}
			q, version, ok := readParams(params)
			if !ok {
				continue
			}
			omSpec := specificity(typ, sub, "application", "openmetrics-text")
			if omSpec == 3 && version != "" && version != "1.0.0" {
				omSpec = 0
			}
			om.update(q, omSpec, pos)
			text.update(q, specificity(typ, sub, "text", "plain"), pos)
			pos++
		}
	}
	return om.beats(text)
}

// update records a matching range, keeping the most specific one, or the
// higher q among equally specific ones.
func (m *rangeMatch) update(q, spec, pos int) {
	if spec > m.spec || (spec == m.spec && spec > 0 && q > m.q) {
		*m = rangeMatch{q: q, spec: spec, pos: pos}
	}
}

// beats reports whether the format matched by m is acceptable and preferred
// to the one matched by other.
func (m rangeMatch) beats(other rangeMatch) bool {
	switch {
	case m.spec == 0 || m.q == 0:
		return false
	case other.spec == 0 || m.q != other.q:
		return m.q > other.q
	case m.spec != other.spec:
		return m.spec > other.spec
	default:
		return m.pos < other.pos
	}
}

// specificity returns how specifically the media range typ/sub names
// wantTyp/wantSub, or 0 if it does not match it.
func specificity(typ, sub, wantTyp, wantSub string) int {
	typ, sub = strings.TrimSpace(typ), strings.TrimSpace(sub)
	switch {
	case strings.EqualFold(typ, wantTyp) && strings.EqualFold(sub, wantSub):
		return 3
	case strings.EqualFold(typ, wantTyp) && sub == "*":
		return 2
	case typ == "*" && sub == "*":
		return 1
	}
	return 0
}

// readParams reads the q and version parameters of one element
// (";version=1.0.0;q=0.5"). ok is false if the q-value is malformed, so the
// caller can skip the element rather than guess what the client meant.
func readParams(params string) (q int, version string, ok bool) {
	q = qOne
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case strings.EqualFold(k, "q"):
			if q, ok = parseQ(v); !ok {
				return 0, "", false
			}
		case strings.EqualFold(k, "version"):
			version = v
		}
	}
	return q, version, true
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
// coding; "*" stands for every coding not listed by name; x-gzip is an alias.
func acceptsGzip(acceptEncoding []string) bool {
	gzipQ, starQ, identityQ := -1, -1, -1
	for _, v := range acceptEncoding {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(elem, ";")
			q, _, ok := readParams(params)
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
