package main

import (
	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// A target is one thing to check: a URL scraped one or more times, or
// files (or stdin) read as one exposition each.
type target struct {
	// Name is how reports name the target: the URL, the path, "-".
	Name string
	// URL is set for targets scraped over HTTP.
	URL string
	// Files are the paths ("-" for stdin) of a file target: one, or with
	// --sequence several, read as successive scrapes.
	Files []string
	// Labels are the target's labels from a fleet (targets file or
	// Prometheus): job, instance, and any others.
	Labels map[string]string
}

// targetResult is the outcome of checking one target.
type targetResult struct {
	Target target
	// Scrapes are the expositions checked, in order.
	Scrapes []scrapeResult
	// Err is set when the target could not be checked (completely): the
	// scrapes before the failure are kept and reported.
	Err error
}

// scrapeResult is one exposition checked.
type scrapeResult struct {
	// Name says which exposition this is: "scrape 2/3", or a file path.
	Name string
	// Accept is the Accept header sent, for HTTP scrapes.
	Accept string
	// AcceptName is "text" or "openmetrics", the --accept choice.
	AcceptName string
	// ContentType is the Content-Type served, or the one --format chose.
	ContentType string
	// StatusCode is the HTTP status, 0 for files.
	StatusCode int
	// Report is the check's verdict.
	Report *check.Report
}

// verdict of a target or a whole run.
type verdict int

const (
	verdictPass  verdict = iota // conforms
	verdictFail                 // checked, violations found
	verdictError                // could not be checked
)

func (v verdict) String() string {
	switch v {
	case verdictFail:
		return "fail"
	case verdictError:
		return "error"
	}
	return "pass"
}

// exitCode maps a verdict to the exit status.
func (v verdict) exitCode() int {
	switch v {
	case verdictFail:
		return exitViolations
	case verdictError:
		return exitCannotCheck
	}
	return exitConforms
}

func (r *targetResult) verdict() verdict {
	if r.Err != nil {
		return verdictError
	}
	for _, s := range r.Scrapes {
		if s.Report.Failed() {
			return verdictFail
		}
	}
	return verdictPass
}

// counts returns how many findings the target has of each severity.
func (r *targetResult) counts() severityCounts {
	var c severityCounts
	for _, s := range r.Scrapes {
		c.add(s.Report)
	}
	return c
}

func scrapeVerdict(r *check.Report) verdict {
	if r.Failed() {
		return verdictFail
	}
	return verdictPass
}

type severityCounts struct{ Errors, Warnings, Infos int }

func (c *severityCounts) add(r *check.Report) {
	c.Errors += r.Count(check.Error)
	c.Warnings += r.Count(check.Warning)
	c.Infos += r.Count(check.Info)
}

// runSummary is the roll-up of a run.
type runSummary struct {
	Targets, Passed, Failed, Errored int
	Findings                         severityCounts
	Verdict                          verdict
}

// summarize rolls results up: the worst verdict wins.
func summarize(results []*targetResult) runSummary {
	s := runSummary{Targets: len(results)}
	for _, r := range results {
		v := r.verdict()
		switch v {
		case verdictPass:
			s.Passed++
		case verdictFail:
			s.Failed++
		case verdictError:
			s.Errored++
		}
		s.Verdict = max(s.Verdict, v)
		for _, sc := range r.Scrapes {
			s.Findings.add(sc.Report)
		}
	}
	return s
}
