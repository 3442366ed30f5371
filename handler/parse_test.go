package handler

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/deploymetrics/deploymetrics/counters"
)

// parseExposition parses body with the parser Prometheus scrapes with and
// returns one line per entry, in order, in a canonical form that is easy to
// compare and to read in a diff:
//
//	HELP certctl_deploy_attempts_total <help text, unescaped>
//	TYPE certctl_deploy_attempts_total counter
//	certctl_deploy_attempts_total{result="success",target_type="NGINX"} 3
//
// Label values are printed with %q, so two lines are equal exactly when the
// parsed values are. It fails the test if the parser rejects body; it must
// be called from the test's goroutine (others call parseLines).
func parseExposition(t *testing.T, body []byte, contentType string) []string {
	t.Helper()
	lines, err := parseLines(body, contentType)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// parseLines is parseExposition returning its failure as an error, for
// goroutines other than the test's, which must not call t.Fatal.
func parseLines(body []byte, contentType string) ([]string, error) {
	// OpenMetrics 2.0 is parsed only when enabled, as in Prometheus.
	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{EnableOpenMetrics2: true})
	if err != nil {
		return nil, fmt.Errorf("textparse.New(%q): %w", contentType, err)
	}
	var out []string
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w\nafter %d entries; body:\n%q", contentType, err, len(out), body)
		}
		switch e {
		case textparse.EntryHelp:
			name, help := p.Help()
			out = append(out, "HELP "+string(name)+" "+string(help))
		case textparse.EntryType:
			name, typ := p.Type()
			out = append(out, "TYPE "+string(name)+" "+string(typ))
		case textparse.EntrySeries:
			_, ts, v := p.Series()
			if ts != nil {
				return nil, fmt.Errorf("parsing %s: sample with a timestamp: %d", contentType, *ts)
			}
			var ls labels.Labels
			p.Labels(&ls)
			out = append(out, seriesLine(ls, v))
		default:
			return nil, fmt.Errorf("parsing %s: unexpected entry %v", contentType, e)
		}
	}
}

// seriesLine renders a parsed sample canonically: labels sorted by name,
// values quoted with %q.
func seriesLine(ls labels.Labels, v float64) string {
	var b strings.Builder
	b.WriteString(ls.Get(labels.MetricName))
	b.WriteByte('{')
	first := true
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	})
	b.WriteString("} ")
	b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	return b.String()
}

// schemaFamily is the deploy schema as the tests know it, written out
// independently of the renderer's table, HELP text included, so that a
// change to the table shows up as a test failure rather than passing
// through to both sides of a comparison.
type schemaFamily struct {
	name      string // text-format name, with _total
	help      string
	sub       string
	subValues []string
	values    func(counters.DeploySnapshot) []uint64
}

var schema = []schemaFamily{
	{"deploy_attempts_total", "Deployment attempts by target type and result: success, or failure for any reason.",
		"result", []string{"success", "failure"},
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.AttemptsSuccess, s.AttemptsFailure} }},
	{"deploy_validate_failures_total", "Deployments whose pre-commit validation failed; nothing was changed on the target.",
		"", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.ValidateFailures} }},
	{"deploy_reload_failures_total", "Deployments whose target reload failed after the new artifact was written; each one is rolled back.",
		"", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.ReloadFailures} }},
	{"deploy_post_verify_failures_total", "Deployments whose post-deploy verification (a TLS handshake with the target) failed; each one is rolled back.",
		"", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.PostVerifyFails} }},
	{"deploy_rollback_total", "Rollbacks after a reload or post-verify failure, by outcome: restored (the previous artifact serves again) or also_failed (the target is left broken).",
		"outcome", []string{"restored", "also_failed"},
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.RollbackRestored, s.RollbackAlsoFail} }},
	{"deploy_idempotent_skip_total", "Deployments skipped because the new artifact has the same SHA-256 as the deployed one.",
		"", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.IdempotentSkips} }},
}

// parsedAs says how a format's parser reports the metadata of a family.
type parsedAs uint8

const (
	// parsedText: HELP then TYPE, named with _total (the text formats).
	parsedText parsedAs = iota
	// parsedOpenMetrics: HELP then TYPE, named without _total (OpenMetrics 1.0).
	parsedOpenMetrics
	// parsedOpenMetrics2: HELP then TYPE, named with _total.
	parsedOpenMetrics2
	// parsedProtobuf: like parsedText, but a family without samples is
	// skipped by Prometheus's parser, metadata and all.
	parsedProtobuf
)

// expectedExposition returns what parseExposition must return for snaps
// rendered with namespace ns in a format parsed as as. labelValue maps a
// snapshot's target type to the label value Prometheus must ingest.
func expectedExposition(ns string, snaps []counters.DeploySnapshot, as parsedAs, labelValue func(string) string) []string {
	prefix := ""
	if ns != "" {
		prefix = ns + "_"
	}
	// Quoted once, not once per family: hostile target types are megabytes.
	targetTypes := make([]string, len(snaps))
	for j, s := range snaps {
		targetTypes[j] = fmt.Sprintf("target_type=%q", labelValue(s.TargetType))
	}
	var out []string
	for _, f := range schema {
		name := prefix + f.name
		metaName := name
		if as == parsedOpenMetrics {
			metaName = strings.TrimSuffix(name, "_total")
		}
		help, typ := "HELP "+metaName+" "+f.help, "TYPE "+metaName+" counter"
		if as != parsedProtobuf || len(snaps) > 0 {
			out = append(out, help, typ)
		}
		for j, s := range snaps {
			tt := targetTypes[j]
			for j, v := range f.values(s) {
				if f.sub == "" {
					out = append(out, fmt.Sprintf("%s{%s} %s", name, tt, formatCount(v)))
					continue
				}
				// Labels sort by name: "outcome" and "result" before "target_type".
				out = append(out, fmt.Sprintf("%s{%s=%q,%s} %s", name, f.sub, f.subValues[j], tt, formatCount(v)))
			}
		}
	}
	return out
}

// formatCount is a counter as seriesLine prints the float64 a parser
// returns for it.
func formatCount(v uint64) string { return strconv.FormatFloat(float64(v), 'g', -1, 64) }

// diffLines fails the test with the first difference between got and want.
func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("entry %d differs (got %d entries, want %d)\n got: %s\nwant: %s", i, len(got), len(want), g, w)
		}
	}
}

// identity is the labelValue of snapshots whose target types need no repair.
func identity(s string) string { return s }
