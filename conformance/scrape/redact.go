package scrape

import (
	"net/url"
	"strings"
)

// Redact returns rawURL fit to print, with "xxxxx" for what may be a
// secret: its password, as url.URL.Redacted does, and the value of every
// query parameter whose name looks like a credential's (secretParam).
// A URL in a query value (the target of an exporter's /probe URL) is
// redacted in turn. A URL that does not parse, whose password cannot be
// told apart, loses all of its user information. A URL with nothing to
// hide is returned as given.
//
// Every URL this package puts in an error, a Redirect or HTTPFacts has
// been through Redact; a caller that prints a URL it was given (a report,
// a log line, a status page) should pass it through Redact too, since
// reports and logs are what CI archives and anyone may read.
func Redact(rawURL string) string {
	return redactQuery(redactUserinfo(rawURL))
}

// redactUserinfo hides the password of rawURL.
func redactUserinfo(rawURL string) string {
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
	// The authority runs to the path or the fragment; a '?' before an
	// '@' is more likely part of a password than a query holding an '@'.
	authority := rest
	if end := strings.IndexAny(rest, "/#"); end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		return prefix + "xxxxx" + rest[at:]
	}
	return rawURL
}

// redactQuery hides the values of the query parameters of s that
// secretParam names, and redacts URLs in the others' values, keeping the
// parameters in their order and as written otherwise.
func redactQuery(s string) string {
	start := strings.IndexByte(s, '?')
	if start < 0 {
		return s
	}
	end := len(s)
	if hash := strings.IndexByte(s[start:], '#'); hash >= 0 {
		end = start + hash
	}
	params := strings.Split(s[start+1:end], "&")
	changed := false
	for i, p := range params {
		name, value, ok := strings.Cut(p, "=")
		if !ok || value == "" {
			continue
		}
		if unescaped, err := url.QueryUnescape(name); err == nil {
			name = unescaped
		}
		if secretParam(name) {
			params[i], changed = p[:len(p)-len(value)]+"xxxxx", true
			continue
		}
		if v, err := url.QueryUnescape(value); err == nil && strings.Contains(v, "://") {
			if r := Redact(v); r != v {
				params[i], changed = p[:len(p)-len(value)]+url.QueryEscape(r), true
			}
		}
	}
	if !changed {
		return s
	}
	return s[:start+1] + strings.Join(params, "&") + s[end:]
}

// secretWords are what the name of a query parameter holding a credential
// contains: token, access_token, api_key, apikey, password, passwd, pwd,
// secret, client_secret, auth, X-Amz-Credential, X-Amz-Signature, sig (a
// shared access signature). A few harmless names contain them too
// (author, monkey): their values are hidden as well, which costs nothing
// but a value in a report.
var secretWords = []string{"token", "key", "passw", "pwd", "secret", "auth", "credential", "sig"}

// secretParam reports whether a query parameter of that name may hold a
// credential.
func secretParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
