package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listeningOn matches the line Prometheus and its exporters log once they
// listen (exporter-toolkit), with the port the OS chose.
var listeningOn = regexp.MustCompile(`msg="Listening on" address=(127\.0\.0\.1:\d+)`)

// startDaemon starts a Prometheus-family binary listening on a port the OS
// chooses and returns the address it logged. The process is killed when
// the test ends.
func startDaemon(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian package %s; .ci/run installs it): %v", name, name, err)
	}
	cmd := exec.Command(path, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := listeningOn.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		// Keep draining so the daemon never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case addr := <-found:
		return addr
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not say where it listens within 20s", name)
		return ""
	}
}

// End to end with the real thing: Prometheus scrapes the reference emitter
// (promcheck serve) and node exporter; promcheck discovers both from
// Prometheus's API and checks them directly; Prometheus itself finds the
// reference emitter healthy.
func TestRealPrometheusAndNodeExporter(t *testing.T) {
	node := startDaemon(t, "prometheus-node-exporter", "--web.listen-address=127.0.0.1:0")
	emitterURL, serveCmd, _ := startServe(t, "--rate", "500")
	t.Cleanup(func() {
		_ = serveCmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, serveCmd)
	})
	emitter := strings.TrimPrefix(strings.TrimSuffix(emitterURL, "/metrics/prometheus"), "http://")
	config := writeFile(t, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: deployer
    metrics_path: /metrics/prometheus
    static_configs: [{targets: [%q]}]
  - job_name: node
    static_configs: [{targets: [%q]}]
`, emitter, node))
	prom := "http://" + startDaemon(t, "prometheus", "--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"), "--web.listen-address=127.0.0.1:0")

	// Wait until Prometheus has scraped the reference emitter and found it
	// healthy: Prometheus's own parser accepted what it serves.
	deadline := time.Now().Add(30 * time.Second)
	for {
		health, lastError := targetHealth(t, prom, "deployer")
		if health == "up" {
			break
		}
		if health == "down" || time.Now().After(deadline) {
			t.Fatalf("Prometheus finds the reference emitter %q: %s", health, lastError)
		}
		time.Sleep(100 * time.Millisecond)
	}

	r := promcheck(t, "", "check", "--prometheus", prom, "--schema", "none", "--accept", "both", "--output", "json")
	wantExit(t, r, exitConforms)
	rep := decodeJSON(t, r)
	jobs := map[string]string{}
	for _, tg := range rep.Targets {
		jobs[tg.Labels["job"]] = tg.Verdict
		if len(tg.Scrapes) != 2 {
			t.Errorf("%s: %d scrapes, want 2", tg.Target, len(tg.Scrapes))
		}
	}
	if len(jobs) != 2 || jobs["deployer"] != "pass" || jobs["node"] != "pass" {
		t.Errorf("verdicts by job: %v\n%s", jobs, r)
	}
	// With the deploy schema, node exporter is not a deploy emitter: the
	// fleet fails, and only on it.
	r = promcheck(t, "", "check", "--prometheus", prom, "--output", "json")
	wantExit(t, r, exitViolations)
	for _, tg := range decodeJSON(t, r).Targets {
		if want := map[string]string{"deployer": "pass", "node": "fail"}[tg.Labels["job"]]; tg.Verdict != want {
			t.Errorf("deploy schema: job %s: %s, want %s", tg.Labels["job"], tg.Verdict, want)
		}
	}
}

// targetHealth returns the health Prometheus reports for a job's target
// and its last scrape error.
func targetHealth(t *testing.T, prom, job string) (health, lastError string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prom+"/api/v1/targets?state=active", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				Health    string            `json:"health"`
				LastError string            `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err.Error()
	}
	for _, at := range body.Data.ActiveTargets {
		if at.Labels["job"] == job {
			return at.Health, at.LastError
		}
	}
	return "", "no target of job " + job
}
