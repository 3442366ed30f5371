package exporter

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// bothConfig is the built-in deploy module asking for both formats.
func bothConfig(t *testing.T) *Config {
	t.Helper()
	c, err := ParseConfig([]byte("modules:\n  deploy: {accept: both}\n  generic: {schema: none}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A conforming emitter probes as success 1 with no finding, in both
// formats, and the second probe is judged against the first; the
// exporter's /probe conforms itself, in both formats and across scrapes.
func TestProbeConformingEmitter(t *testing.T) {
	te := startExporter(t, bothConfig(t), Options{})
	target := referenceEmitter(t)
	first := te.probe(t, target, "deploy")
	wantValue(t, first, "promcheck_probe_success", 1)
	wantValue(t, first, "promcheck_probe_checked", 1)
	if got := seriesOf(first, "promcheck_probe_findings"); len(got) != 0 {
		t.Errorf("findings of a conforming emitter: %v", got)
	}
	for _, accept := range []string{"text", "openmetrics"} {
		wantValue(t, first, `promcheck_probe_samples{accept="`+accept+`"}`, 24)
		wantValue(t, first, `promcheck_probe_families{accept="`+accept+`"}`, 6)
		wantValue(t, first, `promcheck_probe_http_status_code{accept="`+accept+`"}`, 200)
		wantValue(t, first, `promcheck_probe_compared{accept="`+accept+`"}`, 0)
		if v, _ := value(first, `promcheck_probe_body_bytes{accept="`+accept+`"}`); v < 1000 {
			t.Errorf("body bytes %v for %s", v, accept)
		}
	}
	wantValue(t, first, `promcheck_probe_protocol_info{accept="text",content_type="text/plain; version=0.0.4; charset=utf-8",format="text"}`, 1)
	wantValue(t, first, `promcheck_probe_protocol_info{accept="openmetrics",content_type="application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores",format="openmetrics"}`, 1)
	if d, _ := value(first, "promcheck_probe_duration_seconds"); !(d > 0 && d < 10) {
		t.Errorf("duration %v", d)
	}

	// The second probe, asked for in OpenMetrics, compares with the first,
	// and the exporter's output compares cleanly with its previous one.
	second := scrapeAndCheck(t, te.probeURL(target, "deploy"), scrape.AcceptOpenMetrics, first.Exposition)
	wantValue(t, second, "promcheck_probe_success", 1)
	wantValue(t, second, `promcheck_probe_compared{accept="text"}`, 1)
	wantValue(t, second, `promcheck_probe_compared{accept="openmetrics"}`, 1)
	if second.Exposition.Format != check.FormatOpenMetrics {
		t.Errorf("Accept OpenMetrics got %s", second.Exposition.Format)
	}
}

func TestProbeBrokenEmitter(t *testing.T) {
	te := startExporter(t, nil, Options{})
	r := te.probe(t, brokenEmitter(t), "deploy")
	wantValue(t, r, "promcheck_probe_success", 0)
	wantValue(t, r, "promcheck_probe_checked", 1)
	wantValue(t, r, `promcheck_probe_findings{rule="spec.duplicate-series",severity="error"}`, 1)
	// The same exposition under the generic module: the same error.
	r = te.probe(t, brokenEmitter(t), "generic")
	wantValue(t, r, `promcheck_probe_findings{rule="spec.duplicate-series",severity="error"}`, 1)
	if strings.Contains(string(r.Exposition.Body), "schema.") {
		t.Errorf("the generic module judged a schema:\n%s", r.Exposition.Body)
	}
}

// The cross-probe counter rule fires across two probes, and the memory is
// kept per module: a probe of the same target in another module starts
// afresh.
func TestCrossProbeCounterDecrease(t *testing.T) {
	te := startExporter(t, nil, Options{})
	target := decreasingEmitter(t)
	r := te.probe(t, target, "deploy")
	wantValue(t, r, "promcheck_probe_success", 1)
	wantValue(t, r, `promcheck_probe_compared{accept="text"}`, 0)
	r = te.probe(t, target, "deploy")
	wantValue(t, r, "promcheck_probe_success", 0)
	wantValue(t, r, `promcheck_probe_compared{accept="text"}`, 1)
	wantValue(t, r, `promcheck_probe_findings{rule="scrape.counter-decreased",severity="error"}`, 1)
	r = te.probe(t, target, "generic")
	wantValue(t, r, "promcheck_probe_success", 1)
	wantValue(t, r, `promcheck_probe_compared{accept="text"}`, 0)
}

// A scrape Prometheus would not ingest (an error status) does not replace
// the previous exposition: the next probe is judged against the last good
// one, as Prometheus's own comparison would be.
func TestFailedScrapeKeepsThePrevious(t *testing.T) {
	te := startExporter(t, nil, Options{})
	var mu sync.Mutex
	status, value := http.StatusOK, 10
	target := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", scrapetest.ContentTypeText)
		w.WriteHeader(status)
		fmt.Fprintf(w, "# HELP c_total A counter.\n# TYPE c_total counter\nc_total %d\n", value)
	}))
	set := func(s, v int) { mu.Lock(); status, value = s, v; mu.Unlock() }
	te.probe(t, target, "generic")
	set(http.StatusInternalServerError, 99)
	r := te.probe(t, target, "generic")
	wantValue(t, r, "promcheck_probe_checked", 0)
	wantValue(t, r, `promcheck_probe_error_info{accept="text",kind="status"}`, 1)
	set(http.StatusOK, 5)
	r = te.probe(t, target, "generic")
	wantValue(t, r, `promcheck_probe_findings{rule="scrape.counter-decreased",severity="error"}`, 1)
}

// A target answering outside 2xx cannot be checked, as Prometheus fails
// such a scrape and promcheck check exits 2: its body is an error page,
// not an exposition. The status is kept, and for 401 and 403 the probe
// says which settings of the module to look at.
func TestNon2xxCannotBeChecked(t *testing.T) {
	target := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.Header().Set("Content-Type", scrapetest.ContentTypeText)
		w.WriteHeader(code)
		fmt.Fprintln(w, "error page")
	}))
	dir := writeFiles(t, map[string]string{"token": "t0ken\n"})
	cfg, err := ParseConfig([]byte("modules:\n  open: {schema: none}\n  auth: {schema: none, bearer_token_file: token}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	te := startExporter(t, cfg, Options{})
	for _, c := range []struct {
		module string
		status int
		say    string
	}{
		{"open", 500, "status: server returned HTTP status 500 Internal Server Error"},
		{"open", 404, "status: server returned HTTP status 404 Not Found"},
		{"open", 401, "status: server returned HTTP status 401 Unauthorized (send credentials with the module's bearer_token_file or basic_auth)"},
		{"auth", 403, "status: server returned HTTP status 403 Forbidden (the credentials sent were refused: check the module's bearer_token_file or basic_auth)"},
	} {
		t.Run(fmt.Sprintf("%s %d", c.module, c.status), func(t *testing.T) {
			r := te.probe(t, fmt.Sprintf("%s/metrics?status=%d", target, c.status), c.module)
			wantValue(t, r, "promcheck_probe_success", 0)
			wantValue(t, r, "promcheck_probe_checked", 0)
			wantValue(t, r, `promcheck_probe_error_info{accept="text",kind="status"}`, 1)
			wantValue(t, r, `promcheck_probe_http_status_code{accept="text"}`, float64(c.status))
			if got := seriesOf(r, "promcheck_probe_findings"); len(got) != 0 {
				t.Errorf("findings about an error page: %v", got)
			}
			wantContains(t, "log", te.log.String(), c.say)
			_, page, _ := get(t, http.MethodGet, te.url+"/", nil)
			wantContains(t, "status page", page, html.EscapeString(c.say))
		})
	}
}

// An exposition of one line repeated 5000 times draws 4999 duplicate
// series: /probe counts them all, while the engine makes only the first
// 20 of the rule (check.Options.MaxFindingsPerRule, as promcheck check
// does) and the status page keeps 20 findings (errors first) and says how
// many more there are (a lint warning and, as the target does not gzip,
// an http.content-encoding-preference info besides).
func TestProbeCountsFindingsPastTheCap(t *testing.T) {
	target := serve(t, scrapetest.Serve(http.StatusOK, scrapetest.ContentTypeText, strings.Repeat("a 1\n", 5000)))
	te := startExporter(t, nil, Options{})
	// The module's engine options keep 20 of the rule...
	m := BuiltinConfig().modules["generic"]
	report := check.Check(check.Input{Body: []byte(strings.Repeat("a 1\n", 5000))}, m.opts)
	if n := len(report.Rule("spec.duplicate-series")); n != maxFindingsPerRule {
		t.Errorf("the engine made %d findings of the rule, want %d", n, maxFindingsPerRule)
	}
	// ...and the probe counts them all, from Report.Omitted.
	r := te.probe(t, target, "generic")
	wantValue(t, r, `promcheck_probe_findings{rule="spec.duplicate-series",severity="error"}`, 4999)
	rec := te.history.list()[0]
	if n := len(rec.Scrapes[0].Findings); n != maxFindingsShown {
		t.Errorf("the record keeps %d findings, want %d", n, maxFindingsShown)
	}
	if got := rec.Scrapes[0].Errors; got != 4999 {
		t.Errorf("the record counts %d errors, want 4999", got)
	}
	_, page, _ := get(t, http.MethodGet, te.url+"/", nil)
	wantContains(t, "status page", page, "spec.duplicate-series</a> (error): 4999", "and 4981 more, not kept here")
}

func TestProbeUnreachable(t *testing.T) {
	te := startExporter(t, nil, Options{})
	r := te.probe(t, unreachable(t), "deploy")
	wantValue(t, r, "promcheck_probe_success", 0)
	wantValue(t, r, "promcheck_probe_checked", 0)
	wantValue(t, r, `promcheck_probe_error_info{accept="text",kind="connect"}`, 1)
	if got := seriesOf(r, "promcheck_probe_samples"); len(got) != 0 {
		t.Errorf("samples written for a scrape that failed: %v", got)
	}
	wantContains(t, "log", te.log.String(), "level=INFO msg=probe", "success=false", "connection refused")
}

// Every bad request is a 400 naming the problem, with a log line, and is
// counted; none panics.
func TestBadRequests(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
modules:
  deploy: {}
  named: {allowed_targets: {hosts: [metrics.example.com]}}
  tenant: {allowed_targets: {cidrs: [10.0.0.0/8]}}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	te := startExporter(t, cfg, Options{})
	good := referenceEmitter(t)
	long := "http://127.0.0.1/" + strings.Repeat("a", maxTargetBytes)
	for _, c := range []struct {
		name, query string
		header      http.Header
		reason      string
		want        string
	}{
		{"no parameters", "", nil, reasonMissingTarget, "missing target: probe with /probe?target=URL&module=NAME"},
		{"bad escape", "target=%zz&module=deploy", nil, reasonBadTarget, `the query string is malformed (invalid URL escape "%zz")`},
		{"empty target", "target=&module=deploy", nil, reasonMissingTarget, "missing target"},
		{"target twice", q("target", good, "target", good, "module", "deploy"), nil, reasonBadTarget, "target given 2 times"},
		{"missing module", q("target", good), nil, reasonMissingModule, "missing module: add &module=NAME (modules: deploy, named, tenant)"},
		{"unknown module", q("target", good, "module", "http_2xx"), nil, reasonUnknownModule, `unknown module "http_2xx" (modules: deploy, named, tenant)`},
		{"huge unknown module", q("target", good, "module", strings.Repeat("m", 5000)), nil, reasonUnknownModule, `unknown module "mmmm`},
		{"module twice", q("target", good, "module", "deploy", "module", "named"), nil, reasonUnknownModule, "module given 2 times"},
		{"ftp", q("target", "ftp://127.0.0.1/metrics", "module", "deploy"), nil, reasonBadTarget, "only http:// and https:// URLs can be probed"},
		{"file", q("target", "file:///etc/passwd", "module", "deploy"), nil, reasonBadTarget, "only http:// and https://"},
		{"no scheme", q("target", "127.0.0.1:9100", "module", "deploy"), nil, reasonBadTarget, "target \"127.0.0.1:9100\""},
		{"no host", q("target", "http:///metrics", "module", "deploy"), nil, reasonBadTarget, "has no host"},
		{"too long", q("target", long, "module", "deploy"), nil, reasonBadTarget, fmt.Sprintf("is %d bytes long: at most 2048", len(long))},
		{"newline", q("target", "http://127.0.0.1/\nmetrics", "module", "deploy"), nil, reasonBadTarget, "control character (byte 0x0a at offset 17)"},
		{"NUL", q("target", "http://127.0.0.1/\x00", "module", "deploy"), nil, reasonBadTarget, "control character (byte 0x00"},
		{"credentials", q("target", "http://user:pw@127.0.0.1/metrics", "module", "deploy"), nil, reasonBadTarget, "carries credentials"},
		{"fragment", q("target", good+"#x", "module", "deploy"), nil, reasonBadTarget, "#fragment"},
		{"not a URL", q("target", "http://[::1/", "module", "deploy"), nil, reasonBadTarget, "is not a URL"},
		{"address not allowed", q("target", "http://10.1.2.3:9100/metrics", "module", "deploy"), nil, reasonNotAllowed,
			"target address 10.1.2.3 is not allowed by module deploy (it allows addresses in 127.0.0.0/8, ::1/128)"},
		{"metadata address", q("target", "http://169.254.169.254/latest/meta-data/", "module", "deploy"), nil, reasonNotAllowed, "169.254.169.254 is not allowed"},
		{"host not allowed", q("target", good, "module", "named"), nil, reasonNotAllowed, `target host "127.0.0.1" is not allowed by module named (it allows hosts metrics.example.com)`},
		{"name resolving elsewhere", q("target", "http://localhost:9100/metrics", "module", "tenant"), nil, reasonNotAllowed,
			`target host "localhost" resolves to`},
		{"timeout not a number", q("target", good, "module", "deploy"), http.Header{scrapeTimeoutHeader: {"soon"}}, reasonBadTimeout, `X-Prometheus-Scrape-Timeout-Seconds "soon": want a positive number of seconds`},
		{"negative timeout", q("target", good, "module", "deploy"), http.Header{scrapeTimeoutHeader: {"-1"}}, reasonBadTimeout, "want a positive number"},
		{"NaN timeout", q("target", good, "module", "deploy"), http.Header{scrapeTimeoutHeader: {"NaN"}}, reasonBadTimeout, "want a positive number"},
		{"infinite timeout", q("target", good, "module", "deploy"), http.Header{scrapeTimeoutHeader: {"+Inf"}}, reasonBadTimeout, "want a positive number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := rejections(t, te, c.reason)
			status, body, _ := get(t, http.MethodGet, te.url+"/probe?"+c.query, c.header)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body:\n%s", status, body)
			}
			wantContains(t, "response", body, c.want)
			if len(body) > 600 {
				t.Errorf("the message is %d bytes: user input must be cut", len(body))
			}
			wantContains(t, "log", te.log.String(), "probe refused", "reason="+c.reason)
			if after := rejections(t, te, c.reason); after != before+1 {
				t.Errorf("rejections{reason=%q} went from %v to %v", c.reason, before, after)
			}
		})
	}
}

// q builds a query string from name, value pairs, in order.
func q(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]) + "=" + url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

// rejections reads promcheck_exporter_probe_rejections_total{reason}.
func rejections(t *testing.T, te *testExporter, reason string) float64 {
	t.Helper()
	r := scrapeAndCheck(t, te.url+"/metrics", scrape.AcceptText, nil)
	v, ok := value(r, `promcheck_exporter_probe_rejections_total{reason="`+reason+`"}`)
	if !ok {
		t.Fatalf("no rejections series for %s", reason)
	}
	return v
}

// Beyond the concurrency limit a probe request is answered 503 at once.
func TestOverloaded(t *testing.T) {
	te := startExporter(t, nil, Options{MaxConcurrent: 1})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	slow := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", scrapetest.ContentTypeText)
		_, _ = w.Write([]byte(scrapetest.Text))
	}))
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(te.probeURL(slow, "deploy"))
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered // the first probe holds the only slot
	status, body, header := get(t, http.MethodGet, te.probeURL(referenceEmitter(t), "deploy"), nil)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("second probe: status %d, want 503; body %s", status, body)
	}
	wantContains(t, "response", body, "overloaded: 1 probes are running")
	if header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	r := scrapeAndCheck(t, te.url+"/metrics", scrape.AcceptText, nil)
	wantValue(t, r, "promcheck_exporter_probes_in_flight", 1)
	wantValue(t, r, "promcheck_exporter_probes_max_in_flight", 1)
	wantValue(t, r, `promcheck_exporter_probe_rejections_total{reason="overloaded"}`, 1)
	close(release)
	if got := <-done; got != http.StatusOK {
		t.Errorf("first probe: status %d", got)
	}
	// The slot is free again.
	wantValue(t, te.probe(t, referenceEmitter(t), "deploy"), "promcheck_probe_success", 1)
}

func TestProbeTimeout(t *testing.T) {
	for _, c := range []struct {
		header string
		module time.Duration
		want   time.Duration
	}{
		{"", 10 * time.Second, 10 * time.Second},
		{"10", 10 * time.Second, 9500 * time.Millisecond},
		{"10", 3 * time.Second, 3 * time.Second},
		{"2.5", 10 * time.Second, 2 * time.Second},
		{"0.6", 10 * time.Second, 300 * time.Millisecond}, // the margin takes at most half
		{"1e300", 10 * time.Second, 10 * time.Second},
	} {
		got, err := probeTimeout(c.header, c.module, 500*time.Millisecond)
		if err != nil || got != c.want {
			t.Errorf("probeTimeout(%q, %s) = %s, %v; want %s", c.header, c.module, got, err, c.want)
		}
	}
	// Prometheus's header bounds the probe of a target that never answers.
	te := startExporter(t, nil, Options{TimeoutMargin: 200 * time.Millisecond})
	stuck := serve(t, scrapetest.SlowHeaders(time.Minute))
	status, body, _ := get(t, http.MethodGet, te.probeURL(stuck, "deploy"), http.Header{scrapeTimeoutHeader: {"0.5"}})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	wantContains(t, "probe", body, "promcheck_probe_success 0", `promcheck_probe_error_info{accept="text",kind="timeout"} 1`)
	wantContains(t, "log", te.log.String(), "timed out after 300ms waiting for response headers", "timeout=300ms")
}

// A hostile target gets the limits promcheck check gives it, and the
// allowlist holds on redirects and connections.
func TestHostileTargets(t *testing.T) {
	bomb := serve(t, scrapetest.GzipBomb(1<<30))
	loop := serve(t, scrapetest.RedirectLoop())
	elsewhere := serve(t, http.RedirectHandler("http://10.255.255.1:9/metrics", http.StatusFound))
	// A target allowed by name that redirects to an address by number,
	// which the host patterns do not allow.
	inner := serve(t, scrapetest.Good())
	byName := strings.Replace(serve(t, http.RedirectHandler(inner+"/metrics", http.StatusFound)), "127.0.0.1", "localhost", 1)
	cfg, err := ParseConfig([]byte(`
modules:
  small: {schema: none, max_bytes: 65536}
  named: {schema: none, allowed_targets: {hosts: [localhost], cidrs: [127.0.0.0/8, "::1/128"]}}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	te := startExporter(t, cfg, Options{})
	for _, c := range []struct {
		name, target, module, kind, log string
	}{
		{"gzip bomb", bomb, "small", "too-large", "gzip-decoded body exceeds the limit of 65536 bytes"},
		{"redirect loop", loop + "/metrics", "small", "redirect", "redirect: redirect loop: " + loop + "/a -> " + loop + "/b -> " + loop + "/a"},
		{"redirect to a forbidden address", elsewhere, "small", "refused", "connection to 10.255.255.1 refused: module small allows addresses in 127.0.0.0/8, ::1/128"},
		{"redirect to a forbidden host", byName, "named", "refused", "redirect to host 127.0.0.1 refused: module named allows hosts localhost"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := te.probe(t, c.target, c.module)
			wantValue(t, r, "promcheck_probe_checked", 0)
			wantValue(t, r, `promcheck_probe_error_info{accept="text",kind="`+c.kind+`"}`, 1)
			wantContains(t, "log", te.log.String(), c.log)
		})
	}
}

// Credentials are read from files on every probe and never follow a
// redirect to another origin.
func TestCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	record := func(name string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, name+" "+r.Header.Get("Authorization"))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	other := serve(t, record("other", scrapetest.Good()))
	mux := http.NewServeMux()
	mux.Handle("/metrics", scrapetest.Good())
	mux.Handle("/moved", http.RedirectHandler("/metrics", http.StatusFound))
	mux.Handle("/away", http.RedirectHandler(other+"/metrics", http.StatusFound))
	origin := serve(t, record("origin", mux))
	dir := writeFiles(t, map[string]string{"token": "first\n"})
	cfg, err := ParseConfig([]byte("modules:\n  auth: {bearer_token_file: token}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	te := startExporter(t, cfg, Options{})

	wantValue(t, te.probe(t, origin+"/moved", "auth"), "promcheck_probe_success", 1)
	writeFilesIn(t, dir, map[string]string{"token": "second\n"}) // rotated: no reload needed
	r := te.probe(t, origin+"/away", "auth")
	wantValue(t, r, `promcheck_probe_error_info{accept="text",kind="refused"}`, 1)
	wantContains(t, "log", te.log.String(), "module auth sends credentials, which never follow a redirect to another origin")
	// The status page names every redirect, followed or refused.
	_, page, _ := get(t, http.MethodGet, te.url+"/", nil)
	wantContains(t, "status page", page, "redirected (302 to "+origin+"/metrics)", "redirected (302 to "+other+"/metrics);")
	mu.Lock()
	defer mu.Unlock()
	want := []string{"origin Bearer first", "origin Bearer first", "origin Bearer second"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("requests seen: %q, want %q (the other origin must never be asked)", seen, want)
	}
}

// The exporter's own /metrics conform, in both formats and across scrapes,
// and count what happened.
func TestOwnMetrics(t *testing.T) {
	te := startExporter(t, nil, Options{Version: "v1.2.3", MaxConcurrent: 3, Store: StoreLimits{MaxEntries: 7, MaxBytes: 1 << 20}})
	first := scrapeAndCheck(t, te.url+"/metrics", scrape.AcceptOpenMetrics, nil)
	good, broken := referenceEmitter(t), brokenEmitter(t)
	te.probe(t, good, "deploy")
	te.probe(t, good, "deploy")
	te.probe(t, broken, "deploy")
	te.probe(t, unreachable(t), "generic")
	get(t, http.MethodGet, te.url+"/probe", nil)
	r := scrapeAndCheck(t, te.url+"/metrics", scrape.AcceptOpenMetrics, first.Exposition)
	r = scrapeAndCheck(t, te.url+"/metrics", scrape.AcceptText, r.Exposition)
	for series, v := range map[string]float64{
		`promcheck_exporter_build_info{version="v1.2.3"}`:                      1,
		`promcheck_exporter_probes_total{module="deploy",result="conforms"}`:   2,
		`promcheck_exporter_probes_total{module="deploy",result="violations"}`: 1,
		`promcheck_exporter_probes_total{module="deploy",result="error"}`:      0,
		`promcheck_exporter_probes_total{module="generic",result="error"}`:     1,
		`promcheck_exporter_probe_rejections_total{reason="missing_target"}`:   1,
		`promcheck_exporter_probes_in_flight`:                                  0,
		`promcheck_exporter_probes_max_in_flight`:                              3,
		`promcheck_exporter_store_entries`:                                     2,
		`promcheck_exporter_store_max_entries`:                                 7,
		`promcheck_exporter_store_max_bytes`:                                   1 << 20,
		`promcheck_exporter_history_probes`:                                    4,
		`promcheck_exporter_config_reloads_total{result="success"}`:            0,
		`promcheck_exporter_config_last_reload_successful`:                     1,
	} {
		wantValue(t, r, series, v)
	}
	if v, _ := value(r, "promcheck_exporter_store_bytes"); v < 1000 {
		t.Errorf("store bytes %v for two expositions", v)
	}
}

// The exporter can check itself: a probe of its own /metrics conforms.
func TestProbeItself(t *testing.T) {
	te := startExporter(t, nil, Options{})
	te.probe(t, referenceEmitter(t), "deploy")
	for range 2 {
		r := te.probe(t, te.url+"/metrics", "generic")
		wantValue(t, r, "promcheck_probe_success", 1)
	}
	r := te.probe(t, te.probeURL(referenceEmitter(t), "deploy"), "generic")
	wantValue(t, r, "promcheck_probe_success", 1)
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	writeFilesIn(t, dir, map[string]string{"m.yml": "modules:\n  one: {schema: none}\n"})
	load := func() (*Config, error) { return LoadConfig(dir + "/m.yml") }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	te := startExporter(t, cfg, Options{Load: load})
	target := referenceEmitter(t)
	wantValue(t, te.probe(t, target, "one"), "promcheck_probe_success", 1)

	writeFilesIn(t, dir, map[string]string{"m.yml": "modules:\n  two: {}\n"})
	status, body, _ := get(t, http.MethodPost, te.url+"/-/reload", nil)
	if status != http.StatusOK {
		t.Fatalf("reload: %d %s", status, body)
	}
	wantValue(t, te.probe(t, target, "two"), "promcheck_probe_success", 1)
	status, body, _ = get(t, http.MethodGet, te.probeURL(target, "one"), nil)
	if status != http.StatusBadRequest || !strings.Contains(body, `unknown module "one" (modules: two)`) {
		t.Errorf("the old module after a reload: %d %s", status, body)
	}

	writeFilesIn(t, dir, map[string]string{"m.yml": "modules:\n  three: {timeout: never}\n"})
	status, body, _ = get(t, http.MethodPost, te.url+"/-/reload", nil)
	if status != http.StatusInternalServerError || !strings.Contains(body, "never") {
		t.Errorf("reload of a broken file: %d %s", status, body)
	}
	wantValue(t, te.probe(t, target, "two"), "promcheck_probe_success", 1) // still served
	wantContains(t, "log", te.log.String(), "reload failed, keeping the current modules")

	r := scrapeAndCheck(t, te.url+"/metrics", scrape.AcceptText, nil)
	wantValue(t, r, `promcheck_exporter_config_reloads_total{result="success"}`, 1)
	wantValue(t, r, `promcheck_exporter_config_reloads_total{result="failure"}`, 1)
	wantValue(t, r, "promcheck_exporter_config_last_reload_successful", 0)
	// The removed module's counters stay: counters never vanish.
	wantValue(t, r, `promcheck_exporter_probes_total{module="one",result="conforms"}`, 1)

	if status, _, hdr := get(t, http.MethodGet, te.url+"/-/reload", nil); status != http.StatusMethodNotAllowed || !strings.Contains(hdr.Get("Allow"), "POST") {
		t.Errorf("GET /-/reload: %d, Allow %q", status, hdr.Get("Allow"))
	}
	builtin := startExporter(t, nil, Options{})
	if err := builtin.Reload(); err == nil || !strings.Contains(err.Error(), "--config FILE") {
		t.Errorf("reload without a file: %v", err)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	te := startExporter(t, nil, Options{})
	target := referenceEmitter(t)
	for _, c := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodHead, "/probe?" + q("target", target, "module", "deploy"), http.StatusOK, ""},
		{http.MethodPost, "/probe?" + q("target", target, "module", "deploy"), http.StatusMethodNotAllowed, ""},
		{http.MethodHead, "/metrics", http.StatusOK, ""},
		{http.MethodDelete, "/metrics", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, "/-/healthy", http.StatusOK, "Healthy."},
		{http.MethodGet, "/nope", http.StatusNotFound, ""},
	} {
		status, body, hdr := get(t, c.method, te.url+c.path, nil)
		if status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, status, body, c.status, c.body)
		}
		if c.method == http.MethodHead && (body != "" || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain")) {
			t.Errorf("HEAD %s: body %q, Content-Type %q", c.path, body, hdr.Get("Content-Type"))
		}
	}
}

// The status page shows recent probes, their verdicts and findings, links
// rules to their descriptions, escapes what targets chose and hides
// secrets in target URLs.
func TestStatusPage(t *testing.T) {
	te := startExporter(t, nil, Options{History: 2})
	hostile := serve(t, scrapetest.Serve(http.StatusOK, scrapetest.ContentTypeText,
		"# TYPE x counter\nx{a=\"<script>alert(1)</script>\"} 1\nx{a=\"<script>alert(1)</script>\"} 1\n"))
	te.probe(t, brokenEmitter(t), "deploy")
	te.probe(t, hostile+"/metrics?token=hunter2", "generic")
	te.probe(t, unreachable(t), "deploy")
	te.probe(t, referenceEmitter(t), "deploy")
	status, page, hdr := get(t, http.MethodGet, te.url+"/", nil)
	if status != http.StatusOK || hdr.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", status, hdr.Get("Content-Type"))
	}
	wantContains(t, "status page", page,
		"conforms", "could not check", "connect: connection refused",
		`<a href="/rules#spec.duplicate-series">spec.duplicate-series</a>`,
		"token=xxxxx", "&lt;script&gt;",
		"addresses in 127.0.0.0/8, ::1/128", // the modules' allowed targets
	)
	for _, leak := range []string{"hunter2", "<script>"} {
		if strings.Contains(page, leak) {
			t.Errorf("the status page shows %q", leak)
		}
	}
	// History 2 keeps the two latest probes and the failures that fell out.
	if n := strings.Count(page, "<tr>\n<td>"); n != 4 {
		t.Errorf("%d probes shown, want 4 (2 recent, 2 earlier failures)", n)
	}
	status, rules, _ := get(t, http.MethodGet, te.url+"/rules", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /rules: %d", status)
	}
	for _, r := range check.Rules() {
		wantContains(t, "rules page", rules, `id="`+r.ID+`"`)
	}
}

// Requests in flight during a reload finish with their module; concurrent
// probes, reloads and metrics never race (run under -race).
func TestConcurrentUse(t *testing.T) {
	load := func() (*Config, error) { return bothConfig(t), nil }
	te := startExporter(t, bothConfig(t), Options{Load: load, MaxConcurrent: 64})
	targets := []string{referenceEmitter(t), decreasingEmitter(t), brokenEmitter(t), unreachable(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 24 {
		wg.Go(func() {
			target := targets[i%len(targets)]
			resp, err := http.Get(te.probeURL(target, "deploy"))
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("probe %s: %s", target, resp.Status)
			}
		})
		if i%8 == 0 {
			wg.Go(func() {
				if err := te.Reload(); err != nil {
					errs <- err
				}
			})
		}
		if i%6 == 0 {
			wg.Go(func() {
				resp, err := http.Get(te.url + "/metrics")
				if err == nil {
					resp.Body.Close()
				}
				status, _, _ := get(t, http.MethodGet, te.url+"/", nil)
				if status != http.StatusOK {
					errs <- errors.New("status page failed")
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
