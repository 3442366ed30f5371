package main

import (
	"maps"
	"slices"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
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
	// Interrupted is set when the run was interrupted (SIGINT, SIGTERM)
	// before the target was checked, or while it was: the scrapes before
	// are kept and reported. The target is then "not checked", neither
	// failed nor in error.
	Interrupted bool
}

// scrapeResult is one exposition checked: what the reports say of it. It
// holds findings, never the body or the parsed exposition, so that a
// fleet's report costs its findings, not its expositions.
type scrapeResult struct {
	// Name says which exposition this is: "scrape 2/3", or a file path.
	Name string
	// Accept is the Accept header sent, for HTTP scrapes (several lines
	// joined with ", ").
	Accept string
	// AcceptName names the --accept choice: "text", "openmetrics", a
	// preset ("prometheus3"), the protocol list as given, or "header" for
	// an Accept header given with --header.
	AcceptName string
	// ContentType is the Content-Type served, or --content-type for a
	// file ("" when not given).
	ContentType string
	// StatusCode is the HTTP status, 0 for files.
	StatusCode int
	// Redirects are the redirects followed to the exposition.
	Redirects []scrape.Redirect
	// Format is how the exposition was parsed ("text", "openmetrics",
	// "protobuf", "openmetrics2"), or "unknown" when there was no body to
	// parse.
	Format string
	// Protocol is the content-negotiation protocol the Content-Type named
	// (check.Exposition.Protocol), and Escaping its escaping scheme; both
	// empty when it named none (a file without --content-type).
	Protocol check.Protocol
	Escaping check.EscapingScheme
	// Parsed is whether there was an exposition to judge; Samples and
	// Families count what was judged.
	Parsed            bool
	Samples, Families int
	// Findings are the findings reported, at most --max-findings of each
	// rule per target, sorted by line.
	Findings []check.Finding
	// Omitted counts, by rule, the findings past --max-findings.
	Omitted []check.Omission
	// Counts are the findings by severity, the omitted ones included.
	Counts severityCounts
	// Failed is whether the exposition fails the check; Strict whether
	// warnings fail it.
	Failed, Strict bool
	// facts keeps, for URLs, what http.negotiation-preference is judged on
	// (rejudgePreference); nil for files.
	facts *check.HTTPFacts
}

// judged completes s with the verdict of report, keeping only what the
// reports need: the findings the target's cap lets through, counts, and
// the size of the exposition. The report itself can then be dropped.
func (s scrapeResult) judged(report *check.Report, limit *findingsCap) scrapeResult {
	s.Format = "unknown"
	if exp := report.Exposition; exp != nil {
		s.Format = exp.Format.String()
		s.Protocol, s.Escaping = exp.Protocol, exp.Escaping
		s.Parsed, s.Samples, s.Families = true, len(exp.Samples), len(exp.Families)
	}
	s.Findings, s.Omitted = limit.apply(report)
	s.Counts.add(report)
	s.Failed, s.Strict = report.Failed(), report.Strict
	return s
}

// findingsCap keeps the first max findings of each rule across the scrapes
// of one target and counts the rest, so that a rule that fires on every
// line of every scrape reports max findings, then "and N more like this".
// The engine applies the same cap within one check
// (check.Options.MaxFindingsPerRule), so the findings past it are never
// even made. A max of 0 keeps every finding.
type findingsCap struct {
	max   int
	shown map[string]int
}

func newFindingsCap(max int) *findingsCap {
	return &findingsCap{max: max, shown: map[string]int{}}
}

// apply returns the findings of report the cap lets through and, by rule,
// the count of those it leaves out (the engine's omissions included).
func (c *findingsCap) apply(report *check.Report) ([]check.Finding, []check.Omission) {
	if c.max <= 0 {
		return report.Findings, report.Omitted
	}
	var kept []check.Finding
	omitted := map[string]check.Omission{}
	for _, f := range report.Findings {
		if c.shown[f.Rule] < c.max {
			c.shown[f.Rule]++
			kept = append(kept, f)
			continue
		}
		o := omitted[f.Rule]
		o.Rule, o.Severity = f.Rule, f.Severity
		o.Count++
		omitted[f.Rule] = o
	}
	for _, e := range report.Omitted {
		o := omitted[e.Rule]
		o.Rule, o.Severity = e.Rule, e.Severity
		o.Count += e.Count
		omitted[e.Rule] = o
	}
	out := make([]check.Omission, 0, len(omitted))
	for _, rule := range slices.Sorted(maps.Keys(omitted)) {
		out = append(out, omitted[rule])
	}
	return kept, out
}

// add adds a finding made after the scrape was judged to it, or counts it
// as omitted when the cap is reached, and updates the scrape's counts and
// verdict.
func (c *findingsCap) add(s *scrapeResult, f check.Finding) {
	switch f.Severity {
	case check.Error:
		s.Counts.Errors++
	case check.Warning:
		s.Counts.Warnings++
	default:
		s.Counts.Infos++
	}
	s.Failed = s.Failed || fails(f.Severity, s.Strict)
	if c.max <= 0 || c.shown[f.Rule] < c.max {
		c.shown[f.Rule]++
		// Findings are sorted by where they are; this one is about the
		// response, at line 0, before the first that has a place.
		at := slices.IndexFunc(s.Findings, func(g check.Finding) bool { return g.Line > 0 || g.MessageIndex > 0 })
		if at < 0 {
			at = len(s.Findings)
		}
		s.Findings = slices.Insert(s.Findings, at, f)
		return
	}
	i, found := slices.BinarySearchFunc(s.Omitted, f.Rule, func(o check.Omission, rule string) int { return strings.Compare(o.Rule, rule) })
	if !found {
		s.Omitted = slices.Insert(s.Omitted, i, check.Omission{Rule: f.Rule, Severity: f.Severity})
	}
	s.Omitted[i].Count++
}

// verdict of a target or a whole run.
type verdict int

const (
	verdictPass    verdict = iota // conforms
	verdictFail                   // checked, violations found
	verdictSkipped                // not checked: the run was interrupted
	verdictError                  // could not be checked
)

func (v verdict) String() string {
	switch v {
	case verdictFail:
		return "fail"
	case verdictSkipped:
		return "skipped"
	case verdictError:
		return "error"
	}
	return "pass"
}

// exitCode maps a verdict to the exit status. An interrupted run could not
// check everything: 2, like an error.
func (v verdict) exitCode() int {
	switch v {
	case verdictFail:
		return exitViolations
	case verdictSkipped, verdictError:
		return exitCannotCheck
	}
	return exitConforms
}

func (r *targetResult) verdict() verdict {
	if r.Err != nil {
		return verdictError
	}
	if r.Interrupted {
		return verdictSkipped
	}
	for _, s := range r.Scrapes {
		if s.Failed {
			return verdictFail
		}
	}
	return verdictPass
}

// counts returns how many findings the target has of each severity.
func (r *targetResult) counts() severityCounts {
	var c severityCounts
	for _, s := range r.Scrapes {
		c.plus(s.Counts)
	}
	return c
}

func (s scrapeResult) verdict() verdict {
	if s.Failed {
		return verdictFail
	}
	return verdictPass
}

type severityCounts struct{ Errors, Warnings, Infos int }

// add counts the findings of a report, the omitted ones included.
func (c *severityCounts) add(r *check.Report) {
	c.Errors += r.Count(check.Error)
	c.Warnings += r.Count(check.Warning)
	c.Infos += r.Count(check.Info)
}

func (c *severityCounts) plus(o severityCounts) {
	c.Errors += o.Errors
	c.Warnings += o.Warnings
	c.Infos += o.Infos
}

// runSummary is the roll-up of a run.
type runSummary struct {
	Targets, Passed, Failed, Errored int
	// Skipped counts the targets not checked because the run was
	// interrupted; Interrupted says whether it was.
	Skipped     int
	Interrupted bool
	Findings    severityCounts
	Verdict     verdict
}

// summarize rolls results up: the worst verdict wins, and an interrupted
// run is an error (it could not check everything).
func summarize(results []*targetResult) runSummary {
	s := runSummary{Targets: len(results)}
	for _, r := range results {
		v := r.verdict()
		switch v {
		case verdictPass:
			s.Passed++
		case verdictFail:
			s.Failed++
		case verdictSkipped:
			s.Skipped++
			s.Interrupted = true
			v = verdictError
		case verdictError:
			s.Errored++
		}
		s.Verdict = max(s.Verdict, v)
		s.Findings.plus(r.counts())
	}
	return s
}
