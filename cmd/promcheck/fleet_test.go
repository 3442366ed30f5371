package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// fleetServers starts a conforming target serving /metrics/prometheus and a
// failing one serving /metrics, and returns their host:port.
func fleetServers(t *testing.T) (good, bad string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/metrics/prometheus", scrapetest.Good())
	g := server(t, mux)
	b := server(t, scrapetest.Serve(200, scrapetest.ContentTypeText, badValue))
	return g.Listener.Addr().String(), b.Listener.Addr().String()
}

func TestTargetsFile(t *testing.T) {
	good, bad := fleetServers(t)
	jsonSD := fmt.Sprintf(`[
  {"targets": [%q], "labels": {"job": "deployer", "__metrics_path__": "/metrics/prometheus", "env": "prod"}},
  {"targets": [%q], "labels": {"job": "legacy", "__scheme__": "http", "__param_module": "deploy"}}
]`, good, bad)
	yamlSD := fmt.Sprintf(`- targets: [%q]
  labels:
    job: deployer
    __metrics_path__: /metrics/prometheus
    env: prod
- targets: [%q]
  labels: {job: legacy, __scheme__: http, __param_module: deploy}
`, good, bad)
	for name, file := range map[string]string{"targets.json": jsonSD, "targets.yaml": yamlSD, "targets.yml": yamlSD} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, name, file)
			r := promcheck(t, "", "check", "--targets-file", path, "--parallel", "2", "--output", "json")
			wantExit(t, r, exitViolations)
			rep := decodeJSON(t, r)
			if rep.Summary.Targets != 2 || rep.Summary.Passed != 1 || rep.Summary.Failed != 1 {
				t.Fatalf("summary %+v", rep.Summary)
			}
			g, b := rep.Targets[0], rep.Targets[1]
			if g.URL != "http://"+good+"/metrics/prometheus" || g.Verdict != "pass" ||
				g.Labels["job"] != "deployer" || g.Labels["env"] != "prod" || g.Labels["instance"] != good || len(g.Labels) != 3 {
				t.Errorf("good target %+v", g)
			}
			if b.URL != "http://"+bad+"/metrics?module=deploy" || b.Verdict != "fail" || b.Labels["job"] != "legacy" {
				t.Errorf("bad target %+v", b)
			}
			// Text output names each target with its labels, and one summary.
			r = promcheck(t, "", "check", "--targets-file", path)
			wantExit(t, r, exitViolations)
			wantContains(t, r.stdout, `env="prod" instance="`+good+`" job="deployer"`, "2 targets: 1 pass, 1 fail, 0 could not be checked")
		})
	}
}

func TestTargetsFileErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"t.json", `{"targets": []}`, "cannot unmarshal object"},
		{"t.json", `[{"targets": ["a:1"], "lables": {}}]`, `unknown field "lables"`},
		{"t.yaml", "- targets: [a:1]\n  lables: {}\n", "field lables not found"},
		{"t.json", `[{"targets": ["http://a:1/metrics"]}]`, `group 1: target "http://a:1/metrics": want host:port`},
		{"t.json", `[{"targets": ["a:1"], "labels": {"__scheme__": "ftp"}}]`, `__scheme__ "ftp"`},
		{"t.json", `[]`, "no targets in it"},
		{"t.yaml", "", "no targets in it"},
	} {
		t.Run(c.body, func(t *testing.T) {
			r := promcheck(t, "", "check", "--targets-file", writeFile(t, c.name, c.body))
			wantExit(t, r, exitCannotCheck)
			wantContains(t, r.stderr, "--targets-file", c.want)
		})
	}
}

// --parallel bounds how many targets are checked at once.
func TestParallel(t *testing.T) {
	var inFlight, peak atomic.Int64
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		scrapetest.Good().ServeHTTP(w, r)
	})
	var targets []string
	for range 6 {
		targets = append(targets, fmt.Sprintf("%q", server(t, slow).Listener.Addr().String()))
	}
	path := writeFile(t, "t.json", `[{"targets": [`+strings.Join(targets, ",")+`]}]`)
	for _, parallel := range []int64{1, 3} {
		peak.Store(0)
		r := promcheck(t, "", "check", "--targets-file", path, "--parallel", fmt.Sprint(parallel))
		wantExit(t, r, exitConforms)
		wantContains(t, r.stdout, "6 targets: 6 pass")
		if got := peak.Load(); got > parallel {
			t.Errorf("--parallel %d: %d scrapes at once", parallel, got)
		}
	}
	// With 3 workers and 100ms per scrape, more than one ran at once.
	if peak.Load() < 2 {
		t.Errorf("--parallel 3 never ran two targets at once")
	}
}

// fakePrometheus serves /api/v1/targets the way Prometheus does.
func fakePrometheus(t *testing.T, status int, body string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/targets", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != "active" {
			http.Error(w, "want state=active", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
	return server(t, mux).URL
}

func TestPrometheusDiscovery(t *testing.T) {
	good, bad := fleetServers(t)
	type active struct {
		Labels    map[string]string `json:"labels"`
		ScrapeURL string            `json:"scrapeUrl"`
		Health    string            `json:"health"`
	}
	resp := map[string]any{"status": "success", "data": map[string]any{
		"activeTargets": []active{
			{map[string]string{"job": "legacy", "instance": bad, "zone": "b"}, "http://" + bad + "/metrics", "up"},
			{map[string]string{"job": "deployer", "instance": good}, "http://" + good + "/metrics/prometheus", "up"},
		},
		"droppedTargets": []any{},
	}}
	body, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	prom := fakePrometheus(t, 200, string(body))
	r := promcheck(t, "", "check", "--prometheus", prom+"/", "--output", "json")
	wantExit(t, r, exitViolations)
	rep := decodeJSON(t, r)
	if len(rep.Targets) != 2 {
		t.Fatalf("targets %+v", rep.Targets)
	}
	for _, tg := range rep.Targets {
		switch tg.URL {
		case "http://" + good + "/metrics/prometheus":
			if tg.Verdict != "pass" || tg.Labels["job"] != "deployer" || tg.Labels["instance"] != good {
				t.Errorf("good: %+v", tg)
			}
		case "http://" + bad + "/metrics":
			// Only job and instance are reported.
			if tg.Verdict != "fail" || tg.Labels["job"] != "legacy" || len(tg.Labels) != 2 {
				t.Errorf("bad: %+v", tg)
			}
		default:
			t.Errorf("unexpected target %+v", tg)
		}
	}
}

func TestPrometheusDiscoveryErrors(t *testing.T) {
	down := server(t, http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	for _, c := range []struct {
		name, url, want string
	}{
		{"unreachable", downURL, "prometheus: scrape " + downURL + "/api/v1/targets?state=active: connection refused"},
		{"error status", fakePrometheus(t, 503, `{"status":"error","error":"shutting down"}`), `HTTP 503 Service Unavailable: {"status":"error","error":"shutting down"}`},
		{"not JSON", fakePrometheus(t, 200, `<html>`), "not a targets API response"},
		{"API error", fakePrometheus(t, 200, `{"status":"error","error":"bad"}`), `status "error": bad`},
		{"no targets", fakePrometheus(t, 200, `{"status":"success","data":{"activeTargets":[]}}`), "no active targets to check"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := promcheck(t, "", "check", "--timeout", "2s", "--prometheus", c.url)
			wantExit(t, r, exitCannotCheck)
			wantContains(t, r.stderr, c.want)
		})
	}
}
