package exporter

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// allowlist is a module's AllowedTargets, parsed.
type allowlist struct {
	hosts []string // lower case; "*" any, "*.example.com" any name under it
	nets  []netip.Prefix
}

func parseAllowlist(a *AllowedTargets) (*allowlist, error) {
	if len(a.Hosts) == 0 && len(a.CIDRs) == 0 {
		return nil, errors.New("lists neither hosts nor cidrs, so no target could be probed: list them (0.0.0.0/0 and ::/0 allow any address, which makes the exporter an open proxy)")
	}
	l := &allowlist{}
	var errs []error
	for _, h := range a.Hosts {
		p := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if err := validHostPattern(p); err != nil {
			errs = append(errs, fmt.Errorf("hosts: %q: %w", h, err))
			continue
		}
		l.hosts = append(l.hosts, p)
	}
	for _, c := range a.CIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			errs = append(errs, fmt.Errorf("cidrs: %q is not an address range such as 10.0.0.0/8 or fd00::/8", c))
			continue
		}
		if p != p.Masked() {
			errs = append(errs, fmt.Errorf("cidrs: %q has bits set past the prefix length: did you mean %s?", c, p.Masked()))
			continue
		}
		l.nets = append(l.nets, p)
	}
	return l, errors.Join(errs...)
}

// validHostPattern accepts a host name, "*.name" or "*".
func validHostPattern(p string) error {
	if p == "*" {
		return nil
	}
	name := strings.TrimPrefix(p, "*.")
	if name == "" || len(name) > 253 {
		return errors.New("want a host name such as metrics.example.com, *.example.com or *")
	}
	if strings.Contains(name, "*") {
		return errors.New("a wildcard stands only first, as *.example.com")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return errors.New("an address goes in cidrs (as 192.0.2.1/32), not hosts")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return errors.New("a host name has no empty label")
		}
		for _, c := range []byte(label) {
			if c != '-' && c != '_' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return fmt.Errorf("character %q does not belong in a host name (a port does not go here)", c)
			}
		}
	}
	return nil
}

// hostAllowed reports whether a URL's host (without port, IPv6 without
// brackets) matches the host patterns.
func (l *allowlist) hostAllowed(host string) bool {
	if len(l.hosts) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range l.hosts {
		switch {
		case p == "*", p == host:
			return true
		case strings.HasPrefix(p, "*.") && strings.HasSuffix(host, p[1:]) && len(host) > len(p)-1:
			return true
		}
	}
	return false
}

// addrAllowed reports whether the exporter may connect to ip.
func (l *allowlist) addrAllowed(ip netip.Addr) bool {
	if len(l.nets) == 0 {
		return true
	}
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, n := range l.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// String describes the allowlist for the status page and messages.
func (l *allowlist) String() string {
	var parts []string
	if len(l.hosts) > 0 {
		parts = append(parts, "hosts "+strings.Join(l.hosts, ", "))
	}
	if len(l.nets) > 0 {
		nets := make([]string, len(l.nets))
		for i, n := range l.nets {
			nets[i] = n.String()
		}
		parts = append(parts, "addresses in "+strings.Join(nets, ", "))
	}
	return strings.Join(parts, "; ")
}

// refusedError is a connection or redirect the exporter does not make
// because the module does not allow it.
type refusedError struct{ detail string }

func (e *refusedError) Error() string { return e.detail }

// controlDial refuses, at connect time, an address outside the module's
// ranges. It runs for every connection, after DNS resolution and on every
// redirect, so a name that resolves (or is re-pointed, as in DNS
// rebinding) to a forbidden address is never reached.
func (m *module) controlDial(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedError{fmt.Sprintf("connection to %s refused: not an IP address and port", address)}
	}
	if !m.allow.addrAllowed(ap.Addr()) {
		return &refusedError{fmt.Sprintf("connection to %s refused: module %s allows %s", ap.Addr(), m.name, m.allow)}
	}
	return nil
}

// checkRedirect is package scrape's redirect policy (every redirect
// recorded, none from https to http, no loop, at most scrape.MaxRedirects)
// with the module's: a redirect is followed only to a target the module
// allows, and never to another origin when the module sends credentials
// (a redirect must not carry them elsewhere).
func (m *module) checkRedirect(req *http.Request, via []*http.Request) error {
	if err := scrape.CheckRedirect(req, via); err != nil {
		return err
	}
	next := req.URL
	if next.Scheme != "http" && next.Scheme != "https" {
		return &refusedError{fmt.Sprintf("redirect to a %s: URL refused", next.Scheme)}
	}
	if !m.allow.hostAllowed(next.Hostname()) {
		return &refusedError{fmt.Sprintf("redirect to host %s refused: module %s allows %s", next.Hostname(), m.name, m.allow)}
	}
	first := via[0].URL
	if m.sendsCredentials() && (next.Scheme != first.Scheme || next.Host != first.Host) {
		return &refusedError{fmt.Sprintf("redirect from %s://%s to %s://%s refused: module %s sends credentials, which never follow a redirect to another origin",
			first.Scheme, first.Host, next.Scheme, next.Host, m.name)}
	}
	return nil
}

// sendsCredentials reports whether the module authenticates its requests.
func (m *module) sendsCredentials() bool {
	return m.bearerTokenFile != "" || m.basicAuthUser != ""
}

// newClient builds the module's HTTP client: package scrape's (gzip and
// redirects left to the scraper), with the allowlist enforced when
// connecting and redirecting, no proxy from the environment (a proxy
// would be the only address the allowlist saw), and bounded response
// headers.
func newClient(m *module, tlsConfig *tls.Config) *http.Client {
	client := scrape.NewClient(tlsConfig)
	transport := client.Transport.(*http.Transport)
	transport.Proxy = nil
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: m.controlDial}
	transport.DialContext = dialer.DialContext
	transport.MaxResponseHeaderBytes = 64 << 10
	// Probes of many targets keep few idle connections each; Prometheus
	// probes a target every scrape interval, so a kept connection is
	// reused, and idle ones are closed rather than piling up.
	transport.MaxIdleConnsPerHost = 2
	transport.IdleConnTimeout = 2 * time.Minute
	client.CheckRedirect = m.checkRedirect
	return client
}

// Limits on the target parameter.
const maxTargetBytes = 2048

// badRequest is a probe request the exporter refuses with 400: reason is
// a fixed word for the rejections metric, message says what is wrong.
type badRequest struct {
	reason, message string
}

func (b *badRequest) Error() string { return b.message }

// Rejection reasons, the values of the reason label of
// promcheck_exporter_probe_rejections_total.
const (
	reasonMissingTarget = "missing_target"
	reasonBadTarget     = "bad_target"
	reasonNotAllowed    = "target_not_allowed"
	reasonMissingModule = "missing_module"
	reasonUnknownModule = "unknown_module"
	reasonBadTimeout    = "bad_timeout"
	reasonOverloaded    = "overloaded"
)

// rejectionReasons lists every reason, in the order /metrics writes them.
var rejectionReasons = []string{reasonBadTarget, reasonBadTimeout, reasonMissingModule, reasonMissingTarget, reasonOverloaded, reasonNotAllowed, reasonUnknownModule}

// parseTarget validates the target parameter: an absolute http(s) URL
// with a host, of printable characters, without credentials in it.
func parseTarget(raw string) (*url.URL, error) {
	bad := func(format string, args ...any) error {
		return &badRequest{reasonBadTarget, "target " + fmt.Sprintf(format, args...)}
	}
	if len(raw) > maxTargetBytes {
		return nil, bad("is %d bytes long: at most %d are accepted", len(raw), maxTargetBytes)
	}
	// Messages quote the target, which goes to the log and back to the
	// client: without its secrets.
	shown := quoteShort(scrape.Redact(raw))
	for i, c := range []byte(raw) {
		if c < ' ' || c == 0x7f {
			return nil, bad("%s has a control character (byte %#02x at offset %d)", shown, c, i)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("%s is not a URL: %v", shown, scrape.RedactURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("%s: only http:// and https:// URLs can be probed", shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, bad("%s has no host", shown)
	}
	if u.User != nil {
		return nil, bad("%s carries credentials: they would show in logs, labels and the status page; use the module's bearer_token_file or basic_auth", shown)
	}
	if u.Fragment != "" {
		return nil, bad("%s has a #fragment, which is never sent", shown)
	}
	return u, nil
}

// checkAllowed refuses a target the module does not allow: a host outside
// its patterns, or an address outside its ranges. A host name is resolved
// here so that the refusal is a clear 400; the dialer checks again at
// connect time, which is what protects (a name may resolve differently a
// moment later). A name that does not resolve is left to the probe, which
// reports it as unreachable.
func (m *module) checkAllowed(ctx context.Context, u *url.URL) error {
	host := u.Hostname()
	if !m.allow.hostAllowed(host) {
		return &badRequest{reasonNotAllowed, fmt.Sprintf("target host %s is not allowed by module %s (it allows %s)", quoteShort(host), m.name, m.allow)}
	}
	if len(m.allow.nets) == 0 {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !m.allow.addrAllowed(ip) {
			return &badRequest{reasonNotAllowed, fmt.Sprintf("target address %s is not allowed by module %s (it allows %s)", ip, m.name, m.allow)}
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil
	}
	for _, ip := range ips {
		if m.allow.addrAllowed(ip) {
			return nil
		}
	}
	return &badRequest{reasonNotAllowed, fmt.Sprintf("target host %s resolves to %s, which module %s does not allow (it allows %s)", quoteShort(host), ips[0], m.name, m.allow)}
}

// quoteShort quotes s for a message, cut to a readable length: messages
// echo user input, which must not make them unbounded.
func quoteShort(s string) string {
	const max = 120
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

func isRuneStart(b byte) bool { return b&0xc0 != 0x80 }
