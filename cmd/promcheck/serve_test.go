package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// The README's main command: no arguments, a passing report, exit 0. It
// asks as Prometheus 2 era scrapers and as Prometheus 3 does, and gets
// each protocol it asks for first.
func TestSelfCheck(t *testing.T) {
	r := promcheck(t, "")
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout,
		"promcheck self-check: the reference emitter at http://127.0.0.1:",
		"scrape 1/3 (Accept text): PrometheusText0.0.4, HTTP 200",
		"scrape 3/3 (Accept openmetrics): OpenMetricsText1.0.0 escaping=underscores, HTTP 200",
		"scrape 2/3 (Accept prometheus3): OpenMetricsText1.0.0 escaping=allow-utf-8, HTTP 200",
		"scrape 3/3 (Accept prometheus3-proto): PrometheusProto, HTTP 200",
		"PASS: 0 errors",
		"in 12 scrapes",
		"promcheck: PASS: 1 target: 1 pass, 0 fail, 0 could not be checked",
		"(schema deploy, strict)")
	if strings.Contains(r.stdout, " 0 samples") {
		t.Errorf("a scrape of the self-check had no samples:\n%s", r.stdout)
	}
}

func TestSelfCheckFlags(t *testing.T) {
	r := promcheck(t, "", "selfcheck", "--scrapes", "4", "--interval", "20ms", "--rate", "2000", "--seed", "9",
		"--namespace", "acme", "--output", "json")
	wantExit(t, r, exitConforms)
	rep := decodeJSON(t, r)
	if rep.Verdict != "pass" || !rep.Strict || len(rep.Targets) != 1 || len(rep.Targets[0].Scrapes) != 16 {
		t.Fatalf("%+v", rep)
	}
	for i, s := range rep.Targets[0].Scrapes {
		want := []struct{ accept, format, protocol, escaping string }{
			{"text", "text", "PrometheusText0.0.4", ""},
			{"openmetrics", "openmetrics", "OpenMetricsText1.0.0", "underscores"},
			{"prometheus3", "openmetrics", "OpenMetricsText1.0.0", "allow-utf-8"},
			{"prometheus3-proto", "protobuf", "PrometheusProto", ""},
		}[i%4]
		if s.Accept != want.accept || s.Format != want.format || s.Protocol != want.protocol || s.Escaping != want.escaping ||
			s.StatusCode != 200 || len(s.Findings) != 0 {
			t.Errorf("scrape %d: %+v, want %+v", i, s, want)
		}
	}
	if h := rep.Targets[0].Scrapes[2].AcceptHeader; h != check.AcceptPrometheus3 {
		t.Errorf("prometheus3 sent Accept %q, want %q", h, check.AcceptPrometheus3)
	}
	// The namespace reached the emitter and the schema alike.
	r = promcheck(t, "", "selfcheck", "--scrapes", "1", "--namespace", "acme")
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, `namespace "acme"`, "128 samples in 6 families: no findings", "strictly")
	// Strict is the default and can be turned off.
	r = promcheck(t, "", "selfcheck", "--scrapes", "1", "--strict=false", "--output", "json")
	wantExit(t, r, exitConforms)
	if decodeJSON(t, r).Strict {
		t.Error("--strict=false did not reach the check")
	}
}

// startServe runs "promcheck serve" on a free port and returns its URL and
// the running command.
func startServe(t *testing.T, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	return startListening(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
}

// startListening runs promcheck with args, a command that serves HTTP and
// writes its URL as its first line (serve, exporter), and returns that
// line, the running command (killed at the end of the test if it is still
// running) and its stderr.
func startListening(t *testing.T, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL: %v (stderr: %s)", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return strings.TrimSpace(line), cmd, stderr
}

// waitExit waits for cmd with a deadline and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("serve did not shut down")
		return -1
	}
}

func TestServe(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			url, cmd, stderr := startServe(t, "--rate", "1000", "--seed", "3")
			if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/metrics/prometheus") {
				t.Fatalf("serve printed %q", url)
			}
			// The emitter conforms, across scrapes, in both formats, under traffic.
			r := promcheck(t, "", "check", "--accept", "both", "--scrapes", "3", "--interval", "50ms", "--strict", url)
			wantExit(t, r, exitConforms)
			// /metrics is an alias; other paths are 404.
			alias := strings.TrimSuffix(url, "/prometheus")
			wantExit(t, promcheck(t, "", "check", alias), exitConforms)
			resp, err := http.Get(strings.TrimSuffix(url, "/metrics/prometheus") + "/other")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("/other: status %d", resp.StatusCode)
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd); code != 0 {
				t.Errorf("exit %d after %v; stderr:\n%s", code, sig, stderr)
			}
			wantContains(t, stderr.String(), "promcheck serve: reference emitter at "+url, "promcheck serve: shut down")
			// And it is gone.
			r = promcheck(t, "", "check", "--timeout", "2s", url)
			wantExit(t, r, exitCannotCheck)
		})
	}
}

// The counters move while serve runs: simulated traffic, not a fixed page.
func TestServeTrafficMoves(t *testing.T) {
	url, cmd, _ := startServe(t, "--rate", "2000", "--target-types", "NGINX,odd \"name\"")
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, cmd)
	}()
	fetch := func() string { return fetchBody(t, url) }
	first := fetch()
	deadline := time.Now().Add(10 * time.Second)
	for fetch() == first {
		if time.Now().After(deadline) {
			t.Fatal("the exposition did not change in 10s at 2000 deploys/s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(fetch(), `target_type="odd \"name\""`) {
		t.Errorf("--target-types not served:\n%s", fetch())
	}
	r := promcheck(t, "", "check", "--scrapes", "2", "--interval", "20ms", url)
	wantExit(t, r, exitConforms)
}

// --rate 0 serves the --burst deployments and nothing more; --namespace
// names the families.
func TestServeStatic(t *testing.T) {
	url, cmd, _ := startServe(t, "--rate", "0", "--burst", "100", "--namespace", "acme")
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, cmd)
	}()
	r := promcheck(t, "", "check", "--namespace", "acme", "--scrapes", "3", "--interval", "50ms", "--output", "json", url)
	wantExit(t, r, exitConforms)
	rep := decodeJSON(t, r)
	if len(rep.Targets[0].Scrapes) != 3 {
		t.Fatalf("%+v", rep)
	}
	first := fetchBody(t, url)
	if !strings.Contains(first, "acme_deploy_attempts_total{") {
		t.Fatalf("no samples after --burst 100:\n%s", first)
	}
	time.Sleep(100 * time.Millisecond)
	if second := fetchBody(t, url); second != first {
		t.Errorf("the counters moved at --rate 0:\n%s\n---\n%s", first, second)
	}
}

func fetchBody(t *testing.T, url string) string {
	t.Helper()
	body, _ := fetch(t, url, "")
	return string(body)
}
