package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// Expositions the file tests check.
var (
	// goodText and goodOpenMetrics conform to the deploy schema.
	goodText        = scrapetest.Text
	goodOpenMetrics = scrapetest.OpenMetrics
	// badValue has a fractional count: schema.value, an error, on line 4.
	badValue = strings.Replace(goodText, `result="success"} 7`, `result="success"} 7.5`, 1)
	// warningOnly is a valid exposition whose only finding (without a
	// schema) is a warning: a family without HELP.
	warningOnly = "# TYPE jobs_processed_total counter\njobs_processed_total 3\n"
	// notAnExposition fails Prometheus's parser.
	notAnExposition = "<html>hello</html>\n"
)

// lower returns the good exposition with one counter lower, for
// successive-scrape rules.
var lower = strings.Replace(goodText, `result="success"} 7`, `result="success"} 6`, 1)

func TestFileVerdicts(t *testing.T) {
	for _, c := range []struct {
		name, body string
		args       []string
		code       int
		want       []string
	}{
		{"good text", goodText, nil, exitConforms, []string{"PASS", "no findings", "16 samples in 6 families"}},
		{"good openmetrics sniffed", goodOpenMetrics, nil, exitConforms, []string{"openmetrics", "no findings"}},
		{"bad value", badValue, nil, exitViolations, []string{"FAIL", "certctl_deploy_attempts_total", "line 3: error schema.value"}},
		{"not an exposition", notAnExposition, nil, exitViolations, []string{"format.rejected"}},
		{"another exporter with the deploy schema", warningOnly, nil, exitViolations, []string{"schema.family-missing"}},
		{"another exporter with no schema", warningOnly, []string{"--schema", "none"}, exitConforms, []string{"warning lint.help", "PASS"}},
		{"warnings fail under --strict", warningOnly, []string{"--schema", "none", "--strict"}, exitViolations, []string{"warning lint.help", "FAIL", "strict"}},
		{"--disable a rule", warningOnly, []string{"--schema", "none", "--strict", "--disable", "lint.help"}, exitConforms, []string{"no findings"}},
		{"--disable a group", warningOnly, []string{"--schema", "none", "--strict", "--disable", "order,lint"}, exitConforms, []string{"no findings"}},
		{"--severity raises a rule", warningOnly, []string{"--schema", "none", "--severity", "lint.help=error"}, exitViolations, []string{"error lint.help"}},
		{"--severity lowers a group", badValue, []string{"--severity", "schema=info"}, exitConforms, []string{"info schema.value"}},
		{"--format text on OpenMetrics", goodOpenMetrics, []string{"--format", "text"}, exitViolations, []string{"text"}},
		{"--format openmetrics on text", goodText, []string{"--format", "openmetrics"}, exitViolations, []string{"format.rejected"}},
		{"--format openmetrics", goodOpenMetrics, []string{"--format", "openmetrics"}, exitConforms, []string{"openmetrics", "no findings"}},
		{"--format auto", goodText, []string{"--format", "auto"}, exitConforms, []string{"text"}},
		{"--namespace mismatch", goodText, []string{"--namespace", "acme"}, exitViolations, []string{"schema.family-missing"}},
		{"--namespace match", strings.ReplaceAll(goodText, "certctl_", "acme_"), []string{"--namespace", "acme"}, exitConforms, []string{"no findings"}},
		{"--max-bytes", goodText, []string{"--max-bytes", "100"}, exitCannotCheck, []string{"larger than the limit of 100 bytes (--max-bytes)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "metrics.prom", c.body)
			r := promcheck(t, "", append(append([]string{"check"}, c.args...), path)...)
			wantExit(t, r, c.code)
			wantContains(t, r.stdout, c.want...)
			wantContains(t, r.stdout, path)
		})
	}
}

func TestStdin(t *testing.T) {
	r := promcheck(t, goodOpenMetrics, "check", "-")
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "stdin: openmetrics", "PASS")
	r = promcheck(t, badValue, "check", "-")
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "schema.value")
	r = promcheck(t, goodText, "check", "--max-bytes", "10", "-")
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "read stdin: larger than the limit of 10 bytes")
}

func TestSequence(t *testing.T) {
	first := writeFile(t, "1.prom", goodText)
	second := writeFile(t, "2.prom", lower)
	// One by one, each file conforms.
	r := promcheck(t, "", "check", first, second)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "2 targets: 2 pass")
	// As successive scrapes of one target, the counter went down.
	r = promcheck(t, "", "check", "--sequence", first, second)
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "scrape.counter-decreased", "1 target: 0 pass, 1 fail")
	// In the other order it only went up.
	r = promcheck(t, "", "check", "--sequence", second, first)
	wantExit(t, r, exitConforms)
	// Stdin takes its place in a sequence.
	r = promcheck(t, lower, "check", "--sequence", first, "-")
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "scrape.counter-decreased")
}

func TestUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	r := promcheck(t, "", "check", filepath.Join(dir, "missing.prom"))
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "read "+filepath.Join(dir, "missing.prom")+": no such file or directory")
	r = promcheck(t, "", "check", dir)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "is a directory")
}

// Several targets: every one is reported, the worst verdict is the exit
// status.
func TestWorstVerdictWins(t *testing.T) {
	good := writeFile(t, "good.prom", goodText)
	bad := writeFile(t, "bad.prom", badValue)
	missing := filepath.Join(t.TempDir(), "missing.prom")
	r := promcheck(t, "", "check", good, bad)
	wantExit(t, r, exitViolations)
	r = promcheck(t, "", "check", missing, good, bad)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, good, bad, missing, "3 targets: 1 pass, 1 fail, 1 could not be checked")
	// Reported in the order given.
	if i, j, k := strings.Index(r.stdout, missing), strings.Index(r.stdout, good), strings.Index(r.stdout, bad); !(i < j && j < k) {
		t.Errorf("targets out of order:\n%s", r.stdout)
	}
}

func TestSchemaFile(t *testing.T) {
	schema := writeFile(t, "jobs.yaml", `name: jobs
families:
  - name: jobs_processed_total
    type: counter
    labels: []
    integer: true
`)
	metrics := writeFile(t, "jobs.prom", "# HELP jobs_processed_total Jobs processed.\n"+warningOnly)
	r := promcheck(t, "", "check", "--schema", schema, metrics)
	wantExit(t, r, exitConforms)
	wantContains(t, r.stdout, "schema "+schema)
	other := writeFile(t, "other.prom", "# HELP other_total Other.\n# TYPE other_total counter\nother_total 1\n")
	r = promcheck(t, "", "check", "--schema", schema, other)
	wantExit(t, r, exitViolations)
	wantContains(t, r.stdout, "schema.family-missing")
	broken := writeFile(t, "broken.yaml", "families: [{name: x, colour: red}]\n")
	r = promcheck(t, "", "check", "--schema", broken, other)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, "schema "+broken)
}

// The big file limit applies before the file is read whole.
func TestFileLargerThanLimitIsNotRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.prom")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 1 GiB file: if promcheck read it whole it would take seconds
	// and a gigabyte; bounded, it reads 1 KiB.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := promcheck(t, "", "check", "--max-bytes", "1024", path)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "larger than the limit of 1024 bytes")
}
