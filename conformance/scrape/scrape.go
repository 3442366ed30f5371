package scrape

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// Accept headers for the two formats. AcceptText asks for the text format
// alone: every exporter speaks it, so serving anything else ignores the
// request. AcceptOpenMetrics prefers OpenMetrics in both versions
// Prometheus asks for, 1.0.0 then 0.0.1 (which Python's prometheus_client
// serves, and Prometheus 2 and 3 ingest), and, as Prometheus does, accepts
// the text format as a fallback: many exporters only speak text, and the
// engine judges serving it as a missed preference (a warning), not a
// refusal. The q-values are Prometheus 2's. No */*: the answer must be a
// format the header names.
const (
	AcceptText        = "text/plain;version=0.0.4"
	AcceptOpenMetrics = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5"
)

// DefaultMaxBytes is the body limit when Options.MaxBytes is not set.
const DefaultMaxBytes = 16 << 20

// MaxRedirects is how many redirects a scrape follows before giving up.
const MaxRedirects = 10

// Options configure one scrape. The zero value scrapes the text format with
// gzip allowed, DefaultMaxBytes and no timeout beyond the context's.
type Options struct {
	// Accept is the Accept header to send; empty sends AcceptText.
	Accept string
	// NoGzip sends "Accept-Encoding: identity" instead of "gzip".
	NoGzip bool
	// Header holds extra request headers. Accept and Accept-Encoding
	// lines set here are sent as given, in place of those Accept and
	// NoGzip choose, and the HTTP facts record each joined with ", "
	// (RFC 9110 §5.3 reads several lines as one list). Authorization set
	// here is overridden by the fields below.
	Header http.Header
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken string
	// BasicAuthUser and BasicAuthPassword, when the user is set, are sent as
	// HTTP basic authentication.
	BasicAuthUser, BasicAuthPassword string
	// MaxBytes bounds the body, both as received and after decoding; zero or
	// less means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds the whole scrape, headers and body; zero means only the
	// context bounds it.
	Timeout time.Duration
	// UserAgent is the User-Agent header; empty sends "deploymetrics-scrape".
	UserAgent string
	// RejectStatus makes an answer with a status outside 2xx an error of
	// KindStatus, without reading its body, as Prometheus fails such a
	// scrape. Without it the response goes to the engine, whose http.status
	// rule judges it.
	RejectStatus bool
}

// ValidHeaderName reports whether name can name a header of
// Options.Header: an HTTP token (RFC 9110), so printable ASCII without
// blanks or separators. Header names come from users (a flag, a config);
// check them before sending, as net/http only refuses them at request
// time.
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// NewClient returns a client fit for Get: gzip is left to Get (net/http
// would otherwise decode it silently and hide what the server sent), and
// redirects stop after MaxRedirects or at the first loop. tlsConfig may be
// nil; see TLSFiles for building one from files.
func NewClient(tlsConfig *tls.Config) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableCompression = true
	transport.TLSClientConfig = tlsConfig
	return &http.Client{Transport: transport, CheckRedirect: CheckRedirect}
}

// errRedirect is what CheckRedirect returns; Get turns it into an *Error.
type errRedirect struct{ detail string }

func (e *errRedirect) Error() string { return e.detail }

// A Redirect is one redirect a scrape followed (or refused).
type Redirect struct {
	// Status is the redirect's HTTP status, e.g. 301 or 302.
	Status int
	// URL is where it pointed, its password redacted (Redact).
	URL string
}

func (r Redirect) String() string { return fmt.Sprintf("%d to %s", r.Status, r.URL) }

// redirectChain writes redirects as "301 to http://a, 302 to http://b".
func redirectChain(redirects []Redirect) string {
	parts := make([]string, len(redirects))
	for i, r := range redirects {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// redirectLogKey is the context key of the *[]Redirect a Get records its
// redirects in: the client, and so CheckRedirect, is shared by concurrent
// scrapes, while each request carries its own context.
type redirectLogKey struct{}

// CheckRedirect is the redirect policy of NewClient's clients (an
// http.Client's CheckRedirect): it records each redirect where Scrape
// reports it (Result.Redirects, Error.Redirects), refuses one from https
// to http, stops a redirect loop at its first repetition, naming the loop,
// and a redirect chain at MaxRedirects. A client with a policy of its own
// (an allowlist) calls it first and adds its checks.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	next := Redact(req.URL.String())
	if log, ok := req.Context().Value(redirectLogKey{}).(*[]Redirect); ok && req.Response != nil {
		*log = append(*log, Redirect{Status: req.Response.StatusCode, URL: next})
	}
	if req.URL.Scheme == "http" {
		for _, r := range via {
			if r.URL.Scheme == "https" {
				// net/http would follow it, and keep Authorization on the
				// same host: the token would cross the network in clear.
				return &errRedirect{"redirect from https to " + next + " refused: it would send the request and its credentials in cleartext (scrape the http:// URL itself if that is intended)"}
			}
		}
	}
	for i, r := range via {
		if r.URL.String() == req.URL.String() {
			chain := make([]string, 0, len(via)-i+1)
			for _, v := range via[i:] {
				chain = append(chain, Redact(v.URL.String()))
			}
			chain = append(chain, next)
			return &errRedirect{"redirect loop: " + strings.Join(chain, " -> ")}
		}
	}
	if len(via) > MaxRedirects {
		return &errRedirect{fmt.Sprintf("stopped after %d redirects (the next to %s)", MaxRedirects, next)}
	}
	return nil
}

// A Result is one scrape: the exposition with its HTTP facts, for the
// engine, and the redirects followed to it.
type Result struct {
	Input check.Input
	// Redirects are the redirects followed, in order; the last one's URL
	// is where the exposition came from. They are recorded when Get's
	// redirect policy is in force (a client of its own has its own).
	Redirects []Redirect
}

// Get scrapes url once and returns the exposition with the HTTP facts the
// check engine's http.* rules judge: Scrape without the redirects.
func Get(ctx context.Context, client *http.Client, url string, opts Options) (check.Input, error) {
	r, err := Scrape(ctx, client, url, opts)
	return r.Input, err
}

// Scrape scrapes url once and returns the exposition with the HTTP facts
// the check engine's http.* rules judge, and the redirects it followed.
// client should come from NewClient; nil uses a fresh one. When a client
// of another origin is given, its redirect policy is replaced by Get's
// unless it has its own.
//
// On error the Result still holds what was learned (the HTTP facts, once a
// response arrived; the redirects), and the error is an *Error.
func Scrape(ctx context.Context, client *http.Client, url string, opts Options) (Result, error) {
	if client == nil {
		client = NewClient(nil)
		defer client.CloseIdleConnections()
	} else if client.CheckRedirect == nil {
		c := *client
		c.CheckRedirect = CheckRedirect
		client = &c
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	start := time.Now()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	s := &scrape{ctx: ctx, url: Redact(url), start: start}
	ctx = context.WithValue(ctx, redirectLogKey{}, &s.redirects)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Result{}, s.fail(KindRequest, "invalid URL: "+RedactURLError(err).Error(), err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return Result{}, s.fail(KindRequest, fmt.Sprintf("unsupported scheme %q (want http or https)", req.URL.Scheme), nil)
	}
	for name, values := range opts.Header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	facts := &check.HTTPFacts{URL: s.url, Accept: opts.Accept, AcceptEncoding: "gzip", Limit: limit}
	if facts.Accept == "" {
		facts.Accept = AcceptText
	}
	if opts.NoGzip {
		facts.AcceptEncoding = "identity"
	}
	// Lines the caller set explicitly are sent as given: a user testing a
	// target's negotiation means exactly those bytes.
	if lines := opts.Header.Values("Accept"); len(lines) > 0 {
		facts.Accept = strings.Join(lines, ", ")
	} else {
		req.Header.Set("Accept", facts.Accept)
	}
	if lines := opts.Header.Values("Accept-Encoding"); len(lines) > 0 {
		facts.AcceptEncoding = strings.Join(lines, ", ")
	} else {
		req.Header.Set("Accept-Encoding", facts.AcceptEncoding)
	}
	if ua := opts.UserAgent; ua != "" {
		req.Header.Set("User-Agent", ua)
	} else if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "deploymetrics-scrape")
	}
	switch {
	case opts.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+opts.BearerToken)
	case opts.BasicAuthUser != "":
		// SetBasicAuth would do, but building it here keeps the header
		// visible in one place with the bearer case.
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(opts.BasicAuthUser+":"+opts.BasicAuthPassword)))
	}

	resp, err := client.Do(req)
	if err != nil {
		return Result{Redirects: s.redirects}, s.requestError(err)
	}
	defer resp.Body.Close()
	facts.StatusCode = resp.StatusCode
	facts.Header = resp.Header
	// The body is read into a buffer of its own that nothing reuses, so
	// the engine may borrow it rather than copy it.
	in := check.Input{ContentType: resp.Header.Get("Content-Type"), HTTP: facts, BorrowBody: true}
	if code := resp.StatusCode; opts.RejectStatus && (code < 200 || code > 299) {
		// The body is an error page, not an exposition.
		err := s.fail(KindStatus, fmt.Sprintf("server returned HTTP status %d %s", code, http.StatusText(code)), nil)
		err.Status = code
		return Result{Input: in, Redirects: s.redirects}, err
	}

	body, err := s.readBody(resp, facts)
	in.Body = body
	return Result{Input: in, Redirects: s.redirects}, err
}

// scrape is the state of one Get, for wording its errors.
type scrape struct {
	ctx       context.Context
	url       string // redacted
	start     time.Time
	redirects []Redirect
}

func (s *scrape) fail(kind Kind, detail string, err error) *Error {
	return &Error{URL: s.url, Kind: kind, Detail: detail, Redirects: s.redirects, Err: err}
}

// waited says how long the scrape waited before a timeout: the timeout
// itself when the context has a deadline, so the message names the limit
// the user set rather than a jittery measurement.
func (s *scrape) waited() time.Duration {
	if deadline, ok := s.ctx.Deadline(); ok {
		return deadline.Sub(s.start).Round(time.Millisecond)
	}
	return time.Since(s.start).Round(time.Millisecond)
}

// readBody reads the body within the limit, decoding gzip when the
// response says so. It records what it saw in facts; it returns an error
// only when the body cannot be trusted: cut short by the network or a
// timeout, or over the limit.
func (s *scrape) readBody(resp *http.Response, facts *check.HTTPFacts) ([]byte, error) {
	limit := facts.Limit
	// The wire is read one byte past the limit, so that exceeding it is
	// seen without reading more.
	wire := &countingReader{r: io.LimitReader(resp.Body, limit+1)}
	var src io.Reader = wire
	encoding := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	gzipped := false
	switch encoding {
	case "", "identity":
	case "gzip", "x-gzip":
		br := bufio.NewReader(wire)
		magic, _ := br.Peek(2)
		if wire.err != nil {
			return nil, s.bodyError(wire, facts, false)
		}
		if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
			// Announced gzip, sent something else (often the plain
			// exposition): keep the raw bytes, so the engine judges what
			// arrived as well as the false announcement.
			facts.DecodeError = fmt.Sprintf("Content-Encoding is %s but the body is not gzip (it does not start with the gzip magic bytes)", encoding)
			src = br
			break
		}
		gz, err := gzip.NewReader(br)
		if err != nil {
			if wire.err != nil {
				return nil, s.bodyError(wire, facts, false)
			}
			facts.WireBytes = wire.n
			facts.DecodeError = fmt.Sprintf("Content-Encoding is %s but the gzip header is corrupt: %v", encoding, err)
			return nil, nil
		}
		defer gz.Close()
		// Multistream would let a server append gzip members forever;
		// Prometheus reads them too, and the limit bounds them all.
		src, gzipped = gz, true
	default:
		// An encoding the scraper never asked for and cannot read: record it
		// and keep the raw bytes, so the engine can say what arrived.
		facts.DecodeError = fmt.Sprintf("Content-Encoding %q is not one the scraper accepts (it sent Accept-Encoding: %s)", encoding, facts.AcceptEncoding)
	}

	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && !gzipped {
		buf.Grow(int(min(n, limit+1)))
	}
	_, err := io.Copy(&buf, io.LimitReader(src, limit+1))
	facts.WireBytes = min(wire.n, limit)
	switch {
	case wire.err != nil:
		// The network failed first; any decoder error is only its echo.
		return buf.Bytes(), s.bodyError(wire, facts, gzipped)
	case wire.n > limit || int64(buf.Len()) > limit:
		facts.TooLarge = true
		return buf.Bytes()[:min(int64(buf.Len()), limit)], s.tooLarge(facts, gzipped, wire.n > limit)
	case err != nil && gzipped:
		facts.DecodeError = fmt.Sprintf("gzip body is corrupt after %d decoded bytes: %v", buf.Len(), err)
	case err != nil:
		return buf.Bytes(), s.bodyError(wire, facts, gzipped)
	}
	return buf.Bytes(), nil
}

func (s *scrape) tooLarge(facts *check.HTTPFacts, gzipped, onWire bool) error {
	what := "body"
	if gzipped && !onWire {
		what = "gzip-decoded body"
	}
	return s.fail(KindTooLarge, fmt.Sprintf("%s exceeds the limit of %d bytes", what, facts.Limit), nil)
}

// bodyError words a failure while the body was arriving.
func (s *scrape) bodyError(wire *countingReader, facts *check.HTTPFacts, gzipped bool) error {
	err := wire.err
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	n := wire.n
	switch {
	case isTimeout(s.ctx, err):
		return s.fail(KindTimeout, fmt.Sprintf("timed out after %s reading the body (%d bytes received)", s.waited(), n), err)
	case errors.Is(err, context.Canceled):
		return s.fail(KindCanceled, fmt.Sprintf("canceled while reading the body (%d bytes received)", n), err)
	case isReset(err):
		return s.fail(KindBody, fmt.Sprintf("connection reset mid-body after %d bytes", n), err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		detail := fmt.Sprintf("connection closed mid-body after %d bytes", n)
		if cl := facts.Header.Get("Content-Length"); cl != "" {
			detail += " (Content-Length promised " + cl + ")"
		}
		return s.fail(KindBody, detail, err)
	}
	return s.fail(KindBody, fmt.Sprintf("reading the body failed after %d bytes: %v", n, err), err)
}

// countingReader counts the bytes read through it and keeps the first
// error other than io.EOF, so that a network failure is told apart from a
// decoder's complaint about the truncated stream it caused.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}
