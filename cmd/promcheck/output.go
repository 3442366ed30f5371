package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// report writes the results in the --output format and returns the exit
// status: the worst verdict of any target.
func report(results []*targetResult, p *plan, e env) int {
	sum := summarize(results)
	var err error
	switch p.flags.output {
	case "json":
		err = writeJSON(e.stdout, results, sum, p)
	case "junit":
		err = writeJUnit(e.stdout, results, p.flags.maxFindings)
	case "github":
		err = writeGitHub(e.stdout, results, sum, p.flags.maxFindings)
	default:
		err = writeText(e.stdout, results, sum, p)
	}
	if p.flags.output != "text" {
		// Machine formats go to files and CI parsers; a person reading the
		// log still sees why a target could not be checked.
		for _, r := range results {
			if r.Err != nil {
				fmt.Fprintf(e.stderr, "promcheck: %v\n", r.Err)
			}
		}
		if sum.Interrupted {
			fmt.Fprintf(e.stderr, "promcheck: interrupted (SIGINT or SIGTERM): %s\n", interruptedNote(sum))
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck: writing the report: %v\n", err)
		return exitCannotCheck
	}
	return sum.Verdict.exitCode()
}

// summaryLine is the last line of the text and GitHub reports:
// "promcheck: FAIL: 3 targets: 2 pass, 1 fail, 0 could not be checked; ...".
func summaryLine(sum runSummary) string {
	verdict := strings.ToUpper(sum.Verdict.String())
	skipped := ""
	if sum.Interrupted {
		verdict = "INTERRUPTED"
		skipped = fmt.Sprintf(", %d not checked (interrupted)", sum.Skipped)
	}
	return fmt.Sprintf("promcheck: %s: %s: %d pass, %d fail, %d could not be checked%s; %s",
		verdict, plural(sum.Targets, "target"), sum.Passed, sum.Failed, sum.Errored, skipped, sum.Findings)
}

// interruptedNote says how partial the report of an interrupted run is.
func interruptedNote(sum runSummary) string {
	return fmt.Sprintf("the report is partial: %d of %s not checked", sum.Skipped, plural(sum.Targets, "target"))
}

// redirectNote says how a scrape reached its exposition:
// "after 302 to https://host/metrics".
func redirectNote(redirects []scrape.Redirect) string {
	parts := make([]string, len(redirects))
	for i, r := range redirects {
		parts[i] = r.String()
	}
	return "after " + strings.Join(parts, ", ")
}

// labelString renders labels sorted, as job="a" instance="b".
func labelString(labels map[string]string) string {
	var parts []string
	for _, name := range sortedKeys(labels) {
		parts = append(parts, fmt.Sprintf("%s=%q", name, labels[name]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// plural writes "1 error", "2 errors", "2 families".
func plural(n int, word string) string {
	switch {
	case n == 1:
		return fmt.Sprintf("%d %s", n, word)
	case strings.HasSuffix(word, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (c severityCounts) String() string {
	return fmt.Sprintf("%s, %s, %d info", plural(c.Errors, "error"), plural(c.Warnings, "warning"), c.Infos)
}

// scrapeTitle names a scrape in reports: "scrape 2/3 (Accept openmetrics)",
// "scrape (Accept from --header)".
func scrapeTitle(s scrapeResult) string {
	switch s.AcceptName {
	case "":
		return s.Name
	case acceptFromHeader:
		return s.Name + " (Accept from --header)"
	}
	return fmt.Sprintf("%s (Accept %s)", s.Name, s.AcceptName)
}

// servedAs names what a scrape was served as: its content-negotiation
// protocol and escaping scheme ("OpenMetricsText1.0.0 escaping=allow-utf-8"),
// or the format it was parsed as when its Content-Type named no protocol
// ("text" for a file without --content-type).
func servedAs(s scrapeResult) string {
	if s.Protocol == "" {
		return s.Format
	}
	if s.Escaping != "" {
		return fmt.Sprintf("%s escaping=%s", s.Protocol, s.Escaping)
	}
	return string(s.Protocol)
}

// write is a writer that keeps its first error, so the output functions
// can print freely and check once.
type write struct {
	w   io.Writer
	err error
}

func (w *write) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, format, args...)
	}
}

// seriesNote is " [series]" when the finding is about a series its message
// does not already quote, so that the sample is named once.
func seriesNote(f check.Finding) string {
	if f.Series == "" || strings.Contains(f.Message, f.Series) {
		return ""
	}
	return " [" + f.Series + "]"
}
