package check

import (
	"strings"
	"testing"
)

// TestCorpusStrictWithoutLint: `--strict --disable lint` passes every
// corpus file and sequence whose only errors and warnings are style
// (lint.*), and still fails every one with a correctness finding, so that
// --strict stays meaningful on real exporters.
func TestCorpusStrictWithoutLint(t *testing.T) {
	m := readCorpusManifest(t)
	strict := Options{Strict: true, Disabled: []string{"lint"}}
	var styleOnly, withLint, failing int
	for i, src := range m.Sources {
		plain := runCorpusSource(t, m, i, Options{})
		judged := runCorpusSource(t, m, i, strict)
		for k, c := range plain {
			onlyStyle, lint := true, false
			for _, f := range c.report.Findings {
				if f.Severity == Info {
					continue
				}
				isLint := strings.HasPrefix(f.Rule, "lint.")
				lint = lint || isLint
				onlyStyle = onlyStyle && isLint
			}
			r := judged[k].report
			switch {
			case onlyStyle && r.Failed():
				t.Errorf("%s: %s has only style findings, yet fails --strict --disable lint:\n%v", src.Name, c.scrape.File, r)
			case onlyStyle:
				styleOnly++
				if lint {
					withLint++
				}
			case !r.Failed():
				t.Errorf("%s: %s has a correctness finding, yet passes --strict --disable lint:\n%v", src.Name, c.scrape.File, c.report)
			default:
				failing++
			}
		}
	}
	t.Logf("%d checks pass --strict --disable lint (%d of them with lint warnings), %d fail it on correctness findings", styleOnly, withLint, failing)
	if withLint == 0 || failing == 0 {
		t.Errorf("the corpus no longer shows both kinds (%d style-only checks with lint warnings, %d failing): the test proves nothing", withLint, failing)
	}
}

// TestCorpusShowsEachCrossScrapeCase: the corpus's sequences show, on real
// output, each case of the cross-scrape semantics of SPEC.md §3.
func TestCorpusShowsEachCrossScrapeCase(t *testing.T) {
	m := readCorpusManifest(t)
	want := []struct{ rule, says, what string }{
		{"scrape.counter-reset", "_created moved forward", "a reset shown by _created"},
		{"scrape.counter-reset", "process_start_time_seconds moved forward", "a restart"},
		{"scrape.counter-vanished", "", "a deleted series"},
		{"scrape.help-changed", "", "a HELP change"},
	}
	found := make([]bool, len(want))
	for i := range m.Sources {
		for _, c := range runCorpusSource(t, m, i, Options{}) {
			for j, w := range want {
				for _, f := range c.report.Rule(w.rule) {
					found[j] = found[j] || strings.Contains(f.Message, w.says)
				}
			}
		}
	}
	for j, w := range want {
		if !found[j] {
			t.Errorf("no corpus sequence shows %s (%s): refresh.sh should capture one", w.what, w.rule)
		}
	}
}
