//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Jobs of the generated Prometheus configuration.
const (
	jobOpenMetrics = "deploy-openmetrics" // both emitters, scraped directly: Prometheus negotiates OpenMetrics
	jobText        = "deploy-text"        // emitter 2 behind the text proxy: Prometheus gets the text format
	jobNode        = "node"               // the node exporter
)

// oddTargetTypes are emitter 2's target types: label values that need
// escaping (quotes, backslashes) and multi-byte UTF-8, so that ingestion
// proves the escaping round-trips through Prometheus's parsers in both
// formats, not only that plain names do. (No newline: the counter table
// replaces control characters before anything is served.)
var oddTargetTypes = []string{"NGINX", `odd "quoted" \back\slash`, "Ünïcode"}

// fleetTarget is one target of the generated configuration.
type fleetTarget struct {
	job, addr, path string
	// emitter serves the target's deploy metrics (for the text job, from
	// behind the proxy); nil for the node exporter.
	emitter *emitter
}

func (f fleetTarget) key() instanceKey { return instanceKey{f.job, f.addr} }
func (f fleetTarget) url() string      { return "http://" + f.addr + f.path }

// fleet is everything the test started.
type fleet struct {
	promcheck string // the binary
	dir       string // scratch files
	emitters  []*emitter
	proxy     *textProxy
	prom      *promAPI
	targets   []fleetTarget
}

func (f *fleet) deployTargets() []fleetTarget {
	var out []fleetTarget
	for _, t := range f.targets {
		if t.emitter != nil {
			out = append(out, t)
		}
	}
	return out
}

// TestPrometheusEndToEnd runs a real Prometheus against two reference
// emitters and a node exporter, then checks what it ingested and what
// promcheck says about the fleet it scrapes. doc.go says what is verified
// and how.
func TestPrometheusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end test (it runs Prometheus for about 20 s)")
	}
	promBin := lookBinary(t, "prometheus")
	nodeBin := lookBinary(t, "prometheus-node-exporter")
	began := time.Now()
	dir := t.TempDir()
	f := &fleet{promcheck: buildPromcheck(t, dir), dir: dir}
	built := time.Now()
	// The build's time depends on the build cache; the rest is the test.
	t.Cleanup(func() {
		t.Logf("end to end: %s in all, %s after building promcheck",
			time.Since(began).Round(time.Millisecond), time.Since(built).Round(time.Millisecond))
	})
	em1 := startEmitter(t, f.promcheck, "emitter 1", "--seed", "1")
	em2 := startEmitter(t, f.promcheck, "emitter 2", "--seed", "2", "--target-types", strings.Join(oddTargetTypes, ","))
	f.emitters = []*emitter{em1, em2}
	f.proxy = startTextProxy(t, "http://"+em2.addr)
	_, nodeAddr := startListening(t, "node exporter", nodeBin, "/metrics", func(addr string) []string {
		// Only a few cheap collectors that work in any container: the
		// default set reads hardware and filesystems, which is slow on
		// some machines and logs errors on others. The exporter's own
		// go_*, process_* and promhttp_* metrics stay.
		return []string{"--web.listen-address=" + addr, "--collector.disable-defaults",
			"--collector.cpu", "--collector.loadavg", "--collector.meminfo", "--collector.time", "--collector.uname"}
	})
	f.targets = []fleetTarget{
		{job: jobOpenMetrics, addr: em1.addr, path: "/metrics/prometheus", emitter: em1},
		{job: jobOpenMetrics, addr: em2.addr, path: "/metrics/prometheus", emitter: em2},
		{job: jobText, addr: f.proxy.addr, path: "/metrics/prometheus", emitter: em2},
		{job: jobNode, addr: nodeAddr, path: "/metrics"},
	}
	f.prom = startPrometheus(t, promBin, f)
	waitUp(t, f)
	t.Logf("fleet up (every target up == 1) %s after building promcheck", time.Since(built).Round(time.Millisecond))

	t.Run("ingestion", func(t *testing.T) { testIngestion(t, f) })
	t.Run("formats", func(t *testing.T) { testFormats(t, f) })
	t.Run("fleet", func(t *testing.T) { testFleet(t, f) })
}

// lookBinary finds a program on PATH or skips the test saying how to get it.
func lookBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not on PATH, skipping the end-to-end test: install it (Debian: apt-get install prometheus prometheus-node-exporter; .ci/run does)", name)
	}
	return path
}

// startPrometheus writes a configuration scraping every target each second
// and starts Prometheus with storage in the test's temporary directory.
func startPrometheus(t *testing.T, bin string, f *fleet) *promAPI {
	t.Helper()
	type staticConfig struct {
		Targets []string `json:"targets"`
	}
	type scrapeConfig struct {
		JobName       string         `json:"job_name"`
		MetricsPath   string         `json:"metrics_path"`
		StaticConfigs []staticConfig `json:"static_configs"`
	}
	jobs := map[string]*scrapeConfig{}
	var order []*scrapeConfig
	for _, tg := range f.targets {
		sc := jobs[tg.job]
		if sc == nil {
			sc = &scrapeConfig{JobName: tg.job, MetricsPath: tg.path, StaticConfigs: []staticConfig{{}}}
			jobs[tg.job] = sc
			order = append(order, sc)
		}
		sc.StaticConfigs[0].Targets = append(sc.StaticConfigs[0].Targets, tg.addr)
	}
	config := map[string]any{
		"global": map[string]string{
			"scrape_interval":     "1s",
			"scrape_timeout":      "1s",
			"evaluation_interval": "1s",
		},
		"scrape_configs": order,
	}
	// YAML is a superset of JSON: encoding/json writes a valid
	// prometheus.yml with every string quoted correctly.
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(f.dir, "prometheus.yml")
	if err := os.WriteFile(configFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(f.dir, "tsdb")
	_, addr := startListening(t, "prometheus", bin, "/-/ready", func(addr string) []string {
		return []string{"--config.file=" + configFile, "--storage.tsdb.path=" + storage, "--web.listen-address=" + addr}
	})
	return newPromAPI(addr)
}

// waitUp waits until Prometheus reports up == 1 for exactly the fleet's
// targets.
func waitUp(t *testing.T, f *fleet) {
	t.Helper()
	want := map[instanceKey]bool{}
	for _, tg := range f.targets {
		want[tg.key()] = true
	}
	// Prometheus 2.x hands new targets to the scrape manager at most every
	// 5 s, so the first scrape comes 5-6 s after startup.
	waitFor(t, 45*time.Second, "up == 1 for every target", func() error {
		up, err := f.prom.query("up")
		if err != nil {
			return err
		}
		var problems []string
		seen := map[instanceKey]bool{}
		for _, s := range up {
			k := instanceKey{s.Metric["job"], s.Metric["instance"]}
			seen[k] = true
			switch {
			case !want[k]:
				problems = append(problems, fmt.Sprintf("unexpected target %s", k))
			case s.Value == nil || s.Value.V != 1:
				problems = append(problems, fmt.Sprintf("%s: up = %v", k, s.Value))
			}
		}
		for k := range want {
			if !seen[k] {
				problems = append(problems, fmt.Sprintf("%s: no up sample yet", k))
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s%s", strings.Join(problems, "; "), lastErrors(f.prom))
		}
		return nil
	})
}

// lastErrors describes the targets' scrape errors, for failure messages.
func lastErrors(a *promAPI) string {
	targets, err := a.targets()
	if err != nil {
		return " (targets API: " + err.Error() + ")"
	}
	var b strings.Builder
	for _, tg := range targets {
		if tg.LastError != "" {
			fmt.Fprintf(&b, "; %s %s: last error %q", tg.ScrapePool, tg.ScrapeURL, tg.LastError)
		}
	}
	return b.String()
}

// waitFor retries try every 200 ms until it succeeds, and fails the test
// with its last error after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, try func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %v", timeout, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testIngestion compares what Prometheus stored with what the emitters
// served around the same moment.
func testIngestion(t *testing.T, f *fleet) {
	// A few scrapes of every target, so a failure on any scrape after the
	// first would show (up is written even when a scrape fails).
	waitFor(t, 30*time.Second, "three scrapes of every target", func() error {
		counts, err := f.prom.query("count_over_time(up[1m])")
		if err != nil {
			return err
		}
		got := map[instanceKey]float64{}
		for _, s := range counts {
			got[instanceKey{s.Metric["job"], s.Metric["instance"]}] = s.Value.V
		}
		for _, tg := range f.targets {
			if got[tg.key()] < 3 {
				return fmt.Errorf("%s: %v scrapes so far", tg.key(), got[tg.key()])
			}
		}
		return nil
	})

	// Read the emitters, then wait until Prometheus holds a sample of
	// every deploy target from a scrape that started after that read, then
	// read the emitters again. Counters only go up, so each stored value
	// must lie between the two readings.
	before := readAll(t, f.emitters)
	// A sample's timestamp is its scrape's start, taken before the request
	// is sent. The margin covers newer Prometheus versions that align
	// timestamps to the scrape schedule within a few milliseconds.
	readEnd := time.Now().Add(50 * time.Millisecond).UnixMilli()
	var stored map[string][]series
	waitFor(t, 15*time.Second, "a scrape of every deploy target started after the emitters were read", func() error {
		stored = map[string][]series{}
		for _, fam := range deployFamilies {
			// A range selector returns the samples with their scrape
			// timestamps, which an instant vector would not.
			ss, err := f.prom.query(fam + "[10s]")
			if err != nil {
				return err
			}
			for _, s := range ss {
				if n := len(s.Values); n == 0 || s.Values[n-1].T <= readEnd {
					return fmt.Errorf("%s%s: newest sample not after the emitters were read", fam, labelSig(s.Metric))
				}
			}
			stored[fam] = ss
		}
		return nil
	})
	after := readAll(t, f.emitters)

	for _, em := range f.emitters {
		if sum(before[em]) == sum(after[em]) {
			t.Errorf("%s: no counter moved between the two readings: the simulated traffic is not flowing, so the comparison proves little", em.name)
		}
	}

	deployKeys := map[instanceKey]fleetTarget{}
	for _, tg := range f.deployTargets() {
		deployKeys[tg.key()] = tg
	}
	compared := 0
	for _, fam := range deployFamilies {
		// Prometheus's series of fam by target, then by their own labels.
		held := map[instanceKey]map[string][]sample{}
		for _, s := range stored[fam] {
			k := instanceKey{s.Metric["job"], s.Metric["instance"]}
			if _, ok := deployKeys[k]; !ok {
				t.Errorf("%s: series %s from a target that is not a deploy emitter", fam, labelSig(s.Metric))
				continue
			}
			if s.Metric["__name__"] != fam {
				t.Errorf("%s: series named %q", fam, s.Metric["__name__"])
			}
			own := map[string]string{}
			for name, value := range s.Metric {
				if name != "__name__" && name != "job" && name != "instance" {
					own[name] = value
				}
			}
			if held[k] == nil {
				held[k] = map[string][]sample{}
			}
			held[k][labelSig(own)] = s.Values
		}
		for k, tg := range deployKeys {
			lo, hi, got := before[tg.emitter].families[fam], after[tg.emitter].families[fam], held[k]
			if !sameKeys(lo, hi) {
				t.Errorf("%s %s: the emitter's series changed between the readings: %v then %v", k, fam, sortedKeys(lo), sortedKeys(hi))
				continue
			}
			if !sameKeys(lo, got) {
				t.Errorf("%s %s: Prometheus holds series %v, the emitter served %v", k, fam, sortedKeys(got), sortedKeys(lo))
				continue
			}
			for sig, values := range got {
				for i := 1; i < len(values); i++ {
					if values[i].V < values[i-1].V {
						t.Errorf("%s %s%s: stored counter went down from %v to %v", k, fam, sig, values[i-1].V, values[i].V)
					}
				}
				v := values[len(values)-1].V
				if v < lo[sig] || v > hi[sig] {
					t.Errorf("%s %s%s: Prometheus holds %v, the emitter served %v before and %v after", k, fam, sig, v, lo[sig], hi[sig])
				}
				compared++
			}
		}
	}
	if compared == 0 {
		t.Fatal("no series compared")
	}
	t.Logf("compared %d stored series (%d families x %d deploy targets) with the emitters' readings", compared, len(deployFamilies), len(deployKeys))

	// No scrape errors: every target healthy with no last error, and each
	// scrape took every sample (for the deploy targets exactly as many as
	// the emitter serves, which does not change once every target type
	// has been bound).
	targets, err := f.prom.targets()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[instanceKey]bool{}
	for _, tg := range targets {
		k := instanceKey{tg.Labels["job"], tg.Labels["instance"]}
		seen[k] = true
		if tg.Health != "up" || tg.LastError != "" {
			t.Errorf("%s: health %q, last error %q", k, tg.Health, tg.LastError)
		}
	}
	for _, tg := range f.targets {
		if !seen[tg.key()] {
			t.Errorf("%s: not an active target of Prometheus", tg.key())
		}
	}
	if len(targets) != len(f.targets) {
		t.Errorf("Prometheus has %d active targets, want %d", len(targets), len(f.targets))
	}
	for _, q := range []string{"up", "scrape_samples_scraped"} {
		res, err := f.prom.query(q + "[10s]")
		if err != nil {
			t.Fatal(err)
		}
		got := map[instanceKey][]sample{}
		for _, s := range res {
			got[instanceKey{s.Metric["job"], s.Metric["instance"]}] = s.Values
		}
		for _, tg := range f.targets {
			values := got[tg.key()]
			if len(values) == 0 {
				t.Errorf("%s: no %s samples in the last 10s", tg.key(), q)
			}
			for _, v := range values {
				switch {
				case q == "up" && v.V != 1:
					t.Errorf("%s: up = %v at %d", tg.key(), v.V, v.T)
				case q == "scrape_samples_scraped" && tg.emitter != nil && v.V != float64(after[tg.emitter].samples):
					t.Errorf("%s: scrape_samples_scraped = %v at %d, the emitter serves %d samples", tg.key(), v.V, v.T, after[tg.emitter].samples)
				case q == "scrape_samples_scraped" && v.V <= 0:
					t.Errorf("%s: scrape_samples_scraped = %v at %d", tg.key(), v.V, v.T)
				}
			}
		}
	}
}

func readAll(t *testing.T, emitters []*emitter) map[*emitter]reading {
	t.Helper()
	out := map[*emitter]reading{}
	for _, em := range emitters {
		r, err := em.read()
		if err != nil {
			t.Fatal(err)
		}
		out[em] = r
	}
	return out
}

func sum(r reading) float64 {
	total := 0.0
	for _, series := range r.families {
		for _, v := range series {
			total += v
		}
	}
	return total
}

func sameKeys[A, B any](a map[string]A, b map[string]B) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// testFormats shows that both exposition formats reached Prometheus: the
// text job got text and the direct job OpenMetrics.
func testFormats(t *testing.T, f *fleet) {
	// What the proxy relayed for Prometheus: its own Accept header (which
	// prefers OpenMetrics) and the text answer to the rewritten request.
	relays := f.proxy.relayed()
	if len(relays) == 0 {
		t.Fatal("the text proxy relayed no Prometheus scrape")
	}
	for _, r := range relays {
		if r.status != http.StatusOK {
			t.Errorf("text proxy: Prometheus scrape answered %d", r.status)
		}
		if first := firstMediaType(r.accept); first != "application/openmetrics-text" {
			t.Errorf("text proxy: Prometheus (%s) asked first for %q (Accept %q), want OpenMetrics first", r.userAgent, first, r.accept)
		}
		if mt, params, _ := mime.ParseMediaType(r.contentType); mt != "text/plain" || params["version"] != "0.0.4" {
			t.Errorf("text proxy: relayed Content-Type %q, want text/plain; version=0.0.4", r.contentType)
		}
	}
	promAccept := relays[0].accept
	t.Logf("Prometheus (%s) sent Accept: %s; the proxy relayed %d text scrapes", relays[0].userAgent, promAccept, len(relays))

	// The direct job's requests carry the same Accept header (same
	// Prometheus, same scrape code): ask each emitter with it.
	for _, em := range f.emitters {
		req, err := http.NewRequest(http.MethodGet, em.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", promAccept)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/openmetrics-text" || params["version"] != "1.0.0" {
			t.Errorf("%s: answered Prometheus's Accept header with Content-Type %q, want OpenMetrics 1.0.0", em.name, resp.Header.Get("Content-Type"))
		}
	}

	// Prometheus's own record of the parser it used: its metadata names a
	// counter family as the exposition did, without _total in OpenMetrics
	// ("# TYPE certctl_deploy_attempts counter") and with it in the text
	// format.
	omNames := make([]string, len(deployFamilies))
	for i, fam := range deployFamilies {
		omNames[i] = strings.TrimSuffix(fam, "_total")
	}
	for job, want := range map[string][]string{jobOpenMetrics: omNames, jobText: deployFamilies} {
		meta, err := f.prom.metadata(job)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range f.targets {
			if tg.job != job {
				continue
			}
			got := meta[tg.addr]
			if strings.Join(sortedKeys(got), " ") != strings.Join(sortedStrings(want), " ") {
				t.Errorf("%s: Prometheus's metadata names the families %v, want %v", tg.key(), sortedKeys(got), sortedStrings(want))
			}
			for name, typ := range got {
				if typ != "counter" {
					t.Errorf("%s: Prometheus's metadata types %s as %q, want counter", tg.key(), name, typ)
				}
			}
		}
	}
}

// firstMediaType is the media type of the first element of an Accept header.
func firstMediaType(accept string) string {
	first, _, _ := strings.Cut(accept, ",")
	mt, _, err := mime.ParseMediaType(first)
	if err != nil {
		return ""
	}
	return mt
}
