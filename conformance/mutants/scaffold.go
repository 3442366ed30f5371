package mutants

import (
	"bytes"
	"compress/gzip"
	"mime"
	"net/http"
	"strconv"
	"strings"

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
	// edit changes the rendered body.
	edit func(body []byte, openMetrics bool) []byte
	// contentType replaces the Content-Type of a response.
	contentType func(openMetrics bool) string
	// noGzip never compresses.
	noGzip bool
	// anyMethod serves every method as GET.
	anyMethod bool
}

// adapter returns the emitter as the suite drives it.
func (e *emitter) adapter() *conformance.Emitter {
	return &conformance.Emitter{
		Tick:     e.table.tick,
		Record:   e.table.record,
		Snapshot: e.table.snapshot,
		Handler:  e,
	}
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
	openMetrics := prefersOpenMetrics(r.Header.Get("Accept"))
	body := e.render(openMetrics)
	ct := handler.ContentTypeText
	if openMetrics {
		// As the reference answers an Accept header that names no escaping
		// scheme; the deploy names read the same under every scheme.
		ct = handler.ContentTypeOpenMetrics + "; escaping=underscores"
	}
	if e.contentType != nil {
		ct = e.contentType(openMetrics)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Vary", "Accept, Accept-Encoding")
	if !e.noGzip && acceptsGzip(r.Header.Get("Accept-Encoding")) {
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

// prefersOpenMetrics is a simplified negotiation, enough for the Accept
// headers scrapers send: OpenMetrics 1.0.0 when some range names it with a
// q at least that of the best text/plain 0.0.4 range.
func prefersOpenMetrics(accept string) bool {
	om, text := 0.0, 0.0
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		switch v := params["version"]; mediaType {
		case "application/openmetrics-text":
			if v == "" || v == "1.0.0" {
				om = max(om, q)
			}
		case "text/plain":
			if v == "" || v == "0.0.4" {
				text = max(text, q)
			}
		}
	}
	return om > 0 && om >= text
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(acceptEncoding string) bool {
	for part := range strings.SplitSeq(acceptEncoding, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(coding) != "gzip" {
			continue
		}
		q := 1.0
		if s, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		return q > 0
	}
	return false
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
