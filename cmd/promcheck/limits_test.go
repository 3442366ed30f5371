package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// goQuoted is a valid exposition (with --schema none) whose n samples each
// carry a Go-quoted `\t` in a label value: n identical spec.escape-go-quote
// errors, on lines 3 to n+2, column 12.
func goQuoted(n int) string {
	var b strings.Builder
	b.WriteString("# HELP a_total Things.\n# TYPE a_total counter\n")
	for i := range n {
		fmt.Fprintf(&b, "a_total{x=\"\\t%d\"} 1\n", i)
	}
	return b.String()
}

// --max-findings lists the first findings of each rule per target and
// counts the rest, the same in every output format; the summary counts
// all of them.
func TestMaxFindingsEveryFormat(t *testing.T) {
	file := writeFile(t, "quoted.prom", goQuoted(30))
	args := func(output string) []string {
		return []string{"check", "--schema", "none", "--max-findings", "5", "--output", output, file}
	}

	r := promcheck(t, "", args("text")...)
	wantExit(t, r, exitViolations)
	// The five identical findings read as one line listing their places.
	if n := strings.Count(r.stdout, "spec.escape-go-quote: escape"); n != 1 {
		t.Errorf("%d lines of spec.escape-go-quote findings, want the 5 kept grouped in 1:\n%s", n, r.stdout)
	}
	wantContains(t, r.stdout,
		"      lines 3:12, 4:12, 5:12, 6:12, 7:12: error spec.escape-go-quote: escape `\\t`",
		"    and 25 more like this: error spec.escape-go-quote (--max-findings 5",
		"FAILS, 30 errors, 0 warnings, 0 info",
		// Where to read more, once per rule reported.
		"Read more about a rule: promcheck explain RULE, or docs/rules.md#RULE (spec.escape-go-quote)",
		"; 30 errors, 0 warnings, 0 info (schema none)")

	r = promcheck(t, "", args("json")...)
	wantExit(t, r, exitViolations)
	rep := decodeJSON(t, r)
	sc := rep.Targets[0].Scrapes[0]
	if len(sc.Findings) != 5 || sc.Findings[4].Line != 7 || len(sc.Omitted) != 1 ||
		sc.Omitted[0].Rule != "spec.escape-go-quote" || sc.Omitted[0].Severity != "error" || sc.Omitted[0].Count != 25 ||
		sc.Omitted[0].Explain != "promcheck explain spec.escape-go-quote" || sc.Omitted[0].Doc != "docs/rules.md#spec.escape-go-quote" {
		t.Errorf("JSON scrape: %d findings, omitted %+v", len(sc.Findings), sc.Omitted)
	}
	if rep.MaxFindings != 5 || rep.Summary.Errors != 30 {
		t.Errorf("JSON: max_findings %d, %d errors; want 5, 30", rep.MaxFindings, rep.Summary.Errors)
	}

	r = promcheck(t, "", args("junit")...)
	wantExit(t, r, exitViolations)
	doc := parseJUnit(t, r)
	c := doc.Suites[0].Cases
	if len(c) != 1 || c[0].Failure == nil || !strings.HasPrefix(c[0].Failure.Message, "30 findings: line 3:12: error spec.escape-go-quote") ||
		strings.Count(c[0].Failure.Text, "\n") != 7 || !strings.Contains(c[0].Failure.Text, "and 25 more like this: error spec.escape-go-quote") ||
		!strings.HasSuffix(c[0].Failure.Text, "read more: promcheck explain spec.escape-go-quote; docs/rules.md#spec.escape-go-quote\n") {
		t.Errorf("JUnit: %+v", doc.Suites[0])
	}

	r = promcheck(t, "", args("github")...)
	wantExit(t, r, exitViolations)
	annotations := regexp.MustCompile(`(?m)^::error title=spec\.escape-go-quote::|^::error file=[^\n]*title=spec\.escape-go-quote::`).FindAllString(r.stdout, -1)
	if len(annotations) != 6 || !strings.Contains(r.stdout, "::error title=spec.escape-go-quote::"+file+" : and 25 more like this") &&
		!strings.Contains(r.stdout, "::error title=spec.escape-go-quote::"+file+": and 25 more like this") {
		t.Errorf("GitHub: %d annotations of the rule, want 5 and one counting the rest:\n%s", len(annotations), r.stdout)
	}
	wantContains(t, r.stdout, "30 errors, 0 warnings, 0 info")
	if n := strings.Count(r.stdout, "(promcheck explain spec.escape-go-quote; docs/rules.md#spec.escape-go-quote)"); n != 5 {
		t.Errorf("GitHub: %d annotations name where to read more, want 5 (and the count of the rest):\n%s", n, r.stdout)
	}
	wantContains(t, r.stdout, "the first 5 of each rule per target are annotated; promcheck explain spec.escape-go-quote; docs/rules.md#spec.escape-go-quote)")
}

// The cap is per target: across the scrapes of one target the first
// --max-findings of a rule are listed, the later ones only counted. The
// default keeps 20; 0 keeps all.
func TestMaxFindingsPerTarget(t *testing.T) {
	file := writeFile(t, "quoted.prom", goQuoted(30))
	kept := func(sc struct{ findings, omitted int }) string { return fmt.Sprint(sc) }
	for _, c := range []struct {
		name string
		args []string
		want []struct{ findings, omitted int } // per scrape
	}{
		{"default", []string{file}, []struct{ findings, omitted int }{{20, 10}}},
		{"no limit", []string{"--max-findings", "0", file}, []struct{ findings, omitted int }{{30, 0}}},
		{"sequence", []string{"--max-findings", "25", "--sequence", file, file}, []struct{ findings, omitted int }{{25, 5}, {0, 30}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := promcheck(t, "", append([]string{"check", "--schema", "none", "--output", "json"}, c.args...)...)
			wantExit(t, r, exitViolations)
			rep := decodeJSON(t, r)
			scrapes := rep.Targets[0].Scrapes
			if len(scrapes) != len(c.want) {
				t.Fatalf("%d scrapes, want %d", len(scrapes), len(c.want))
			}
			for i, sc := range scrapes {
				got := struct{ findings, omitted int }{len(sc.Findings), 0}
				for _, o := range sc.Omitted {
					got.omitted += o.Count
				}
				if got != c.want[i] {
					t.Errorf("scrape %d: %s, want %s", i+1, kept(got), kept(c.want[i]))
				}
			}
			if rep.Summary.Errors != 30*len(c.want) {
				t.Errorf("%d errors, want %d", rep.Summary.Errors, 30*len(c.want))
			}
		})
	}
	r := promcheck(t, "", "check", "--max-findings", "-1", file)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, "--max-findings -1: want 0 (no limit) or more")
}

// A rule that fires on every line costs --max-findings findings, not one
// per line: 1e6 duplicate samples (4 MB, well within --max-bytes) once took
// 1.8 GB and a 280 MB JSON report. (3e6 of them, measured by hand under
// testdata/peakrss: 462 MB, a report of 2.5 kB in text and 9.3 kB in JSON.)
func TestMemoryWithAMillionFindings(t *testing.T) {
	file := writeFile(t, "dups.prom", strings.Repeat("a 1\n", 1_000_000))
	for _, output := range []string{"json", "text"} {
		t.Run(output, func(t *testing.T) {
			r := promcheckMemory(t, "", "check", "--schema", "none", "--output", output, file)
			wantExit(t, r, exitViolations)
			wantContains(t, r.stdout, "999999")
			t.Logf("peak memory %d MB, report %d bytes", r.maxRSS>>20, len(r.stdout))
			if r.maxRSS > 400<<20 {
				t.Errorf("peak memory %d MB, want < 400 MB", r.maxRSS>>20)
			}
			if len(r.stdout) > 100<<10 {
				t.Errorf("report of %d bytes, want < 100 kB", len(r.stdout))
			}
		})
	}
}

// largeExposition is a valid exposition of n series with two labels,
// about 40 bytes a line.
func largeExposition(n int) []byte {
	var b strings.Builder
	b.WriteString("# HELP big_metric A metric with many series.\n# TYPE big_metric gauge\n")
	for i := range n {
		fmt.Fprintf(&b, "big_metric{id=\"%07d\",shard=\"s%d\"} %d\n", i, i%16, i)
	}
	return []byte(b.String())
}

// serveBytes serves body as the text format, with its Content-Length.
func serveBytes(t *testing.T, body []byte) string {
	t.Helper()
	return server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})).URL
}

// fleetFile writes a file_sd targets file of n targets, all addr with a
// different query each, so each is its own target.
func fleetFile(t *testing.T, addr string, n int) string {
	t.Helper()
	var groups []string
	for i := range n {
		groups = append(groups, fmt.Sprintf(`{"targets": [%q], "labels": {"__param_n": "%d"}}`, addr, i))
	}
	return writeFile(t, fmt.Sprintf("fleet%d.json", n), "["+strings.Join(groups, ",")+"]")
}

// Memory follows --parallel, not the fleet: a target's expositions are
// dropped when it is done, reports keep findings only. For 8 and 32
// targets of 1e5 series (4 MB each) at --parallel 2, the largest heap the
// collector finds live is about the same (42-45 MB, 52-55 MB), where
// keeping every exposition to the end made it 146 MB and 504 MB; peak RSS
// follows, less steadily (it depends on when the collector ran). (16
// targets of 1e6 series, 43 MB each, measured by hand under
// testdata/peakrss: peak RSS 579-621 MB at --max-bytes 45000000, 717 MB at
// 64000000, 915-1000 MB at 100000000: the soft memory limit, memory.go,
// grows with --max-bytes.)
func TestMemoryFlatInFleetSize(t *testing.T) {
	addr := strings.TrimPrefix(serveBytes(t, largeExposition(100_000)), "http://")
	runs := map[int]result{}
	for _, n := range []int{8, 32} {
		r := promcheckMemory(t, "", "check", "--schema", "none", "--parallel", "2", "--targets-file", fleetFile(t, addr, n))
		wantExit(t, r, exitConforms)
		wantContains(t, r.stdout, fmt.Sprintf("promcheck: PASS: %d targets: %d pass", n, n))
		runs[n] = r
		t.Logf("%2d targets: live heap at most %d MB, peak RSS %d MB", n, r.maxLiveHeap>>20, r.maxRSS>>20)
	}
	wantFlat(t, "targets", 8, 32, runs)
}

// wantFlat fails the test when the memory of the larger run grows with n:
// when it doubles in live heap or grows 2.5 times in peak RSS, where
// keeping everything grows them 3 to 3.6 times. (Runs of the same size
// vary by up to half: the collector samples the heap when it runs.)
func wantFlat(t *testing.T, what string, small, large int, runs map[int]result) {
	t.Helper()
	s, l := runs[small], runs[large]
	if s.maxLiveHeap == 0 || l.maxLiveHeap == 0 {
		t.Fatalf("no collector trace: live heap %d and %d", s.maxLiveHeap, l.maxLiveHeap)
	}
	if l.maxLiveHeap > s.maxLiveHeap*2 {
		t.Errorf("live heap grows with the %s: %d MB for %d, %d MB for %d", what, s.maxLiveHeap>>20, small, l.maxLiveHeap>>20, large)
	}
	if l.maxRSS > s.maxRSS*5/2 {
		t.Errorf("peak RSS grows with the %s: %d MB for %d, %d MB for %d", what, s.maxRSS>>20, small, l.maxRSS>>20, large)
	}
}

// Successive scrapes keep only the previous exposition: 24 scrapes of a
// 1e5-series target take what 8 do, where keeping every exposition took
// 220 MB and 630 MB of RSS.
func TestMemoryFlatInScrapes(t *testing.T) {
	url := serveBytes(t, largeExposition(100_000))
	runs := map[int]result{}
	for _, n := range []int{8, 24} {
		r := promcheckMemory(t, "", "check", "--schema", "none", "--scrapes", strconv.Itoa(n), "--interval", "0s", url)
		wantExit(t, r, exitConforms)
		wantContains(t, r.stdout, fmt.Sprintf("in %d scrapes", n))
		runs[n] = r
		t.Logf("%2d scrapes: live heap at most %d MB, peak RSS %d MB", n, r.maxLiveHeap>>20, r.maxRSS>>20)
	}
	wantFlat(t, "scrapes", 8, 24, runs)
}

// The soft memory limit grows with --max-bytes, the targets in flight and
// the expositions each holds at once, and is never below minMemoryLimit.
func TestMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name     string
		maxBytes int64
		parallel int
		targets  int
		scrapes  int
		accept   string
		sequence bool
		want     int64
	}{
		{"defaults, at least the floor", 16 * mib, 4, 10, 1, "text", false, 512 * mib},
		{"fleet at --parallel 2", 64 * mib, 2, 16, 1, "text", false, (64 + 2*5*64) * mib},
		{"successive scrapes keep the previous", 64 * mib, 2, 16, 2, "text", false, (64 + 2*5*64*2) * mib},
		{"and one previous per format", 64 * mib, 2, 16, 2, "both", false, (64 + 2*5*64*3) * mib},
		{"fewer targets than --parallel", 64 * mib, 4, 1, 8, "text", false, (64 + 5*64*2) * mib},
		{"a sequence of files", 64 * mib, 4, 1, 1, "text", true, (64 + 5*64*2) * mib},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := checkFlags{maxBytes: c.maxBytes, parallel: c.parallel, scrapes: c.scrapes, sequence: c.sequence}
			p := &plan{flags: &f, targets: make([]target, c.targets), accepts: []acceptChoice{{"text", ""}}}
			if c.accept == "both" {
				p.accepts = append(p.accepts, acceptChoice{"openmetrics", ""})
			}
			if got := memoryLimit(p); got != c.want {
				t.Errorf("memoryLimit = %d MiB, want %d MiB", got/mib, c.want/mib)
			}
		})
	}
}
