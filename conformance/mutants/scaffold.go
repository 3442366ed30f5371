package mutants

import (
	"bytes"
	"compress/gzip"
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// The scaffold every mutant shares: the reference counter table behind a
// small HTTP handler that renders with the reference renderers
// (handler.AppendText, handler.AppendOpenMetrics). With no defect it serves
// byte for byte what handler.MetricsHandler serves (TestControlIsReference
// holds it to that), and passes the whole suite; each mutant changes one
// step of it.

// table is a counter table as the scaffold uses it.
type table interface {
	tick(c conformance.Counter, targetType string)
	record(targetType string, o counters.Outcome)
	snapshot() []counters.DeploySnapshot
}

// refTable is the reference table, unchanged.
type refTable struct{ dc *counters.DeployCounters }

func newRefTable(opts ...counters.Option) refTable {
	return refTable{dc: counters.NewDeployCounters(opts...)}
}

func (t refTable) tick(c conformance.Counter, targetType string) {
	tickTarget(t.dc.Bind(targetType), c)
}

func (t refTable) record(targetType string, o counters.Outcome) { t.dc.Record(targetType, o) }

func (t refTable) snapshot() []counters.DeploySnapshot { return t.dc.Snapshot() }

// tickTarget ticks counter c through a bound handle of the reference table.
func tickTarget(h *counters.Target, c conformance.Counter) {
	switch c {
	case conformance.AttemptSuccess:
		h.IncAttemptSuccess()
	case conformance.AttemptFailure:
		h.IncAttemptFailure()
	case conformance.ValidateFailure:
		h.IncValidateFailure()
	case conformance.ReloadFailure:
		h.IncReloadFailure()
	case conformance.PostVerifyFailure:
		h.IncPostVerifyFailure()
	case conformance.RollbackRestored:
		h.IncRollbackRestored()
	case conformance.RollbackAlsoFailed:
		h.IncRollbackAlsoFailed()
	case conformance.IdempotentSkip:
		h.IncIdempotentSkip()
	}
}

// emitter is the scaffold. The zero values of the defect fields are the
// reference behaviour.
type emitter struct {
	ns    string
	table table
	// rows changes the snapshot before it is rendered.
	rows func(snaps []counters.DeploySnapshot)
	// snapshot changes what Emitter.Snapshot returns, not what is
	// rendered.
	snapshot func(snaps []counters.DeploySnapshot)
	// edit changes the rendered body.
	edit func(body []byte, openMetrics bool) []byte
	// contentType replaces the Content-Type of a response.
	contentType func(openMetrics bool) string
	// negotiate replaces the reference's negotiation: given the Accept
	// lines, it says whether to serve OpenMetrics (1.0.0) or text (0.0.4).
	negotiate func(accept []string) bool
	// compress replaces acceptsGzip: given the Accept-Encoding lines, it
	// says whether to gzip.
	compress func(acceptEncoding []string) bool
	// anyMethod serves every method as GET.
	anyMethod bool
	// scrape, when set, is how the suite scrapes the emitter, through
	// Emitter.Scrape, instead of over HTTP.
	scrape func(accept string) (body []byte, contentType string)
}

// adapter returns the emitter as the suite drives it.
func (e *emitter) adapter() *conformance.Emitter {
	a := &conformance.Emitter{
		Tick:     e.table.tick,
		Record:   e.table.record,
		Snapshot: e.table.snapshot,
		Handler:  e,
	}
	if e.snapshot != nil {
		a.Snapshot = func() []counters.DeploySnapshot {
			snaps := e.table.snapshot()
			e.snapshot(snaps)
			return snaps
		}
	}
	if e.scrape != nil {
		a.Handler = nil
		a.Scrape = func(_ context.Context, accept string) ([]byte, string, error) {
			body, contentType := e.scrape(accept)
			return body, contentType, nil
		}
	}
	return a
}

// render renders the current snapshot.
func (e *emitter) render(openMetrics bool) []byte {
	snaps := e.table.snapshot()
	if e.rows != nil {
		e.rows(snaps)
	}
	var body []byte
	if openMetrics {
		body = handler.AppendOpenMetrics(nil, e.ns, snaps)
	} else {
		body = handler.AppendText(nil, e.ns, snaps)
	}
	if e.edit != nil {
		body = e.edit(body, openMetrics)
	}
	return body
}

func (e *emitter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !e.anyMethod && r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	compress := acceptsGzip
	if e.compress != nil {
		compress = e.compress
	}
	// The text protocols as the reference negotiates them, unless the
	// mutant breaks the negotiation.
	ct, openMetrics := handler.NegotiateText(r.Header.Values("Accept"))
	if e.negotiate != nil {
		openMetrics = e.negotiate(r.Header.Values("Accept"))
		ct = handler.ContentTypeText
		if openMetrics {
			// As the reference answers an Accept header that names no
			// escaping scheme; the deploy names read the same under
			// every scheme.
			ct = handler.ContentTypeOpenMetrics + "; escaping=underscores"
		}
	}
	body := e.render(openMetrics)
	if e.contentType != nil {
		ct = e.contentType(openMetrics)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Vary", "Accept, Accept-Encoding")
	if compress(r.Header.Values("Accept-Encoding")) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// bodyCache keeps the last body of each format, and returns that very
// slice again, not a copy, while a fresh rendering equals what the slice
// held when it was rendered: a cache that trusts its callers.
type bodyCache struct {
	mu   sync.Mutex
	last [2]struct{ body, pristine []byte } // by format: text, OpenMetrics
}

func (c *bodyCache) get(e *emitter, accept string) ([]byte, string) {
	ct, openMetrics := handler.NegotiateText([]string{accept})
	body := e.render(openMetrics)
	slot := &c.last[0]
	if openMetrics {
		slot = &c.last[1]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Equal(slot.pristine, body) {
		return slot.body, ct
	}
	slot.body, slot.pristine = body, bytes.Clone(body)
	return body, ct
}

// acceptRange is one element of an Accept or Accept-Encoding header.
type acceptRange struct {
	value   string // media range or coding, lower case
	version string
	q       float64
}

// parseRanges reads the elements of every line of a header, as RFC 9110
// reads several lines of one field: one list. Names are case-insensitive;
// an element that does not parse, or whose q is not a number in [0, 1],
// is skipped.
func parseRanges(lines []string) []acceptRange {
	var out []acceptRange
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			value, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			r := acceptRange{value: value, version: params["version"], q: 1}
			if s, ok := params["q"]; ok {
				q, err := strconv.ParseFloat(s, 64)
				if err != nil || q < 0 || q > 1 {
					continue
				}
				r.q = q
			}
			out = append(out, r)
		}
	}
	return out
}

// match is how a header's ranges match one format: the q of the most
// specific matching range (3: the type itself, 2: type/*, 1: */*) and its
// position, for ties.
type match struct{ q, spec, pos int }

// matchFormat returns how ranges match mediaType, whose range must carry
// version or none.
func matchFormat(ranges []acceptRange, mediaType, version string) match {
	typ, _, _ := strings.Cut(mediaType, "/")
	best := match{}
	for i, r := range ranges {
		spec := 0
		switch r.value {
		case mediaType:
			if r.version == "" || r.version == version {
				spec = 3
			}
		case typ + "/*":
			spec = 2
		case "*/*":
			spec = 1
		}
		q := int(r.q * 1000)
		if spec > best.spec || (spec == best.spec && spec > 0 && q > best.q) {
			best = match{q: q, spec: spec, pos: i}
		}
	}
	return best
}

// prefersOpenMetrics is the reference handler's choice between text 0.0.4
// and OpenMetrics 1.0.0, written plainly, for the mutants that break the
// negotiation in one way each: OpenMetrics 1.0.0 when the Accept lines allow it (the most
// specific range matching it has q > 0) and prefer it to the text format
// (a higher q, then a more specific range, then the range listed first).
// Text otherwise, also when nothing is acceptable.
func prefersOpenMetrics(accept []string) bool {
	ranges := parseRanges(accept)
	om := matchFormat(ranges, "application/openmetrics-text", "1.0.0")
	text := matchFormat(ranges, "text/plain", "0.0.4")
	switch {
	case om.spec == 0 || om.q == 0:
		return false
	case text.spec == 0 || om.q != text.q:
		return om.q > text.q
	case om.spec != text.spec:
		return om.spec > text.spec
	}
	return om.pos < text.pos
}

// acceptsGzip reports whether the Accept-Encoding lines allow gzip and do
// not prefer identity to it: "*" stands for codings not named, q=0
// refuses, x-gzip is gzip, case does not matter.
func acceptsGzip(acceptEncoding []string) bool {
	gzipQ, starQ, identityQ := -1.0, -1.0, -1.0
	for _, r := range parseRanges(acceptEncoding) {
		switch r.value {
		case "gzip", "x-gzip":
			gzipQ = max(gzipQ, r.q)
		case "*":
			starQ = max(starQ, r.q)
		case "identity":
			identityQ = max(identityQ, r.q)
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

// editLines applies f to every line of body (without its line feed) and
// joins the lines f returns.
func editLines(body []byte, f func(line string) []string) []byte {
	var out []byte
	for _, line := range strings.SplitAfter(string(body), "\n") {
		if line == "" {
			continue
		}
		for _, l := range f(strings.TrimSuffix(line, "\n")) {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}
