package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// The JUnit XML report (--output junit), in the shape CI systems ingest
// (Jenkins, GitLab, GitHub test reporters): one testsuite per target; per
// scrape, one testcase per rule that fired, failed when one of its
// findings fails the check, or one passing testcase when the scrape has no
// findings; a target that could not be checked has a testcase with an
// <error>, one an interrupted run did not check a <skipped> testcase.
// The protocol each scrape was served in (when its Content-Type named
// one), and the redirects a scrape followed, are properties of its
// target's suite.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []*targetResult, maxFindings int) error {
	out := junitSuites{Name: "promcheck"}
	for _, r := range results {
		suite := junitSuite{Name: r.Target.Name}
		var props []junitProperty
		for _, name := range sortedKeys(r.Target.Labels) {
			props = append(props, junitProperty{Name: name, Value: r.Target.Labels[name]})
		}
		for _, s := range r.Scrapes {
			suite.Cases = append(suite.Cases, junitScrapeCases(r.Target.Name, s, maxFindings)...)
			if s.Protocol != "" {
				props = append(props, junitProperty{Name: "protocol", Value: scrapeTitle(s) + ": " + servedAs(s)})
			}
			if len(s.Redirects) > 0 {
				props = append(props, junitProperty{Name: "redirect", Value: scrapeTitle(s) + ": " + redirectNote(s.Redirects)})
			}
		}
		if len(props) > 0 {
			suite.Properties = &junitProperties{Property: props}
		}
		if r.Interrupted {
			suite.Cases = append(suite.Cases, junitCase{
				ClassName: r.Target.Name,
				Name:      "check",
				Skipped:   &junitSkipped{Message: "not checked (interrupted)"},
			})
		}
		if r.Err != nil {
			suite.Cases = append(suite.Cases, junitCase{
				ClassName: r.Target.Name,
				Name:      "check",
				Error:     &junitProblem{Message: r.Err.Error(), Type: "could-not-check", Text: r.Err.Error()},
			})
		}
		for _, c := range suite.Cases {
			suite.Tests++
			if c.Failure != nil {
				suite.Failures++
			}
			if c.Error != nil {
				suite.Errors++
			}
			if c.Skipped != nil {
				suite.Skipped++
			}
		}
		out.Tests += suite.Tests
		out.Failures += suite.Failures
		out.Errors += suite.Errors
		out.Skipped += suite.Skipped
		out.Suites = append(out.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitScrapeCases makes the testcases of one scrape: one per rule that
// fired, in the order the rules first fired. A rule's findings past
// --max-findings are counted in its testcase ("and N more like this").
func junitScrapeCases(targetName string, s scrapeResult, maxFindings int) []junitCase {
	title := scrapeTitle(s)
	if len(s.Findings) == 0 && len(s.Omitted) == 0 {
		return []junitCase{{ClassName: targetName, Name: title}}
	}
	prefix := title + ": "
	if title == targetName {
		// A single file: the suite already names it.
		prefix = ""
	}
	type ruleCase struct {
		rule             string
		text             strings.Builder
		findings, failed int
	}
	var rules []*ruleCase
	byRule := map[string]*ruleCase{}
	caseOf := func(rule string) *ruleCase {
		c, ok := byRule[rule]
		if !ok {
			c = &ruleCase{rule: rule}
			byRule[rule] = c
			rules = append(rules, c)
		}
		return c
	}
	for _, f := range s.Findings {
		c := caseOf(f.Rule)
		fmt.Fprintln(&c.text, findingLine(f))
		c.findings++
		if fails(f.Severity, s.Strict) {
			c.failed++
		}
	}
	for _, o := range s.Omitted {
		c := caseOf(o.Rule)
		fmt.Fprintf(&c.text, "and %d more like this: %s %s (--max-findings %d: the first %d of each rule per target are listed)\n",
			o.Count, o.Severity, o.Rule, maxFindings, maxFindings)
		c.findings += o.Count
		if fails(o.Severity, s.Strict) {
			c.failed += o.Count
		}
	}
	cases := make([]junitCase, 0, len(rules))
	for _, c := range rules {
		jc := junitCase{ClassName: targetName, Name: prefix + c.rule}
		text := c.text.String() + "read more: " + readMore(c.rule) + "\n"
		if c.failed == 0 {
			jc.SystemOut = text
		} else {
			jc.Failure = &junitProblem{
				Message: fmt.Sprintf("%s: %s", plural(c.failed, "finding"), firstFindingMessage(text)),
				Type:    c.rule,
				Text:    text,
			}
		}
		cases = append(cases, jc)
	}
	return cases
}

// fails reports whether a finding of severity s fails the check on its own.
func fails(s check.Severity, strict bool) bool {
	return s == check.Error || strict && s == check.Warning
}

// findingLine is a finding on one line, naming its family when the
// message does not.
func findingLine(f check.Finding) string {
	line := f.String() + seriesNote(f)
	if f.Series == "" && f.Family != "" && !strings.Contains(f.Message, f.Family) {
		line += " [" + f.Family + "]"
	}
	return line
}

func firstFindingMessage(text string) string {
	first, _, _ := strings.Cut(text, "\n")
	return first
}
