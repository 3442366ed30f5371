package main

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// outputTargets makes three targets: one that conforms, one that fails with
// an error on line 3 and one that cannot be read.
func outputTargets(t *testing.T) (good, bad, missing string) {
	t.Helper()
	return writeFile(t, "good.prom", goodText), writeFile(t, "bad.prom", badValue), filepath.Join(t.TempDir(), "missing.prom")
}

func TestOutputJSON(t *testing.T) {
	good, bad, missing := outputTargets(t)
	r := promcheck(t, "", "check", "--output", "json", good, bad, missing)
	wantExit(t, r, exitCannotCheck)
	rep := decodeJSON(t, r)
	if rep.Version != 1 || rep.Verdict != "error" || rep.ExitCode != 2 || rep.Schema != "deploy" || rep.Strict {
		t.Errorf("header %+v", rep)
	}
	s := rep.Summary
	if s.Targets != 3 || s.Passed != 1 || s.Failed != 1 || s.Errored != 1 || s.Errors != 1 || s.Warnings != 0 || s.Infos != 0 {
		t.Errorf("summary %+v", s)
	}
	if len(rep.Targets) != 3 {
		t.Fatalf("%d targets", len(rep.Targets))
	}
	g, b, m := rep.Targets[0], rep.Targets[1], rep.Targets[2]
	if g.Target != good || g.Verdict != "pass" || len(g.Files) != 1 || g.Files[0] != good || g.URL != "" || len(g.Scrapes) != 1 ||
		g.Scrapes[0].Format != "text" || g.Scrapes[0].Verdict != "pass" || g.Scrapes[0].Findings == nil {
		t.Errorf("good target %+v", g)
	}
	if b.Verdict != "fail" || len(b.Scrapes) != 1 || len(b.Scrapes[0].Findings) != 1 {
		t.Fatalf("bad target %+v", b)
	}
	f := b.Scrapes[0].Findings[0]
	if f.Rule != "schema.value" || f.Severity != "error" || f.Line != 3 || f.Family != "certctl_deploy_attempts_total" ||
		!strings.Contains(f.Series, `target_type="Apache"`) || f.Message == "" {
		t.Errorf("finding %+v", f)
	}
	// Where to read more about the rule.
	if f.Explain != "promcheck explain schema.value" || f.Doc != "docs/rules.md#schema.value" {
		t.Errorf("finding %+v: explain and doc do not name the rule's explanation", f)
	}
	if m.Verdict != "error" || !strings.Contains(m.Error, "read "+missing+": no such file") || len(m.Scrapes) != 0 {
		t.Errorf("missing target %+v", m)
	}
	// Arrays are [] rather than null, as documented.
	if !strings.Contains(r.stdout, `"findings": []`) || !strings.Contains(r.stdout, `"scrapes": []`) {
		t.Errorf("empty arrays are not []:\n%s", r.stdout)
	}
	// A machine format keeps stdout parseable and tells the person on stderr.
	wantContains(t, r.stderr, "promcheck: read "+missing)
}

// The JUnit report, parsed back as XML.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			ClassName string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, r result) junitDoc {
	t.Helper()
	if !strings.HasPrefix(r.stdout, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML header:\n%s", r.stdout)
	}
	var doc junitDoc
	if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parsing the JUnit report: %v\n%s", err, r)
	}
	return doc
}

func TestOutputJUnit(t *testing.T) {
	good, bad, missing := outputTargets(t)
	r := promcheck(t, "", "check", "--output", "junit", good, bad, missing)
	wantExit(t, r, exitCannotCheck)
	doc := parseJUnit(t, r)
	if len(doc.Suites) != 3 {
		t.Fatalf("%d suites", len(doc.Suites))
	}
	sumTests, sumFailures, sumErrors := 0, 0, 0
	for _, s := range doc.Suites {
		sumTests += s.Tests
		sumFailures += s.Failures
		sumErrors += s.Errors
		if s.Tests != len(s.Cases) {
			t.Errorf("suite %s: tests=%d for %d testcases", s.Name, s.Tests, len(s.Cases))
		}
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 || doc.Tests != sumTests || doc.Failures != sumFailures || doc.Errors != sumErrors {
		t.Errorf("totals %d/%d/%d, suites add up to %d/%d/%d", doc.Tests, doc.Failures, doc.Errors, sumTests, sumFailures, sumErrors)
	}
	// The good file: one passing testcase.
	g := doc.Suites[0]
	if g.Name != good || len(g.Cases) != 1 || g.Cases[0].Failure != nil || g.Cases[0].Error != nil {
		t.Errorf("good suite %+v", g)
	}
	// The bad file: a failure of schema.value, with the finding.
	b := doc.Suites[1]
	if b.Name != bad || b.Failures != 1 || len(b.Cases) != 1 {
		t.Fatalf("bad suite %+v", b)
	}
	c := b.Cases[0]
	if c.Name != "schema.value" || c.ClassName != bad || c.Failure == nil || c.Failure.Type != "schema.value" ||
		!strings.HasPrefix(c.Failure.Message, "1 finding: line 3: error schema.value") || !strings.Contains(c.Failure.Text, "7.5") {
		t.Errorf("bad testcase %+v", c)
	}
	// The missing file: an error testcase.
	m := doc.Suites[2]
	if len(m.Cases) != 1 || m.Cases[0].Error == nil || m.Cases[0].Error.Type != "could-not-check" || !strings.Contains(m.Cases[0].Error.Message, "no such file") {
		t.Errorf("missing suite %+v", m)
	}

	// A warning is a passing testcase that says so, unless --strict.
	warn := writeFile(t, "warn.prom", warningOnly)
	r = promcheck(t, "", "check", "--output", "junit", "--schema", "none", warn)
	wantExit(t, r, exitConforms)
	w := parseJUnit(t, r).Suites[0]
	if len(w.Cases) != 1 || w.Cases[0].Name != "lint.help" || w.Cases[0].Failure != nil || !strings.Contains(w.Cases[0].SystemOut, "warning lint.help") {
		t.Errorf("warning suite %+v", w)
	}
	r = promcheck(t, "", "check", "--output", "junit", "--strict", "--schema", "none", warn)
	wantExit(t, r, exitViolations)
	if doc := parseJUnit(t, r); doc.Failures != 1 || doc.Suites[0].Cases[0].Failure == nil || doc.Suites[0].Cases[0].Failure.Type != "lint.help" {
		t.Errorf("strict warning: %+v", doc)
	}
}

// JUnit for URL targets: a testcase per scrape, labelled suites.
func TestOutputJUnitURLs(t *testing.T) {
	good, _ := fleetServers(t)
	path := writeFile(t, "t.json", `[{"targets": ["`+good+`"], "labels": {"job": "deployer", "__metrics_path__": "/metrics/prometheus"}}]`)
	r := promcheck(t, "", "check", "--targets-file", path, "--accept", "both", "--scrapes", "2", "--interval", "0s", "--output", "junit")
	wantExit(t, r, exitConforms)
	doc := parseJUnit(t, r)
	// The labels, then the protocol of each scrape.
	if doc.Tests != 4 || doc.Failures != 0 || len(doc.Suites[0].Properties) != 6 {
		t.Fatalf("%+v", doc)
	}
	if p := doc.Suites[0].Properties[2]; p.Name != "protocol" || p.Value != "scrape 1/2 (Accept text): PrometheusText0.0.4" {
		t.Errorf("first protocol property: %+v", p)
	}
	if p := doc.Suites[0].Properties[3]; p.Name != "protocol" || p.Value != "scrape 1/2 (Accept openmetrics): OpenMetricsText1.0.0 escaping=underscores" {
		t.Errorf("second protocol property: %+v", p)
	}
	want := []string{"scrape 1/2 (Accept text)", "scrape 1/2 (Accept openmetrics)", "scrape 2/2 (Accept text)", "scrape 2/2 (Accept openmetrics)"}
	for i, c := range doc.Suites[0].Cases {
		if c.Name != want[i] {
			t.Errorf("testcase %d: %q, want %q", i, c.Name, want[i])
		}
	}
}

func TestOutputGitHub(t *testing.T) {
	good, bad, missing := outputTargets(t)
	warn := writeFile(t, "warn,odd:name.prom", warningOnly)
	srv := server(t, scrapetest.Serve(500, scrapetest.ContentTypeText, goodText))
	r := promcheck(t, "", "check", "--output", "github", good, bad, missing, srv.URL)
	wantExit(t, r, exitCannotCheck)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{
		`^::error file=` + regexp.QuoteMeta(bad) + `,line=3,title=schema\.value::` + regexp.QuoteMeta(bad) + ` line 3: .*7\.5.*$`,
		`^::error title=promcheck::could not check: read ` + regexp.QuoteMeta(missing) + `: no such file or directory$`,
		`^::error title=promcheck::could not check: scrape ` + regexp.QuoteMeta(srv.URL) + `: server returned HTTP status 500 Internal Server Error$`,
		`^promcheck: ERROR: 4 targets: 1 pass, 1 fail, 2 could not be checked; 1 error, 0 warnings, 0 info$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), r)
	}
	for i, pattern := range want {
		if !regexp.MustCompile(pattern).MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %q", i, lines[i], pattern)
		}
	}
	// Warnings are warning annotations; ':' and ',' in a file name are
	// escaped in properties, as the runner requires.
	r = promcheck(t, "", "check", "--output", "github", "--schema", "none", warn)
	wantExit(t, r, exitConforms)
	escaped := strings.NewReplacer(",", "%2C", ":", "%3A").Replace(warn)
	wantContains(t, r.stdout, "::warning file="+escaped+",line=1,title=lint.help::"+warn+" line 1: ")
	// A file given a --content-type names its protocol, as a scrape does.
	r = promcheck(t, "", "check", "--output", "github", "--schema", "none", "--content-type", check.PrometheusText1_0_0.ContentType(check.EscapingUnderscores), warn)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "::warning file="+escaped+",line=1,title=lint.help::"+warn+" [PrometheusText1.0.0 escaping=underscores] line 1: ")
}

func TestGitHubEscaping(t *testing.T) {
	if got := escapeData("100% done\r\nnext"); got != "100%25 done%0D%0Anext" {
		t.Errorf("escapeData: %q", got)
	}
	if got := escapeProperty("a:b,c%\n"); got != "a%3Ab%2Cc%25%0A" {
		t.Errorf("escapeProperty: %q", got)
	}
}

// The text report groups findings by family, with their lines.
func TestOutputTextGroupsByFamily(t *testing.T) {
	body := strings.Replace(badValue, `certctl_deploy_reload_failures_total{target_type="NGINX"} 1`, `certctl_deploy_reload_failures_total{target_type="NGINX"} 1.5`, 1)
	r := promcheck(t, "", "check", writeFile(t, "m.prom", body))
	wantExit(t, r, exitViolations)
	pattern := `    certctl_deploy_attempts_total\n      line 3: error schema\.value: [^\n]*\n` +
		`    certctl_deploy_reload_failures_total\n      line 14: error schema\.value: `
	if !regexp.MustCompile(pattern).MatchString(r.stdout) {
		t.Errorf("not grouped by family:\n%s", r.stdout)
	}
}

// The progress line shows only on a terminal, after the delay, and is
// erased at the end.
func TestProgress(t *testing.T) {
	var buf syncBuffer
	p := startProgress(&buf, true, 10*time.Millisecond, 3, 9)
	p.scrapeDone()
	p.targetDone()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), "1/3 targets, 1/9 scrapes") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.stop()
	out := buf.String()
	if !strings.HasPrefix(out, "\rpromcheck: ") || !strings.Contains(out, "1/3 targets, 1/9 scrapes") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("progress output %q", out)
	}

	var quiet syncBuffer
	p = startProgress(&quiet, false, 0, 3, 9)
	time.Sleep(20 * time.Millisecond)
	p.stop()
	if quiet.String() != "" {
		t.Errorf("progress off wrote %q", quiet.String())
	}
	// A run that ends before the delay draws nothing and erases nothing.
	p = startProgress(&quiet, true, time.Hour, 3, 9)
	p.stop()
	if quiet.String() != "" {
		t.Errorf("a quick run wrote %q", quiet.String())
	}

	// Through the binary, stderr is a pipe, never a terminal: no progress.
	r := promcheck(t, "", "check", "--scrapes", "2", "--interval", "1200ms", scrapetestURL(t))
	wantExit(t, r, exitConforms)
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress on a pipe: %q", r.stderr)
	}
}

// The plan turns the progress line on for a terminal, off for --quiet.
func TestProgressOnlyOnTerminal(t *testing.T) {
	for _, c := range []struct {
		terminal, quiet, want bool
	}{{true, false, true}, {true, true, false}, {false, false, false}} {
		f := checkFlags{schema: "none", output: "text", format: "auto", accept: multiFlag{"text"}, scrapes: 1, timeout: time.Second,
			maxBytes: 1, parallel: 1, quiet: c.quiet}
		p, err := newPlan(t.Context(), &f, []string{"x.prom"}, env{stderrIsTerminal: c.terminal})
		if err != nil {
			t.Fatal(err)
		}
		if p.progress != c.want {
			t.Errorf("terminal %v, quiet %v: progress %v", c.terminal, c.quiet, p.progress)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Identical findings in several protobuf messages read as one line
// listing the messages, as those on several lines list the lines.
func TestGroupIdenticalProtobufMessages(t *testing.T) {
	f := check.Finding{Rule: "spec.counter-value", Severity: check.Error, Family: "jobs_total", Message: "negative"}
	var findings []check.Finding
	for _, m := range []int{2, 5, 5, 9} {
		g := f
		g.MessageIndex = m
		findings = append(findings, g)
	}
	groups := groupIdentical(findings)
	if len(groups) != 1 {
		t.Fatalf("%d groups, want 1", len(groups))
	}
	if got, want := groups[0].String(), "messages 2, 5, 9: error spec.counter-value: negative"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := groupIdentical(findings[:1])[0].String(), "message 2: error spec.counter-value: negative"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
