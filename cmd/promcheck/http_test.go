package main

import (
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

func TestURLGood(t *testing.T) {
	rec := &recorder{next: scrapetest.Good()}
	srv := server(t, rec)
	url := srv.URL + "/metrics/prometheus"
	r := promcheck(t, "", "check", url)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, url, "scrape (Accept text): PrometheusText0.0.4, HTTP 200, 16 samples in 6 families: no findings", "PASS")
	h := rec.headers()
	if len(h) != 1 || h[0].Get("Accept") != "text/plain;version=0.0.4" || h[0].Get("Accept-Encoding") != "gzip" ||
		!strings.HasPrefix(h[0].Get("User-Agent"), "promcheck/") {
		t.Errorf("requests: %v", h)
	}
}

func TestAccept(t *testing.T) {
	for _, c := range []struct {
		accept  string
		formats []string
	}{
		{"text", []string{"text"}},
		{"openmetrics", []string{"openmetrics"}},
		{"both", []string{"text", "openmetrics"}},
	} {
		t.Run(c.accept, func(t *testing.T) {
			rec := &recorder{next: scrapetest.Good()}
			srv := server(t, rec)
			r := promcheck(t, "", "check", "--accept", c.accept, "--output", "json", srv.URL)
			wantExit(t, r, exitConforms)
			rep := decodeJSON(t, r)
			var got []string
			for _, s := range rep.Targets[0].Scrapes {
				if s.Accept != s.Format {
					t.Errorf("asked for %s, parsed %s", s.Accept, s.Format)
				}
				got = append(got, s.Format)
			}
			if strings.Join(got, ",") != strings.Join(c.formats, ",") {
				t.Errorf("formats %v, want %v", got, c.formats)
			}
			if len(rec.headers()) != len(c.formats) {
				t.Errorf("%d requests, want %d", len(rec.headers()), len(c.formats))
			}
		})
	}
}

// --scrapes and --interval: successive scrapes are checked against each
// other, so a counter that goes down between two is found.
func TestScrapes(t *testing.T) {
	var n atomic.Int64
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := goodText
		if n.Add(1) == 2 {
			body = lower // the second scrape sees a lower counter
		}
		scrapetest.Serve(200, scrapetest.ContentTypeText, body).ServeHTTP(w, r)
	}))
	r := promcheck(t, "", "check", "--scrapes", "3", "--interval", "10ms", srv.URL)
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "scrape 1/3", "scrape 2/3", "scrape 3/3", "scrape.counter-decreased")
	if got := n.Load(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}

	// --interval spaces the scrapes: three scrapes 300ms apart take at
	// least 600ms. (A lower bound on a sleep, not a performance figure.)
	r = promcheck(t, "", "check", "--scrapes", "3", "--interval", "300ms", scrapetestURL(t))
	wantExit(t, r, exitConforms)
	if r.elapsed < 600*time.Millisecond {
		t.Errorf("3 scrapes 300ms apart took %s", r.elapsed)
	}
}

func scrapetestURL(t *testing.T) string {
	return server(t, scrapetest.Good()).URL + "/metrics"
}

func TestHeaderAndAuth(t *testing.T) {
	rec := &recorder{next: scrapetest.Good()}
	srv := server(t, rec)
	token := writeFile(t, "token", "t0ken\n")
	password := writeFile(t, "password", "pa:ss\n")

	r := promcheck(t, "", "check", "--header", "X-Tenant: blue", "--header", "X-Trace:1", "--bearer-token-file", token, srv.URL)
	wantExit(t, r, exitConforms)
	r = promcheck(t, "", "check", "--basic-auth-user", "alice", "--basic-auth-password-file", password, srv.URL)
	wantExit(t, r, exitConforms)
	h := rec.headers()
	if len(h) != 2 {
		t.Fatalf("%d requests", len(h))
	}
	if h[0].Get("X-Tenant") != "blue" || h[0].Get("X-Trace") != "1" || h[0].Get("Authorization") != "Bearer t0ken" {
		t.Errorf("first request: %v", h[0])
	}
	if h[1].Get("Authorization") != "Basic YWxpY2U6cGE6c3M=" { // alice:pa:ss
		t.Errorf("second request: %v", h[1])
	}
	// Secrets never appear in what promcheck prints.
	if strings.Contains(r.output(), "pa:ss") || strings.Contains(r.output(), "t0ken") {
		t.Errorf("a secret leaked into the output:\n%s", r)
	}
}

func TestTLSFlags(t *testing.T) {
	serverKeys, err := scrapetest.SelfSigned("server")
	if err != nil {
		t.Fatal(err)
	}
	clientKeys, err := scrapetest.SelfSigned("client")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := scrapetest.NewMutualTLSServer(scrapetest.Good(), serverKeys, clientKeys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	url := srv.URL + "/metrics"
	ca := writeFile(t, "ca.pem", string(serverKeys.CertPEM))
	cert := writeFile(t, "client.pem", string(clientKeys.CertPEM))
	key := writeFile(t, "client.key", string(clientKeys.KeyPEM))

	r := promcheck(t, "", "check", "--ca-file", ca, "--cert-file", cert, "--key-file", key, url)
	wantExit(t, r, exitConforms)
	r = promcheck(t, "", "check", "--insecure-skip-verify", "--cert-file", cert, "--key-file", key, url)
	wantExit(t, r, exitConforms)

	r = promcheck(t, "", "check", "--timeout", "5s", url)
	wantExit(t, r, exitCannotCheck)
	wantOneLineError(t, r, "scrape "+url+": TLS: certificate signed by unknown authority (use --ca-file, or --insecure-skip-verify)")

	r = promcheck(t, "", "check", "--timeout", "5s", "--ca-file", ca, url)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "scrape "+url+": ")
	// TLS 1.3 delivers the server's refusal after the handshake; usually as
	// its alert, sometimes as a closed connection.
	if !regexp.MustCompile(`certificate required \(use --cert-file and --key-file\)|closed the connection`).MatchString(r.stdout) {
		t.Errorf("no client certificate:\n%s", r)
	}
}

// wantOneLineError asserts the report names the target's error in one
// line, and that the JSON report and stderr carry the same line.
func wantOneLineError(t *testing.T, r result, line string) {
	t.Helper()
	if !strings.Contains(r.stdout, "ERROR: could not check: "+line+"\n") {
		t.Errorf("want the line %q in:\n%s", line, r)
	}
}

// Each hostile endpoint: exit 2 with a one-line error naming the target
// and the problem, or exit 1 with the http.* finding for a protocol
// violation, within --timeout, with memory bounded by --max-bytes.
func TestHostileEndpoints(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler http.Handler
		args    []string
		code    int
		want    string // regexp over the report; {url} is the target
		maxRSS  int64  // bound on the process's peak memory, 0: none
	}{
		{"slow headers", scrapetest.SlowHeaders(time.Minute), []string{"--timeout", "1s"}, exitCannotCheck,
			`ERROR: could not check: scrape {url}: timed out after 1s waiting for response headers \(--timeout\)\n`, 0},
		{"body that never ends", scrapetest.EndlessBody(), []string{"--timeout", "1s", "--max-bytes", "1073741824"}, exitCannotCheck,
			`ERROR: could not check: scrape {url}: timed out after 1s reading the body \(\d+ bytes received\) \(--timeout\)\n`, 0},
		{"body that never ends, bounded by size first", scrapetest.EndlessBody(), []string{"--timeout", "10s", "--max-bytes", "65536"}, exitCannotCheck,
			`ERROR: could not check: scrape {url}: body exceeds the limit of 65536 bytes \(--max-bytes\)\n`, 0},
		{"body larger than --max-bytes", scrapetest.Large(256 << 20), []string{"--max-bytes", "4096"}, exitCannotCheck,
			`ERROR: could not check: scrape {url}: body exceeds the limit of 4096 bytes \(--max-bytes\)\n`, 64 << 20},
		{"gzip bomb", scrapetest.GzipBomb(1 << 30), []string{"--max-bytes", "1048576"}, exitCannotCheck,
			`ERROR: could not check: scrape {url}: gzip-decoded body exceeds the limit of 1048576 bytes \(--max-bytes\)\n`, 64 << 20},
		{"redirect loop", scrapetest.RedirectLoop(), nil, exitCannotCheck,
			`ERROR: could not check: scrape {url}: redirect loop: \S+/a -> \S+/b -> \S+/a\n`, 0},
		{"connection reset mid-body", scrapetest.ResetMidBody(512), nil, exitCannotCheck,
			`ERROR: could not check: scrape {url}: connection (reset|closed) mid-body after \d+ bytes`, 0},
		{"wrong content type", scrapetest.Serve(200, "application/json", goodText), nil, exitViolations,
			`error http.content-type: `, 0},
		{"missing content type", scrapetest.Serve(200, "", goodText), nil, exitViolations,
			`error http.content-type-missing: `, 0},
		// A non-2xx answer is a failed scrape, as in Prometheus: its body,
		// even a valid exposition, is not judged.
		{"500 with a body", scrapetest.Serve(500, scrapetest.ContentTypeText, goodText), nil, exitCannotCheck,
			`ERROR: could not check: scrape {url}: server returned HTTP status 500 Internal Server Error\n`, 0},
		{"404", http.NotFoundHandler(), nil, exitCannotCheck,
			`ERROR: could not check: scrape {url}: server returned HTTP status 404 Not Found\n`, 0},
		{"401", scrapetest.Serve(401, "text/plain", "unauthorized\n"), nil, exitCannotCheck,
			`ERROR: could not check: scrape {url}: server returned HTTP status 401 Unauthorized \(send credentials with --bearer-token-file, or --basic-auth-user and --basic-auth-password-file\)\n`, 0},
		{"403", scrapetest.Serve(403, "text/plain", "forbidden\n"), nil, exitCannotCheck,
			`ERROR: could not check: scrape {url}: server returned HTTP status 403 Forbidden \(send credentials with --bearer-token-file, or --basic-auth-user and --basic-auth-password-file\)\n`, 0},
		// Text where OpenMetrics was preferred but text allowed (as
		// Prometheus asks), from a target that never served anything
		// else: the text fallback of content_negotiation.md, which
		// conforms, even under --strict.
		// (It does not compress either: info, no more.)
		{"ignores Accept openmetrics", scrapetest.IgnoresAccept(), []string{"--accept", "openmetrics"}, exitConforms,
			`: conforms, 0 errors, 0 warnings, 1 info\n +\(whole exposition\)\n +info http.content-encoding-preference: [^\n]*\n +PASS`, 0},
		{"ignores Accept openmetrics, strict", scrapetest.IgnoresAccept(), []string{"--accept", "openmetrics", "--strict"}, exitConforms,
			`: conforms, 0 errors, 0 warnings, 1 info\n +\(whole exposition\)\n +info http.content-encoding-preference: [^\n]*\n +PASS`, 0},
		// OpenMetrics where only text was allowed: a refusal of the request.
		{"ignores Accept text", scrapetest.Serve(200, scrapetest.ContentTypeOpenMetrics, scrapetest.OpenMetrics), []string{"--accept", "text"}, exitViolations,
			`error http.negotiation: `, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := server(t, c.handler)
			url := srv.URL + "/metrics"
			args := append(append([]string{"check"}, c.args...), url)
			run := promcheck
			if c.maxRSS > 0 {
				run = promcheckMemory
			}
			r := run(t, "", args...)
			wantExit(t, r, c.code)
			pattern := strings.ReplaceAll(c.want, "{url}", regexp.QuoteMeta(url))
			if !regexp.MustCompile(pattern).MatchString(r.stdout) {
				t.Errorf("report does not match %q:\n%s", pattern, r)
			}
			// Generous: the bound is there to catch a hang, not to time
			// promcheck. Every case's timeout is at most 10s.
			if r.elapsed > 20*time.Second {
				t.Errorf("took %s", r.elapsed)
			}
			// The bomb decodes to 1 GiB and the large body is 256 MiB; a
			// process that held either would be far over the bound.
			if c.maxRSS > 0 {
				t.Logf("peak memory of promcheck: %d bytes", r.maxRSS)
			}
			if c.maxRSS > 0 && r.maxRSS > c.maxRSS {
				t.Errorf("peak memory %d bytes, want < %d", r.maxRSS, c.maxRSS)
			}
		})
	}
}

// The hostile server that needs TLS: an unknown CA, as a fleet member
// would present it, with JSON output and the error on stderr too.
func TestHostileTLSMachineOutput(t *testing.T) {
	tlsSrv := newTLSServer(t)
	url := tlsSrv.URL + "/metrics"
	r := promcheck(t, "", "check", "--output", "json", "--timeout", "2s", url)
	wantExit(t, r, exitCannotCheck)
	rep := decodeJSON(t, r)
	want := "scrape " + url + ": TLS: certificate signed by unknown authority (use --ca-file, or --insecure-skip-verify)"
	if rep.Verdict != "error" || rep.ExitCode != 2 || rep.Targets[0].Error != want {
		t.Errorf("JSON: %+v", rep)
	}
	if r.stderr != "promcheck: "+want+"\n" {
		t.Errorf("stderr %q, want the one line", r.stderr)
	}
	// The CA file makes it pass.
	ca := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})))
	wantExit(t, promcheck(t, "", "check", "--ca-file", ca, url), exitConforms)
}

func newTLSServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(scrapetest.Good())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://%s/metrics", ln.Addr())
	ln.Close()
	r := promcheck(t, "", "check", "--timeout", "2s", url)
	wantExit(t, r, exitCannotCheck)
	wantOneLineError(t, r, "scrape "+url+": connection refused (is the target up and listening there?)")
}

// A scrape that fails after others succeeded keeps their results.
func TestFailureAfterScrapes(t *testing.T) {
	var n atomic.Int64
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			scrapetest.Large(1<<20).ServeHTTP(w, r)
			return
		}
		scrapetest.Good().ServeHTTP(w, r)
	}))
	r := promcheck(t, "", "check", "--scrapes", "3", "--interval", "0s", "--max-bytes", "65536", "--output", "json", srv.URL)
	wantExit(t, r, exitCannotCheck)
	rep := decodeJSON(t, r)
	if len(rep.Targets[0].Scrapes) != 1 || rep.Targets[0].Verdict != "error" || !strings.Contains(rep.Targets[0].Error, "exceeds the limit") {
		t.Errorf("%+v", rep.Targets[0])
	}
}
