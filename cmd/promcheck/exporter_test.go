package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

func TestExporterHelp(t *testing.T) {
	r := promcheck(t, "", "exporter", "--help")
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "Usage: promcheck exporter", "Examples:", "/probe?target=URL&module=NAME",
		"-listen", "127.0.0.1:9465", "-config", "-check-config", "-max-concurrent", "-store-max-entries", "-store-max-bytes",
		"-store-ttl", "-history", "-timeout-margin", "-log-level", "SSRF")
	wantContains(t, promcheck(t, "", "--help").stdout, "promcheck exporter [flags]")
}

func TestExporterCheckConfig(t *testing.T) {
	example := filepath.Join("..", "..", "examples", "prometheus", "promcheck.yml")
	r := promcheck(t, "", "exporter", "--check-config", example)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, example+": valid, modules deploy, generic")

	bad := writeFile(t, "bad.yml", "modules:\n  deploy:\n    acept: both\n  x: {timeout: -1s}\n")
	r = promcheck(t, "", "exporter", "--check-config", bad)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, "config "+bad, "field acept not found")
}

func TestExporterUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"exporter", "http://x"}, `takes no arguments, got "http://x"`},
		{[]string{"exporter", "--max-concurrent", "-1"}, "--max-concurrent -1: want a number >= 0"},
		{[]string{"exporter", "--store-max-entries", "0"}, "--store-max-entries 0: want at least 1"},
		{[]string{"exporter", "--store-max-bytes", "0"}, "--store-max-bytes 0"},
		{[]string{"exporter", "--store-ttl", "0s"}, "--store-ttl 0s"},
		{[]string{"exporter", "--history", "0"}, "--history 0"},
		{[]string{"exporter", "--timeout-margin", "0s"}, "--timeout-margin 0s"},
		{[]string{"exporter", "--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{[]string{"exporter", "--config", "/nonexistent.yml"}, "config /nonexistent.yml: no such file or directory"},
		{[]string{"exporter", "--listen", "127.0.0.1:99999"}, "listen on 127.0.0.1:99999"},
	} {
		r := promcheck(t, "", c.args...)
		wantExit(t, r, exitCannotCheck)
		wantContains(t, r.stderr, c.want)
	}
}

// The exporter serves probes, reloads its module file on SIGHUP (keeping
// the current modules when the file is broken) and shuts down on SIGTERM.
func TestExporterRunsAndReloads(t *testing.T) {
	target := server(t, scrapetest.Good()).URL + "/metrics"
	config := writeFile(t, "modules.yml", "modules:\n  one: {}\n")
	base, cmd, stderr := startListening(t, "exporter", "--listen", "127.0.0.1:0", "--config", config)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") {
		t.Fatalf("first line %q is not the exporter's URL", base)
	}
	probe := func(module string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + "probe?" + url.Values{"target": {target}, "module": {module}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := probe("one"); status != http.StatusOK || !strings.Contains(body, "promcheck_probe_success 1\n") {
		t.Fatalf("probe: %d\n%s", status, body)
	}
	// Its own outputs pass the check, strictly, across scrapes.
	for _, u := range []string{base + "metrics", base + "probe?" + url.Values{"target": {target}, "module": {"one"}}.Encode()} {
		r := promcheck(t, "", "check", "--schema", "none", "--strict", "--accept", "both", "--scrapes", "2", "--interval", "10ms", u)
		wantExit(t, r, exitConforms)
	}

	if err := os.WriteFile(config, []byte("modules:\n  two: {schema: none}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "module two after SIGHUP", func() error {
		if status, body := probe("two"); status != http.StatusOK {
			return fmt.Errorf("%d %s", status, body)
		}
		return nil
	})
	if err := os.WriteFile(config, []byte("modules:\n  three: {schema: nope.yml}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the failed reload to be logged", func() error {
		if !strings.Contains(stderr.String(), "reload failed, keeping the current modules") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if status, body := probe("two"); status != http.StatusOK {
		t.Errorf("after a failed reload: %d %s", status, body)
	}
	if status, body := probe("one"); status != http.StatusBadRequest || !strings.Contains(body, `unknown module "one" (modules: two)`) {
		t.Errorf("a module removed by the reload: %d %s", status, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, stderr.String())
	}
	wantContains(t, stderr.String(), "promcheck exporter listening", "config reloaded", "probe refused", "promcheck exporter: shut down")
}

// waitUntil retries try for a few seconds.
func waitUntil(t *testing.T, what string, try func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
