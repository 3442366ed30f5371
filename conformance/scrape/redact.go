package scrape

import (
	"net/url"
	"strings"
)

// Redact returns rawURL fit to print: its password, if any, replaced by
// "xxxxx", as url.URL.Redacted does. A URL that does not parse, whose
// password cannot be told apart, loses all of its user information.
//
// Every URL this package puts in an error, a Redirect or HTTPFacts has
// been through Redact; a caller that prints a URL it was given (a report,
// a log line) should pass it through Redact too, since reports and logs
// are what CI archives.
func Redact(rawURL string) string {
	// "user:pass@host:9090" parses as scheme "user" and opaque data: it
	// is told apart below.
	if u, err := url.Parse(rawURL); err == nil && u.Opaque == "" {
		if _, hasPassword := u.User.Password(); !hasPassword {
			// Returned as given: re-encoding would change what the user
			// wrote for no reason.
			return rawURL
		}
		return u.Redacted()
	}
	prefix, rest := "", rawURL
	if i := strings.Index(rawURL, "://"); i >= 0 {
		prefix, rest = rawURL[:i+3], rawURL[i+3:]
	}
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		return prefix + "xxxxx" + rest[at:]
	}
	return rawURL
}
