package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// writeGitHub writes GitHub Actions workflow commands: one annotation per
// finding (error, warning or notice by severity) and per target that could
// not be checked, then a plain summary line for the log.
//
//	::error title=order.series::http://host/metrics scrape 1/2 (Accept text) [PrometheusText0.0.4] line 4: message
//	::error file=metrics.prom,line=4,title=order.series::metrics.prom line 4: message
//	::error file=metrics.pb,title=spec.native-histogram::metrics.pb message 3: message
//
// Findings in files carry file= and line= so GitHub marks the line in the
// pull request. An interrupted run starts with a notice saying the report
// is partial; a redirect a scrape followed is a notice too.
func writeGitHub(out io.Writer, results []*targetResult, sum runSummary, maxFindings int) error {
	w := &write{w: out}
	if sum.Interrupted {
		w.printf("::notice title=promcheck::%s\n", escapeData("interrupted (SIGINT or SIGTERM): "+interruptedNote(sum)))
	}
	for _, r := range results {
		for _, s := range r.Scrapes {
			file := ""
			if r.Target.URL == "" && s.Name != "stdin" {
				file = s.Name
			}
			where := r.Target.Name
			if s.Name != r.Target.Name {
				where += " " + scrapeTitle(s)
			}
			// The protocol it was served in, when the Content-Type (or
			// --content-type) named one; the redirect notice needs no more.
			notice := where
			if s.Protocol != "" {
				where += " [" + servedAs(s) + "]"
			}
			if len(s.Redirects) > 0 {
				w.printf("::notice title=redirect::%s\n", escapeData(notice+": "+redirectNote(s.Redirects)))
			}
			for _, f := range s.Findings {
				props := []string{}
				if file != "" {
					props = append(props, "file="+escapeProperty(file))
					if f.Line > 0 {
						props = append(props, fmt.Sprintf("line=%d", f.Line))
						if f.Column > 0 {
							props = append(props, fmt.Sprintf("col=%d", f.Column))
						}
					}
				}
				props = append(props, "title="+escapeProperty(f.Rule))
				at := where
				switch {
				case f.Line > 0:
					at += fmt.Sprintf(" line %d", f.Line)
				case f.MessageIndex > 0:
					// Protobuf has no lines: the message the finding is about.
					at += fmt.Sprintf(" message %d", f.MessageIndex)
				}
				msg := f.Message + seriesNote(f) + " (" + readMore(f.Rule) + ")"
				w.printf("::%s %s::%s\n", annotationLevel(f.Severity), strings.Join(props, ","), escapeData(at+": "+msg))
			}
			for _, o := range s.Omitted {
				msg := fmt.Sprintf("%s: and %d more like this (--max-findings %d: the first %d of each rule per target are annotated; %s)", where, o.Count, maxFindings, maxFindings, readMore(o.Rule))
				w.printf("::%s title=%s::%s\n", annotationLevel(o.Severity), escapeProperty(o.Rule), escapeData(msg))
			}
		}
		if r.Err != nil {
			w.printf("::error title=promcheck::%s\n", escapeData("could not check: "+r.Err.Error()))
		}
	}
	w.printf("%s\n", summaryLine(sum))
	return w.err
}

func annotationLevel(s check.Severity) string {
	switch s {
	case check.Error:
		return "error"
	case check.Warning:
		return "warning"
	}
	return "notice"
}

// escapeData escapes an annotation's message as the Actions runner
// unescapes it: a newline would otherwise end the command.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value, where ':' and ',' are syntax.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
