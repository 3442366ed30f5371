package handler

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deploymetrics/deploymetrics/counters"
)

// scrape sends one request to h and returns the recorded response.
func scrape(t *testing.T, h http.Handler, method string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/metrics/prometheus", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// newServing returns a handler serving a table with the known target types.
func newServing(t *testing.T) (*MetricsHandler, *counters.DeployCounters) {
	t.Helper()
	dc := counters.NewDeployCounters()
	for _, tt := range counters.KnownTargetTypes() {
		dc.Record(tt, counters.OutcomeSucceeded)
		dc.Record(tt, counters.OutcomeVerifyFailedRestored)
	}
	h := NewMetricsHandler()
	h.SetDeployCounters(dc)
	return h, dc
}

// TestServeNegotiatesProtocol asks for each protocol as Prometheus 3 does
// (and as Prometheus 2.42 and 3 do by default) and checks the Content-Type,
// the headers, and that Prometheus's parser for that Content-Type reads the
// table back exactly.
func TestServeNegotiatesProtocol(t *testing.T) {
	h, dc := newServing(t)
	h2 := NewMetricsHandler(WithOpenMetrics2())
	h2.SetDeployCounters(dc)
	type testCase struct {
		name, accept, contentType string
		parsed                    parsedAs
	}
	tests := []testCase{
		{"no Accept", "", wantText, parsedText},
		{"Prometheus 2.42", prometheus242Accept, wantOpenMetrics + underscores, parsedOpenMetrics},
		{"Prometheus 3", prometheus3Accept, wantOpenMetrics + allowUTF8, parsedOpenMetrics},
		{"Prometheus 3 protobuf first", prometheus3ProtoFirstAccept, wantProtobuf, parsedProtobuf},
		{"OpenMetrics refused", "application/openmetrics-text;q=0,text/plain;q=0.1", wantText, parsedText},
		{"curl", "*/*", wantText, parsedText},
	}
	for _, pc := range protocolCases {
		tests = append(tests, testCase{pc.name, pc.accept, pc.contentType, pc.parsed})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h
			if tc.parsed == parsedOpenMetrics2 {
				h = h2
			}
			header := http.Header{}
			if tc.accept != "" {
				header.Set("Accept", tc.accept)
			}
			rec := scrape(t, h, http.MethodGet, header)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			res := rec.Result()
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := res.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q without Accept-Encoding", got)
			}
			if got := res.Header.Get("Vary"); got != "Accept, Accept-Encoding" {
				t.Errorf("Vary = %q", got)
			}
			body := rec.Body.Bytes()
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %q, body is %d bytes", got, len(body))
			}
			diffLines(t, parseExposition(t, body, tc.contentType), expectedExposition("certctl", dc.Snapshot(), tc.parsed, identity))
		})
	}
	// Without WithOpenMetrics2, a scraper asking for OpenMetrics 2.0 alone
	// gets the last resort.
	rec := scrape(t, h, http.MethodGet, http.Header{"Accept": {protocolCases[len(protocolCases)-1].accept}})
	if got := rec.Result().Header.Get("Content-Type"); got != wantText {
		t.Errorf("OpenMetrics 2.0 asked of a handler without it: Content-Type %q, want %q", got, wantText)
	}
}

func TestServeGzip(t *testing.T) {
	h, _ := newServing(t)
	tests := []struct {
		acceptEncoding string
		gzipped        bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"*;q=0, identity", false},
	}
	for _, tc := range tests {
		for _, accept := range []string{"", prometheus242Accept, prometheus3ProtoFirstAccept} {
			t.Run(tc.acceptEncoding+"/"+accept, func(t *testing.T) {
				plain := scrape(t, h, http.MethodGet, http.Header{"Accept": {accept}})
				rec := scrape(t, h, http.MethodGet, http.Header{"Accept": {accept}, "Accept-Encoding": {tc.acceptEncoding}})
				res := rec.Result()
				if got := res.Header.Get("Vary"); !strings.Contains(got, "Accept-Encoding") {
					t.Errorf("Vary = %q, want it to name Accept-Encoding", got)
				}
				if got := res.Header.Get("Content-Type"); got != plain.Result().Header.Get("Content-Type") {
					t.Errorf("Content-Type %q differs from the uncompressed response's", got)
				}
				if got := res.Header.Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
					t.Errorf("Content-Length = %q, body is %d bytes", got, rec.Body.Len())
				}
				body := rec.Body.Bytes()
				if !tc.gzipped {
					if got := res.Header.Get("Content-Encoding"); got != "" {
						t.Errorf("Content-Encoding = %q, want none", got)
					}
					if !bytes.Equal(body, plain.Body.Bytes()) {
						t.Errorf("uncompressed body differs from a plain scrape")
					}
					return
				}
				if got := res.Header.Get("Content-Encoding"); got != "gzip" {
					t.Fatalf("Content-Encoding = %q, want gzip", got)
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("gzip.NewReader: %v", err)
				}
				decoded, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("decompressing: %v", err)
				}
				if !bytes.Equal(decoded, plain.Body.Bytes()) {
					t.Errorf("decompressed body differs from a plain scrape:\n%s\nwant:\n%s", decoded, plain.Body.Bytes())
				}
			})
		}
	}
}

func TestServeHEAD(t *testing.T) {
	h, _ := newServing(t)
	for _, enc := range []string{"", "gzip"} {
		header := http.Header{"Accept": {prometheus3ProtoFirstAccept}, "Accept-Encoding": {enc}}
		get := scrape(t, h, http.MethodGet, header).Result()
		head := scrape(t, h, http.MethodHead, header)
		if head.Code != http.StatusOK {
			t.Errorf("HEAD status %d", head.Code)
		}
		if head.Body.Len() != 0 {
			t.Errorf("HEAD wrote %d body bytes", head.Body.Len())
		}
		for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length", "Vary"} {
			if got, want := head.Result().Header.Get(k), get.Header.Get(k); got != want {
				t.Errorf("Accept-Encoding %q: HEAD %s = %q, GET has %q", enc, k, got, want)
			}
		}
	}
}

func TestServeRejectsOtherMethods(t *testing.T) {
	h, _ := newServing(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "PROPFIND"} {
		rec := scrape(t, h, m, nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, rec.Code)
		}
		if got := rec.Result().Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s: Allow = %q, want %q", m, got, "GET, HEAD")
		}
		if strings.Contains(rec.Body.String(), "deploy_attempts") {
			t.Errorf("%s: served metrics", m)
		}
	}
}

func TestServeWithoutCounters(t *testing.T) {
	h := NewMetricsHandler(WithOpenMetrics2())
	check := func(t *testing.T) {
		t.Helper()
		for _, pc := range protocolCases {
			rec := scrape(t, h, http.MethodGet, http.Header{"Accept": {pc.accept}})
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: status %d", pc.name, rec.Code)
			}
			got := parseExposition(t, rec.Body.Bytes(), pc.contentType)
			diffLines(t, got, expectedExposition("certctl", nil, pc.parsed, identity))
			want := 12 // a HELP and a TYPE for each of the six families
			if pc.parsed == parsedProtobuf {
				// Six MetricFamily messages without metrics, which
				// Prometheus's parser skips.
				if n := len(decodeFamilies(t, rec.Body.Bytes())); n != 6 {
					t.Errorf("%s: %d families, want 6", pc.name, n)
				}
				want = 0
			}
			if len(got) != want {
				t.Errorf("%s: %d entries, want %d", pc.name, len(got), want)
			}
		}
	}
	t.Run("never set", check)
	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeSucceeded)
	h.SetDeployCounters(dc)
	h.SetDeployCounters(nil)
	t.Run("set to nil", check)
}

func TestNamespace(t *testing.T) {
	tests := []struct {
		ns    string
		valid bool
	}{
		{"certctl", true},
		{"acme_tls", true},
		{"_private", true},
		{"A1", true},
		{"", true},
		{"1abc", false},
		{"has-dash", false},
		{"has:colon", false},
		{"has space", false},
		{"__reserved", false},
		{"é", false},
		{"new\nline", false},
	}
	for _, tc := range tests {
		err := ValidateNamespace(tc.ns)
		if (err == nil) != tc.valid {
			t.Errorf("ValidateNamespace(%q) = %v, want valid %v", tc.ns, err, tc.valid)
		}
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			NewMetricsHandler(WithNamespace(tc.ns))
			return false
		}()
		if panicked == tc.valid {
			t.Errorf("NewMetricsHandler(WithNamespace(%q)) panicked: %v, want %v", tc.ns, panicked, !tc.valid)
		}
	}

	h := NewMetricsHandler(WithNamespace("acme"))
	h.SetDeployCounters(counters.NewDeployCounters())
	body := scrape(t, h, http.MethodGet, nil).Body.String()
	if !strings.Contains(body, "# TYPE acme_deploy_attempts_total counter\n") || strings.Contains(body, "certctl") {
		t.Errorf("namespace acme not applied:\n%s", body)
	}
}

// TestConcurrentScrapes scrapes from several goroutines while others record
// outcomes, and checks that every response parses, keeps I1 and I2, and never
// goes backwards for the goroutine that scraped it.
func TestConcurrentScrapes(t *testing.T) {
	const (
		recorders = 2
		scrapers  = 4
		perWriter = 5_000
	)
	dc := counters.NewDeployCounters()
	h := NewMetricsHandler()
	h.SetDeployCounters(dc)
	types := counters.KnownTargetTypes()

	var writers sync.WaitGroup
	for w := range recorders {
		writers.Go(func() {
			for i := range perWriter {
				tt := types[(i*7+w)%len(types)]
				dc.Record(tt, counters.Outcome(i%8+1))
				if i%100 == 0 {
					dc.Record("new-"+strconv.Itoa(i/100), counters.OutcomeSucceeded) // target types keep appearing
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for r := range scrapers {
		readers.Go(func() {
			// Not the test's goroutine: failures are reported with
			// t.Errorf and end the loop, never with t.Fatal.
			accept := []string{"", prometheus242Accept, prometheus3Accept, prometheus3ProtoFirstAccept}[r%4]
			header := http.Header{"Accept": {accept}}
			if r >= 2 {
				header.Set("Accept-Encoding", "gzip")
			}
			prev := map[string]float64{}
			for {
				rec := scrape(t, h, http.MethodGet, header)
				cur, err := scrapedValues(rec)
				if err != nil {
					t.Errorf("scraper %d: %v", r, err)
					return
				}
				for k, v := range prev {
					if c, ok := cur[k]; !ok || c < v {
						t.Errorf("%s went from %v to %v (present %v)", k, v, c, ok)
					}
				}
				checkScrapeInvariants(t, cur)
				prev = cur
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()

	final, err := scrapedValues(scrape(t, h, http.MethodGet, nil))
	if err != nil {
		t.Fatal(err)
	}
	var attempts float64
	for k, v := range final {
		if strings.HasPrefix(k, "certctl_deploy_attempts_total") || strings.HasPrefix(k, "certctl_deploy_idempotent_skip_total") {
			attempts += v
		}
	}
	if want := float64(recorders*perWriter + recorders*perWriter/100); attempts != want {
		t.Errorf("attempts + skips = %v after the writers stopped, want one per deployment: %v", attempts, want)
	}
}

// scrapedValues decompresses and parses a recorded response, as the
// Content-Type and Content-Encoding say, and maps each series (the sample
// line without its value) to its value. It returns an error rather than
// failing the test, so that any goroutine may call it.
func scrapedValues(rec *httptest.ResponseRecorder) (map[string]float64, error) {
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
	}
	lines, err := parseLines(body, rec.Header().Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	for _, l := range lines {
		if strings.HasPrefix(l, "HELP ") || strings.HasPrefix(l, "TYPE ") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", l, err)
		}
		m[l[:i]] = v
	}
	return m, nil
}

// checkScrapeInvariants checks I1 and I2 for every target type of a scrape.
func checkScrapeInvariants(t *testing.T, m map[string]float64) {
	t.Helper()
	types := map[string]bool{}
	for k := range m {
		if i := strings.Index(k, "target_type="); i >= 0 {
			types[k[i:len(k)-1]] = true // target_type="…" is the last label in canonical form
		}
	}
	for tt := range types {
		get := func(family, sub string) float64 {
			if sub != "" {
				sub += ","
			}
			return m["certctl_"+family+"{"+sub+tt+"}"]
		}
		restored, also := get("deploy_rollback_total", `outcome="restored"`), get("deploy_rollback_total", `outcome="also_failed"`)
		reload, verify := get("deploy_reload_failures_total", ""), get("deploy_post_verify_failures_total", "")
		failure, validate := get("deploy_attempts_total", `result="failure"`), get("deploy_validate_failures_total", "")
		if restored+also != reload+verify {
			t.Errorf("I1 broken for %s: %v+%v != %v+%v", tt, restored, also, reload, verify)
		}
		if failure < validate+reload+verify {
			t.Errorf("I2 broken for %s: %v < %v+%v+%v", tt, failure, validate, reload, verify)
		}
	}
}

func TestSetDeployCountersDuringScrapes(t *testing.T) {
	h := NewMetricsHandler()
	tables := []*counters.DeployCounters{nil}
	for i := range 3 {
		dc := counters.NewDeployCounters()
		dc.Record(strconv.Itoa(i), counters.OutcomeSucceeded)
		tables = append(tables, dc)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			h.SetDeployCounters(tables[i%len(tables)])
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 50 {
				if _, err := scrapedValues(scrape(t, h, http.MethodGet, nil)); err != nil {
					t.Errorf("a scrape during SetDeployCounters: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// discardWriter is a ResponseWriter that keeps its header map between requests
// and discards the body, as a server's reused connection state would.
type discardWriter struct {
	header http.Header
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// TestServeHTTPAllocs measures a steady-state scrape: table unchanged (so the
// body length, and with it the cached Content-Length value, is unchanged),
// request and ResponseWriter reused. Every variant, every protocol and gzip
// included, must allocate nothing, also when the variants alternate (each
// has its own cached Content-Length, and more Accept headers alternate than
// a scratch remembers) and when scrapes run on several goroutines in turn
// (the idle scratches are shared by all Ps, unlike a sync.Pool's). When the
// body length changes, the Content-Length value costs two allocations (its
// string and its slice).
func TestServeHTTPAllocs(t *testing.T) {
	_, dc := newServing(t)
	h := NewMetricsHandler(WithOpenMetrics2())
	h.SetDeployCounters(dc)
	tests := []struct {
		name   string
		header http.Header
	}{
		{"text", http.Header{}},
		{"openmetrics", http.Header{"Accept": {prometheus242Accept}}},
		{"gzip", http.Header{"Accept-Encoding": {"gzip"}}},
		{"openmetrics-gzip", http.Header{"Accept": {prometheus242Accept}, "Accept-Encoding": {"gzip"}}},
		{"protobuf", http.Header{"Accept": {prometheus3ProtoFirstAccept}}},
		{"protobuf-gzip", http.Header{"Accept": {prometheus3ProtoFirstAccept}, "Accept-Encoding": {"gzip"}}},
		{"Prometheus 3", http.Header{"Accept": {prometheus3Accept}, "Accept-Encoding": {"gzip"}}},
	}
	for _, pc := range protocolCases {
		tests = append(tests, struct {
			name   string
			header http.Header
		}{pc.name, http.Header{"Accept": {pc.accept}}})
	}
	reqs := make([]*http.Request, len(tests))
	w := &discardWriter{header: http.Header{}}
	for i, tc := range tests {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
		reqs[i].Header = tc.header
		h.ServeHTTP(w, reqs[i]) // warm the scratch for this variant
		w.n = 0
		allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, reqs[i]) })
		if allocs != 0 {
			t.Errorf("%s: %v allocs per scrape, want 0", tc.name, allocs)
		}
		if w.n == 0 {
			t.Errorf("%s: nothing was written", tc.name)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, req := range reqs {
			h.ServeHTTP(w, req)
		}
	})
	if allocs != 0 {
		t.Errorf("alternating variants: %v allocs per round of %d scrapes, want 0", allocs, len(reqs))
	}
	// AllocsPerRun runs on one P. Scrape from two goroutines at once, on as
	// many Ps as there are CPUs (at least two), as a server does: once both
	// have a scratch, no scrape allocates, whichever P it runs on and
	// whatever garbage collection happened in between.
	defer runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	round := func() {
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() {
				w := &discardWriter{header: http.Header{}}
				for i := range 200 {
					h.ServeHTTP(w, reqs[(g+i)%len(reqs)])
				}
			})
		}
		wg.Wait()
	}
	round() // warm a scratch per goroutine
	// Idle scratches survive garbage collection (a sync.Pool's do not
	// survive two).
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	round()
	runtime.ReadMemStats(&after)
	// The round's own allocations: two goroutines, two writers and their
	// header maps, and the WaitGroup's closures; a scrape that allocated
	// would add at least two per scrape of the affected variant.
	if n := after.Mallocs - before.Mallocs; n > 20 {
		t.Errorf("400 scrapes from two goroutines made %d allocations", n)
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	dc := counters.NewDeployCounters()
	for _, tt := range counters.KnownTargetTypes() {
		dc.Record(tt, counters.OutcomeSucceeded)
	}
	h := NewMetricsHandler()
	h.SetDeployCounters(dc)
	for _, tc := range []struct {
		name   string
		header http.Header
	}{
		{"text", http.Header{}},
		{"openmetrics", http.Header{"Accept": {prometheus3Accept}}},
		{"protobuf", http.Header{"Accept": {prometheus3ProtoFirstAccept}}},
		{"text-gzip", http.Header{"Accept-Encoding": {"gzip"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
			req.Header = tc.header
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

func TestContentLengthFollowsTheBody(t *testing.T) {
	h, dc := newServing(t)
	for i := range 20 {
		dc.Record("grows-"+strings.Repeat("x", i), counters.OutcomeSucceeded)
		for _, enc := range []string{"", "gzip"} {
			rec := scrape(t, h, http.MethodGet, http.Header{"Accept-Encoding": {enc}})
			if got, want := rec.Result().Header.Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
				t.Fatalf("scrape %d, Accept-Encoding %q: Content-Length %s, body %s bytes", i, enc, got, want)
			}
		}
	}
}

// TestOverHTTP goes through a real server and client, where net/http itself
// checks the Content-Length against what is written, including for HEAD.
func TestOverHTTP(t *testing.T) {
	h, dc := newServing(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, tc := range []struct {
			enc, accept string
			parsed      parsedAs
		}{
			{"", prometheus3Accept, parsedOpenMetrics},
			{"gzip", prometheus3Accept, parsedOpenMetrics},
			{"", prometheus3ProtoFirstAccept, parsedProtobuf},
			{"gzip", prometheus3ProtoFirstAccept, parsedProtobuf},
		} {
			enc := tc.enc
			req, err := http.NewRequest(method, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", tc.accept)
			req.Header.Set("Accept-Encoding", enc)
			res, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %q: %v", method, enc, err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatalf("%s %q: reading the body: %v", method, enc, err)
			}
			if res.StatusCode != http.StatusOK || res.ContentLength <= 0 {
				t.Fatalf("%s %q: status %d, Content-Length %d", method, enc, res.StatusCode, res.ContentLength)
			}
			if method == http.MethodHead {
				if len(body) != 0 {
					t.Errorf("HEAD %q: %d body bytes", enc, len(body))
				}
				continue
			}
			if enc == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("gzip: %v", err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatalf("gzip: %v", err)
				}
			}
			diffLines(t, parseExposition(t, body, res.Header.Get("Content-Type")), expectedExposition("certctl", dc.Snapshot(), tc.parsed, identity))
		}
	}
}
