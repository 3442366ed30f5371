package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// slowFleet serves the good exposition after a delay, and fires started
// when the nth request arrives; it returns a targets file of n targets.
func slowFleet(t *testing.T, targets, nth int, delay time.Duration) (file string, started <-chan time.Time) {
	t.Helper()
	fire := make(chan time.Time, 1)
	var requests atomic.Int64
	srv := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == int64(nth) {
			fire <- time.Now()
		}
		select {
		case <-time.After(delay):
			scrapetest.Good().ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	var groups []string
	for i := range targets {
		groups = append(groups, fmt.Sprintf(`{"targets": [%q], "labels": {"__param_n": "%d"}}`, strings.TrimPrefix(srv.URL, "http://"), i))
	}
	return writeFile(t, "fleet.json", "["+strings.Join(groups, ",")+"]"), fire
}

// Ctrl-C in the middle of a fleet: promcheck stops promptly and reports
// what it checked; the report says it was interrupted, and the targets it
// never got to are "not checked (interrupted)", not scrape errors (which
// once made a dashboard show 195 broken targets). Exit 2.
func TestInterruptedFleet(t *testing.T) {
	summary := regexp.MustCompile(`\npromcheck: INTERRUPTED: 20 targets: (\d+) pass, 0 fail, 0 could not be checked, (\d+) not checked \(interrupted\); `)
	for _, output := range []string{"text", "json", "junit", "github"} {
		t.Run(output, func(t *testing.T) {
			// 20 targets, 2 at a time, 300ms each: SIGINT when the 5th
			// request arrives leaves 3 or 4 checked, the one or two in
			// flight and the rest not checked.
			file, fifth := slowFleet(t, 20, 5, 300*time.Millisecond)
			r := promcheckInterrupted(t, fifth, "check", "--parallel", "2", "--output", output, "--targets-file", file)
			wantExit(t, r, exitCannotCheck)
			if strings.Contains(r.output(), "canceled") || strings.Contains(r.output(), "could not check") {
				t.Errorf("interrupted targets reported as errors:\n%s", r)
			}
			// passed and skipped are what the report says; each target is
			// one or the other.
			var passed, skipped int
			switch output {
			case "text":
				if !strings.HasPrefix(r.stdout, "promcheck: INTERRUPTED (SIGINT or SIGTERM): the report is partial: ") {
					t.Errorf("the report does not start by saying it was interrupted:\n%s", r.stdout)
				}
				passed = strings.Count(r.stdout, "  PASS: ")
				skipped = strings.Count(r.stdout, "  NOT CHECKED (interrupted)\n")
				m := summary.FindStringSubmatch(r.stdout)
				if m == nil || m[1] != strconv.Itoa(passed) || m[2] != strconv.Itoa(skipped) {
					t.Errorf("summary line %q for %d passed, %d not checked", m, passed, skipped)
				}
			case "json":
				rep := decodeJSON(t, r)
				s := rep.Summary
				if !rep.Interrupted || rep.Verdict != "error" || rep.ExitCode != 2 || s.Errored != 0 || s.Failed != 0 {
					t.Errorf("interrupted %v, verdict %s, exit %d, summary %+v", rep.Interrupted, rep.Verdict, rep.ExitCode, s)
				}
				for _, tg := range rep.Targets {
					switch tg.Verdict {
					case "pass":
						passed++
					case "skipped":
						skipped++
					}
				}
				if s.Passed != passed || s.Skipped != skipped {
					t.Errorf("summary %+v for %d passed, %d skipped", s, passed, skipped)
				}
				wantContains(t, r.stderr, fmt.Sprintf("promcheck: interrupted (SIGINT or SIGTERM): the report is partial: %d of 20 targets not checked", skipped))
			case "junit":
				doc := parseJUnit(t, r)
				if doc.Errors != 0 || doc.Failures != 0 {
					t.Errorf("interrupted targets as errors or failures: %d, %d", doc.Errors, doc.Failures)
				}
				for _, s := range doc.Suites {
					switch {
					case len(s.Cases) == 1 && s.Cases[0].Skipped != nil && s.Cases[0].Skipped.Message == "not checked (interrupted)":
						skipped++
					case len(s.Cases) == 1 && s.Cases[0].Skipped == nil:
						passed++
					}
				}
				wantContains(t, r.stdout, fmt.Sprintf(`skipped="%d"`, skipped))
			case "github":
				m := regexp.MustCompile(`^::notice title=promcheck::interrupted \(SIGINT or SIGTERM\): the report is partial: (\d+) of 20 targets not checked\n`).FindStringSubmatch(r.stdout)
				if m == nil {
					t.Fatalf("no notice first:\n%s", r.stdout)
				}
				skipped, _ = strconv.Atoi(m[1])
				if strings.Contains(r.stdout, "::error") {
					t.Errorf("interrupted targets annotated as errors:\n%s", r.stdout)
				}
				sm := summary.FindStringSubmatch(r.stdout)
				if sm == nil || sm[2] != m[1] {
					t.Errorf("summary line %q, notice %q", sm, m)
				}
				passed, _ = strconv.Atoi(sm[1])
			}
			if passed+skipped != 20 || passed < 3 || passed > 4 {
				t.Errorf("%d passed and %d not checked; want 3 or 4 passed, the rest of the 20 not checked:\n%s", passed, skipped, r)
			}
		})
	}
}

// Interrupted between two scrapes of one target, the scrapes done are
// reported and the target is not checked.
func TestInterruptedBetweenScrapes(t *testing.T) {
	r := promcheckInterrupted(t, time.After(700*time.Millisecond), "check", "--scrapes", "3", "--interval", "500ms", scrapetestURL(t))
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "scrape 1/3", "scrape 2/3", "  NOT CHECKED (interrupted) after 2 scrapes: 0 errors", "promcheck: INTERRUPTED: 1 target: 0 pass, 0 fail, 0 could not be checked, 1 not checked (interrupted)")
}
