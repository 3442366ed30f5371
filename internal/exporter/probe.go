package exporter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/internal/sidefile"
)

// module is a ModuleConfig compiled: what a probe with it does.
type module struct {
	name    string
	config  *ModuleConfig
	opts    check.Options
	accepts []acceptChoice
	scrape  scrape.Options // credentials are added per probe
	allow   *allowlist
	client  *http.Client

	bearerTokenFile                      string
	basicAuthUser, basicAuthPasswordFile string
}

// requestOptions returns the scrape options of one probe, reading the
// credential files now (within the probe's ctx) so that a rotated secret
// is picked up.
func (m *module) requestOptions(ctx context.Context, userAgent string) (scrape.Options, error) {
	opts := m.scrape
	opts.UserAgent = userAgent
	switch {
	case m.bearerTokenFile != "":
		token, err := sidefile.ReadSecret(ctx, "bearer_token_file", m.bearerTokenFile)
		if err != nil {
			return opts, err
		}
		opts.BearerToken = token
	case m.basicAuthUser != "":
		password, err := sidefile.ReadSecret(ctx, "basic_auth.password_file", m.basicAuthPasswordFile)
		if err != nil {
			return opts, err
		}
		opts.BasicAuthUser, opts.BasicAuthPassword = m.basicAuthUser, password
	}
	return opts, nil
}

// scrapeTimeoutHeader is the header Prometheus sends with each scrape: the
// job's scrape_timeout in seconds.
const scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// probeTimeout is how long a probe may take: Prometheus's scrape timeout
// minus margin (so that the answer arrives before Prometheus gives up),
// capped by the module's timeout. The margin never takes more than half of
// a short scrape timeout. Without the header, the module's timeout.
func probeTimeout(header string, moduleTimeout, margin time.Duration) (time.Duration, error) {
	if header == "" {
		return moduleTimeout, nil
	}
	secs, err := strconv.ParseFloat(header, 64)
	if err != nil || !(secs > 0) || math.IsInf(secs, 0) {
		return 0, &badRequest{reasonBadTimeout, fmt.Sprintf("%s %s: want a positive number of seconds", scrapeTimeoutHeader, quoteShort(header))}
	}
	if secs >= moduleTimeout.Seconds()*2 {
		// Far above the cap (and safe from overflowing a Duration).
		return moduleTimeout, nil
	}
	scrapeTimeout := time.Duration(secs * float64(time.Second))
	t := max(scrapeTimeout-margin, scrapeTimeout/2)
	return min(t, moduleTimeout), nil
}

// probeRequest is a validated /probe request.
type probeRequest struct {
	module  *module
	target  *url.URL
	raw     string // the target as given: the store's key
	timeout time.Duration
}

// parseProbeRequest validates the query and the timeout header. Its
// errors are *badRequest.
func (e *Exporter) parseProbeRequest(r *http.Request, cfg *Config) (*probeRequest, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &badRequest{reasonBadTarget, fmt.Sprintf("the query string is malformed (%v): URL-encode the target, as Prometheus does", err)}
	}
	targets, modules := q["target"], q["module"]
	switch {
	case len(targets) == 0 || targets[0] == "":
		return nil, &badRequest{reasonMissingTarget, "missing target: probe with /probe?target=URL&module=NAME"}
	case len(targets) > 1:
		return nil, &badRequest{reasonBadTarget, fmt.Sprintf("target given %d times: give it once", len(targets))}
	case len(modules) == 0 || modules[0] == "":
		return nil, &badRequest{reasonMissingModule, fmt.Sprintf("missing module: add &module=NAME (modules: %s)", moduleList(cfg))}
	case len(modules) > 1:
		return nil, &badRequest{reasonUnknownModule, fmt.Sprintf("module given %d times: give it once", len(modules))}
	}
	m := cfg.modules[modules[0]]
	if m == nil {
		return nil, &badRequest{reasonUnknownModule, fmt.Sprintf("unknown module %s (modules: %s)", quoteShort(modules[0]), moduleList(cfg))}
	}
	u, err := parseTarget(targets[0])
	if err != nil {
		return nil, err
	}
	timeout, err := probeTimeout(r.Header.Get(scrapeTimeoutHeader), m.config.Timeout, e.opts.TimeoutMargin)
	if err != nil {
		return nil, err
	}
	return &probeRequest{module: m, target: u, raw: targets[0], timeout: timeout}, nil
}

func moduleList(cfg *Config) string { return strings.Join(cfg.ModuleNames(), ", ") }

// storeKey names the previous exposition of one scrape of a probe.
func storeKey(target, module, accept string) string {
	return target + "\x00" + module + "\x00" + accept
}

// probe scrapes the target once for each of the module's accepts and
// checks each scrape against the previous probe's, then records the newer
// expositions for the next probe.
func (e *Exporter) probe(ctx context.Context, req *probeRequest) *probeRecord {
	m := req.module
	start := e.now()
	rec := &probeRecord{Time: start, Module: m.name, Target: scrape.Redact(req.raw)}
	opts, credErr := m.requestOptions(ctx, e.userAgent)
	for _, a := range m.accepts {
		if credErr != nil {
			rec.Scrapes = append(rec.Scrapes, scrapeRecord{Accept: a.name, Err: credErr.Error(), ErrKind: "credentials"})
			continue
		}
		key := storeKey(req.raw, m.name, a.name)
		// The previous exposition is taken before this scrape starts, so
		// that it is one whose scrape finished earlier (see store.put).
		previous, _ := e.store.get(key)
		scraped := e.now()
		o := opts
		o.Accept = a.header
		res, err := scrape.Scrape(ctx, m.client, req.target.String(), o)
		in := res.Input
		if err != nil {
			kind, detail := m.describeScrapeError(err)
			rec.Scrapes = append(rec.Scrapes, scrapeRecord{Accept: a.name, Err: detail, ErrKind: kind,
				ContentType: truncateUTF8(in.ContentType, maxContentTypeBytes), StatusCode: statusOf(in),
				Redirects: keptRedirects(res.Redirects)})
			continue
		}
		in.Previous = previous
		report := check.Check(in, m.opts)
		sr := newScrapeRecord(a.name, in, report)
		sr.Redirects = keptRedirects(res.Redirects)
		rec.Scrapes = append(rec.Scrapes, sr)
		if ingested(in, report) {
			e.store.put(key, report.Exposition, scraped)
		}
	}
	rec.Checked, rec.Success = true, true
	for _, s := range rec.Scrapes {
		rec.Checked = rec.Checked && s.Err == ""
		rec.Success = rec.Success && s.Err == "" && !s.Failed
	}
	rec.Duration = e.now().Sub(start)
	return rec
}

// ingested reports whether Prometheus would have ingested the scrape: a
// 200 response that its parser accepts. Only such a scrape becomes the
// previous one of the next probe; after a failed scrape Prometheus, too,
// compares the next with the last one it ingested.
func ingested(in check.Input, report *check.Report) bool {
	return in.HTTP != nil && in.HTTP.StatusCode == http.StatusOK &&
		report.Exposition != nil && report.Exposition.ParseError == nil
}

func statusOf(in check.Input) int {
	if in.HTTP == nil {
		return 0
	}
	return in.HTTP.StatusCode
}

// describeScrapeError returns the kind of a scrape failure and what to
// say about it, without the URL (the record names the target, redacted),
// with the setting of the module that changes the outcome, if one does.
func (m *module) describeScrapeError(err error) (kind, detail string) {
	var refused *refusedError
	if errors.As(err, &refused) {
		return "refused", refused.detail
	}
	var se *scrape.Error
	if !errors.As(err, &se) {
		return "error", err.Error()
	}
	settings := scrape.Terms{
		MaxBytes: "the module's max_bytes", Timeout: "the module's timeout, and Prometheus's scrape_timeout",
		CAFile: "the module's tls.ca_file", InsecureSkipVerify: "tls.insecure_skip_verify",
		ClientCert:  "the module's tls.cert_file and tls.key_file",
		Credentials: "the module's bearer_token_file or basic_auth",
	}
	if hint := se.Hint(settings, m.sendsCredentials()); hint != "" {
		return string(se.Kind), se.Detail + " (" + hint + ")"
	}
	return string(se.Kind), se.Detail
}

// maxRedirectsKept bounds the redirects a record keeps: scrape stops at
// scrape.MaxRedirects, but a record outlives the probe.
const maxRedirectsKept = scrape.MaxRedirects + 1

// keptRedirects returns the redirects of a scrape as the status page
// keeps them: their URLs, which the target chose, cut to a readable
// length.
func keptRedirects(redirects []scrape.Redirect) []scrape.Redirect {
	if len(redirects) == 0 {
		return nil
	}
	kept := slices.Clone(redirects[:min(len(redirects), maxRedirectsKept)])
	for i := range kept {
		kept[i].URL = truncateText(kept[i].URL, maxFindingText)
	}
	return kept
}

// HELP texts of the /probe families.
const (
	helpSuccess  = "Whether the target conforms: 1 when every scrape of the probe was checked and passed, 0 when one failed the check or could not be checked."
	helpChecked  = "Whether every scrape of the probe returned an exposition to check: 0 when the target could not be checked (unreachable, timed out, too large, refused)."
	helpDuration = "How long the probe took, scrapes and checks, in seconds."
	helpFindings = "Findings of the probe by rule and severity, summed over its scrapes; only rules that fired appear. promcheck rules lists the rules."
	helpSamples  = "Samples in the exposition, by what the scrape asked for (accept)."
	helpFamilies = "Metric families in the exposition, by what the scrape asked for (accept)."
	helpBody     = "Size of the exposition in bytes after decoding, by what the scrape asked for (accept)."
	helpStatus   = "HTTP status of the response, by what the scrape asked for (accept)."
	helpCompared = "Whether the scrape was judged against the previous probe of the same target and module (the scrape.* rules ran)."
	helpProtocol = "The exposition protocol the target served: the Content-Type, and the format the engine parsed it as."
	helpError    = "Why a scrape could not be checked: the kind of failure (connect, timeout, too-large, refused, ...)."
)

// writeProbe writes a probe's result.
func writeProbe(w *expoWriter, rec *probeRecord) {
	w.family("promcheck_probe_success", gauge, helpSuccess)
	w.sample("promcheck_probe_success", gauge, b2f(rec.Success))
	w.family("promcheck_probe_checked", gauge, helpChecked)
	w.sample("promcheck_probe_checked", gauge, b2f(rec.Checked))
	w.family("promcheck_probe_duration_seconds", gauge, helpDuration)
	w.sample("promcheck_probe_duration_seconds", gauge, rec.Duration.Seconds())

	w.family("promcheck_probe_findings", gauge, helpFindings)
	for _, c := range sumCounts(rec.Scrapes) {
		w.sample("promcheck_probe_findings", gauge, float64(c.N), "rule", c.Rule, "severity", c.Severity.String())
	}

	perScrape := []struct {
		name, help string
		value      func(s *scrapeRecord) (float64, bool)
	}{
		{"promcheck_probe_samples", helpSamples, func(s *scrapeRecord) (float64, bool) { return float64(s.Samples), s.Err == "" }},
		{"promcheck_probe_families", helpFamilies, func(s *scrapeRecord) (float64, bool) { return float64(s.Families), s.Err == "" }},
		{"promcheck_probe_body_bytes", helpBody, func(s *scrapeRecord) (float64, bool) { return float64(s.BodyBytes), s.Err == "" }},
		{"promcheck_probe_http_status_code", helpStatus, func(s *scrapeRecord) (float64, bool) { return float64(s.StatusCode), s.StatusCode != 0 }},
		{"promcheck_probe_compared", helpCompared, func(s *scrapeRecord) (float64, bool) { return b2f(s.Compared), s.Err == "" }},
	}
	for _, f := range perScrape {
		w.family(f.name, gauge, f.help)
		for i := range rec.Scrapes {
			if v, ok := f.value(&rec.Scrapes[i]); ok {
				w.sample(f.name, gauge, v, "accept", rec.Scrapes[i].Accept)
			}
		}
	}

	w.family("promcheck_probe_protocol", info, helpProtocol)
	for _, s := range rec.Scrapes {
		if s.Err != "" {
			continue
		}
		if s.ContentType == "" {
			// An empty label value is no label at all to Prometheus.
			w.sample("promcheck_probe_protocol", info, 1, "accept", s.Accept, "format", s.Format)
			continue
		}
		w.sample("promcheck_probe_protocol", info, 1, "accept", s.Accept, "content_type", s.ContentType, "format", s.Format)
	}
	w.family("promcheck_probe_error", info, helpError)
	for _, s := range rec.Scrapes {
		if s.Err != "" {
			w.sample("promcheck_probe_error", info, 1, "accept", s.Accept, "kind", s.ErrKind)
		}
	}
	w.end()
}

// sumCounts adds up the findings of every scrape by rule and severity,
// sorted by rule then severity.
func sumCounts(scrapes []scrapeRecord) []ruleCount {
	if len(scrapes) == 1 {
		return scrapes[0].Counts
	}
	var out []ruleCount
	for _, s := range scrapes {
	next:
		for _, c := range s.Counts {
			for i := range out {
				if out[i].Rule == c.Rule && out[i].Severity == c.Severity {
					out[i].N += c.N
					continue next
				}
			}
			out = append(out, c)
		}
	}
	sortCounts(out)
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
