package check

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// The scrape.* rules compare a scrape with the previous scrape of the same
// target (Input.Previous). They assume both came from one process: a
// restart legitimately resets counters and may reorder series, and the
// caller that knows of a restart should not pass Previous across it.
//
// Series are matched by metric name and labels, families by the name
// Prometheus stores their samples under, so a text scrape followed by an
// OpenMetrics one (or the reverse) is compared like two of one format.
var scrapeRules = []Rule{
	{ID: "scrape.counter-decreased", Severity: Error, Description: "no counter decreases between scrapes of one process (a restart resets counters; within one process a decrease loses counts)"},
	{ID: "scrape.series-vanished", Severity: Error, Description: "no counter series, and no series of a schema family, disappears between scrapes"},
	{ID: "scrape.key-vanished", Severity: Error, Description: "no key label value (target type) of the schema disappears between scrapes"},
	{ID: "scrape.family-order", Severity: Error, Description: "families keep their relative order between scrapes"},
	{ID: "scrape.series-order", Severity: Error, Description: "series of a family keep their relative order between scrapes"},
	{ID: "scrape.metadata-changed", Severity: Error, Description: "a family's HELP text and TYPE do not change between scrapes"},
}

// prevSeries is one series of the previous scrape.
type prevSeries struct {
	s    *Sample
	pos  int // index in the previous scrape's samples
	seen bool
}

func checkScrape(p *pass) {
	prev, cur := p.in.Previous, p.exp
	if prev == nil || prev.ParseError != nil {
		// A rejected previous scrape was never ingested: nothing to compare.
		return
	}
	series := make(map[string]*prevSeries, len(prev.Samples))
	entries := make([]prevSeries, len(prev.Samples))
	prevKeys := make([]string, len(prev.Samples))
	var kb []byte
	for i, s := range prev.Samples {
		kb = appendSeriesKey(kb[:0], s)
		k := string(kb)
		prevKeys[i] = k
		if _, dup := series[k]; !dup {
			entries[i] = prevSeries{s: s, pos: i}
			series[k] = &entries[i]
		}
	}
	// Families pair by stored name. One exposition may hold several
	// families with one stored name (an OpenMetrics counter a beside a
	// gauge a_total, a name repeated after other families): the k-th of
	// them pairs with the k-th of the previous scrape, so that an
	// exposition compared with itself pairs every family with itself.
	families := make(map[string][]int, len(prev.Families))
	for i, f := range prev.Families {
		name := storedName(prev.Format, f)
		families[name] = append(families[name], i)
	}
	seen := make(map[string]int, len(cur.Families))

	t := newTally()
	lastFamily, lastFamilyPos := (*Family)(nil), -1
	for _, f := range cur.Families {
		name := storedName(cur.Format, f)
		k := seen[name]
		seen[name]++
		if k >= len(families[name]) {
			continue
		}
		pos := families[name][k]
		pf := prev.Families[pos]
		if pos < lastFamilyPos {
			p.report("scrape.family-order", familyLine(f), f.Name, "",
				"%s is now written after %s; in the previous scrape it came before it: keep the family order stable", f.Name, lastFamily.Name)
		} else {
			lastFamily, lastFamilyPos = f, pos
		}
		compareMetadata(p, f, pf)
		compareSeries(p, t, f, series)
	}
	t.flush(p)
	vanished(p, series, prevKeys)
}

// compareMetadata reports a HELP or TYPE that differs from the previous
// scrape's.
func compareMetadata(p *pass, f, pf *Family) {
	if f.Type != pf.Type {
		p.report("scrape.metadata-changed", familyLine(f), f.Name, "",
			"%s changed type from %s to %s since the previous scrape: a family keeps its TYPE for the life of the process", f.Name, pf.Type, f.Type)
	}
	if f.HasHelp != pf.HasHelp || f.Help != pf.Help {
		p.report("scrape.metadata-changed", familyLine(f), f.Name, "",
			"%s changed HELP from %s to %s since the previous scrape: a family keeps its HELP for the life of the process", f.Name, helpText(pf), helpText(f))
	}
}

func helpText(f *Family) string {
	if !f.HasHelp {
		return "(none)"
	}
	return strconv.Quote(f.Help)
}

// compareSeries judges the samples of one family against the previous
// scrape: counters that decreased, series that moved. It marks every
// series it finds as seen.
func compareSeries(p *pass, t *tally, f *Family, series map[string]*prevSeries) {
	var last, moved *Sample
	var movedAfter *prevSeries
	lastPos, count := -1, 0
	var kb []byte
	for _, s := range f.Samples {
		kb = appendSeriesKey(kb[:0], s)
		ps := series[string(kb)] // no allocation: the compiler converts for the lookup only
		if ps == nil || ps.seen {
			// New, or a duplicate of a series already compared (a spec
			// finding): nothing to compare.
			continue
		}
		ps.seen = true
		if cumulative(f, s) && cumulative(ps.s.Family, ps.s) && s.Value < ps.s.Value {
			t.add("scrape.counter-decreased", f.Name, s, "dec", func() string {
				return fmt.Sprintf("counter %s went from %s to %s since the previous scrape: within one process a counter never decreases (only a restart resets it)",
					s.Series, formatValue(ps.s.Value), formatValue(s.Value))
			})
		}
		if ps.pos < lastPos {
			if moved == nil {
				moved, movedAfter = s, series[string(appendSeriesKey(nil, last))]
			}
			count++
			continue
		}
		last, lastPos = s, ps.pos
	}
	if moved == nil {
		return
	}
	more := ""
	if count > 1 {
		more = fmt.Sprintf(" (%d series of %s moved)", count, f.Name)
	}
	p.report("scrape.series-order", moved.Line, f.Name, moved.Series,
		"%s is now written after %s; in the previous scrape it came before it: keep the series order stable%s",
		moved.Series, movedAfter.s.Series, more)
}

// vanished reports the series of the previous scrape that are gone: key
// label values of the schema once each, other schema series and counter
// series per family.
func vanished(p *pass, series map[string]*prevSeries, prevKeys []string) {
	prev := p.in.Previous
	schema := p.opts.Schema
	var schemaFamilies map[*Family]*schemaMatch
	goneKeys := make(map[string]bool)
	if schema != nil {
		matches := matchSchema(prev, schema)
		schemaFamilies = make(map[*Family]*schemaMatch, len(matches))
		prevKeys, curKeys := make(map[string]*Sample), make(map[string]bool)
		for i := range matches {
			m := &matches[i]
			if m.fam == nil {
				continue
			}
			schemaFamilies[m.fam] = m
			if schema.KeyLabel == "" {
				continue
			}
			m.judged(func(s *Sample, _ sampleRole) {
				if v, ok := s.Label(schema.KeyLabel); ok && prevKeys[v] == nil {
					prevKeys[v] = s
				}
			})
		}
		for _, m := range matchSchema(p.exp, schema) {
			m.judged(func(s *Sample, _ sampleRole) {
				if v, ok := s.Label(schema.KeyLabel); ok {
					curKeys[v] = true
				}
			})
		}
		for _, key := range sortedKeys(prevKeys) {
			if !curKeys[key] {
				goneKeys[key] = true
				p.report("scrape.key-vanished", 0, prevKeys[key].Family.Name, prevKeys[key].Series,
					"%s=%q was in the previous scrape (e.g. %s) and is gone from every %s family: once seen, a %s stays for the life of the process",
					schema.KeyLabel, key, prevKeys[key].Series, schema.Name, schema.KeyLabel)
			}
		}
	}
	type gone struct {
		first *Sample
		count int
	}
	var order []*Family
	byFamily := make(map[*Family]*gone)
	for i, s := range prev.Samples {
		ps := series[prevKeys[i]]
		if ps.s != s || ps.seen {
			continue // a duplicate of an earlier series, or still there
		}
		m := schemaFamilies[s.Family]
		judged := false
		if m != nil {
			_, judged = roleOf(m.fs, m.fam, s)
		}
		if !judged && !cumulative(s.Family, s) {
			continue
		}
		if judged && schema.KeyLabel != "" {
			if v, _ := s.Label(schema.KeyLabel); goneKeys[v] {
				continue // reported once as scrape.key-vanished
			}
		}
		g := byFamily[s.Family]
		if g == nil {
			g = &gone{first: s}
			byFamily[s.Family] = g
			order = append(order, s.Family)
		}
		g.count++
	}
	for _, f := range order {
		g := byFamily[f]
		more := ""
		if g.count > 1 {
			more = fmt.Sprintf(" (%d series of %s vanished)", g.count, f.Name)
		}
		p.report("scrape.series-vanished", 0, f.Name, g.first.Series,
			"%s was in the previous scrape and is gone: a counter series stays for the life of the process, keep writing it with its last value%s",
			g.first.Series, more)
	}
}

// cumulative reports whether s is a sample Prometheus treats as a counter:
// a counter's value, a histogram's buckets and count, a summary's count.
func cumulative(f *Family, s *Sample) bool {
	suffix := strings.TrimPrefix(s.Name, f.Name)
	switch f.Type {
	case model.MetricTypeCounter:
		return suffix == "" || suffix == "_total"
	case model.MetricTypeHistogram:
		return suffix == "_bucket" || suffix == "_count"
	case model.MetricTypeSummary:
		return suffix == "_count"
	}
	return false
}

// appendSeriesKey appends to b a key identifying s across scrapes and
// formats: its metric name and its labels (sorted by name), each value
// prefixed by its length so that no value can forge a separator.
func appendSeriesKey(b []byte, s *Sample) []byte {
	b = append(b, s.Name...)
	for _, l := range s.Labels {
		b = append(b, 0)
		b = append(b, l.Name...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(len(l.Value)), 10)
		b = append(b, ':')
		b = append(b, l.Value...)
	}
	return b
}
