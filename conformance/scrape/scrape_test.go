package scrape_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	return newServer(t, h, false).URL + "/metrics"
}

// newServer starts a test server whose error log is discarded: the
// hostile clients and failed handshakes these tests make would fill the
// output with expected complaints.
func newServer(t *testing.T, h http.Handler, useTLS bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// wantError asserts that err is an *Error of kind whose one-line message
// names the URL and matches pattern.
func wantError(t *testing.T, err error, url string, kind scrape.Kind, pattern string) *scrape.Error {
	t.Helper()
	var se *scrape.Error
	if !errors.As(err, &se) {
		t.Fatalf("want *scrape.Error of kind %s, got %T %v", kind, err, err)
	}
	msg := se.Error()
	if se.Kind != kind {
		t.Errorf("kind = %s, want %s (%s)", se.Kind, kind, msg)
	}
	if !strings.HasPrefix(msg, "scrape "+url+": ") {
		t.Errorf("message %q does not start with %q", msg, "scrape "+url+": ")
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message %q spans lines", msg)
	}
	if !regexp.MustCompile(pattern).MatchString(msg) {
		t.Errorf("message %q does not match %q", msg, pattern)
	}
	return se
}

func TestGoodBothFormatsGzip(t *testing.T) {
	url := serve(t, scrapetest.Good())
	client := scrape.NewClient(nil)
	for _, c := range []struct {
		accept, body, ct string
	}{
		{scrape.AcceptText, scrapetest.Text, scrapetest.ContentTypeText},
		{scrape.AcceptOpenMetrics, scrapetest.OpenMetrics, scrapetest.ContentTypeOpenMetrics},
	} {
		in, err := scrape.Get(context.Background(), client, url, scrape.Options{Accept: c.accept})
		if err != nil {
			t.Fatal(err)
		}
		if string(in.Body) != c.body {
			t.Errorf("Accept %s: body is not the decoded exposition:\n%s", c.accept, in.Body)
		}
		f := in.HTTP
		if in.ContentType != c.ct || f.StatusCode != 200 || f.Accept != c.accept || f.AcceptEncoding != "gzip" ||
			f.Header.Get("Content-Encoding") != "gzip" || f.URL != url || f.TooLarge || f.DecodeError != "" || f.Limit != scrape.DefaultMaxBytes {
			t.Errorf("Accept %s: facts %+v, content type %q", c.accept, f, in.ContentType)
		}
		// The wire bytes are the gzip stream, smaller than the exposition.
		if f.WireBytes <= 0 || f.WireBytes >= int64(len(c.body)) {
			t.Errorf("Accept %s: WireBytes = %d for a %d-byte exposition", c.accept, f.WireBytes, len(c.body))
		}
	}
}

func TestNoGzip(t *testing.T) {
	url := serve(t, scrapetest.Good())
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{NoGzip: true})
	if err != nil {
		t.Fatal(err)
	}
	if in.HTTP.AcceptEncoding != "identity" || in.HTTP.Header.Get("Content-Encoding") != "" || in.HTTP.WireBytes != int64(len(scrapetest.Text)) {
		t.Errorf("facts %+v", in.HTTP)
	}
}

func TestRequestHeaders(t *testing.T) {
	got := make(chan http.Header, 4)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		scrapetest.Good().ServeHTTP(w, r)
	}))
	hdr := http.Header{}
	hdr.Add("X-Scope", "a")
	hdr.Add("X-Scope", "b")
	for _, c := range []struct {
		name string
		opts scrape.Options
		auth string
	}{
		{"bearer", scrape.Options{Header: hdr, BearerToken: "s3cret", Accept: "custom/type"}, "Bearer s3cret"},
		{"basic", scrape.Options{Header: hdr, BasicAuthUser: "alice", BasicAuthPassword: "pw:1", Accept: "custom/type"}, "Basic YWxpY2U6cHc6MQ=="},
	} {
		if _, err := scrape.Get(context.Background(), nil, url, c.opts); err != nil {
			t.Fatal(err)
		}
		h := <-got
		if h.Get("Authorization") != c.auth || h.Get("Accept") != "custom/type" || h.Get("Accept-Encoding") != "gzip" ||
			strings.Join(h.Values("X-Scope"), ",") != "a,b" || h.Get("User-Agent") != "deploymetrics-scrape" {
			t.Errorf("%s: request headers %v", c.name, h)
		}
	}
}

func TestSlowHeaders(t *testing.T) {
	url := serve(t, scrapetest.SlowHeaders(time.Minute))
	_, err := scrape.Get(context.Background(), nil, url, scrape.Options{Timeout: 200 * time.Millisecond})
	wantError(t, err, url, scrape.KindTimeout, `timed out after 200ms waiting for response headers$`)
}

func TestEndlessBody(t *testing.T) {
	url := serve(t, scrapetest.EndlessBody())
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{Timeout: 300 * time.Millisecond})
	wantError(t, err, url, scrape.KindTimeout, `timed out after 300ms reading the body \(\d+ bytes received\)$`)
	if in.HTTP == nil || in.HTTP.StatusCode != 200 {
		t.Errorf("the facts of the response that did arrive are lost: %+v", in.HTTP)
	}
}

func TestTooLarge(t *testing.T) {
	const limit = 64 << 10
	url := serve(t, scrapetest.Large(1<<20))
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{MaxBytes: limit, NoGzip: true})
	wantError(t, err, url, scrape.KindTooLarge, `: body exceeds the limit of 65536 bytes$`)
	if !in.HTTP.TooLarge || in.HTTP.Limit != limit || len(in.Body) != limit || in.HTTP.WireBytes != limit {
		t.Errorf("TooLarge %v, Limit %d, body %d bytes, wire %d", in.HTTP.TooLarge, in.HTTP.Limit, len(in.Body), in.HTTP.WireBytes)
	}
}

func TestExactlyAtLimitIsNotTooLarge(t *testing.T) {
	url := serve(t, scrapetest.Serve(200, scrapetest.ContentTypeText, scrapetest.Text))
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{MaxBytes: int64(len(scrapetest.Text))})
	if err != nil || in.HTTP.TooLarge || string(in.Body) != scrapetest.Text {
		t.Errorf("err %v, TooLarge %v, body %d bytes", err, in.HTTP.TooLarge, len(in.Body))
	}
}

// A gzip bomb of 1 GiB must be cut at the limit after decoding, with
// memory of the order of the limit, not of the bomb.
func TestGzipBomb(t *testing.T) {
	const limit = 1 << 20
	url := serve(t, scrapetest.GzipBomb(1<<30))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{MaxBytes: limit})
	runtime.ReadMemStats(&after)
	wantError(t, err, url, scrape.KindTooLarge, `: gzip-decoded body exceeds the limit of 1048576 bytes$`)
	if !in.HTTP.TooLarge || len(in.Body) != limit {
		t.Errorf("TooLarge %v, body %d bytes", in.HTTP.TooLarge, len(in.Body))
	}
	if in.HTTP.WireBytes >= limit {
		t.Errorf("WireBytes = %d: a bomb is small on the wire", in.HTTP.WireBytes)
	}
	// The process allocated in all (client and server) less than 16 times
	// the limit while the bomb decodes to 1024 times it.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*limit {
		t.Errorf("scraping the bomb allocated %d bytes, want < %d", alloc, 16*limit)
	}
}

// The wire is bounded too: a gzip body larger than the limit on the wire
// is cut there, even before it decodes to more.
func TestWireLimit(t *testing.T) {
	url := serve(t, scrapetest.GzipBomb(64<<20))
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{MaxBytes: 256})
	wantError(t, err, url, scrape.KindTooLarge, `exceeds the limit of 256 bytes$`)
	if in.HTTP.WireBytes > 256 || len(in.Body) > 256 {
		t.Errorf("wire %d, body %d: both bounded by 256", in.HTTP.WireBytes, len(in.Body))
	}
}

func TestRedirectLoop(t *testing.T) {
	srv := newServer(t, scrapetest.RedirectLoop(), false)
	url := srv.URL + "/metrics"
	loop := regexp.QuoteMeta(fmt.Sprintf("redirect loop: %[1]s/a -> %[1]s/b -> %[1]s/a", srv.URL))
	_, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
	wantError(t, err, url, scrape.KindRedirect, loop+"$")
}

func TestTooManyRedirects(t *testing.T) {
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		http.Redirect(w, r, "/"+strconv.Itoa(n+1), http.StatusFound)
	}))
	_, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
	wantError(t, err, url, scrape.KindRedirect, `stopped after 10 redirects \(the next to http://.*/11\)$`)
}

func TestRedirectFollowedWithinLimit(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.RedirectHandler("/metrics/prometheus", http.StatusMovedPermanently))
	mux.Handle("/metrics/prometheus", scrapetest.Good())
	url := serve(t, mux)
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
	if err != nil || string(in.Body) != scrapetest.Text {
		t.Fatalf("err %v, body %q", err, in.Body)
	}
}

// A user's own client gets the redirect policy too, without being changed.
func TestUserClientGetsRedirectPolicy(t *testing.T) {
	url := serve(t, scrapetest.RedirectLoop())
	client := &http.Client{}
	_, err := scrape.Get(context.Background(), client, url, scrape.Options{})
	wantError(t, err, url, scrape.KindRedirect, `redirect loop`)
	if client.CheckRedirect != nil {
		t.Error("Get changed the caller's client")
	}
}

// Error statuses and wrong content types are for the engine to judge, not
// errors of the scrape.
func TestResponsesTheEngineJudges(t *testing.T) {
	for _, c := range []struct {
		name    string
		h       http.Handler
		status  int
		ct      string
		body    string
		decoded string
	}{
		{"500 with body", scrapetest.Serve(500, scrapetest.ContentTypeText, "oops\n"), 500, scrapetest.ContentTypeText, "oops\n", ""},
		{"404", http.NotFoundHandler(), 404, "text/plain; charset=utf-8", "404 page not found\n", ""},
		{"missing content type", scrapetest.Serve(200, "", scrapetest.Text), 200, "", scrapetest.Text, ""},
		{"wrong content type", scrapetest.Serve(200, "application/json", scrapetest.Text), 200, "application/json", scrapetest.Text, ""},
		{"ignores Accept", scrapetest.IgnoresAccept(), 200, scrapetest.ContentTypeText, scrapetest.Text, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := serve(t, c.h)
			in, err := scrape.Get(context.Background(), nil, url, scrape.Options{Accept: scrape.AcceptOpenMetrics})
			if err != nil {
				t.Fatal(err)
			}
			if in.HTTP.StatusCode != c.status || in.ContentType != c.ct || string(in.Body) != c.body {
				t.Errorf("status %d, content type %q, body %q", in.HTTP.StatusCode, in.ContentType, in.Body)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name, encoding, pattern string
	}{
		{"unknown encoding", "br", `Content-Encoding "br" is not one the scraper accepts`},
		{"not gzip", "gzip", `Content-Encoding is gzip but the body is not gzip`},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", scrapetest.ContentTypeText)
				w.Header().Set("Content-Encoding", c.encoding)
				_, _ = w.Write([]byte(scrapetest.Text))
			}))
			in, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(c.pattern).MatchString(in.HTTP.DecodeError) {
				t.Errorf("DecodeError %q does not match %q", in.HTTP.DecodeError, c.pattern)
			}
			if in.HTTP.WireBytes != int64(len(scrapetest.Text)) {
				t.Errorf("WireBytes %d, want %d", in.HTTP.WireBytes, len(scrapetest.Text))
			}
			// What arrived is kept for the engine to judge.
			if string(in.Body) != scrapetest.Text {
				t.Errorf("body %q, want the raw bytes", in.Body)
			}
		})
	}
}

// A gzip stream that breaks off midway is a decode error, with what was
// decoded before it.
func TestCorruptGzip(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_, _ = gz.Write([]byte(scrapetest.Text))
	_ = gz.Close()
	stream := buf.Bytes()
	stream = stream[:len(stream)-12] // drop part of the last block and the trailer
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", scrapetest.ContentTypeText)
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(stream)
	}))
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(in.HTTP.DecodeError, "gzip body is corrupt after ") || in.HTTP.WireBytes != int64(len(stream)) {
		t.Errorf("DecodeError %q, WireBytes %d", in.HTTP.DecodeError, in.HTTP.WireBytes)
	}
	if !strings.HasPrefix(scrapetest.Text, string(in.Body)) {
		t.Errorf("the decoded part is not a prefix of the exposition: %q", in.Body)
	}
}

func TestResetMidBody(t *testing.T) {
	url := serve(t, scrapetest.ResetMidBody(512))
	_, err := scrape.Get(context.Background(), nil, url, scrape.Options{Timeout: 5 * time.Second})
	// Whether the bytes before the RST reach the reader depends on the
	// kernel's timing; the kind and the wording do not.
	wantError(t, err, url, scrape.KindBody, `: connection (reset|closed) mid-body after \d+ bytes`)
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/metrics"
	ln.Close()
	_, err = scrape.Get(context.Background(), nil, url, scrape.Options{Timeout: 2 * time.Second})
	wantError(t, err, url, scrape.KindConnect, `connection refused`)
}

func TestClosedWithoutAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = conn.Read(buf)
			conn.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + "/metrics"
	_, err = scrape.Get(context.Background(), nil, url, scrape.Options{Timeout: 2 * time.Second})
	wantError(t, err, url, scrape.KindProtocol, `the server closed the connection without answering`)
}

func TestBadURL(t *testing.T) {
	for _, url := range []string{"ftp://127.0.0.1/metrics", "http://[::1"} {
		_, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
		wantError(t, err, url, scrape.KindRequest, `(unsupported scheme "ftp"|invalid URL)`)
	}
}

func TestCanceled(t *testing.T) {
	url := serve(t, scrapetest.SlowHeaders(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := scrape.Get(ctx, nil, url, scrape.Options{})
	wantError(t, err, url, scrape.KindCanceled, `canceled while waiting for response headers$`)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS(t *testing.T) {
	srv := newServer(t, scrapetest.Good(), true)
	url := srv.URL + "/metrics"
	caFile := writeFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	t.Run("unknown authority", func(t *testing.T) {
		_, err := scrape.Get(context.Background(), scrape.NewClient(nil), url, scrape.Options{Timeout: 5 * time.Second})
		wantError(t, err, url, scrape.KindUnknownAuthority, `: TLS: certificate signed by unknown authority$`)
	})
	for _, c := range []struct {
		name  string
		files scrape.TLSFiles
	}{
		{"ca file", scrape.TLSFiles{CAFile: caFile}},
		{"insecure skip verify", scrape.TLSFiles{InsecureSkipVerify: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := c.files.Config()
			if err != nil {
				t.Fatal(err)
			}
			in, err := scrape.Get(context.Background(), scrape.NewClient(cfg), url, scrape.Options{Timeout: 5 * time.Second})
			if err != nil || string(in.Body) != scrapetest.Text {
				t.Fatalf("err %v, body %q", err, in.Body)
			}
		})
	}
	t.Run("plain http to a TLS port", func(t *testing.T) {
		plain := "http://" + srv.Listener.Addr().String() + "/metrics"
		in, err := scrape.Get(context.Background(), nil, plain, scrape.Options{Timeout: 5 * time.Second})
		// Go's TLS server answers plain HTTP with a 400 response.
		if err == nil && in.HTTP.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d", in.HTTP.StatusCode)
		}
	})
	t.Run("https to a plain port", func(t *testing.T) {
		plainSrv := newServer(t, scrapetest.Good(), false)
		url := "https://" + plainSrv.Listener.Addr().String() + "/metrics"
		_, err := scrape.Get(context.Background(), nil, url, scrape.Options{Timeout: 5 * time.Second})
		wantError(t, err, url, scrape.KindTLS, `TLS: the server answered in plain HTTP \(use an http:// URL\)$`)
	})
}

func TestMutualTLS(t *testing.T) {
	server, err := scrapetest.SelfSigned("server")
	if err != nil {
		t.Fatal(err)
	}
	client, err := scrapetest.SelfSigned("client")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := scrapetest.NewMutualTLSServer(scrapetest.Good(), server, client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	url := srv.URL + "/metrics"
	files := scrape.TLSFiles{
		CAFile:   writeFile(t, "ca.pem", server.CertPEM),
		CertFile: writeFile(t, "client.pem", client.CertPEM),
		KeyFile:  writeFile(t, "client.key", client.KeyPEM),
	}
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	if in, err := scrape.Get(context.Background(), scrape.NewClient(cfg), url, scrape.Options{Timeout: 5 * time.Second}); err != nil || string(in.Body) != scrapetest.Text {
		t.Fatalf("with a client certificate: err %v", err)
	}
	noCert := files
	noCert.CertFile, noCert.KeyFile = "", ""
	cfg, err = noCert.Config()
	if err != nil {
		t.Fatal(err)
	}
	_, err = scrape.Get(context.Background(), scrape.NewClient(cfg), url, scrape.Options{Timeout: 5 * time.Second})
	// TLS 1.3 reports the server's refusal after the handshake, when the
	// client first reads: usually as the server's alert, sometimes (when the
	// server's close wins the race) as a closed connection.
	var se *scrape.Error
	if !errors.As(err, &se) || !(se.Kind == scrape.KindTLS && strings.Contains(se.Detail, "certificate required") || se.Kind == scrape.KindProtocol) {
		t.Errorf("without a client certificate: %v", err)
	}
}

func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := writeFile(t, "not.pem", []byte("hello"))
	for _, c := range []struct {
		files   scrape.TLSFiles
		pattern string
	}{
		{scrape.TLSFiles{CAFile: filepath.Join(dir, "missing.pem")}, `CA file: open .*missing.pem: no such file`},
		{scrape.TLSFiles{CAFile: notPEM}, `CA file .*not.pem: no PEM certificate in it`},
		{scrape.TLSFiles{CertFile: notPEM}, `needs its key file`},
		{scrape.TLSFiles{KeyFile: notPEM}, `needs its certificate file`},
		{scrape.TLSFiles{CertFile: notPEM, KeyFile: notPEM}, `client certificate .*not.pem with key .*not.pem: `},
	} {
		_, err := c.files.Config()
		if err == nil || !regexp.MustCompile(c.pattern).MatchString(err.Error()) {
			t.Errorf("%+v: error %v, want one matching %q", c.files, err, c.pattern)
		}
	}
}

// The facts Get returns feed the engine as they are.
func TestFeedsTheEngine(t *testing.T) {
	url := serve(t, scrapetest.Good())
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{Accept: scrape.AcceptOpenMetrics})
	if err != nil {
		t.Fatal(err)
	}
	report := check.Check(in, check.NewOptions())
	if report.Failed() || report.Exposition.Format != check.FormatOpenMetrics {
		t.Errorf("format %s:\n%s", report.Exposition.Format, report)
	}
}

func TestValidHeaderName(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Tenant": true, "x_b.c~1!#$%&'*+^`|": true,
		"": false, "a b": false, "Authorization:": false, "a\tb": false, "a\nb": false, "é": false, "a/b": false, "a\x7f": false,
	} {
		if got := scrape.ValidHeaderName(name); got != want {
			t.Errorf("ValidHeaderName(%q) = %v, want %v", name, got, want)
		}
	}
}

// Hint names the setting that changes a failed scrape's outcome in the
// caller's terms, and nothing where none does.
func TestErrorHint(t *testing.T) {
	terms := scrape.Terms{MaxBytes: "MB", Timeout: "T", CAFile: "CA", InsecureSkipVerify: "ISV", ClientCert: "CC", Credentials: "CRED"}
	for _, c := range []struct {
		err  scrape.Error
		sent bool
		want string
	}{
		{scrape.Error{Kind: scrape.KindTooLarge}, false, "MB"},
		{scrape.Error{Kind: scrape.KindTimeout}, false, "T"},
		{scrape.Error{Kind: scrape.KindUnknownAuthority}, false, "use CA, or ISV"},
		{scrape.Error{Kind: scrape.KindTLS, Detail: "TLS: the server refused the handshake: tls: certificate required"}, false, "use CC"},
		{scrape.Error{Kind: scrape.KindTLS, Detail: "TLS: x509: certificate has expired"}, false, ""},
		{scrape.Error{Kind: scrape.KindStatus, Status: 401}, false, "send credentials with CRED"},
		{scrape.Error{Kind: scrape.KindStatus, Status: 403}, true, "the credentials sent were refused: check CRED"},
		{scrape.Error{Kind: scrape.KindStatus, Status: 500}, true, ""},
		{scrape.Error{Kind: scrape.KindConnect}, false, ""},
	} {
		if got := c.err.Hint(terms, c.sent); got != c.want {
			t.Errorf("%s %d %q (credentials sent: %v): hint %q, want %q", c.err.Kind, c.err.Status, c.err.Detail, c.sent, got, c.want)
		}
	}
}

// Accept and Accept-Encoding lines in Options.Header are sent as given,
// every line, in place of Options.Accept's and NoGzip's, and the facts
// hold them joined with ", " (RFC 9110 §5.3).
func TestExplicitAcceptLines(t *testing.T) {
	got := make(chan http.Header, 2)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		scrapetest.Good().ServeHTTP(w, r)
	}))
	hdr := http.Header{}
	hdr.Add("Accept", "text/plain;version=0.0.4;q=0.5")
	hdr.Add("Accept", "application/openmetrics-text;version=1.0.0")
	hdr.Add("Accept-Encoding", "gzip;q=0, identity")
	in, err := scrape.Get(context.Background(), nil, url, scrape.Options{Header: hdr, Accept: scrape.AcceptOpenMetrics})
	if err != nil {
		t.Fatal(err)
	}
	h := <-got
	if a := h.Values("Accept"); len(a) != 2 || a[0] != "text/plain;version=0.0.4;q=0.5" || a[1] != "application/openmetrics-text;version=1.0.0" {
		t.Errorf("Accept lines sent: %q", a)
	}
	if a := h.Values("Accept-Encoding"); len(a) != 1 || a[0] != "gzip;q=0, identity" {
		t.Errorf("Accept-Encoding lines sent: %q", a)
	}
	if in.HTTP.Accept != "text/plain;version=0.0.4;q=0.5, application/openmetrics-text;version=1.0.0" || in.HTTP.AcceptEncoding != "gzip;q=0, identity" {
		t.Errorf("facts: Accept %q, Accept-Encoding %q", in.HTTP.Accept, in.HTTP.AcceptEncoding)
	}

	// Without them, Options.Accept is sent.
	if _, err := scrape.Get(context.Background(), nil, url, scrape.Options{Accept: scrape.AcceptOpenMetrics, NoGzip: true}); err != nil {
		t.Fatal(err)
	}
	h = <-got
	if h.Get("Accept") != scrape.AcceptOpenMetrics || h.Get("Accept-Encoding") != "identity" {
		t.Errorf("request headers: %v", h)
	}
}
