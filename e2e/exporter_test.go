//go:build unix

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// prometheus3Bin is where the Prometheus 3 server built from v0.316.0 is
// kept on the project's machines (e2e/doc.go says how to build one).
const prometheus3Bin = "/root/.cache/deploymetrics/prometheus-v0.316.0/prometheus"

// exampleDir holds the example configuration the test runs, adapted.
const exampleDir = "../examples/prometheus"

// TestExporterEndToEnd runs promcheck exporter as the example configuration
// of examples/prometheus deploys it, two exporters sharded by hashmod, under
// a real Prometheus (Debian's 2.42, and the 3.x build where it is present)
// with the example's relabelling and alerting rules, and three emitters
// found through file_sd: a conforming one ("promcheck serve"), a broken
// one (a duplicate series, and a counter that goes down on every scrape)
// and an unreachable one. It checks what Prometheus ingests: success 1
// for the conforming emitter and 0 for the others, the findings naming
// the rules (the cross-probe scrape.counter-decreased among them, judged
// across probes that Prometheus drove), and that the example's alerts fire
// for the broken and the unreachable emitters and never for the
// conforming one. The example's "for:" durations and intervals are
// shortened so that each server takes 15-25 s.
func TestExporterEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the exporter end-to-end test (it runs Prometheus for about 20 s per server)")
	}
	servers := prometheusServers(t)
	dir := t.TempDir()
	promcheck := buildPromcheck(t, dir)

	conforming := startEmitter(t, promcheck, "conforming emitter", "--seed", "7").url
	broken := startBrokenEmitter(t)
	unreachable := "http://" + freeAddr(t) + "/metrics/prometheus"
	modules := filepath.Join(dir, "modules.yml")
	// The built-in modules' default (loopback targets only) suits the test.
	if err := os.WriteFile(modules, []byte("modules:\n  deploy: {accept: both}\n  generic: {schema: none}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exporters := []string{startExporterProc(t, promcheck, "exporter 0", modules), startExporterProc(t, promcheck, "exporter 1", modules)}

	// The exporter's own outputs conform, strictly, across scrapes (the
	// issue's "done when").
	for _, u := range []string{"http://" + exporters[0] + "/metrics", "http://" + exporters[1] + "/probe?" + url.Values{"module": {"deploy"}, "target": {conforming}}.Encode()} {
		out, err := exec.Command(promcheck, "check", "--schema", "none", "--strict", "--accept", "both", "--scrapes", "2", "--interval", "100ms", u).CombinedOutput()
		if err != nil {
			t.Errorf("promcheck check --schema none --strict %s: %v\n%s", u, err, out)
		}
	}

	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			began := time.Now()
			prom := startExamplePrometheus(t, s.bin, filepath.Join(dir, s.name), exporters, []string{conforming, broken, unreachable})
			testExporterIngestion(t, prom, conforming, broken, unreachable, exporters)
			t.Logf("%s: %s", s.name, time.Since(began).Round(time.Millisecond))
		})
	}
}

// promServer is a Prometheus binary to run the test with.
type promServer struct{ name, bin string }

// prometheusServers returns Debian's prometheus and the Prometheus 3
// build, those present; with neither, the test is skipped.
func prometheusServers(t *testing.T) []promServer {
	t.Helper()
	var out []promServer
	if path, err := exec.LookPath("prometheus"); err == nil {
		out = append(out, promServer{"prometheus-2", path})
	} else {
		t.Log("prometheus not on PATH: not testing with Prometheus 2 (Debian: apt-get install prometheus; .ci/run does)")
	}
	if _, err := os.Stat(prometheus3Bin); err == nil {
		out = append(out, promServer{"prometheus-3", prometheus3Bin})
	} else {
		t.Logf("%s absent: not testing with Prometheus 3 (go install github.com/prometheus/prometheus/cmd/prometheus@v0.316.0 builds one)", prometheus3Bin)
	}
	if len(out) == 0 {
		t.Skip("no Prometheus server to run: install Debian's prometheus (.ci/run does)")
	}
	return out
}

// startBrokenEmitter serves, in the test process, a deploy exposition with
// a duplicate series whose attempts counter also goes down on every
// scrape: spec.duplicate-series from the first probe, and
// scrape.counter-decreased from the second.
func startBrokenEmitter(t *testing.T) string {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		success := 100000 - n.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, `# HELP certctl_deploy_attempts_total Deployment attempts.
# TYPE certctl_deploy_attempts_total counter
certctl_deploy_attempts_total{target_type="NGINX",result="success"} %d
certctl_deploy_attempts_total{target_type="NGINX",result="failure"} 0
certctl_deploy_attempts_total{target_type="NGINX",result="failure"} 0
`, success)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics/prometheus"
}

// startExporterProc runs "promcheck exporter" on a port the kernel picks
// and returns its host:port.
func startExporterProc(t *testing.T, promcheck, name, modules string) string {
	t.Helper()
	p := startProc(t, name, promcheck, "exporter", "--listen", "127.0.0.1:0", "--config", modules, "--log-level", "debug")
	line, err := p.firstLine(15 * time.Second)
	if err != nil {
		t.Fatalf("%s: %v; last output:\n%s", name, err, p.output.tail(20))
	}
	u, err := url.Parse(line)
	if err != nil || u.Scheme != "http" || u.Path != "/" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("%s: first line %q is not the http://127.0.0.1:PORT/ URL the exporter promises", name, line)
	}
	if err := waitReady(p, line+"-/healthy", 15*time.Second); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	// Registered after startProc's cleanup, so it runs first.
	t.Cleanup(func() {
		p.kill(t)
		if out := p.output.String(); strings.Contains(out, "WARNING: DATA RACE") {
			t.Errorf("%s: the race detector reported a data race:\n%s", name, p.output.tail(60))
		}
		if code, err := exitCode(p.err); code != 0 {
			t.Errorf("%s: exit status %d (%v) after SIGTERM, want 0", name, code, err)
		}
	})
	return u.Host
}

// startExamplePrometheus runs Prometheus with examples/prometheus's
// configuration and rules, changed only where a test must: intervals and
// "for:" durations shortened, the exporters' and files' places filled in.
func startExamplePrometheus(t *testing.T, bin, dir string, exporters, targets []string) *promAPI {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	rules := adapt(t, filepath.Join(exampleDir, "promcheck-rules.yml"), []replacement{
		{regexp.MustCompile(`for: \d+m`), "for: 3s"},
	})
	writeTestFile(t, filepath.Join(dir, "promcheck-rules.yml"), rules)
	config := adapt(t, filepath.Join(exampleDir, "prometheus.yml"), []replacement{
		{regexp.MustCompile(`(scrape_interval|evaluation_interval): 30s`), "$1: 1s"},
		{regexp.MustCompile(`scrape_timeout: 10s`), "scrape_timeout: 1s"},
		{regexp.MustCompile(`promcheck-exporter-0:9465`), exporters[0]},
		{regexp.MustCompile(`promcheck-exporter-1:9465`), exporters[1]},
		{regexp.MustCompile(`targets/\*\.yml`), filepath.Join(dir, "targets", "*.yml")},
		{regexp.MustCompile(`- promcheck-rules.yml`), "- " + filepath.Join(dir, "promcheck-rules.yml")},
	})
	configFile := filepath.Join(dir, "prometheus.yml")
	writeTestFile(t, configFile, config)
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = fmt.Sprintf("%q", tg)
	}
	writeTestFile(t, filepath.Join(dir, "targets", "emitters.yml"), "- targets: ["+strings.Join(quoted, ", ")+"]\n")
	storage := filepath.Join(dir, "tsdb")
	_, addr := startListening(t, filepath.Base(dir), bin, "/-/ready", func(addr string) []string {
		return []string{"--config.file=" + configFile, "--storage.tsdb.path=" + storage, "--web.listen-address=" + addr}
	})
	return newPromAPI(addr)
}

// replacement is one change adapt makes to an example file.
type replacement struct {
	re   *regexp.Regexp
	with string
}

// adapt returns the file with every replacement made, failing the test if
// one matches nothing (the example changed under the test).
func adapt(t *testing.T, path string, rs []replacement) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, r := range rs {
		if !r.re.MatchString(s) {
			t.Fatalf("%s: nothing matches %s; the test adapts the example and must be updated with it", path, r.re)
		}
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testExporterIngestion waits for what Prometheus must hold and checks it.
func testExporterIngestion(t *testing.T, prom *promAPI, conforming, broken, unreachable string, exporters []string) {
	byInstance := func(q string) (map[string]float64, error) {
		res, err := prom.query(q)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, s := range res {
			if s.Value != nil {
				out[s.Metric["instance"]] = s.Value.V
			}
		}
		return out, nil
	}
	// Verdicts: success 1 only for the conforming emitter; checked 0 only
	// for the unreachable one; the conforming one judged against its
	// previous probe (the sharding sends it to one exporter every time).
	waitFor(t, 45*time.Second, "the probes' verdicts", func() error {
		for _, c := range []struct {
			query string
			want  map[string]float64
		}{
			{`promcheck_probe_success{job="promcheck-deploy"}`, map[string]float64{conforming: 1, broken: 0, unreachable: 0}},
			{`promcheck_probe_checked{job="promcheck-deploy"}`, map[string]float64{conforming: 1, broken: 1, unreachable: 0}},
			{`min by (instance) (promcheck_probe_compared{job="promcheck-deploy"})`, map[string]float64{conforming: 1, broken: 1}},
			{`promcheck_probe_error_info{job="promcheck-deploy",kind="connect"}`, map[string]float64{unreachable: 1}},
		} {
			got, err := byInstance(c.query)
			if err != nil {
				return err
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				return fmt.Errorf("%s = %v, want %v%s", c.query, got, c.want, lastErrors(prom))
			}
		}
		return nil
	})
	// Findings name the rules: the duplicate series, and the counter that
	// went down between two probes.
	waitFor(t, 15*time.Second, "the broken emitter's findings", func() error {
		res, err := prom.query(fmt.Sprintf(`promcheck_probe_findings{instance=%q}`, broken))
		if err != nil {
			return err
		}
		var rules []string
		for _, s := range res {
			rules = append(rules, s.Metric["rule"]+"/"+s.Metric["severity"])
		}
		slices.Sort(rules)
		for _, want := range []string{"scrape.counter-decreased/error", "spec.duplicate-series/error"} {
			if !slices.Contains(rules, want) {
				return fmt.Errorf("findings %v lack %s", rules, want)
			}
		}
		return nil
	})
	if res, err := prom.query(fmt.Sprintf(`count_over_time(promcheck_probe_findings{instance=%q}[10m])`, conforming)); err != nil || len(res) > 0 {
		t.Errorf("the conforming emitter had findings: %v %v", res, err)
	}
	// The example's alerts fire for the broken and the unreachable
	// emitters, each the alert for its kind of trouble.
	waitFor(t, 30*time.Second, "the alerts to fire", func() error {
		res, err := prom.query(`ALERTS{alertstate="firing"}`)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, s := range res {
			got[s.Metric["instance"]] += s.Metric["alertname"]
		}
		want := map[string]string{broken: "MetricsEmitterNonConforming", unreachable: "MetricsEmitterProbeFailing"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("firing %v, want %v", got, want)
		}
		return nil
	})
	// Never for the conforming one, not even pending, at any time.
	if res, err := prom.query(fmt.Sprintf(`count_over_time(ALERTS{instance=%q}[10m])`, conforming)); err != nil || len(res) > 0 {
		t.Errorf("an alert for the conforming emitter: %v %v", res, err)
	}
	// Both exporters are scraped for their own metrics and have probed.
	up, err := byInstance(`up{job="promcheck-exporter"}`)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(up) != fmt.Sprint(map[string]float64{exporters[0]: 1, exporters[1]: 1}) {
		t.Errorf("up of the exporters: %v", up)
	}
	probed, err := byInstance(`sum by (instance) (promcheck_exporter_probes_total{module="deploy"})`)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, v := range probed {
		total += v
	}
	if total < 3 {
		t.Errorf("the exporters counted %v probes: %v", total, probed)
	}
}
