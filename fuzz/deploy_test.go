package fuzz

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
)

// This file holds what several targets share: an independent description
// of the deploy schema (written from SPEC.md §1.2, not taken from the
// handler, so that a handler bug is not mirrored into the oracle), a bare
// textparse pass, and a reference definition of target type normalisation.

// namespace is the namespace every target renders with.
const namespace = "certctl"

// deployFamily is one family of the deploy schema.
type deployFamily struct {
	name      string   // the sample name (text-format family name), ending in _total
	sub       string   // the second label, "" when target_type is the only one
	subValues []string // its values in canonical order
	values    func(c *counts) []uint64
}

// counts are the eight counters of one target type, in DeploySnapshot field
// order.
type counts [8]uint64

const (
	cAttemptsSuccess = iota
	cAttemptsFailure
	cValidateFailures
	cReloadFailures
	cPostVerifyFails
	cRollbackRestored
	cRollbackAlsoFail
	cIdempotentSkips
)

var deployFamilies = []deployFamily{
	{name: namespace + "_deploy_attempts_total", sub: "result", subValues: []string{"success", "failure"},
		values: func(c *counts) []uint64 { return []uint64{c[cAttemptsSuccess], c[cAttemptsFailure]} }},
	{name: namespace + "_deploy_validate_failures_total",
		values: func(c *counts) []uint64 { return []uint64{c[cValidateFailures]} }},
	{name: namespace + "_deploy_reload_failures_total",
		values: func(c *counts) []uint64 { return []uint64{c[cReloadFailures]} }},
	{name: namespace + "_deploy_post_verify_failures_total",
		values: func(c *counts) []uint64 { return []uint64{c[cPostVerifyFails]} }},
	{name: namespace + "_deploy_rollback_total", sub: "outcome", subValues: []string{"restored", "also_failed"},
		values: func(c *counts) []uint64 { return []uint64{c[cRollbackRestored], c[cRollbackAlsoFail]} }},
	{name: namespace + "_deploy_idempotent_skip_total",
		values: func(c *counts) []uint64 { return []uint64{c[cIdempotentSkips]} }},
}

func countsOf(s *counters.DeploySnapshot) counts {
	return counts{s.AttemptsSuccess, s.AttemptsFailure, s.ValidateFailures, s.ReloadFailures,
		s.PostVerifyFails, s.RollbackRestored, s.RollbackAlsoFail, s.IdempotentSkips}
}

func snapshotOf(tt string, c counts) counters.DeploySnapshot {
	return counters.DeploySnapshot{TargetType: tt, AttemptsSuccess: c[0], AttemptsFailure: c[1],
		ValidateFailures: c[2], ReloadFailures: c[3], PostVerifyFails: c[4], RollbackRestored: c[5],
		RollbackAlsoFail: c[6], IdempotentSkips: c[7]}
}

// invariantsHold reports I1 and I2 of SPEC.md §2.2 on exact integers.
func invariantsHold(c *counts) error {
	if c[cRollbackRestored]+c[cRollbackAlsoFail] != c[cReloadFailures]+c[cPostVerifyFails] {
		return fmt.Errorf("I1 broken: rollback restored %d + also_failed %d != reload %d + post_verify %d",
			c[cRollbackRestored], c[cRollbackAlsoFail], c[cReloadFailures], c[cPostVerifyFails])
	}
	if c[cAttemptsFailure] < c[cValidateFailures]+c[cReloadFailures]+c[cPostVerifyFails] {
		return fmt.Errorf("I2 broken: attempts{failure} %d < validate %d + reload %d + post_verify %d",
			c[cAttemptsFailure], c[cValidateFailures], c[cReloadFailures], c[cPostVerifyFails])
	}
	return nil
}

// deploySample is one sample of a deploy exposition, as Prometheus would
// ingest it.
type deploySample struct {
	name, targetType, sub, subValue string
	value                           float64
}

func (s deploySample) String() string {
	sub := ""
	if s.sub != "" {
		sub = fmt.Sprintf(",%s=%q", s.sub, s.subValue)
	}
	return fmt.Sprintf("%s{target_type=%q%s} %v", s.name, s.targetType, sub, s.value)
}

// expectedSamples lists the samples a correct renderer writes for snaps, in
// order: family by family, target types in the order given, sub-label
// values in canonical order.
func expectedSamples(snaps []counters.DeploySnapshot) []deploySample {
	var out []deploySample
	for _, f := range deployFamilies {
		for i := range snaps {
			c := countsOf(&snaps[i])
			for k, v := range f.values(&c) {
				s := deploySample{name: f.name, targetType: snaps[i].TargetType, value: float64(v)}
				if f.sub != "" {
					s.sub, s.subValue = f.sub, f.subValues[k]
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// deploySamplesOf converts parsed samples into deploySamples, failing on any
// label the deploy schema does not have.
func deploySamplesOf(samples []bareSample) ([]deploySample, error) {
	out := make([]deploySample, 0, len(samples))
	for _, s := range samples {
		d := deploySample{name: s.name, value: s.value}
		hasTT := false
		for _, l := range s.labels {
			switch {
			case l.Name == "target_type":
				d.targetType, hasTT = l.Value, true
			case d.sub == "" && (l.Name == "result" || l.Name == "outcome"):
				d.sub, d.subValue = l.Name, l.Value
			default:
				return nil, fmt.Errorf("sample %s: unexpected label %s=%q", s.series, l.Name, l.Value)
			}
		}
		if !hasTT {
			return nil, fmt.Errorf("sample %s: no target_type label", s.series)
		}
		if s.ts != nil {
			return nil, fmt.Errorf("sample %s: has a timestamp", s.series)
		}
		out = append(out, d)
	}
	return out, nil
}

// tableOf reads a deploy exposition's samples back into a table: target
// types in the order the first family lists them, and their counts. It
// fails unless samples are exactly what expectedSamples writes for that
// table, so a renderer that drops, reorders or mislabels a series cannot
// pass.
func tableOf(samples []deploySample) ([]counters.DeploySnapshot, error) {
	var snaps []counters.DeploySnapshot
	first := deployFamilies[0]
	for _, s := range samples {
		if s.name != first.name {
			break
		}
		if s.subValue == first.subValues[0] {
			snaps = append(snaps, counters.DeploySnapshot{TargetType: s.targetType})
		}
	}
	index := make(map[string]int, len(snaps))
	for i, s := range snaps {
		if _, dup := index[s.TargetType]; dup {
			return nil, fmt.Errorf("target_type %q listed twice in %s", s.TargetType, first.name)
		}
		index[s.TargetType] = i
	}
	// Fill the counts from the samples, then compare the whole list.
	cs := make([]counts, len(snaps))
	for _, s := range samples {
		i, ok := index[s.targetType]
		if !ok {
			return nil, fmt.Errorf("sample %v: target_type not listed in %s", s, first.name)
		}
		if s.value < 0 || s.value != math.Trunc(s.value) || s.value >= 1<<64 {
			return nil, fmt.Errorf("sample %v: not a count", s)
		}
		slot, err := slotOf(s)
		if err != nil {
			return nil, err
		}
		cs[i][slot] = uint64(s.value)
	}
	for i := range snaps {
		snaps[i] = snapshotOf(snaps[i].TargetType, cs[i])
	}
	want := expectedSamples(snaps)
	if err := diffSamples(samples, want); err != nil {
		return nil, err
	}
	return snaps, nil
}

// slotOf returns the counts index a sample feeds.
func slotOf(s deploySample) (int, error) {
	slot := 0
	for _, f := range deployFamilies {
		for k := range max(len(f.subValues), 1) {
			if s.name == f.name && (f.sub == "" && s.sub == "" || f.sub == s.sub && f.subValues[k] == s.subValue) {
				return slot, nil
			}
			slot++
		}
	}
	return 0, fmt.Errorf("sample %v: not a deploy series", s)
}

// diffSamples describes the first difference between got and want.
func diffSamples(got, want []deploySample) error {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Errorf("sample %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("got %d samples, want %d", len(got), len(want))
	}
	return nil
}

// bareSample is one series (or native histogram) entry of a bare
// textparse pass.
type bareSample struct {
	series    string // as textparse returned it
	name      string
	labels    []check.Label // sorted by name, without __name__
	value     float64       // for a native histogram, its count
	ts        *int64
	exemplars int
	native    bool
}

// bareParse runs textparse over body the way Prometheus's scrape loop does,
// and nothing else: Next until io.EOF or an error, reading each series'
// labels and exemplars, and each native histogram. It returns the samples
// read and textparse's error, if it rejected the body. body is not modified
// (textparse's text parser appends a newline to a body without one; it gets
// a copy with no spare capacity). The options are the engine's: OpenMetrics
// 2.0 on when the Content-Type asks for it, classic buckets kept beside
// native ones.
func bareParse(body []byte, contentType string) ([]bareSample, error) {
	buf := make([]byte, len(body))
	copy(buf, body)
	p, err := textparse.New(buf, contentType, labels.NewSymbolTable(), textparse.ParserOptions{
		EnableOpenMetrics2:                      true,
		KeepClassicOnClassicAndNativeHistograms: true,
	})
	if p == nil {
		return nil, fmt.Errorf("textparse.New(%q): %w", contentType, err)
	}
	var out []bareSample
	var ls labels.Labels
	var ex exemplar.Exemplar
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var s bareSample
		var ts *int64
		switch entry {
		case textparse.EntrySeries:
			var series []byte
			series, ts, s.value = p.Series()
			s.series = string(series)
		case textparse.EntryHistogram:
			series, hts, h, fh := p.Histogram()
			s.series, ts, s.native = string(series), hts, true
			switch {
			case h != nil:
				s.value = float64(h.Count)
			case fh != nil:
				s.value = fh.Count
			}
		default:
			continue
		}
		if ts != nil {
			t := *ts
			s.ts = &t
		}
		p.Labels(&ls)
		ls.Range(func(l labels.Label) {
			if l.Name == labels.MetricName {
				s.name = l.Value
				return
			}
			s.labels = append(s.labels, check.Label{Name: l.Name, Value: l.Value})
		})
		for p.Exemplar(&ex) {
			s.exemplars++
			ex = exemplar.Exemplar{}
		}
		out = append(out, s)
	}
}

// normalizeRef is the documented normalisation of target types (package
// counters, "Target type policy"), written as its four steps so that the
// one-pass implementation is held to the definition.
func normalizeRef(s string, maxLen int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, s)
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if s == "" {
		return counters.EmptyTargetType
	}
	return s
}

// sortedUnique returns names sorted bytewise with duplicates removed.
func sortedUnique(names ...string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// findingsOf lists findings for an error message, one per line.
func findingsOf(fs []check.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n\t")
		b.WriteString(f.String())
	}
	return b.String()
}
