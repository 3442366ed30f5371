package mutants

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// The scaffold every mutant shares: the reference counter table behind a
// small HTTP handler that negotiates as the reference handler does
// (MetricsHandler.Negotiate) and renders with the reference renderers
// (handler.AppendText, AppendOpenMetrics, AppendProtobuf), in the five
// protocols of content_negotiation.md. With no defect it serves byte for
// byte what handler.MetricsHandler serves (TestControlIsReference holds it
// to that), and passes the whole suite; each mutant changes one step of
// it.

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
	// ref is a reference handler, for its negotiation (Negotiate) only:
	// the scaffold serves what it would serve, unless a mutant says
	// otherwise.
	ref *handler.MetricsHandler
	// rows changes the snapshot before it is rendered in protocol p.
	rows func(p check.Protocol, snaps []counters.DeploySnapshot)
	// snapshot changes what Emitter.Snapshot returns, not what is
	// rendered.
	snapshot func(snaps []counters.DeploySnapshot)
	// edit changes a rendered text body (the text format or OpenMetrics);
	// protobuf bodies, which are binary, are left alone.
	edit func(body []byte, openMetrics bool) []byte
	// contentType replaces the Content-Type ct of a response in protocol p.
	contentType func(p check.Protocol, ct string) string
	// negotiate replaces the protocol the reference negotiated (ref) for
	// the Accept lines.
	negotiate func(accept []string, ref check.Protocol) check.Protocol
	// compress replaces the reference's gzip choice: given the
	// Accept-Encoding lines, it says whether to gzip.
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

// choose returns the protocol and Content-Type of the answer to the
// Accept lines, and whether the reference would gzip it for the
// Accept-Encoding lines.
func (e *emitter) choose(accept, acceptEncoding []string) (p check.Protocol, ct string, gzip bool) {
	ct, gzip = e.ref.Negotiate(http.Header{"Accept": accept, "Accept-Encoding": acceptEncoding})
	p = protocolOf(ct)
	if e.negotiate != nil {
		if chosen := e.negotiate(accept, p); chosen != p {
			p, ct = chosen, contentTypeOf(chosen, ct)
		}
	}
	if e.contentType != nil {
		ct = e.contentType(p, ct)
	}
	return p, ct, gzip
}

// referenceChoice returns the protocol the reference negotiates for the
// Accept lines, for a mutant that breaks what it is given.
func (e *emitter) referenceChoice(accept []string) check.Protocol {
	ct, _ := e.ref.Negotiate(http.Header{"Accept": accept})
	return protocolOf(ct)
}

// servesWhenNamed returns a negotiation that serves p whenever an Accept
// line names mediaType, in any case and at any q, 0 included, and what the
// reference chose otherwise.
func servesWhenNamed(mediaType string, p check.Protocol) func(accept []string, ref check.Protocol) check.Protocol {
	return func(accept []string, ref check.Protocol) check.Protocol {
		if strings.Contains(strings.ToLower(strings.Join(accept, ",")), mediaType) {
			return p
		}
		return ref
	}
}

// servesInstead returns a negotiation that serves to where the reference
// chose from, and what the reference chose otherwise.
func servesInstead(from, to check.Protocol) func(accept []string, ref check.Protocol) check.Protocol {
	return func(_ []string, ref check.Protocol) check.Protocol {
		if ref == from {
			return to
		}
		return ref
	}
}

// withoutEscaping returns a Content-Type rewrite that leaves the escaping
// parameter off the Content-Type of protocol p.
func withoutEscaping(p check.Protocol) func(served check.Protocol, ct string) string {
	return func(served check.Protocol, ct string) string {
		if served == p {
			return p.ContentType("")
		}
		return ct
	}
}

// protocolOf returns the protocol a Content-Type names.
func protocolOf(ct string) check.Protocol {
	parsed, _ := check.ParseContentType(ct)
	return parsed.Protocol
}

// contentTypeOf returns the Content-Type the reference would send for p,
// in place of ref, the one it sent for another protocol: the escaping
// scheme of ref, or underscores (the deploy names read the same under
// every scheme), on the 1.0.0 text formats only, as the reference does.
func contentTypeOf(p check.Protocol, ref string) string {
	if p != check.PrometheusText1_0_0 && p != check.OpenMetricsText1_0_0 {
		return p.ContentType("")
	}
	parsed, _ := check.ParseContentType(ref)
	return p.ContentType(cmp.Or(parsed.Escaping, check.EscapingUnderscores))
}

// render renders the current snapshot in protocol p.
func (e *emitter) render(p check.Protocol) []byte {
	snaps := e.table.snapshot()
	if e.rows != nil {
		e.rows(p, snaps)
	}
	openMetrics := p.Format() == check.FormatOpenMetrics
	var body []byte
	switch {
	case p.Format() == check.FormatProtobuf:
		return handler.AppendProtobuf(nil, e.ns, snaps)
	case openMetrics:
		body = handler.AppendOpenMetrics(nil, e.ns, snaps)
	default:
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
	p, ct, compress := e.choose(r.Header.Values("Accept"), r.Header.Values("Accept-Encoding"))
	if e.compress != nil {
		compress = e.compress(r.Header.Values("Accept-Encoding"))
	}
	body := e.render(p)
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Vary", "Accept, Accept-Encoding")
	if compress {
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

// bodyCache keeps the last body of each protocol, and returns that very
// slice again, not a copy, while a fresh rendering equals what the slice
// held when it was rendered: a cache that trusts its callers.
type bodyCache struct {
	mu   sync.Mutex
	last map[check.Protocol]*cachedBody
}

type cachedBody struct{ body, pristine []byte }

func (c *bodyCache) get(e *emitter, accept string) ([]byte, string) {
	p, ct, _ := e.choose([]string{accept}, nil)
	body := e.render(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = make(map[check.Protocol]*cachedBody)
	}
	slot := c.last[p]
	if slot == nil {
		slot = &cachedBody{}
		c.last[p] = slot
	}
	if bytes.Equal(slot.pristine, body) {
		return slot.body, ct
	}
	slot.body, slot.pristine = body, bytes.Clone(body)
	return body, ct
}

// refused reports whether an element of an Accept header refuses what it
// names: its q parameter (the name in any case, as RFC 9110 has it) is
// zero.
func refused(element string) bool {
	_, params, err := mime.ParseMediaType(strings.TrimSpace(element))
	if err != nil {
		return false
	}
	q, err := strconv.ParseFloat(params["q"], 64)
	return err == nil && q == 0
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
