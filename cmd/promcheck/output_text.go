package main

import (
	"io"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// writeText writes the report for people: per target, per scrape, the
// findings grouped by family with their lines, a verdict per target and a
// summary line.
//
//	http://127.0.0.1:9464/metrics/prometheus
//	  scrape 1/2 (Accept text): text, HTTP 200, 96 samples in 6 families: FAILS, 1 error, 0 warnings, 0 info
//	    certctl_deploy_attempts_total
//	      line 4: error order.series: ...
//	  scrape 2/2 (Accept text): text, HTTP 200, 96 samples in 6 families: no findings
//	  FAIL: 1 error, 0 warnings, 0 info in 2 scrapes
//
//	promcheck: FAIL: 1 target: 0 pass, 1 fail, 0 could not be checked; 1 error, 0 warnings, 0 info (schema deploy)
func writeText(out io.Writer, results []*targetResult, sum runSummary, p *plan) error {
	w := &write{w: out}
	for i, r := range results {
		if i > 0 {
			w.printf("\n")
		}
		w.printf("%s", r.Target.Name)
		if len(r.Target.Labels) > 0 {
			w.printf("  %s", labelString(r.Target.Labels))
		}
		w.printf("\n")
		for _, s := range r.Scrapes {
			writeTextScrape(w, r.Target, s)
		}
		counts := r.counts()
		switch r.verdict() {
		case verdictError:
			w.printf("  ERROR: could not check: %v\n", r.Err)
		case verdictFail:
			w.printf("  FAIL: %s in %s\n", counts, plural(len(r.Scrapes), "scrape"))
		default:
			w.printf("  PASS: %s in %s\n", counts, plural(len(r.Scrapes), "scrape"))
		}
	}
	schema := "schema " + p.schema
	if p.flags.strict {
		schema += ", strict"
	}
	w.printf("\npromcheck: %s: %s: %d pass, %d fail, %d could not be checked; %s (%s)\n",
		strings.ToUpper(sum.Verdict.String()), plural(sum.Targets, "target"), sum.Passed, sum.Failed, sum.Errored, sum.Findings, schema)
	return w.err
}

func writeTextScrape(w *write, t target, s scrapeResult) {
	title := scrapeTitle(s)
	if title == t.Name {
		// A single file: its name is already the heading.
		title = "exposition"
	}
	w.printf("  %s: %s", title, formatName(s.Report))
	if s.StatusCode != 0 {
		w.printf(", HTTP %d", s.StatusCode)
	}
	if exp := s.Report.Exposition; exp != nil {
		// How much was judged: "no findings" over nothing is no evidence.
		w.printf(", %s in %s", plural(len(exp.Samples), "sample"), plural(len(exp.Families), "family"))
	}
	if len(s.Report.Findings) == 0 {
		w.printf(": no findings\n")
		return
	}
	var c severityCounts
	c.add(s.Report)
	verdict := "conforms"
	if s.Report.Failed() {
		verdict = "FAILS"
	}
	w.printf(": %s, %s\n", verdict, c)
	for _, g := range groupByFamily(s.Report.Findings) {
		name := g.family
		if name == "" {
			name = "(whole exposition)"
		}
		w.printf("    %s\n", name)
		for _, f := range g.findings {
			// The family is the heading; the series says which sample.
			w.printf("      %s%s\n", f.String(), seriesNote(f))
		}
	}
}

type familyGroup struct {
	family   string
	findings []check.Finding
}

// groupByFamily groups findings by family, the groups in the order of
// their first finding (findings come sorted by line), so the report reads
// top to bottom.
func groupByFamily(findings []check.Finding) []familyGroup {
	var groups []familyGroup
	index := map[string]int{}
	for _, f := range findings {
		i, ok := index[f.Family]
		if !ok {
			i = len(groups)
			index[f.Family] = i
			groups = append(groups, familyGroup{family: f.Family})
		}
		groups[i].findings = append(groups[i].findings, f)
	}
	return groups
}
