package scrape

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Kind classifies why a scrape could not be judged, so that a caller can
// add a hint in its own terms (a flag name, a config field).
type Kind string

// The kinds of Error.
const (
	// KindRequest: the URL or the request options are invalid.
	KindRequest Kind = "request"
	// KindConnect: no connection (refused, unresolvable host, unreachable).
	KindConnect Kind = "connect"
	// KindTLS: the TLS handshake failed for a reason other than an unknown
	// certificate authority.
	KindTLS Kind = "tls"
	// KindUnknownAuthority: the server's certificate is signed by an
	// authority the client does not trust.
	KindUnknownAuthority Kind = "tls-unknown-authority"
	// KindTimeout: the context's deadline passed before the headers or the
	// whole body arrived.
	KindTimeout Kind = "timeout"
	// KindCanceled: the context was canceled.
	KindCanceled Kind = "canceled"
	// KindRedirect: a redirect loop, or too many redirects.
	KindRedirect Kind = "redirect"
	// KindProtocol: the server broke HTTP itself (closed before answering,
	// sent a malformed response).
	KindProtocol Kind = "protocol"
	// KindBody: the connection failed while the body was arriving.
	KindBody Kind = "body"
	// KindTooLarge: the body exceeds Options.MaxBytes, received or decoded.
	KindTooLarge Kind = "too-large"
	// KindStatus: the server answered with a status outside 2xx and
	// Options.RejectStatus is set. Error.Status holds it.
	KindStatus Kind = "status"
)

// Error is why a scrape produced nothing the engine can judge. Its message
// is one line: "scrape <url>: <detail>", or after redirects "scrape <url>
// (302 to <url>): <detail>", naming where the scrape was sent.
type Error struct {
	// URL is the address scraped, its password redacted (Redact).
	URL string
	// Kind classifies the failure.
	Kind Kind
	// Detail says what went wrong, for a person.
	Detail string
	// Redirects are the redirects followed before the failure, in order.
	Redirects []Redirect
	// Status is the HTTP status of a KindStatus error, 0 otherwise.
	Status int
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	where := e.URL
	// A redirect error's detail names the chain itself.
	if len(e.Redirects) > 0 && e.Kind != KindRedirect {
		where += " (" + redirectChain(e.Redirects) + ")"
	}
	return fmt.Sprintf("scrape %s: %s", where, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// Terms name, in a caller's words (flags, config fields), the settings
// that change the outcome of a failed scrape, for Error.Hint.
type Terms struct {
	// MaxBytes is the body limit, e.g. "--max-bytes".
	MaxBytes string
	// Timeout is the scrape's time limit, e.g. "--timeout".
	Timeout string
	// CAFile and InsecureSkipVerify trust the server's certificate, e.g.
	// "--ca-file" and "--insecure-skip-verify".
	CAFile, InsecureSkipVerify string
	// ClientCert sends a client certificate, e.g. "--cert-file and
	// --key-file".
	ClientCert string
	// Credentials send credentials, e.g. "--bearer-token-file".
	Credentials string
}

// Hint says which setting changes the outcome of the failed scrape, in the
// caller's terms, or "" when none does: a larger body limit or time limit,
// a certificate authority or a client certificate, credentials for a 401
// or 403 (refused when sentCredentials, else missing).
func (e *Error) Hint(t Terms, sentCredentials bool) string {
	switch e.Kind {
	case KindTooLarge:
		return t.MaxBytes
	case KindTimeout:
		return t.Timeout
	case KindUnknownAuthority:
		return "use " + t.CAFile + ", or " + t.InsecureSkipVerify
	case KindTLS:
		// crypto/tls says so only in words.
		if strings.Contains(e.Detail, "certificate required") {
			return "use " + t.ClientCert
		}
	case KindStatus:
		switch {
		case e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden:
		case sentCredentials:
			return "the credentials sent were refused: check " + t.Credentials
		default:
			return "send credentials with " + t.Credentials
		}
	}
	return ""
}

// requestError words a failure of client.Do: no usable response arrived.
func (s *scrape) requestError(err error) error {
	var redirect *errRedirect
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	var dns *net.DNSError
	inner := unwrapURLError(err)
	switch {
	case errors.As(err, &redirect):
		return s.fail(KindRedirect, redirect.detail, err)
	case isTimeout(s.ctx, err):
		return s.fail(KindTimeout, fmt.Sprintf("timed out after %s waiting for response headers", s.waited()), err)
	case errors.Is(err, context.Canceled):
		return s.fail(KindCanceled, "canceled while waiting for response headers", err)
	case errors.As(err, &unknownCA):
		return s.fail(KindUnknownAuthority, "TLS: certificate signed by unknown authority", err)
	case errors.As(err, &hostname):
		return s.fail(KindTLS, "TLS: "+hostname.Error(), err)
	case errors.As(err, &invalid):
		return s.fail(KindTLS, "TLS: "+invalid.Error(), err)
	case errors.As(err, &verify):
		return s.fail(KindTLS, "TLS: "+verify.Err.Error(), err)
	case errors.As(err, &record):
		return s.fail(KindTLS, "TLS: the server did not answer with TLS (is it plain http?)", err)
	case errors.As(err, &alert):
		return s.fail(KindTLS, "TLS: the server refused the handshake: "+alert.Error(), err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http says so only in words.
		return s.fail(KindTLS, "TLS: the server answered in plain HTTP (use an http:// URL)", err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return s.fail(KindConnect, "connection refused (is the target up and listening there?)", err)
	case errors.As(err, &dns):
		return s.fail(KindConnect, "cannot resolve host "+dns.Name+": "+dns.Err, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
		return s.fail(KindProtocol, "the server closed the connection without answering", err)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		if opErr.Op == "remote error" {
			// crypto/tls reports an alert from the peer this way, e.g.
			// "tls: certificate required" when mutual TLS is demanded.
			return s.fail(KindTLS, "TLS: the server refused the handshake: "+opErr.Err.Error(), err)
		}
		return s.fail(KindConnect, opErr.Error(), err)
	}
	return s.fail(KindProtocol, inner.Error(), err)
}

// isTimeout reports whether err comes from the context's deadline or a
// network timeout.
func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	// net/http reports a body read cut by the context's cancellation with
	// an error that does not always wrap the context's; the context knows.
	return errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// isReset reports whether err is a connection reset or a broken pipe.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// unwrapURLError strips net/http's `Get "url": ` prefix; Error names the
// URL once itself.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// RedactURLError words url.Parse's error for a message that names the URL
// itself (redacted): without url.Error's "parse <url>:" prefix, and when
// the URL holds something Redact hides, without the part at fault, which
// may be a piece of a password or a token: then only the fact is told.
func RedactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && Redact(ue.URL) != ue.URL {
		return errors.New("it does not parse (check the escapes and characters of its user information and query; the part at fault is not shown, as it may be secret)")
	}
	return unwrapURLError(err)
}
