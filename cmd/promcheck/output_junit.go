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
// <error>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
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
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []*targetResult) error {
	out := junitSuites{Name: "promcheck"}
	for _, r := range results {
		suite := junitSuite{Name: r.Target.Name}
		if len(r.Target.Labels) > 0 {
			suite.Properties = &junitProperties{}
			for _, name := range sortedKeys(r.Target.Labels) {
				suite.Properties.Property = append(suite.Properties.Property, junitProperty{Name: name, Value: r.Target.Labels[name]})
			}
		}
		for _, s := range r.Scrapes {
			suite.Cases = append(suite.Cases, junitScrapeCases(r.Target.Name, s)...)
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
		}
		out.Tests += suite.Tests
		out.Failures += suite.Failures
		out.Errors += suite.Errors
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
// fired, in the order the rules first fired.
func junitScrapeCases(targetName string, s scrapeResult) []junitCase {
	title := scrapeTitle(s)
	if len(s.Report.Findings) == 0 {
		return []junitCase{{ClassName: targetName, Name: title}}
	}
	prefix := title + ": "
	if title == targetName {
		// A single file: the suite already names it.
		prefix = ""
	}
	var cases []junitCase
	byRule := map[string]int{}
	var texts []*strings.Builder
	var failing []int
	for _, f := range s.Report.Findings {
		i, ok := byRule[f.Rule]
		if !ok {
			i = len(cases)
			byRule[f.Rule] = i
			cases = append(cases, junitCase{ClassName: targetName, Name: prefix + f.Rule})
			texts = append(texts, &strings.Builder{})
			failing = append(failing, 0)
		}
		fmt.Fprintln(texts[i], findingLine(f))
		if fails(f, s.Report.Strict) {
			failing[i]++
		}
	}
	for i := range cases {
		text := texts[i].String()
		if failing[i] == 0 {
			cases[i].SystemOut = text
			continue
		}
		cases[i].Failure = &junitProblem{
			Message: fmt.Sprintf("%s: %s", plural(failing[i], "finding"), firstFindingMessage(text)),
			Type:    strings.TrimPrefix(cases[i].Name, prefix),
			Text:    text,
		}
	}
	return cases
}

// fails reports whether a finding fails the check on its own.
func fails(f check.Finding, strict bool) bool {
	return f.Severity == check.Error || strict && f.Severity == check.Warning
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
