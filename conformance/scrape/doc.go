// Package scrape fetches an exposition over HTTP the way a careful scraper
// does, and hands it to the check engine with the facts the http.* rules
// judge. promcheck and the conformance suite both scrape through it.
//
// An endpoint under test may be broken or hostile, so every scrape is
// bounded: the body is read up to Options.MaxBytes, both as received and
// after gzip decoding (a gzip bomb is cut at the limit, never inflated),
// the context bounds the wait for headers and for the body, redirects are
// limited, loops named and a redirect from https to http refused (it would
// carry the credentials in cleartext); Scrape reports every redirect
// followed. gzip is requested and decoded here, not by net/http, so that
// the facts say what the server actually sent. URLs in errors, redirects
// and facts are redacted (Redact: passwords, and query parameters that
// look like credentials), since errors end up in CI logs.
//
//	client := scrape.NewClient(nil)
//	in, err := scrape.Get(ctx, client, "http://127.0.0.1:9464/metrics/prometheus", scrape.Options{
//		Accept:   scrape.AcceptOpenMetrics,
//		MaxBytes: 1 << 20,
//		Timeout:  5 * time.Second,
//	})
//	if err != nil {
//		return err // one line: "scrape http://...: <what went wrong>"
//	}
//	report := check.Check(in, check.NewOptions())
//
// A response with an error status, a wrong Content-Type or a body in an
// encoding it did not announce is not an error here: it is returned, and
// the check engine judges it (Options.RejectStatus makes an error status
// an error, as Prometheus treats it). Get returns an error only when there is
// nothing trustworthy to judge: no response, a body cut short, or a body
// over the limit. The error is an *Error whose Kind lets a caller add a
// hint (promcheck suggests the flag to change).
package scrape
