package handler

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/deploymetrics/deploymetrics/counters"
)

// DefaultNamespace is the namespace of the modelled system, so that the
// handler is a drop-in replacement for its /metrics/prometheus.
const DefaultNamespace = "certctl"

// Header values are assigned as shared, read-only slices rather than with
// Header.Set, which allocates a new slice per call. net/http only reads them.
// Their capacity equals their length, so an append by a middleware copies
// instead of writing into the shared array.
var (
	hdrGzip = []string{"gzip"}
	// The body depends on both headers, so a cache must key on both.
	hdrVary  = []string{"Accept, Accept-Encoding"}
	hdrAllow = []string{"GET, HEAD"}
)

// MetricsHandler serves the deploy families of a counters.DeployCounters on
// GET and HEAD (SPEC.md §1.11). Create it with NewMetricsHandler; it is safe for
// concurrent use, including SetDeployCounters during scrapes.
type MetricsHandler struct {
	ns       string
	counters atomic.Pointer[counters.DeployCounters]
	// Idle scratches, most recently used last. A mutex-guarded list rather
	// than a sync.Pool: a pool keeps one slot per P and is emptied by GC, so
	// a scrape that lands on a P with an empty slot, or follows a GC,
	// allocated a fresh scratch and regrew its buffers (12 of 48 benchmark
	// runs did). The list is shared by all Ps and survives GC, so
	// sequential scrapes reuse one scratch for good. It holds at most
	// maxIdleScratches; concurrent scrapes beyond that allocate their own,
	// and those are dropped when they finish, so idle memory stays bounded.
	mu   sync.Mutex
	idle []*scratch
	// openMetrics2 enables OpenMetrics 2.0 (WithOpenMetrics2).
	openMetrics2 bool
}

// maxIdleScratches bounds the idle scratches a handler keeps: enough for a
// few Prometheus servers scraping at once, each scratch holding about twice
// the size of one exposition.
const maxIdleScratches = 4

// scratch is the per-request working memory, reused so that a scrape in
// steady state allocates nothing.
type scratch struct {
	snaps []counters.DeploySnapshot
	esc   escapedLabels
	body  []byte
	gz    bytes.Buffer
	zw    *gzip.Writer // created on first compressed response
	// The last Content-Length written with this scratch for each body and
	// encoding (see variant), as a header value: bodies rarely change length
	// between scrapes, so the string is reused. Keeping one per variant
	// means a Prometheus server scraping text and a tool fetching
	// OpenMetrics do not evict each other. A new slice replaces a value when
	// the length changes; it is never modified, since an earlier response's
	// header map may still hold it.
	clen [2 * numBodies]struct {
		n    int
		vals []string
	}
	memo acceptMemo
}

// variant numbers the responses a scrape can produce, one per body and
// encoding, indexing scratch.clen.
func variant(b body, compress bool) int {
	v := 2 * int(b)
	if compress {
		v++
	}
	return v
}

// acceptMemo remembers how the last few Accept headers a scratch served
// negotiated: a scraper sends the same header on every scrape, and reading
// Prometheus 3's five media ranges costs about as much as rendering a few
// target types. Keeping several lets Prometheus jobs that ask for different
// protocols take turns without evicting each other. Remembering a header
// keeps its string alive until it is replaced, so headers longer than
// maxMemoAccept are negotiated afresh every time instead.
type acceptMemo struct {
	accept [memoEntries]string
	choice [memoEntries]choice
	n      int // entries in use
	next   int // the entry to replace next
}

const (
	memoEntries   = 4
	maxMemoAccept = 1 << 10
)

// negotiate is the package's negotiate, remembering the answer for a single
// Accept header of reasonable length. It allocates nothing: storing a
// string in the array copies its header, not its bytes.
func (m *acceptMemo) negotiate(accept []string, openMetrics2 bool) choice {
	if len(accept) != 1 || len(accept[0]) > maxMemoAccept {
		return negotiate(accept, openMetrics2)
	}
	a := accept[0]
	for i := range m.n {
		if m.accept[i] == a {
			return m.choice[i]
		}
	}
	c := negotiate(accept, openMetrics2)
	m.accept[m.next], m.choice[m.next] = a, c
	m.next = (m.next + 1) % memoEntries
	m.n = min(m.n+1, memoEntries)
	return c
}

// get returns an idle scratch, or a new one if none is idle.
func (h *MetricsHandler) get() *scratch {
	h.mu.Lock()
	if n := len(h.idle); n > 0 {
		s := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		h.mu.Unlock()
		return s
	}
	h.mu.Unlock()
	return new(scratch)
}

// put returns s to the idle list, or drops it if the list is full.
func (h *MetricsHandler) put(s *scratch) {
	h.mu.Lock()
	if len(h.idle) < maxIdleScratches {
		h.idle = append(h.idle, s)
	}
	h.mu.Unlock()
}

// Option configures a MetricsHandler.
type Option func(*MetricsHandler)

// WithNamespace sets the prefix of the family names ("certctl" gives
// certctl_deploy_attempts_total). An empty namespace gives unprefixed names
// (deploy_attempts_total). It panics if ns is not valid (see
// ValidateNamespace): the namespace is configuration, and a handler that
// cannot serve a single valid line must not start. Check user input with
// ValidateNamespace first to report it properly.
func WithNamespace(ns string) Option {
	if err := ValidateNamespace(ns); err != nil {
		panic("handler: WithNamespace: " + err.Error())
	}
	return func(h *MetricsHandler) { h.ns = ns }
}

// ValidateNamespace reports whether ns can prefix the deploy family names: it
// must be empty or match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__".
// Colons are legal in metric names but reserved for recording rules, and
// names starting with "__" are reserved for Prometheus's internal use.
func ValidateNamespace(ns string) error {
	if len(ns) >= 2 && ns[:2] == "__" {
		return fmt.Errorf("namespace %q: names starting with \"__\" are reserved by Prometheus", ns)
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9') {
			continue
		}
		return fmt.Errorf("namespace %q: byte %d (%q) is not allowed; use letters, digits and underscores, not starting with a digit", ns, i, c)
	}
	return nil
}

// WithOpenMetrics2 lets the handler serve OpenMetrics 2.0 (see
// AppendOpenMetrics2) to a scraper that asks for
// application/openmetrics-text;version=2.0.0. The specification is a release
// candidate and Prometheus parses it only behind a feature flag, so it is
// off by default: without this option such a request is answered as if that
// media range were absent.
func WithOpenMetrics2() Option {
	return func(h *MetricsHandler) { h.openMetrics2 = true }
}

// NewMetricsHandler returns a handler with namespace DefaultNamespace unless
// an option sets another. Until SetDeployCounters is called it serves the six
// families with no samples, which is a valid, empty exposition.
func NewMetricsHandler(opts ...Option) *MetricsHandler {
	h := &MetricsHandler{ns: DefaultNamespace}
	for _, o := range opts {
		o(h)
	}
	// Room for every idle scratch up front, so that put never allocates.
	h.idle = make([]*scratch, 0, maxIdleScratches)
	return h
}

// SetDeployCounters sets the table the handler serves; nil serves empty
// families again. Scrapes in flight finish with the table they started with.
func (h *MetricsHandler) SetDeployCounters(c *counters.DeployCounters) {
	h.counters.Store(c)
}

// ServeHTTP writes the exposition in the protocol and encoding the request
// negotiates (see Negotiate): one of the five protocols of Prometheus's
// content negotiation, or OpenMetrics 2.0 if enabled; gzip when
// Accept-Encoding allows it. Every successful response carries Content-Type,
// Content-Length and Vary. HEAD gets the same headers as GET and no body.
// Other methods get 405 with an Allow header.
//
// A response allocates nothing in steady state, whatever the protocol,
// compressed or not; see TestServeHTTPAllocs for the conditions.
func (h *MetricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if refuseMethod(w, r) {
		return
	}
	s := h.get()
	defer h.put(s)
	c := s.memo.negotiate(r.Header.Values("Accept"), h.openMetrics2)
	compress := acceptsGzip(r.Header.Values("Accept-Encoding"))

	s.snaps = s.snaps[:0]
	if dc := h.counters.Load(); dc != nil {
		s.snaps = dc.AppendSnapshot(s.snaps)
	}
	b := protocols[c.proto].body
	s.body = s.render(s.body[:0], h.ns, b)
	hdr := w.Header()
	hdr["Content-Type"] = c.contentType()
	body := s.body
	if compress {
		body = s.compress()
		hdr["Content-Encoding"] = hdrGzip
	}
	hdr["Vary"] = hdrVary
	hdr["Content-Length"] = s.contentLength(variant(b, compress), len(body))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A failed write means the scraper has gone away; there is no one left
	// to tell, and the next scrape starts afresh.
	_, _ = w.Write(body)
}

// render appends s.snaps rendered as body b to dst.
func (s *scratch) render(dst []byte, ns string, b body) []byte {
	switch b {
	case bodyOpenMetrics:
		return appendExposition(dst, ns, s.snaps, styleOpenMetrics, &s.esc)
	case bodyOpenMetricsV2:
		return appendExposition(dst, ns, s.snaps, styleOpenMetrics2, &s.esc)
	case bodyProtobuf:
		return appendProtobuf(dst, ns, s.snaps, &s.esc)
	}
	return appendExposition(dst, ns, s.snaps, styleText, &s.esc)
}

// Negotiate returns what ServeHTTP answers a request with these headers
// with: its Content-Type and whether the body is gzipped. It allocates
// nothing, whatever the headers hold, which makes it cheap to ask and safe
// to fuzz.
//
//	ct, gzipped := h.Negotiate(http.Header{"Accept": {"text/plain;version=1.0.0;escaping=allow-utf-8"}})
//	// ct == "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8", gzipped == false
func (h *MetricsHandler) Negotiate(header http.Header) (contentType string, gzip bool) {
	c := negotiate(header.Values("Accept"), h.openMetrics2)
	return c.contentType()[0], acceptsGzip(header.Values("Accept-Encoding"))
}

// compress gzips s.body into s.gz and returns the compressed bytes. It
// compresses into a buffer rather than straight into the response so that the
// response can carry a Content-Length. BestSpeed: metrics compress well at any
// level, and the scrape's latency matters more than a few bytes.
func (s *scratch) compress() []byte {
	s.gz.Reset()
	if s.zw == nil {
		// NewWriterLevel fails only on an invalid level.
		s.zw, _ = gzip.NewWriterLevel(&s.gz, gzip.BestSpeed)
	} else {
		s.zw.Reset(&s.gz)
	}
	// Writes to a bytes.Buffer cannot fail.
	_, _ = s.zw.Write(s.body)
	_ = s.zw.Close()
	return s.gz.Bytes()
}

// contentLength returns the Content-Length header value for n bytes of
// response variant v.
func (s *scratch) contentLength(v, n int) []string {
	c := &s.clen[v]
	if c.vals == nil || c.n != n {
		c.n, c.vals = n, []string{strconv.Itoa(n)}
	}
	return c.vals
}
