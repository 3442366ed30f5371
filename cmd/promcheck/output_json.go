package main

import (
	"encoding/json"
	"io"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// jsonVersion is the version of the JSON report shape. Fields are only
// ever added within a version; a removal or a change of meaning bumps it.
const jsonVersion = 1

// jsonReport is the JSON report (--output json); doc.go documents it.
type jsonReport struct {
	Version  int    `json:"version"`
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exit_code"`
	Schema   string `json:"schema"`
	Strict   bool   `json:"strict"`
	// MaxFindings is --max-findings: findings of one rule per target
	// listed before the rest are only counted (0: no limit).
	MaxFindings int `json:"max_findings"`
	// Interrupted says the run was interrupted: the report is partial.
	Interrupted bool         `json:"interrupted"`
	Summary     jsonSummary  `json:"summary"`
	Targets     []jsonTarget `json:"targets"`
}

type jsonSummary struct {
	Targets  int `json:"targets"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Errored  int `json:"errored"`
	Skipped  int `json:"skipped"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

type jsonTarget struct {
	Target  string            `json:"target"`
	URL     string            `json:"url,omitempty"`
	Files   []string          `json:"files,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Verdict string            `json:"verdict"`
	Error   string            `json:"error,omitempty"`
	Scrapes []jsonScrape      `json:"scrapes"`
}

type jsonScrape struct {
	Name         string `json:"name"`
	Accept       string `json:"accept,omitempty"`
	AcceptHeader string `json:"accept_header,omitempty"`
	ContentType  string `json:"content_type"`
	Format       string `json:"format"`
	// Protocol and Escaping are what the Content-Type named; absent when
	// it named no protocol.
	Protocol   check.Protocol       `json:"protocol,omitempty"`
	Escaping   check.EscapingScheme `json:"escaping,omitempty"`
	StatusCode int                  `json:"status_code,omitempty"`
	Redirects  []jsonRedirect       `json:"redirects,omitempty"`
	Verdict    string               `json:"verdict"`
	Findings   []jsonFinding        `json:"findings"`
	// Omitted counts by rule the findings past --max-findings, which
	// Findings does not list; absent when there are none.
	Omitted []jsonOmission `json:"omitted,omitempty"`
}

// jsonFinding is a finding with where to read more about its rule.
type jsonFinding struct {
	check.Finding
	ruleRefs
}

// jsonOmission is a count of omitted findings with where to read more
// about their rule.
type jsonOmission struct {
	check.Omission
	ruleRefs
}

// ruleRefs say where to read more about a rule: the command that explains
// it and its anchor in the rules reference.
type ruleRefs struct {
	Explain string `json:"explain"`
	Doc     string `json:"doc"`
}

func refsOf(rule string) ruleRefs {
	return ruleRefs{Explain: explainCommand(rule), Doc: ruleDocLink(rule)}
}

type jsonRedirect struct {
	Status int    `json:"status"`
	URL    string `json:"url"`
}

func writeJSON(w io.Writer, results []*targetResult, sum runSummary, p *plan) error {
	out := jsonReport{
		Version:     jsonVersion,
		Verdict:     sum.Verdict.String(),
		ExitCode:    sum.Verdict.exitCode(),
		Schema:      p.schema,
		Strict:      p.flags.strict,
		MaxFindings: p.flags.maxFindings,
		Interrupted: sum.Interrupted,
		Summary: jsonSummary{
			Targets: sum.Targets, Passed: sum.Passed, Failed: sum.Failed, Errored: sum.Errored, Skipped: sum.Skipped,
			Errors: sum.Findings.Errors, Warnings: sum.Findings.Warnings, Infos: sum.Findings.Infos,
		},
		Targets: make([]jsonTarget, 0, len(results)),
	}
	for _, r := range results {
		t := jsonTarget{
			Target:  r.Target.Name,
			URL:     scrape.Redact(r.Target.URL),
			Files:   r.Target.Files,
			Labels:  r.Target.Labels,
			Verdict: r.verdict().String(),
			Scrapes: make([]jsonScrape, 0, len(r.Scrapes)),
		}
		if r.Err != nil {
			t.Error = r.Err.Error()
		}
		for _, s := range r.Scrapes {
			// [] rather than null: consumers iterate without a check.
			findings := make([]jsonFinding, 0, len(s.Findings))
			for _, f := range s.Findings {
				findings = append(findings, jsonFinding{Finding: f, ruleRefs: refsOf(f.Rule)})
			}
			var omitted []jsonOmission
			for _, o := range s.Omitted {
				omitted = append(omitted, jsonOmission{Omission: o, ruleRefs: refsOf(o.Rule)})
			}
			var redirects []jsonRedirect
			for _, rd := range s.Redirects {
				redirects = append(redirects, jsonRedirect{Status: rd.Status, URL: rd.URL})
			}
			t.Scrapes = append(t.Scrapes, jsonScrape{
				Redirects:    redirects,
				Name:         s.Name,
				Accept:       s.AcceptName,
				AcceptHeader: s.Accept,
				ContentType:  s.ContentType,
				Format:       s.Format,
				Protocol:     s.Protocol,
				Escaping:     s.Escaping,
				StatusCode:   s.StatusCode,
				Verdict:      s.verdict().String(),
				Findings:     findings,
				Omitted:      omitted,
			})
		}
		out.Targets = append(out.Targets, t)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
