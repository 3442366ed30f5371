// Package scrapetest provides HTTP handlers that serve a deploy exposition
// correctly and handlers that misbehave the ways real endpoints do: slow
// headers, a body that never ends, an oversized body, a gzip bomb, a
// redirect loop, a wrong or missing Content-Type, error statuses, a
// connection reset mid-body, a server that ignores Accept. Tests of
// scrapers (package scrape, promcheck, the conformance suite) run them
// under httptest:
//
//	srv := httptest.NewServer(scrapetest.EndlessBody())
//	defer srv.Close()
//
// Handlers that stall return when the request's context ends, so
// httptest.Server.Close does not wait for them.
package scrapetest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Text is a conforming deploy exposition (namespace certctl) in the text
// format, and OpenMetrics the same in OpenMetrics.
var (
	Text        = exposition(false)
	OpenMetrics = exposition(true)
)

// Content types the handlers serve. OpenMetrics 1.0.0 names its escaping
// scheme, as content_negotiation.md requires of text formats of version
// 1.0.0 and above (and client_golang sends): underscores, the default for
// a request that names none.
const (
	ContentTypeText        = "text/plain; version=0.0.4; charset=utf-8"
	ContentTypeOpenMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
)

func exposition(om bool) string {
	type family struct {
		name, help, sub string
		values          []string
	}
	families := []family{
		{"attempts", "Deployment attempts by target type and result.", "result", []string{"success", "failure"}},
		{"validate_failures", "Deployments whose pre-commit validation failed.", "", nil},
		{"reload_failures", "Deployments whose reload failed.", "", nil},
		{"post_verify_failures", "Deployments whose post-deploy verification failed.", "", nil},
		{"rollback", "Rollbacks by target type and outcome.", "outcome", []string{"restored", "also_failed"}},
		{"idempotent_skip", "Deployments skipped because the artifact was already in place.", "", nil},
	}
	// Counts that keep the invariants of SPEC.md §2.2 for every target type:
	// reload 1 + post-verify 1 = rollbacks 2, and failures 4 >= 1+1+1.
	counts := map[string]int{"attempts/success": 7, "attempts/failure": 4, "validate_failures": 1, "reload_failures": 1,
		"post_verify_failures": 1, "rollback/restored": 1, "rollback/also_failed": 1, "idempotent_skip": 2}
	var b strings.Builder
	for _, f := range families {
		name := "certctl_deploy_" + f.name
		if !om {
			name += "_total"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, f.help, name)
		for _, tt := range []string{"Apache", "NGINX"} {
			if f.sub == "" {
				fmt.Fprintf(&b, "certctl_deploy_%s_total{target_type=%q} %d\n", f.name, tt, counts[f.name])
				continue
			}
			for _, v := range f.values {
				fmt.Fprintf(&b, "certctl_deploy_%s_total{target_type=%q,%s=%q} %d\n", f.name, tt, f.sub, v, counts[f.name+"/"+v])
			}
		}
	}
	if om {
		b.WriteString("# EOF\n")
	}
	return b.String()
}

// wantsOpenMetrics reports whether the request asks for OpenMetrics.
func wantsOpenMetrics(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/openmetrics-text")
}

// Good serves the exposition in the format Accept asks for, gzipped when
// Accept-Encoding allows.
func Good() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ct := Text, ContentTypeText
		if wantsOpenMetrics(r) {
			body, ct = OpenMetrics, ContentTypeOpenMetrics
		}
		w.Header().Set("Content-Type", ct)
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			_, _ = gz.Write([]byte(body))
			_ = gz.Close()
			return
		}
		_, _ = w.Write([]byte(body))
	})
}

// Serve serves body with the given status and Content-Type; an empty
// contentType sends none (net/http would otherwise sniff one).
func Serve(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType == "" {
			w.Header()["Content-Type"] = nil
		} else {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// IgnoresAccept serves the text format whatever the request asks for.
func IgnoresAccept() http.Handler { return Serve(http.StatusOK, ContentTypeText, Text) }

// SlowHeaders sends nothing until delay has passed (or the client gives
// up), then serves the exposition.
func SlowHeaders(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		Good().ServeHTTP(w, r)
	})
}

// EndlessBody sends headers and the start of an exposition at once, then
// keeps sending comment lines, a few every millisecond, until the client
// goes away.
func EndlessBody() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ContentTypeText)
		flusher, _ := w.(http.Flusher)
		_, _ = w.Write([]byte(Text))
		line := []byte("# still going\n")
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			for range 16 {
				if _, err := w.Write(line); err != nil {
					return
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	})
}

// Large serves a text exposition of size bytes or more: the exposition
// followed by comment lines. It streams them, so a large size costs the
// server nothing but time, and stops when the client goes away.
func Large(size int) http.Handler {
	chunk := bytes.Repeat([]byte("# padding to make the body large\n"), 1024)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ContentTypeText)
		n, err := w.Write([]byte(Text))
		for err == nil && n < size {
			var m int
			m, err = w.Write(chunk)
			n += m
		}
	})
}

func padded(size int) []byte {
	var b bytes.Buffer
	b.WriteString(Text)
	for b.Len() < size {
		b.WriteString("# padding to make the body large\n")
	}
	return b.Bytes()
}

// GzipBomb serves a gzip body that decodes to about decoded bytes of
// comment lines from a small fraction of that on the wire: one compressed
// member of 1 MiB repeated (gzip readers decode concatenated members as
// one stream), so building it costs no more than compressing 1 MiB.
func GzipBomb(decoded int64) http.Handler {
	const member = 1 << 20
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = gz.Write(padded(member)[:member])
	_ = gz.Close()
	one := buf.Bytes()
	n := max(1, int((decoded+member-1)/member))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ContentTypeText)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(n*len(one)))
		for range n {
			if _, err := w.Write(one); err != nil {
				return
			}
		}
	})
}

// RedirectLoop redirects /a to /b and everything else to /a.
func RedirectLoop() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := "/a"
		if r.URL.Path == "/a" {
			next = "/b"
		}
		http.Redirect(w, r, next, http.StatusFound)
	})
}

// ResetMidBody announces a body twice as long as the first n bytes it
// sends, then resets the connection (TCP RST, not an orderly close).
func ResetMidBody(n int) http.Handler {
	body := padded(2 * n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "cannot hijack", http.StatusInternalServerError)
			return
		}
		conn, bufrw, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(bufrw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ContentTypeText, len(body))
		_, _ = bufrw.Write(body[:n])
		_ = bufrw.Flush()
		if tcp, ok := conn.(*net.TCPConn); ok {
			// Linger 0 makes Close send RST instead of FIN.
			_ = tcp.SetLinger(0)
		}
	})
}
