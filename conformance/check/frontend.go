package check

import (
	"hash/maphash"
	"math/bits"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
)

// One model, several front ends. Each exposition format has a front end
// that turns a body into the engine's model, the Exposition: the families
// and samples Prometheus would ingest, with what the rules need to point at
// them (lines in the text formats, message indexes in protobuf). The rules
// judge the model; a rule that only makes sense for one format says so in
// its ID and description. Every front end parses with textparse, so that
// "Prometheus rejects this" (format.rejected) is always textparse's verdict.
//
//	frontend_text.go          Prometheus text 0.0.4 and 1.0.0
//	frontend_openmetrics.go   OpenMetrics 0.0.1 and 1.0.0
//	frontend_openmetrics2.go  OpenMetrics 2.0 (release candidate, experimental)
//	frontend_protobuf.go      Prometheus protobuf (length-delimited MetricFamily)
//
// The three text formats share the walker in frontend_lines.go.

// frontEnds maps each format to its front end, which fills in e from
// e.Body.
var frontEnds = [...]func(e *Exposition){
	FormatText:         buildText,
	FormatOpenMetrics:  buildOpenMetrics,
	FormatOpenMetrics2: buildOpenMetrics2,
	FormatProtobuf:     buildProtobuf,
}

// parse builds the Exposition of body in format, from a copy of body
// unless borrow says the caller's buffer may be used in place
// (Input.BorrowBody).
func parse(body []byte, format Format, borrow bool) *Exposition {
	// The Exposition owns a copy of the body: the strings of the model are
	// views of it, so a caller that reuses its buffer cannot change an
	// earlier Report or the Previous of a later check. The copy is made by
	// append, which does not clear the memory it then overwrites (make
	// would, and on a body of megabytes that showed); its capacity is
	// rounded up, which nearly always leaves room for the line feed
	// textparse's text parser wants at the end (else the text front end
	// appends one, copying the body again). A borrowed body is capped, so
	// that such an append copies it rather than writing into the caller's
	// spare capacity.
	owned := body[:len(body):len(body)]
	if !borrow {
		owned = append([]byte{}, body...)
	}
	e := &Exposition{Format: format, Body: owned, index: new(lineIndex), byName: make(map[string]*Family), seed: maphash.MakeSeed()}
	frontEnds[format](e)
	return e
}

// knownFormat reports whether f has a front end.
func knownFormat(f Format) bool {
	return int(f) < len(frontEnds) && frontEnds[f] != nil
}

// nativeHistogram keeps the native histogram textparse returned (one of h
// and fh is set; textparse reuses neither), nil when neither is.
func nativeHistogram(h *histogram.Histogram, fh *histogram.FloatHistogram) *nativeHist {
	switch {
	case fh != nil:
		return &nativeHist{float: fh.Copy()}
	case h != nil:
		return &nativeHist{float: h.ToFloat(nil), integer: h.Copy()}
	}
	return nil
}

// exemplarOf copies an exemplar textparse decoded into the model.
func exemplarOf(ex *exemplar.Exemplar) Exemplar {
	out := Exemplar{Value: ex.Value}
	if ex.HasTs {
		t := ex.Ts
		out.Timestamp = &t
	}
	ex.Labels.Range(func(l labels.Label) { out.Labels = append(out.Labels, Label{Name: l.Name, Value: l.Value}) })
	return out
}

// renderSeries writes a series in the text format's syntax, for samples no
// line holds as such (protobuf, OpenMetrics 2.0 composite values): the
// name, then the labels in braces, names outside the legacy set quoted as
// text 1.0.0 quotes them ({"my.metric","my.label"="v"}), values escaped.
func renderSeries(name string, ls []Label) string {
	quoted := make([]bool, len(ls))
	for i, l := range ls {
		quoted[i] = !model.LabelName(l.Name).IsValidLegacy()
	}
	return string(appendSeries(make([]byte, 0, len(name)+16*len(ls)+4), name, !model.IsValidLegacyMetricName(name), ls, quoted))
}

// appendSeries appends the series to dst as renderSeries writes it,
// quoting the name and the label names the flags say.
func appendSeries(dst []byte, name string, quoteName bool, ls []Label, quoted []bool) []byte {
	if quoteName {
		dst = append(dst, '{')
		dst, _ = appendQuoted(dst, name)
	} else {
		dst = append(dst, name...)
		if len(ls) > 0 {
			dst = append(dst, '{')
		}
	}
	for i, l := range ls {
		if i > 0 || quoteName {
			dst = append(dst, ',')
		}
		if quoted[i] {
			dst, _ = appendQuoted(dst, l.Name)
		} else {
			dst = append(dst, l.Name...)
		}
		dst = append(dst, '=')
		dst, _ = appendQuoted(dst, l.Value)
	}
	if quoteName || len(ls) > 0 {
		dst = append(dst, '}')
	}
	return dst
}

// appendQuoted appends s quoted and escaped as the text format escapes
// label values: \\, \" and \n. It reports whether it escaped anything.
func appendQuoted(dst []byte, s string) ([]byte, bool) {
	dst = append(dst, '"')
	first := indexEscape(s)
	if first == len(s) {
		return append(append(dst, s...), '"'), false
	}
	start := 0
	for i := first; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"', '\n':
			dst = append(dst, s[start:i]...)
			if c == '\n' {
				c = 'n'
			}
			dst = append(dst, '\\', c)
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// indexEscape returns the index of the first byte of s that appendQuoted
// escapes, len(s) when there is none. Label values are mostly plain, so it
// looks at eight bytes at a time.
func indexEscape(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		if m := bytesEqual(x, '"') | bytesEqual(x, '\\') | bytesEqual(x, '\n'); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c == '\n' {
			return i
		}
	}
	return i
}

// millis converts a timestamp in seconds, as OpenMetrics writes it, to
// milliseconds as textparse keeps it; false when it is NaN or beyond what
// milliseconds in an int64 hold.
func millis(seconds float64) (int64, bool) {
	if seconds != seconds || seconds > 9.2e15 || seconds < -9.2e15 {
		return 0, false
	}
	return int64(seconds * 1000), true
}
