package main

import (
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// deadURL returns an http URL on a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/metrics"
}

// withPassword puts user:s3cret@ into an http URL.
func withPassword(url string) string {
	return strings.Replace(url, "http://", "http://user:s3cret@", 1)
}

// wantNoSecret fails the test if "s3cret" appears in what promcheck wrote.
func wantNoSecret(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.output(), "s3cret") {
		t.Errorf("the password leaked:\n%s", r)
	}
}

// A URL's password never reaches a report or an error, in any format:
// the URL appears with "xxxxx" in its place. Reports and logs are what CI
// archives.
func TestURLPasswordsNeverPrinted(t *testing.T) {
	good := withPassword(server(t, scrapetest.Good()).URL + "/metrics")
	bad := withPassword(server(t, scrapetest.Serve(200, scrapetest.ContentTypeText, badValue)).URL + "/metrics")
	dead := withPassword(deadURL(t))
	for _, output := range []string{"text", "json", "junit", "github"} {
		t.Run(output, func(t *testing.T) {
			r := promcheck(t, "", "check", "--output", output, "--timeout", "2s", good, bad, dead)
			wantExit(t, r, exitCannotCheck)
			wantNoSecret(t, r)
			wantContains(t, r.stdout, "http://user:xxxxx@127.0.0.1:")
			if output != "text" {
				wantContains(t, r.stderr, "promcheck: scrape http://user:xxxxx@127.0.0.1:")
			}
		})
	}
}

// Nor does a credential in the query string, as some exporters take a
// token (?token=, ?api_key=): its value appears as "xxxxx", the rest of
// the URL as given.
func TestQuerySecretsNeverPrinted(t *testing.T) {
	good := server(t, scrapetest.Good()).URL + "/metrics?module=x&token=s3cret"
	dead := strings.TrimSuffix(deadURL(t), "/metrics") + "/metrics?api_key=s3cret"
	for _, output := range []string{"text", "json", "junit", "github"} {
		t.Run(output, func(t *testing.T) {
			r := promcheck(t, "", "check", "--schema", "none", "--output", output, "--timeout", "2s", good, dead)
			wantExit(t, r, exitCannotCheck)
			wantNoSecret(t, r)
			wantContains(t, r.output(), "/metrics?api_key=xxxxx")
			if output != "github" { // which annotates only what did not pass
				wantContains(t, r.output(), "token=xxxxx")
			}
		})
	}
}

// Nor in the errors of --prometheus, --targets-file and the command line.
func TestURLPasswordsNeverInErrors(t *testing.T) {
	good, _ := fleetServers(t)
	body := `{"status":"success","data":{"activeTargets":[{"labels":{"job":"a"},"scrapeUrl":"http://user:s3cret@` + good + `/metrics/prometheus"}]}}`
	prom := withPassword(fakePrometheus(t, 200, body))
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"--prometheus unreachable", []string{"--prometheus", withPassword(strings.TrimSuffix(deadURL(t), "/metrics"))}, exitCannotCheck, "http://user:xxxxx@127.0.0.1:"},
		{"--prometheus not a URL", []string{"--prometheus", "user:s3cret@prometheus:9090"}, exitCannotCheck, `--prometheus "xxxxx@prometheus:9090": want an http:// or https:// URL`},
		{"--prometheus error status", []string{"--prometheus", withPassword(fakePrometheus(t, 503, "down"))}, exitCannotCheck, "prometheus http://user:xxxxx@127.0.0.1:"},
		{"--prometheus targets with passwords", []string{"--prometheus", prom}, exitConforms, "http://user:xxxxx@" + good + "/metrics/prometheus"},
		{"targets file address", []string{"--targets-file", writeFile(t, "t.json", `[{"targets": ["user:s3cret@127.0.0.1:9100"]}]`)}, exitCannotCheck,
			`target "xxxxx@127.0.0.1:9100": credentials do not go in the address; use --bearer-token-file, or --basic-auth-user and --basic-auth-password-file`},
		{"unsupported scheme", []string{"ftp://user:s3cret@host/metrics"}, exitCannotCheck, `target "ftp://user:xxxxx@host/metrics": only http:// and https:// URLs can be scraped`},
		{"unparsable URL", []string{"http://user:s3%zzcret@127.0.0.1:1/metrics"}, exitCannotCheck, "scrape http://xxxxx@127.0.0.1:1/metrics: invalid URL: it does not parse"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := promcheck(t, "", append([]string{"check", "--timeout", "2s"}, c.args...)...)
			wantExit(t, r, c.code)
			wantNoSecret(t, r)
			wantContains(t, r.output(), c.want)
		})
	}
}

// A malformed --header is refused without echoing it: "Authorization
// Bearer X" lacks its colon, and X is a secret.
func TestHeaderValuesNeverEchoed(t *testing.T) {
	good := writeFile(t, "good.prom", goodText)
	for _, h := range []string{"Authorization Bearer s3cret", "Authorization Bearer s3cret: x", "s3cret"} {
		r := promcheck(t, "", "check", "--header", h, good)
		wantExit(t, r, exitCannotCheck)
		wantNoSecret(t, r)
		wantContains(t, r.stderr, `--header number 1 of 1: want "Name: value"`)
	}
}

// An https target that redirects to http is not followed: the bearer
// token would cross the network in cleartext, and the report said PASS.
func TestHTTPSRedirectToHTTPRefused(t *testing.T) {
	var plainRequests atomic.Int64
	plain := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainRequests.Add(1)
		scrapetest.Good().ServeHTTP(w, r)
	}))
	secure := httptest.NewUnstartedServer(http.RedirectHandler(plain.URL+"/metrics", http.StatusFound))
	secure.Config.ErrorLog = log.New(io.Discard, "", 0)
	secure.StartTLS()
	t.Cleanup(secure.Close)
	ca := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})))
	token := writeFile(t, "token", "s3cret\n")
	url := secure.URL + "/metrics"

	r := promcheck(t, "", "check", "--ca-file", ca, "--bearer-token-file", token, url)
	wantExit(t, r, exitCannotCheck)
	wantNoSecret(t, r)
	wantContains(t, r.stdout, "ERROR: could not check: scrape "+url+": redirect from https to "+plain.URL+"/metrics refused: it would send the request and its credentials in cleartext")
	if n := plainRequests.Load(); n != 0 {
		t.Errorf("the http server got %d requests", n)
	}
}

// Every redirect followed is in the report, in every format, and an
// error after a redirect names where it led.
func TestRedirectsInReports(t *testing.T) {
	target := server(t, scrapetest.Good())
	front := server(t, http.RedirectHandler(target.URL+"/metrics/prometheus", http.StatusFound))
	url := front.URL + "/metrics"
	note := "after 302 to " + target.URL + "/metrics/prometheus"
	for _, c := range []struct{ output, want string }{
		{"text", "  scrape (Accept text): PrometheusText0.0.4, HTTP 200 " + note + ", 16 samples in 6 families: no findings\n"},
		{"junit", `<property name="redirect" value="scrape (Accept text): ` + note + `"></property>`},
		{"github", "::notice title=redirect::" + url + " scrape (Accept text): " + note + "\n"},
	} {
		r := promcheck(t, "", "check", "--output", c.output, url)
		wantExit(t, r, exitConforms)
		wantContains(t, r.stdout, c.want)
	}
	r := promcheck(t, "", "check", "--output", "json", url)
	wantExit(t, r, exitConforms)
	redirects := decodeJSON(t, r).Targets[0].Scrapes[0].Redirects
	if len(redirects) != 1 || redirects[0].Status != 302 || redirects[0].URL != target.URL+"/metrics/prometheus" {
		t.Errorf("JSON redirects %+v", redirects)
	}

	// A redirect to a dead port: the error names where the scrape went.
	dead := deadURL(t)
	toDead := server(t, http.RedirectHandler(dead, http.StatusMovedPermanently)).URL + "/metrics"
	r = promcheck(t, "", "check", "--timeout", "2s", toDead)
	wantExit(t, r, exitCannotCheck)
	wantOneLineError(t, r, fmt.Sprintf("scrape %s (301 to %s): connection refused (is the target up and listening there?)", toDead, dead))
}

// A 401 or 403 after credentials were sent says they were refused.
func TestRefusedCredentialsHint(t *testing.T) {
	url := server(t, scrapetest.Serve(401, "text/plain", "no\n")).URL + "/metrics"
	token := writeFile(t, "token", "s3cret\n")
	r := promcheck(t, "", "check", "--bearer-token-file", token, url)
	wantExit(t, r, exitCannotCheck)
	wantNoSecret(t, r)
	wantOneLineError(t, r, "scrape "+url+": server returned HTTP status 401 Unauthorized (the credentials sent were refused: check --bearer-token-file, or --basic-auth-user and --basic-auth-password-file)")
}
