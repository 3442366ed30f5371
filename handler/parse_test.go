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
// parsed values are. It fails the test if the parser rejects body.
func parseExposition(t *testing.T, body []byte, contentType string) []string {
	t.Helper()
	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		t.Fatalf("textparse.New(%q): %v", contentType, err)
	}
	var out []string
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("parsing %s: %v\nafter %d entries; body:\n%s", contentType, err, len(out), body)
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
				t.Errorf("sample with a timestamp: %d", *ts)
			}
			var ls labels.Labels
			p.Labels(&ls)
			out = append(out, seriesLine(ls, v))
		default:
			t.Fatalf("unexpected entry %v in %s", e, contentType)
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
// independently of the renderer's table.
type schemaFamily struct {
	name      string // text-format name, with _total
	sub       string
	subValues []string
	values    func(counters.DeploySnapshot) []uint64
}

var schema = []schemaFamily{
	{"deploy_attempts_total", "result", []string{"success", "failure"},
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.AttemptsSuccess, s.AttemptsFailure} }},
	{"deploy_validate_failures_total", "", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.ValidateFailures} }},
	{"deploy_reload_failures_total", "", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.ReloadFailures} }},
	{"deploy_post_verify_failures_total", "", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.PostVerifyFails} }},
	{"deploy_rollback_total", "outcome", []string{"restored", "also_failed"},
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.RollbackRestored, s.RollbackAlsoFail} }},
	{"deploy_idempotent_skip_total", "", nil,
		func(s counters.DeploySnapshot) []uint64 { return []uint64{s.IdempotentSkips} }},
}

// expectedExposition returns what parseExposition must return for snaps
// rendered with namespace ns. labelValue maps a snapshot's target type to the
// label value Prometheus must ingest.
func expectedExposition(ns string, snaps []counters.DeploySnapshot, openMetrics bool, labelValue func(string) string) []string {
	prefix := ""
	if ns != "" {
		prefix = ns + "_"
	}
	var out []string
	for i, f := range schema {
		name := prefix + f.name
		metaName := name
		if openMetrics {
			metaName = strings.TrimSuffix(name, "_total")
		}
		out = append(out, "HELP "+metaName+" "+families[i].help, "TYPE "+metaName+" counter")
		for _, s := range snaps {
			tt := fmt.Sprintf("target_type=%q", labelValue(s.TargetType))
			for j, v := range f.values(s) {
				if f.sub == "" {
					out = append(out, fmt.Sprintf("%s{%s} %d", name, tt, v))
					continue
				}
				// Labels sort by name: "outcome" and "result" before "target_type".
				out = append(out, fmt.Sprintf("%s{%s=%q,%s} %d", name, f.sub, f.subValues[j], tt, v))
			}
		}
	}
	return out
}

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
