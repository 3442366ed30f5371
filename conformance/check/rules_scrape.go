package check

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// The scrape.* rules compare a scrape with the previous scrape of the same
// target (Input.Previous), following DESIGN.md §2 ("Cross-scrape
// semantics for any exporter"):
//
//   - a counter that decreases is a reset when the exposition shows one
//     (resetEvidence: its _created moved forward, or
//     process_start_time_seconds did), reported as info; with no such
//     evidence it is an error, and so is a _created that moves backwards;
//   - a series that disappears is a warning (OpenMetrics: metrics SHOULD NOT
//     appear and disappear), an error when the schema lists it or its key
//     label;
//   - a changed HELP is info (OpenMetrics: not breaking), a changed TYPE or
//     UNIT an error;
//   - family and series order are judged only under a schema, whose
//     emitters DESIGN.md §2 holds to a stable order; OpenMetrics asks no
//     stable order of other exporters.
//
// Series are matched by metric name and labels, families by the name
// Prometheus stores their samples under, so a text scrape followed by an
// OpenMetrics one (or the reverse) is compared like two of one format.
var scrapeRules = []Rule{
	{ID: "scrape.counter-decreased", Severity: Error, Description: "no counter (nor histogram bucket or count, nor summary count) decreases between scrapes unless the exposition shows a reset: its _created or process_start_time_seconds moves forward (OpenMetrics: a Total MAY reset to 0, the Created time MUST then be set to the reset)"},
	{ID: "scrape.counter-reset", Severity: Info, Description: "a counter decreased and the exposition shows the reset (its _created or process_start_time_seconds moved forward): legal, OpenMetrics: \"A MetricPoint in a Metric's Counter's Total MAY reset to 0\""},
	{ID: "scrape.created-backwards", Severity: Error, Description: "OpenMetrics: a series' _created never moves backwards between scrapes (it is the time of its creation or last reset)"},
	{ID: "scrape.series-vanished", Severity: Error, Description: "no series of a schema family disappears between scrapes of one process"},
	{ID: "scrape.counter-vanished", Severity: Warning, Description: "no counter, histogram or summary series outside the schema disappears between scrapes (OpenMetrics: \"once a counter-like Metric is exposed it should continue to be exposed until the process terminates\")"},
	{ID: "scrape.key-vanished", Severity: Error, Description: "no key label value (target type) of the schema disappears between scrapes"},
	{ID: "scrape.family-order", Severity: Error, Description: "under a schema, families keep their relative order between scrapes (DESIGN.md §2)"},
	{ID: "scrape.series-order", Severity: Error, Description: "under a schema, series of a family keep their relative order between scrapes (DESIGN.md §2)"},
	{ID: "scrape.metadata-changed", Severity: Error, Description: "a family's TYPE and UNIT do not change between scrapes (OpenMetrics: \"changing a MetricFamily's type ... will be breaking\")"},
	{ID: "scrape.help-changed", Severity: Info, Description: "a family's HELP text changed between scrapes: allowed (OpenMetrics: \"Changing a MetricFamily's Help is not breaking\")"},
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
	r := newResets(prev, cur)
	// DESIGN.md §2 holds an emitter to its order and its series within one
	// process; across a restart neither is owed (OpenMetrics: a metric is
	// exposed "until the process terminates").
	sameProcess := r.restart == ""
	judgeOrder := sameProcess && p.opts.Schema != nil
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
		if judgeOrder && pos < lastFamilyPos {
			p.report("scrape.family-order", familyLine(f), f.Name, "",
				"%s is now written after %s; in the previous scrape it came before it: keep the family order stable", f.Name, lastFamily.Name)
		} else {
			lastFamily, lastFamilyPos = f, pos
		}
		compareMetadata(p, prev.Format, pf, f)
		compareSeries(p, t, r, f, series, judgeOrder)
	}
	t.flush(p)
	if sameProcess {
		vanished(p, series, prevKeys)
	}
}

// compareMetadata reports a TYPE or UNIT that differs from the previous
// scrape's (an error), and a HELP that does (info).
func compareMetadata(p *pass, prevFormat Format, pf, f *Family) {
	if typeChanged(prevFormat, pf.Type, p.exp.Format, f.Type) {
		p.report("scrape.metadata-changed", familyLine(f), f.Name, "",
			"%s changed type from %s to %s since the previous scrape: a family keeps its TYPE for the life of the process (OpenMetrics: changing a MetricFamily's type is breaking)", f.Name, pf.Type, f.Type)
	}
	// Only a unit changed from one to another: adding one "is not
	// breaking" (OpenMetrics), and the text format has none to compare.
	if pf.Unit != "" && f.Unit != "" && pf.Unit != f.Unit {
		p.report("scrape.metadata-changed", familyLine(f), f.Name, "",
			"%s changed unit from %q to %q since the previous scrape: a family keeps its UNIT", f.Name, pf.Unit, f.Unit)
	}
	if f.HasHelp != pf.HasHelp || f.Help != pf.Help {
		p.report("scrape.help-changed", familyLine(f), f.Name, "",
			"%s changed HELP from %s to %s since the previous scrape (allowed: OpenMetrics says changing a Help is not breaking, though a Help that varies costs ingestors storage)", f.Name, helpText(pf), helpText(f))
	}
}

// typeChanged reports whether a family's type changed between two scrapes.
// The text format has no info, stateset or gaugehistogram type: a family
// of one of those, scraped once as text and once as OpenMetrics, is the
// same family under the type the text format writes it as.
func typeChanged(prevFormat Format, prev model.MetricType, curFormat Format, cur model.MetricType) bool {
	if prev == cur {
		return false
	}
	if prevFormat != curFormat && (textType(prev) == cur || textType(cur) == prev) {
		return false
	}
	return true
}

// textType is the type an OpenMetrics-only type is written as in the text
// format by the client libraries (client_python: info and stateset as
// gauge, gaugehistogram as histogram).
func textType(t model.MetricType) model.MetricType {
	switch t {
	case model.MetricTypeInfo, model.MetricTypeStateset:
		return model.MetricTypeGauge
	case model.MetricTypeGaugeHistogram:
		return model.MetricTypeHistogram
	}
	return t
}

func helpText(f *Family) string {
	if !f.HasHelp {
		return "(none)"
	}
	return strconv.Quote(f.Help)
}

// compareSeries judges the samples of one family against the previous
// scrape: counters that decreased, _created that moved back, series that
// moved (when judgeOrder). It marks every series it finds as seen.
func compareSeries(p *pass, t *tally, r *resets, f *Family, series map[string]*prevSeries, judgeOrder bool) {
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
		if s.Value < ps.s.Value {
			compareDecrease(p, t, r, f, ps.s, s)
		}
		if !judgeOrder {
			continue
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

// compareDecrease judges sample s, whose value is below that of the same
// series in the previous scrape (ps).
func compareDecrease(p *pass, t *tally, r *resets, f *Family, ps, s *Sample) {
	if isCreated(f, s) {
		p.report("scrape.created-backwards", s.Line, f.Name, s.Series,
			"%s moved backwards from %s to %s since the previous scrape: _created is the time the series was created or last reset, which never goes back",
			s.Series, formatValue(ps.Value), formatValue(s.Value))
		return
	}
	if !cumulative(f, s) || !cumulative(ps.Family, ps) {
		return // a gauge, a sum, a quantile: free to go down
	}
	if evidence := r.evidence(ps, s); evidence != "" {
		t.add("scrape.counter-reset", f.Name, s, "reset", func() string {
			return fmt.Sprintf("counter %s went from %s to %s since the previous scrape: a reset, as %s",
				s.Series, formatValue(ps.Value), formatValue(s.Value), evidence)
		})
		return
	}
	t.add("scrape.counter-decreased", f.Name, s, "dec", func() string {
		return fmt.Sprintf("counter %s went from %s to %s since the previous scrape, and nothing shows a reset (no later _created, no later process_start_time_seconds): "+
			"within one process a counter never decreases; if the process restarted, expose process_start_time_seconds or _created so that a restart can be told from lost counts",
			s.Series, formatValue(ps.Value), formatValue(s.Value))
	})
}

// vanished reports the series of the previous scrape that are gone: key
// label values of the schema once each, other schema series per family
// (errors), and counter-like series outside the schema per family
// (warnings).
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
		first  *Sample
		count  int
		judged bool
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
			g = &gone{first: s, judged: judged}
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
		if g.judged {
			p.report("scrape.series-vanished", 0, f.Name, g.first.Series,
				"%s was in the previous scrape and is gone: a series of the %s schema stays for the life of the process, keep writing it with its last value%s",
				g.first.Series, schema.Name, more)
			continue
		}
		p.report("scrape.counter-vanished", 0, f.Name, g.first.Series,
			"%s was in the previous scrape and is gone, though the process did not restart: once exposed, a counter-like series should stay until the process ends (OpenMetrics), with its last value%s",
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

// isCreated reports whether s is the _created sample of an OpenMetrics
// counter, histogram or summary family f.
func isCreated(f *Family, s *Sample) bool {
	if strings.TrimPrefix(s.Name, f.Name) != "_created" {
		return false
	}
	switch f.Type {
	case model.MetricTypeCounter, model.MetricTypeHistogram, model.MetricTypeSummary:
		return true
	}
	return false
}

// resets is what two successive expositions of one target show of counter
// resets (DESIGN.md §2).
type resets struct {
	prev, cur *Exposition
	// restart says how the expositions show a restart of the process
	// between them, "" when they do not.
	restart string
	// created maps the key of every series with a _created sample
	// (createdKey) to its value, per exposition; built on first use.
	prevCreated, curCreated map[string]float64
}

func newResets(prev, cur *Exposition) *resets {
	r := &resets{prev: prev, cur: cur}
	before, okBefore := processStart(prev)
	after, okAfter := processStart(cur)
	if okBefore && okAfter && after > before {
		r.restart = fmt.Sprintf("process_start_time_seconds moved forward from %s to %s (the process restarted)", formatValue(before), formatValue(after))
	}
	return r
}

// evidence returns what shows that the cumulative sample s, lower than
// the same series' sample ps of the previous scrape, was reset; "" when
// nothing does. It is the one place that knows the kinds of evidence
// DESIGN.md §2 accepts: a later _created of the series (OpenMetrics), a
// later process_start_time_seconds. A start time carried by the sample
// itself (OpenMetrics 2.0 st@, protobuf created_timestamp) is the third,
// to be read here once the model carries it.
func (r *resets) evidence(ps, s *Sample) string {
	if r.prevCreated == nil {
		r.prevCreated, r.curCreated = createdIndex(r.prev), createdIndex(r.cur)
	}
	before, okBefore := r.prevCreated[createdKey(ps)]
	after, okAfter := r.curCreated[createdKey(s)]
	if okBefore && okAfter && after > before {
		return fmt.Sprintf("its _created moved forward from %s to %s", formatValue(before), formatValue(after))
	}
	return r.restart
}

// processStart returns the value of process_start_time_seconds, the
// process collectors' start time of the exporting process (client_golang,
// client_python and others), if e has it.
func processStart(e *Exposition) (float64, bool) {
	const name = "process_start_time_seconds"
	if f := e.Family(name); f != nil {
		for _, s := range f.Samples {
			if s.Name == name {
				return s.Value, true
			}
		}
	}
	return 0, false
}

// createdIndex maps the createdKey of every _created sample of e to its
// value. Every sample named <base>_created counts, whatever its family:
// client_python writes a counter's _created in the text format as a
// gauge family of its own, with the counter's labels.
func createdIndex(e *Exposition) map[string]float64 {
	index := make(map[string]float64)
	for _, s := range e.Samples {
		if base, ok := strings.CutSuffix(s.Name, "_created"); ok {
			index[seriesKeyOf(base, s.Labels)] = s.Value
		}
	}
	return index
}

// createdKey returns the key its _created sample has in a createdIndex
// for the cumulative sample s: its name without the suffix that makes it
// a total, a bucket or a count, and its labels without le.
func createdKey(s *Sample) string {
	base := s.Name
	for _, suffix := range []string{"_total", "_bucket", "_count"} {
		if b, ok := strings.CutSuffix(base, suffix); ok {
			base = b
			break
		}
	}
	return seriesKeyOf(base, s.Labels)
}

// seriesKeyOf is appendSeriesKey for a name and labels, without le and
// quantile (a bucket's or quantile's _created is its metric's).
func seriesKeyOf(name string, labels []Label) string {
	b := []byte(name)
	for _, l := range labels {
		if l.Name == "le" || l.Name == "quantile" {
			continue
		}
		b = appendLabelKey(b, l)
	}
	return string(b)
}

// appendSeriesKey appends to b a key identifying s across scrapes and
// formats: its metric name and its labels (sorted by name), each value
// prefixed by its length so that no value can forge a separator.
func appendSeriesKey(b []byte, s *Sample) []byte {
	b = append(b, s.Name...)
	for _, l := range s.Labels {
		b = appendLabelKey(b, l)
	}
	return b
}

func appendLabelKey(b []byte, l Label) []byte {
	b = append(b, 0)
	b = append(b, l.Name...)
	b = append(b, '=')
	b = strconv.AppendInt(b, int64(len(l.Value)), 10)
	b = append(b, ':')
	return append(b, l.Value...)
}
