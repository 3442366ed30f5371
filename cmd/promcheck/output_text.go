package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// writeText writes the report for people: per target, per scrape, the
// protocol it was served in and the findings grouped by family with their
// lines (or protobuf messages), a verdict per target and a summary line.
//
//	http://127.0.0.1:9464/metrics/prometheus
//	  scrape 1/2 (Accept text): PrometheusText0.0.4, HTTP 200, 96 samples in 6 families: FAILS, 1 error, 0 warnings, 0 info
//	    certctl_deploy_attempts_total
//	      line 4: error order.series: ...
//	      lines 7:12, 9:12: error spec.escape-go-quote: ...
//	    and 12 more like this: error spec.escape-go-quote (--max-findings 20: ...)
//	  scrape 2/2 (Accept text): PrometheusText0.0.4, HTTP 200, 96 samples in 6 families: no findings
//	  FAIL: 1 error, 0 warnings, 0 info in 2 scrapes
//
//	Read more about a rule: promcheck explain RULE, or docs/rules.md#RULE (order.series, spec.escape-go-quote)
//
//	promcheck: FAIL: 1 target: 0 pass, 1 fail, 0 could not be checked; 1 error, 0 warnings, 0 info (schema deploy)
//
// An interrupted run says so first, and its summary line says INTERRUPTED;
// targets it did not check read "NOT CHECKED (interrupted)".
func writeText(out io.Writer, results []*targetResult, sum runSummary, p *plan) error {
	w := &write{w: out}
	if sum.Interrupted {
		// First, so that nobody reads the targets below as the fleet's state.
		w.printf("promcheck: INTERRUPTED (SIGINT or SIGTERM): %s\n\n", interruptedNote(sum))
	}
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
			writeTextScrape(w, r.Target, s, p.flags.maxFindings)
		}
		counts := r.counts()
		switch r.verdict() {
		case verdictError:
			w.printf("  ERROR: could not check: %v\n", r.Err)
		case verdictSkipped:
			w.printf("  NOT CHECKED (interrupted)")
			if len(r.Scrapes) > 0 {
				w.printf(" after %s: %s", plural(len(r.Scrapes), "scrape"), counts)
			}
			w.printf("\n")
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
	if rules := rulesReported(results); len(rules) > 0 {
		w.printf("\nRead more about a rule: promcheck explain RULE, or %s#RULE (%s)\n", rulesDoc, strings.Join(rules, ", "))
	}
	w.printf("\n%s (%s)\n", summaryLine(sum), schema)
	return w.err
}

// rulesReported lists the rules of the findings in results, omitted ones
// included, sorted.
func rulesReported(results []*targetResult) []string {
	seen := map[string]bool{}
	for _, r := range results {
		for _, s := range r.Scrapes {
			for _, f := range s.Findings {
				seen[f.Rule] = true
			}
			for _, o := range s.Omitted {
				seen[o.Rule] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func writeTextScrape(w *write, t target, s scrapeResult, maxFindings int) {
	title := scrapeTitle(s)
	if title == t.Name {
		// A single file: its name is already the heading.
		title = "exposition"
	}
	w.printf("  %s: %s", title, servedAs(s))
	if s.StatusCode != 0 {
		w.printf(", HTTP %d", s.StatusCode)
	}
	if len(s.Redirects) > 0 {
		w.printf(" %s", redirectNote(s.Redirects))
	}
	if s.Parsed {
		// How much was judged: "no findings" over nothing is no evidence.
		w.printf(", %s in %s", plural(s.Samples, "sample"), plural(s.Families, "family"))
	}
	if len(s.Findings) == 0 && len(s.Omitted) == 0 {
		w.printf(": no findings\n")
		return
	}
	verdict := "conforms"
	if s.Failed {
		verdict = "FAILS"
	}
	w.printf(": %s, %s\n", verdict, s.Counts)
	for _, g := range groupByFamily(s.Findings) {
		name := g.family
		if name == "" {
			name = "(whole exposition)"
		}
		w.printf("    %s\n", name)
		for _, same := range groupIdentical(g.findings) {
			// The family is the heading; the series says which sample.
			w.printf("      %s%s\n", same.String(), seriesNote(same.first))
		}
	}
	for _, o := range s.Omitted {
		w.printf("    and %d more like this: %s %s (--max-findings %d: the first %d of each rule per target are shown)\n",
			o.Count, o.Severity, o.Rule, maxFindings, maxFindings)
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

// identicalFindings are findings that differ only in where they are: the
// same rule, severity, family, series and message on several lines (or,
// in protobuf, in several messages).
type identicalFindings struct {
	first check.Finding
	// lines, columns and messages locate every one of them, in order.
	lines, columns, messages []int
}

// groupIdentical merges identical findings into one, in the order of the
// first of each, so that a problem repeated on many lines reads as one
// line listing them.
func groupIdentical(findings []check.Finding) []*identicalFindings {
	type key struct {
		rule     string
		severity check.Severity
		family   string
		series   string
		message  string
	}
	var groups []*identicalFindings
	index := map[key]*identicalFindings{}
	for _, f := range findings {
		k := key{f.Rule, f.Severity, f.Family, f.Series, f.Message}
		g, ok := index[k]
		if !ok {
			g = &identicalFindings{first: f}
			index[k] = g
			groups = append(groups, g)
		}
		g.lines = append(g.lines, f.Line)
		g.columns = append(g.columns, f.Column)
		g.messages = append(g.messages, f.MessageIndex)
	}
	return groups
}

// String is the finding as check.Finding writes it, with every location:
// "lines 3-5, 9: error rule: message", "messages 2, 7: ..." in protobuf.
func (g *identicalFindings) String() string {
	if len(g.lines) == 1 {
		return g.first.String()
	}
	f := g.first
	f.Line, f.Column, f.MessageIndex = 0, 0, 0
	if locations := locationList(g.lines, g.columns); locations != "" {
		return "lines " + locations + ": " + f.String()
	}
	if messages := messageList(g.lines, g.messages); messages != "" {
		return "messages " + messages + ": " + f.String()
	}
	// Lines unknown (the whole exposition): say how often instead.
	return fmt.Sprintf("%s (%d times)", f, len(g.lines))
}

// messageList writes the protobuf message indices of findings without a
// line, ascending and each once: "2, 7".
func messageList(lines, messages []int) string {
	var parts []string
	last := 0
	for i, m := range messages {
		if m == 0 || lines[i] > 0 || m == last {
			continue
		}
		parts = append(parts, strconv.Itoa(m))
		last = m
	}
	return strings.Join(parts, ", ")
}

// locationList writes lines (ascending) as "3-5, 9", or with columns as
// "3:12, 4:12"; runs of consecutive lines without columns are ranges.
func locationList(lines, columns []int) string {
	var parts []string
	for i := 0; i < len(lines); i++ {
		if lines[i] == 0 {
			continue
		}
		if columns[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d:%d", lines[i], columns[i]))
			continue
		}
		j := i
		for j+1 < len(lines) && columns[j+1] == 0 && lines[j+1] == lines[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", lines[i], lines[j]))
		} else {
			parts = append(parts, strconv.Itoa(lines[i]))
		}
		i = j
	}
	return strings.Join(parts, ", ")
}
