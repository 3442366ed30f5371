//go:build unix

package e2e

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// acceptText is the Accept header the text proxy sends in place of
// Prometheus's: the text format 0.0.4 and nothing else.
const acceptText = "text/plain;version=0.0.4"

// textProxy is a reverse proxy in front of an emitter that makes
// Prometheus's scrapes ask for the text format only. Prometheus 2.42 always
// asks for OpenMetrics first and has no per-job switch (scrape_protocols
// came in 2.49), so this is how one job is forced to text. Only requests
// whose User-Agent is Prometheus's are rewritten: promcheck's own scrapes
// of the proxy pass unchanged, so it judges the emitter as served.
//
// It records what it relayed for Prometheus, so the test can tell which
// format Prometheus asked for and which one it got.
type textProxy struct {
	addr string // host:port it listens on

	mu     sync.Mutex
	relays []relay
}

// relay is one Prometheus scrape through the proxy.
type relay struct {
	userAgent   string
	accept      string // what Prometheus asked for
	contentType string // what the emitter served for the rewritten request
	status      int
}

// maxRelays bounds the record: a scrape a second for the test's lifetime
// stays far below it.
const maxRelays = 1000

func startTextProxy(t *testing.T, upstream string) *textProxy {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("text proxy upstream %q: %v", upstream, err)
	}
	p := &textProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			if isPrometheus(r.In) {
				r.Out.Header.Set("Accept", acceptText)
			}
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPrometheus(r) {
			rp.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(rec, r)
		// ReverseProxy rewrites a clone: r still holds what Prometheus
		// sent, and w's header what the emitter answered.
		p.record(relay{
			userAgent:   r.Header.Get("User-Agent"),
			accept:      r.Header.Get("Accept"),
			contentType: w.Header().Get("Content-Type"),
			status:      rec.status,
		})
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("text proxy: %v", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	p.addr = ln.Addr().String()
	return p
}

// statusRecorder notes the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController (which ReverseProxy flushes through)
// reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (p *textProxy) record(r relay) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.relays) < maxRelays {
		p.relays = append(p.relays, r)
	}
}

func isPrometheus(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("User-Agent"), "Prometheus/")
}

// relayed returns a copy of the record.
func (p *textProxy) relayed() []relay {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]relay(nil), p.relays...)
}
