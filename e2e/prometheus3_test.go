//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/simulate"
)

// prometheus3Module is the Prometheus 3 server the test runs, as
// build-prometheus3.sh builds it from the Go module proxy.
const prometheus3Module = "github.com/prometheus/prometheus/cmd/prometheus@v0.316.0"

// prometheus3Binary finds the Prometheus 3 server: $PROMETHEUS3_BINARY if
// set (and then it must exist), else build-prometheus3.sh's cache under
// $HOME/.cache/deploymetrics. Without either it skips, saying how to build
// it.
func prometheus3Binary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PROMETHEUS3_BINARY"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("PROMETHEUS3_BINARY=%s: %v", bin, err)
		}
		return bin
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skipf("no home directory to find the cached Prometheus 3 binary in (%v): set PROMETHEUS3_BINARY", err)
	}
	bin := filepath.Join(home, ".cache", "deploymetrics", "prometheus-v0.316.0", "prometheus")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no Prometheus 3 server at %s, skipping the Prometheus 3 end-to-end test: build it with e2e/build-prometheus3.sh "+
			"(go install %s, about 7 minutes on 2 cores with a cold cache), or set PROMETHEUS3_BINARY", bin, prometheus3Module)
	}
	return bin
}

// scrapeProtocol is one of Prometheus's scrape protocols as the test knows
// it, written out from content_negotiation.md and Prometheus's
// configuration, independently of the handler.
type scrapeProtocol struct {
	name      string // as scrape_protocols names it
	mediaType string
	version   string // the version parameter; "" for protobuf
	// escaping: the Content-Type must name the scheme Prometheus asked
	// for (allow-utf-8, Prometheus 3's default).
	escaping bool
	// familySuffix is what Prometheus's metadata API shows after
	// certctl_deploy_attempts: the family name as the parser reported it.
	familySuffix string
}

var scrapeProtocols = []scrapeProtocol{
	{"PrometheusProto", "application/vnd.google.protobuf", "", false, "_total"},
	{"PrometheusText0.0.4", "text/plain", "0.0.4", false, "_total"},
	{"PrometheusText1.0.0", "text/plain", "1.0.0", true, "_total"},
	{"OpenMetricsText0.0.1", "application/openmetrics-text", "0.0.1", false, ""},
	{"OpenMetricsText1.0.0", "application/openmetrics-text", "1.0.0", true, ""},
	// Experimental: Prometheus runs with --enable-feature=openmetrics2 and
	// this job scrapes a handler made WithOpenMetrics2.
	{"OpenMetricsText2.0.0", "application/openmetrics-text", "2.0.0", true, "_total"},
}

func (p scrapeProtocol) job() string { return "deploy-" + p.name }

// p3TargetTypes are the reference emitter's target types in this test: the
// known ones and some that need escaping in the text formats (quotes,
// backslashes), travel raw in protobuf, are multi-byte UTF-8, or hold a
// control character the table replaces.
var p3TargetTypes = append(counters.KnownTargetTypes(), `odd "quoted" \back\slash`, "Ünïcode-负载", "tab\there")

// scrapeRecord is one request a test server answered.
type scrapeRecord struct {
	userAgent, accept, acceptEncoding string
	status                            int
	contentType, contentEncoding      string
}

// scrapeLog records, by the job query parameter each scrape job sends,
// the requests the test's servers answered and how.
type scrapeLog struct {
	mu    sync.Mutex
	byJob map[string][]scrapeRecord
}

func (l *scrapeLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		rec := scrapeRecord{
			userAgent: r.UserAgent(), accept: r.Header.Get("Accept"), acceptEncoding: r.Header.Get("Accept-Encoding"),
			status: sw.status, contentType: w.Header().Get("Content-Type"), contentEncoding: w.Header().Get("Content-Encoding"),
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.byJob == nil {
			l.byJob = map[string][]scrapeRecord{}
		}
		job := r.URL.Query().Get("job")
		l.byJob[job] = append(l.byJob[job], rec)
	})
}

func (l *scrapeLog) records(job string) []scrapeRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]scrapeRecord(nil), l.byJob[job]...)
}

// Jobs scraping the client_golang emitter.
const (
	jobClientGolangProto = "clientgolang-proto" // protobuf only, native histograms on
	jobClientGolangText  = "clientgolang-text"  // Prometheus 3's default protocols
)

// The client_golang emitter's metrics: UTF-8 names, a native histogram.
const (
	cgHistogram      = "deploy.duration.seconds"
	cgCounter        = "deploys.recorded_total"
	cgLabel          = "target.type"
	cgObservations   = 10
	cgSum            = 5.5 // 0.1 + 0.2 + ... + 1.0
	cgCounterValue   = 7
	cgHistogramProto = "deploy_duration_seconds" // the names client_golang escapes them to over protobuf
	cgCounterProto   = "deploys_recorded_total"
	cgLabelProto     = "target_type"
)

// newClientGolangEmitter is a client_golang registry with a native
// histogram (no classic buckets) and a counter, both named and labelled in
// UTF-8 beyond the legacy character set, served by promhttp.
func newClientGolangEmitter() http.Handler {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: cgHistogram, Help: "Deployment durations.",
		NativeHistogramBucketFactor: 1.1, // native buckets; no Buckets, so no classic ones
	}, []string{cgLabel})
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: cgCounter, Help: "Deployments recorded."}, []string{cgLabel})
	reg.MustRegister(h, c)
	for i := 1; i <= cgObservations; i++ {
		h.WithLabelValues("NGINX").Observe(float64(i) / 10)
	}
	c.WithLabelValues("NGINX").Add(cgCounterValue)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// p3Fleet is what TestPrometheus3EndToEnd started.
type p3Fleet struct {
	dc   *counters.DeployCounters
	log  *scrapeLog
	addr string // the test's servers, host:port
	prom *promAPI
}

// TestPrometheus3EndToEnd runs a Prometheus 3 server built from v0.316.0
// against the reference emitter, with one scrape job per protocol, and
// against a client_golang emitter with a native histogram and UTF-8 names.
// doc.go says what is verified and how.
func TestPrometheus3EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Prometheus 3 end-to-end test (it runs Prometheus for about 20 s)")
	}
	bin := prometheus3Binary(t)
	began := time.Now()
	t.Cleanup(func() { t.Logf("Prometheus 3 end to end: %s", time.Since(began).Round(time.Millisecond)) })
	promcheck := buildPromcheck(t, t.TempDir())

	// The reference emitter runs in the test, so the test can stop its
	// traffic and read its table directly.
	f := &p3Fleet{dc: counters.NewDeployCounters(), log: &scrapeLog{}}
	plain := handler.NewMetricsHandler()
	plain.SetDeployCounters(f.dc)
	om2 := handler.NewMetricsHandler(handler.WithOpenMetrics2())
	om2.SetDeployCounters(f.dc)
	mux := http.NewServeMux()
	mux.Handle("/metrics/prometheus", f.log.wrap(plain))
	mux.Handle("/metrics/openmetrics2", f.log.wrap(om2))
	mux.Handle("/metrics/clientgolang", f.log.wrap(newClientGolangEmitter()))
	srv := httptest.NewServer(mux) // loopback, a port the kernel picks
	t.Cleanup(srv.Close)
	f.addr = strings.TrimPrefix(srv.URL, "http://")

	ctx, stopTraffic := context.WithCancel(context.Background())
	traffic := make(chan error, 1)
	go func() {
		traffic <- simulate.Run(ctx, f.dc, simulate.Options{Rate: 200, Seed: 3, TargetTypes: p3TargetTypes})
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopTraffic()
			if err := <-traffic; err != nil {
				t.Errorf("simulated traffic: %v", err)
			}
		}
	}
	t.Cleanup(stop)

	f.prom = startPrometheus3(t, bin, f)
	waitP3Up(t, f)
	t.Logf("Prometheus 3 has every target up after %s", time.Since(began).Round(time.Millisecond))

	// Let every job see the counters move, then stop the traffic and wait
	// for a scrape of every job that started after the stop.
	waitFor(t, 30*time.Second, "every deploy job to see the counters change", func() error {
		return everyDeployJob(f.prom, "sum by (job) (changes(certctl_deploy_attempts_total[1m]))", func(v float64) bool { return v > 0 })
	})
	stop()
	stoppedAt := time.Now()
	// A sample's timestamp is its scrape's start; Prometheus 3 may align
	// it to the scrape schedule by a few milliseconds.
	after := stoppedAt.Add(100 * time.Millisecond)
	waitFor(t, 15*time.Second, "a scrape of every deploy job that started after the traffic stopped", func() error {
		return everyDeployJob(f.prom, "max by (job) (timestamp(up))", func(v float64) bool {
			return time.UnixMilli(int64(math.Round(v * 1000))).After(after)
		})
	})

	t.Run("ingestion", func(t *testing.T) { testP3Ingestion(t, f) })
	t.Run("negotiation", func(t *testing.T) { testP3Negotiation(t, f) })
	t.Run("clientgolang", func(t *testing.T) { testP3ClientGolang(t, f) })
	t.Run("promcheck", func(t *testing.T) { testP3Promcheck(t, f, promcheck) })
}

// startPrometheus3 writes a configuration with a job per scrape protocol
// and the client_golang jobs, each scraping every second, and starts
// Prometheus 3 with OpenMetrics 2.0 enabled and storage in a temporary
// directory.
func startPrometheus3(t *testing.T, bin string, f *p3Fleet) *promAPI {
	t.Helper()
	type scrapeConfig struct {
		JobName                string              `json:"job_name"`
		MetricsPath            string              `json:"metrics_path"`
		Params                 map[string][]string `json:"params"`
		ScrapeProtocols        []string            `json:"scrape_protocols,omitempty"`
		ScrapeNativeHistograms bool                `json:"scrape_native_histograms,omitempty"`
		StaticConfigs          []map[string]any    `json:"static_configs"`
	}
	job := func(name, path string, protocols ...string) scrapeConfig {
		return scrapeConfig{
			JobName: name, MetricsPath: path, Params: map[string][]string{"job": {name}},
			ScrapeProtocols: protocols, StaticConfigs: []map[string]any{{"targets": []string{f.addr}}},
		}
	}
	var jobs []scrapeConfig
	for _, p := range scrapeProtocols {
		path := "/metrics/prometheus"
		if p.version == "2.0.0" {
			path = "/metrics/openmetrics2"
		}
		jobs = append(jobs, job(p.job(), path, p.name))
	}
	proto := job(jobClientGolangProto, "/metrics/clientgolang", "PrometheusProto")
	proto.ScrapeNativeHistograms = true
	jobs = append(jobs, proto, job(jobClientGolangText, "/metrics/clientgolang"))
	config := map[string]any{
		"global":         map[string]string{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"scrape_configs": jobs,
	}
	// YAML is a superset of JSON.
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s: %s", bin, strings.SplitN(string(out), "\n", 2)[0])
	}
	_, addr := startListening(t, "prometheus 3", bin, "/-/ready", func(addr string) []string {
		return []string{"--config.file=" + configFile, "--storage.tsdb.path=" + filepath.Join(dir, "tsdb"),
			"--web.listen-address=" + addr, "--enable-feature=openmetrics2"}
	})
	return newPromAPI(addr)
}

// allP3Jobs are the jobs of the generated configuration.
func allP3Jobs() []string {
	var jobs []string
	for _, p := range scrapeProtocols {
		jobs = append(jobs, p.job())
	}
	return append(jobs, jobClientGolangProto, jobClientGolangText)
}

// waitP3Up waits until Prometheus reports up == 1 for exactly the
// configured jobs.
func waitP3Up(t *testing.T, f *p3Fleet) {
	t.Helper()
	waitFor(t, 45*time.Second, "up == 1 for every job", func() error {
		up, err := f.prom.query("up")
		if err != nil {
			return err
		}
		got := map[string]float64{}
		for _, s := range up {
			if s.Metric["instance"] != f.addr {
				return fmt.Errorf("unexpected target %s", labelSig(s.Metric))
			}
			got[s.Metric["job"]] = s.Value.V
		}
		var problems []string
		for _, job := range allP3Jobs() {
			if v, ok := got[job]; !ok || v != 1 {
				problems = append(problems, fmt.Sprintf("%s: up %v (present %v)", job, v, ok))
			}
		}
		if len(got) != len(allP3Jobs()) {
			problems = append(problems, fmt.Sprintf("%d jobs have up, want %d", len(got), len(allP3Jobs())))
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s%s", strings.Join(problems, "; "), lastErrors(f.prom))
		}
		return nil
	})
}

// everyDeployJob runs a query returning one sample per job and checks ok
// for the value of each deploy job.
func everyDeployJob(a *promAPI, q string, ok func(float64) bool) error {
	res, err := a.query(q)
	if err != nil {
		return err
	}
	got := map[string]float64{}
	for _, s := range res {
		got[s.Metric["job"]] = s.Value.V
	}
	for _, p := range scrapeProtocols {
		if v, has := got[p.job()]; !has || !ok(v) {
			return fmt.Errorf("%s: %s = %v (present %v)", p.job(), q, v, has)
		}
	}
	return nil
}

// expectedDeploySeries is what every deploy job must hold for the table's
// snapshot: family -> series (labelSig of its labels other than job and
// instance) -> value, eight series per target type, written out here from
// the deploy schema rather than taken from the handler.
func expectedDeploySeries(snaps []counters.DeploySnapshot) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	add := func(family string, v uint64, labels map[string]string) {
		if out[family] == nil {
			out[family] = map[string]float64{}
		}
		out[family][labelSig(labels)] = float64(v)
	}
	for _, s := range snaps {
		tt := s.TargetType
		add("certctl_deploy_attempts_total", s.AttemptsSuccess, map[string]string{"target_type": tt, "result": "success"})
		add("certctl_deploy_attempts_total", s.AttemptsFailure, map[string]string{"target_type": tt, "result": "failure"})
		add("certctl_deploy_validate_failures_total", s.ValidateFailures, map[string]string{"target_type": tt})
		add("certctl_deploy_reload_failures_total", s.ReloadFailures, map[string]string{"target_type": tt})
		add("certctl_deploy_post_verify_failures_total", s.PostVerifyFails, map[string]string{"target_type": tt})
		add("certctl_deploy_rollback_total", s.RollbackRestored, map[string]string{"target_type": tt, "outcome": "restored"})
		add("certctl_deploy_rollback_total", s.RollbackAlsoFail, map[string]string{"target_type": tt, "outcome": "also_failed"})
		add("certctl_deploy_idempotent_skip_total", s.IdempotentSkips, map[string]string{"target_type": tt})
	}
	return out
}

// testP3Ingestion compares what each job holds, after the traffic stopped,
// with the table and with the other jobs, and checks that every scrape of
// the last seconds succeeded with every sample.
func testP3Ingestion(t *testing.T, f *p3Fleet) {
	snaps := f.dc.Snapshot()
	if len(snaps) != len(p3TargetTypes) {
		t.Fatalf("the table holds %d target types, want %d", len(snaps), len(p3TargetTypes))
	}
	want := expectedDeploySeries(snaps)
	wantSeries := 0
	for _, fam := range want {
		wantSeries += len(fam)
	}
	if wantSeries != 8*len(p3TargetTypes) {
		t.Fatalf("expected %d series, want 8 per target type (%d)", wantSeries, 8*len(p3TargetTypes))
	}

	res, err := f.prom.query(`{__name__=~"certctl_deploy_.+"}`)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]map[string]map[string]float64{} // job -> family -> series -> value
	for _, s := range res {
		job, fam := s.Metric["job"], s.Metric["__name__"]
		own := map[string]string{}
		for name, value := range s.Metric {
			if name != "__name__" && name != "job" && name != "instance" {
				own[name] = value
			}
		}
		if held[job] == nil {
			held[job] = map[string]map[string]float64{}
		}
		if held[job][fam] == nil {
			held[job][fam] = map[string]float64{}
		}
		held[job][fam][labelSig(own)] = s.Value.V
	}
	for _, p := range scrapeProtocols {
		got := held[p.job()]
		n := 0
		for _, fam := range sortedKeys(want) {
			if !sameKeys(got[fam], want[fam]) {
				t.Errorf("%s %s: Prometheus holds series %v, the table has %v", p.job(), fam, sortedKeys(got[fam]), sortedKeys(want[fam]))
				continue
			}
			for sig, v := range want[fam] {
				if got[fam][sig] != v {
					t.Errorf("%s %s%s: Prometheus holds %v, the table %v", p.job(), fam, sig, got[fam][sig], v)
				}
				n++
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d families stored, want %d: %v", p.job(), len(got), len(want), sortedKeys(got))
		}
		t.Logf("%s: %d series equal to the table", p.job(), n)
	}
	for job := range held {
		if !strings.HasPrefix(job, "deploy-") {
			t.Errorf("deploy series stored for job %s", job)
		}
	}

	// Every scrape of the last 30 s: up 1 and, for the deploy jobs, every
	// series taken. The jobs scrape every second, but a loaded CI machine
	// (the race detector on two cores) can delay scrapes by seconds: the
	// window is wide, and two scrapes in it are enough to show the job
	// scraping repeatedly.
	for _, q := range []string{"up", "scrape_samples_scraped"} {
		res, err := f.prom.query(q + "[30s]")
		if err != nil {
			t.Fatal(err)
		}
		byJob := map[string][]sample{}
		for _, s := range res {
			byJob[s.Metric["job"]] = s.Values
		}
		for _, job := range allP3Jobs() {
			values := byJob[job]
			if len(values) < 2 {
				t.Errorf("%s: %d %s samples in the last 30s, want at least two scrapes", job, len(values), q)
			}
			for _, v := range values {
				switch {
				case q == "up" && v.V != 1:
					t.Errorf("%s: up = %v at %d", job, v.V, v.T)
				case q == "scrape_samples_scraped" && strings.HasPrefix(job, "deploy-") && v.V != float64(wantSeries):
					t.Errorf("%s: scrape_samples_scraped = %v at %d, the emitter serves %d", job, v.V, v.T, wantSeries)
				}
			}
		}
	}
	targets, err := f.prom.targets()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Health != "up" || tg.LastError != "" {
			t.Errorf("%s: health %q, last error %q", tg.ScrapePool, tg.Health, tg.LastError)
		}
	}
	if len(targets) != len(allP3Jobs()) {
		t.Errorf("%d active targets, want %d", len(targets), len(allP3Jobs()))
	}
}

// testP3Negotiation checks, for each deploy job, what Prometheus 3 asked
// for (the job's protocol first, then */*) and what the handler answered
// (that protocol, with the escaping scheme asked for), and that
// Prometheus's metadata names the families as that protocol's parser
// reports them.
func testP3Negotiation(t *testing.T, f *p3Fleet) {
	for _, p := range scrapeProtocols {
		recs := f.log.records(p.job())
		if len(recs) == 0 {
			t.Errorf("%s: no scrape recorded", p.job())
			continue
		}
		for i, r := range recs {
			if err := checkP3Scrape(p, r); err != nil {
				t.Errorf("%s scrape %d (%s): %v", p.job(), i, r.userAgent, err)
				break
			}
		}
		t.Logf("%s: %d scrapes; Accept: %s; Content-Type: %s", p.job(), len(recs), recs[0].accept, recs[0].contentType)

		meta, err := f.prom.metadata(p.job())
		if err != nil {
			t.Fatal(err)
		}
		got := meta[f.addr]
		if typ, ok := got["certctl_deploy_attempts"+p.familySuffix]; !ok || typ != "counter" || len(got) != 6 {
			t.Errorf("%s: Prometheus's metadata has %v, want six counters named as %s names them (certctl_deploy_attempts%s)", p.job(), got, p.name, p.familySuffix)
		}
	}
}

// checkP3Scrape checks one recorded scrape of protocol p's job.
func checkP3Scrape(p scrapeProtocol, r scrapeRecord) error {
	if !strings.HasPrefix(r.userAgent, "Prometheus/") {
		return fmt.Errorf("User-Agent %q is not Prometheus's", r.userAgent)
	}
	first, rest, _ := strings.Cut(r.accept, ",")
	mt, params, err := mime.ParseMediaType(first)
	if err != nil || mt != p.mediaType || params["version"] != p.version || strings.Count(rest, ",") != 0 || !strings.HasPrefix(rest, "*/*;q=") {
		return fmt.Errorf("Accept %q: want %s alone, then */*", r.accept, p.name)
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("status %d", r.status)
	}
	ct, ctParams, err := mime.ParseMediaType(r.contentType)
	switch {
	case err != nil:
		return fmt.Errorf("Content-Type %q: %v", r.contentType, err)
	case ct != p.mediaType || ctParams["version"] != p.version:
		return fmt.Errorf("Content-Type %q for %s", r.contentType, p.name)
	case p.escaping && ctParams["escaping"] != params["escaping"]:
		return fmt.Errorf("Content-Type %q names escaping %q, Accept asked for %q", r.contentType, ctParams["escaping"], params["escaping"])
	case !p.escaping && ctParams["escaping"] != "":
		return fmt.Errorf("Content-Type %q names an escaping scheme, which %s has not", r.contentType, p.name)
	case p.version == "" && (ctParams["proto"] != "io.prometheus.client.MetricFamily" || ctParams["encoding"] != "delimited"):
		return fmt.Errorf("Content-Type %q: want delimited MetricFamily messages", r.contentType)
	}
	if gzipAsked := strings.Contains(r.acceptEncoding, "gzip"); gzipAsked != (r.contentEncoding == "gzip") {
		return fmt.Errorf("Accept-Encoding %q answered with Content-Encoding %q", r.acceptEncoding, r.contentEncoding)
	}
	return nil
}

// testP3ClientGolang checks what Prometheus 3 made of the client_golang
// emitter: over protobuf with native histograms on, the histogram is
// stored as a native histogram with every observation (and, since
// Prometheus 3 names no escaping scheme for protobuf, client_golang escapes
// the UTF-8 names to underscores); with Prometheus 3's default protocols
// (OpenMetrics 1.0.0, escaping=allow-utf-8) the UTF-8 names arrive as they
// are, the histogram as its classic series.
func testP3ClientGolang(t *testing.T, f *p3Fleet) {
	// Protobuf: a native histogram.
	sel := fmt.Sprintf(`%s{job=%q,%s="NGINX"}`, cgHistogramProto, jobClientGolangProto, cgLabelProto)
	res, err := f.prom.query(sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Histogram == nil {
		t.Fatalf("%s: %d series, native histogram %v; want one native histogram", sel, len(res), len(res) == 1 && res[0].Histogram != nil)
	}
	h := res[0].Histogram
	if h.Count != cgObservations || math.Abs(h.Sum-cgSum) > 1e-9 || len(h.Buckets) == 0 {
		t.Errorf("%s: count %v, sum %v, %d buckets; want %d observations summing to %v in native buckets", sel, h.Count, h.Sum, len(h.Buckets), cgObservations, cgSum)
	}
	if n, err := f.prom.query(fmt.Sprintf(`histogram_count(%s)`, sel)); err != nil || len(n) != 1 || n[0].Value.V != cgObservations {
		t.Errorf("histogram_count(%s) = %v (%v), want %d", sel, n, err, cgObservations)
	}
	if classic, err := f.prom.query(fmt.Sprintf(`{__name__=~"%s_(bucket|count|sum)",job=%q}`, cgHistogramProto, jobClientGolangProto)); err != nil || len(classic) != 0 {
		t.Errorf("classic series of the native histogram over protobuf: %d (%v), want none", len(classic), err)
	}
	counter := fmt.Sprintf(`%s{job=%q,%s="NGINX"}`, cgCounterProto, jobClientGolangProto, cgLabelProto)
	if v, err := f.prom.query(counter); err != nil || len(v) != 1 || v[0].Value.V != cgCounterValue {
		t.Errorf("%s = %v (%v), want %d", counter, v, err, cgCounterValue)
	}
	for _, r := range f.log.records(jobClientGolangProto) {
		if mt, _, _ := mime.ParseMediaType(r.contentType); mt != "application/vnd.google.protobuf" {
			t.Errorf("%s: client_golang answered %q, want protobuf", jobClientGolangProto, r.contentType)
			break
		}
	}

	// Prometheus 3's defaults: UTF-8 names kept.
	for q, want := range map[string]float64{
		fmt.Sprintf(`{"%s_count",job=%q,"%s"="NGINX"}`, cgHistogram, jobClientGolangText, cgLabel): cgObservations,
		fmt.Sprintf(`{"%s_sum",job=%q,"%s"="NGINX"}`, cgHistogram, jobClientGolangText, cgLabel):   cgSum,
		fmt.Sprintf(`{"%s",job=%q,"%s"="NGINX"}`, cgCounter, jobClientGolangText, cgLabel):         cgCounterValue,
	} {
		v, err := f.prom.query(q)
		if err != nil || len(v) != 1 || math.Abs(v[0].Value.V-want) > 1e-9 {
			t.Errorf("%s = %v (%v), want %v", q, v, err, want)
		}
	}
	recs := f.log.records(jobClientGolangText)
	if len(recs) == 0 {
		t.Fatalf("%s: no scrape recorded", jobClientGolangText)
	}
	if !strings.Contains(recs[0].contentType, "escaping=allow-utf-8") {
		t.Errorf("%s: client_golang answered %q to %q, want UTF-8 names allowed", jobClientGolangText, recs[0].contentType, recs[0].accept)
	}
	t.Logf("%s: Accept %s; Content-Type %s", jobClientGolangText, recs[0].accept, recs[0].contentType)
}

// testP3Promcheck checks the client_golang emitter with promcheck, asking
// as Prometheus 3 asks: with its protobuf-first header (native
// histograms, names escaped) and its default one (OpenMetrics 1.0.0, UTF-8
// names quoted). Either way, and both in one run (where each scrape is
// evidence of what the emitter serves for the other), promcheck finds no
// error, and names the protocol Prometheus 3 ingested.
func testP3Promcheck(t *testing.T, f *p3Fleet, promcheck string) {
	url := "http://" + f.addr + "/metrics/clientgolang"
	for _, c := range []struct {
		accept    []string
		protocols []string // served, in order
	}{
		{[]string{"prometheus3-proto"}, []string{"PrometheusProto"}},
		{[]string{"prometheus3"}, []string{"OpenMetricsText1.0.0"}},
		{[]string{"prometheus3-proto", "prometheus3"}, []string{"PrometheusProto", "OpenMetricsText1.0.0"}},
	} {
		args := []string{"check", "--schema", "none", "--output", "json"}
		for _, a := range c.accept {
			args = append(args, "--accept", a)
		}
		out, err := exec.Command(promcheck, append(args, url)...).Output()
		if code, waitErr := exitCode(err); waitErr != nil || code != 0 {
			t.Errorf("promcheck %s: exit %d (%v)\n%s", strings.Join(args, " "), code, waitErr, out)
		}
		var report struct {
			Targets []struct {
				Scrapes []struct {
					Protocol string `json:"protocol"`
					Escaping string `json:"escaping"`
					Findings []struct {
						Rule, Severity, Message string
					} `json:"findings"`
				} `json:"scrapes"`
			} `json:"targets"`
		}
		if err := json.Unmarshal(out, &report); err != nil || len(report.Targets) != 1 {
			t.Fatalf("promcheck %s: report %v:\n%s", strings.Join(args, " "), err, out)
		}
		var served []string
		for _, s := range report.Targets[0].Scrapes {
			served = append(served, s.Protocol)
			for _, finding := range s.Findings {
				if finding.Severity == "error" {
					t.Errorf("--accept %s: false error on client_golang (%s): %s %s", strings.Join(c.accept, " --accept "), s.Protocol, finding.Rule, finding.Message)
				}
			}
		}
		if strings.Join(served, " ") != strings.Join(c.protocols, " ") {
			t.Errorf("--accept %s: served %v, want %v", strings.Join(c.accept, " --accept "), served, c.protocols)
		}
		t.Logf("promcheck --accept %s: served %v", strings.Join(c.accept, " --accept "), served)
	}
}
