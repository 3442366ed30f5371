package check

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// The scrape.* rules compare a scrape with the previous scrape of the same
// target (Input.Previous), following SPEC.md §3 ("Cross-scrape
// semantics for any exporter"):
//
//   - a counter that decreases is a reset when the exposition shows one
//     (resets.evidence: its _created or start time moved forward, or
//     process_start_time_seconds did), reported as info; with no such
//     evidence it is an error, and so is a _created that moves backwards;
//   - a counter-like series that disappears is a warning (OpenMetrics:
//     metrics SHOULD NOT appear and disappear), a series the schema lists,
//     or a value of its key label, an error, both within one process;
//   - a changed HELP is info (OpenMetrics: not breaking), a changed TYPE or
//     a UNIT changed to another an error;
//   - family and series order are judged only for the schema's families,
//     which SPEC.md §2.4 holds to a stable order; OpenMetrics asks no stable
//     order of other families.
//
// Series are matched by metric name and labels, families by the name
// Prometheus stores their samples under, so a text scrape followed by an
// OpenMetrics one (or the reverse) is compared like two of one format.
var scrapeRules = []Rule{
	{ID: "scrape.counter-decreased", Severity: Error, Description: "no counter (nor histogram bucket or count, nor summary count) decreases between scrapes unless the exposition shows a reset: its _created, its start time (OpenMetrics 2.0 st@, protobuf created_timestamp) or process_start_time_seconds moves forward (OpenMetrics: a Total MAY reset to 0, the Created time MUST then be set to the reset)",
		Spec: "§3.2", Source: "OpenMetrics 1.0, Counter", Quote: "A Total is a non-NaN and MUST be monotonically non-decreasing over time, starting from 0."},
	{ID: "scrape.counter-reset", Severity: Info, Description: "a counter decreased and the exposition shows the reset (its _created, its start time or process_start_time_seconds moved forward): legal, OpenMetrics: \"A MetricPoint in a Metric's Counter's Total MAY reset to 0\"",
		Spec: "§3.2", Source: "OpenMetrics 1.0, Counter", Quote: "A MetricPoint in a Metric's Counter's Total MAY reset to 0."},
	{ID: "scrape.created-backwards", Severity: Error, Description: "OpenMetrics: a series' _created (or start time: OpenMetrics 2.0 st@, protobuf created_timestamp) never moves backwards between scrapes (it is the time of its creation or last reset)",
		Spec: "§3.2", Source: "OpenMetrics 1.0, Counter", Quote: "If present, the corresponding Created time MUST also be set to the timestamp of the reset."},
	{ID: "scrape.series-vanished", Severity: Error, Description: "no series of a schema family disappears between scrapes of one process (its key label value gone from every schema family is scrape.key-vanished instead)",
		Spec: "§3.3", Source: "SPEC.md §3.3", Quote: "A vanished series of a family the schema lists is an error: the schema makes the series part of the contract (§2.4)."},
	{ID: "scrape.counter-vanished", Severity: Warning, Description: "no counter, histogram or summary series outside the schema disappears between scrapes of one process (OpenMetrics: \"once a counter-like Metric is exposed it should continue to be exposed until the process terminates\"); a gauge may come and go",
		Spec: "§3.3", Source: "OpenMetrics 1.0, Exposition Across Time and Metric Evolution", Quote: "Metrics and samples SHOULD NOT appear and disappear from exposition to exposition, for example a counter is only useful if it has history."},
	{ID: "scrape.key-vanished", Severity: Error, Description: "no key label value (target type) of the schema disappears from every schema family between scrapes of one process",
		Spec: "§2.4", Source: "SPEC.md §2.4", Quote: "no target type disappears: once exported, a target type stays in all six families until the process ends;"},
	{ID: "scrape.family-order", Severity: Error, Description: "under a schema, the schema's families keep their relative order between scrapes of one process (SPEC.md §2.4; other families owe no order)",
		Spec: "§2.4", Source: "SPEC.md §2.4", Quote: "the order of the families and the relative order of the series that both scrapes hold stay the same (new target types take their sorted place, §1.6)."},
	{ID: "scrape.series-order", Severity: Error, Description: "under a schema, the series of the schema's families keep their relative order between scrapes of one process (SPEC.md §2.4; other families owe no order)",
		Spec: "§2.4", Source: "SPEC.md §2.4", Quote: "the order of the families and the relative order of the series that both scrapes hold stay the same (new target types take their sorted place, §1.6)."},
	{ID: "scrape.metadata-changed", Severity: Error, Description: "a family's TYPE, and its UNIT once it has one, do not change between scrapes (OpenMetrics: \"changing a MetricFamily's type ... will be breaking\"); a UNIT added or removed is not reported",
		Spec: "§3.4", Source: "OpenMetrics 1.0, Exposition Across Time and Metric Evolution", Quote: "In general changing a MetricFamily's type, or adding or removing a label from its Metrics will be breaking to ingestors."},
	{ID: "scrape.help-changed", Severity: Info, Description: "a family's HELP text changed, or its HELP line was added or dropped, between scrapes: allowed (OpenMetrics: \"Changing a MetricFamily's Help is not breaking\")",
		Spec: "§3.4", Source: "OpenMetrics 1.0, Exposition Across Time and Metric Evolution", Quote: "Changing a MetricFamily's Help is not breaking."},
}

func checkScrape(p *pass) {
	prev, cur := p.in.Previous, p.exp
	if prev == nil || prev.ParseError != nil {
		// A rejected previous scrape was never ingested: nothing to compare.
		return
	}
	r := newResets(prev, cur)
	// SPEC.md §2.4 holds an emitter to its order and its series within one
	// process; across a restart neither is owed (OpenMetrics: a metric is
	// exposed "until the process terminates").
	sameProcess := r.restart == ""
	series := newSeriesIndex(prev)
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
	// The schema's families in this scrape: their order and the order of
	// their series are judged (SPEC.md §3.5: no other family owes one),
	// and with a key label, which of their series keep their key label
	// value (see vanished).
	var schemaFamilies map[*Family]*schemaMatch
	if sameProcess && p.opts.Schema != nil {
		schemaFamilies = bySchemaFamily(p.schemaView().matches)
	}
	keyed := p.opts.Schema != nil && p.opts.Schema.KeyLabel != ""

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
		m, inSchema := schemaFamilies[f]
		if inSchema && pos < lastFamilyPos {
			p.report("scrape.family-order", familyLine(f), f.Name, "",
				"%s is now written after %s; in the previous scrape it came before it: keep the family order stable", f.Name, lastFamily.Name)
		} else if inSchema {
			lastFamily, lastFamilyPos = f, pos
		}
		compareMetadata(p, prev.Format, pf, f)
		if !keyed {
			m = nil
		}
		compareSeries(p, t, r, f, series, inSchema, m)
	}
	t.flush(p)
	if sameProcess {
		vanished(p, series)
	}
}

// seriesIndex finds the series of the previous scrape by metric name and
// labels, the identity of a series across scrapes and formats. Building a
// string key per series and looking it up in a map made the scrape rules
// cost as much as the rest of a check; this costs a hash per series of the
// previous scrape, and allocates nothing per series:
//
//   - Scrapes of one emitter mostly write the same series in the same
//     order, so a series is first looked for just after the last one
//     found, by comparing names and labels (strings of the two bodies).
//   - Else its hash is looked for in a Bloom filter of the previous
//     scrape's hashes: a new series is mostly told absent there. The
//     filter takes 2 to 4 bytes a series, few enough to stay in a core's
//     cache, where a hash table of 100k series does not.
//   - Else it is looked for a few series on (one removed before it), and
//     last in a hash table of the previous scrape's series, built on the
//     first look-up that needs it.
//
// Every candidate is confirmed by comparing names and labels.
type seriesIndex struct {
	samples []*Sample // the previous scrape's
	seed    maphash.Seed
	hashes  []uint64 // hash of each sample's name and label values
	filter  []uint64 // Bloom filter of hashes, 3 bits a hash
	table   hashIndex
	// first[i] says whether samples[i] is the first of its series (a
	// repeat is a spec finding of the previous scrape; it is the first
	// that is compared); seen[i] whether the current scrape has its
	// series; keyKept[i] whether a sample of the current scrape that the
	// schema judges has its series, and so its key label value.
	first, seen, keyKept []bool
	next                 int // the sample after the last one found
	// lastName is the name hashed last, lastNameHash its hash.
	lastName     string
	lastNameHash uint64
}

// lookAhead is how many series after the expected one lookup compares
// before it turns to the hash table: enough to step over a few series
// removed since the previous scrape.
const lookAhead = 8

func newSeriesIndex(prev *Exposition) *seriesIndex {
	n := len(prev.Samples)
	bits := 512
	for bits < 16*n {
		bits *= 2
	}
	x := &seriesIndex{samples: prev.Samples, seed: maphash.MakeSeed(), hashes: make([]uint64, n),
		filter: make([]uint64, bits/64), first: make([]bool, n), seen: make([]bool, n), keyKept: make([]bool, n)}
	// A repeat of an earlier series finds its bits set; so do a few
	// others, by chance, which are told apart below.
	var suspects []int
	for i, s := range prev.Samples {
		h := x.hash(s)
		x.hashes[i], x.first[i] = h, true
		if x.addToFilter(h) {
			suspects = append(suspects, i)
		}
	}
	x.dropRepeats(suspects)
	return x
}

// dropRepeats clears first for each suspect that repeats the name and
// labels of an earlier sample, in one pass over the hashes.
func (x *seriesIndex) dropRepeats(suspects []int) {
	if len(suspects) == 0 {
		return
	}
	// A set of 4096 bits of the suspects' hashes spares most samples a
	// look-up in the map.
	var quick [64]uint64
	bySuspect := make(map[uint64][]int, len(suspects))
	for _, j := range suspects {
		h := x.hashes[j]
		bySuspect[h] = append(bySuspect[h], j)
		quick[h>>58] |= 1 << (h >> 52 & 63)
	}
	for i, h := range x.hashes[:suspects[len(suspects)-1]] {
		if quick[h>>58]&(1<<(h>>52&63)) == 0 {
			continue
		}
		for _, j := range bySuspect[h] {
			if j > i && x.first[j] && sameSeries(x.samples[i], x.samples[j]) {
				x.first[j] = false
			}
		}
	}
}

// filterBits returns the three bits of the filter that stand for hash h
// (double hashing: h1, h1+h2, h1+2*h2).
func (x *seriesIndex) filterBits(h uint64) [3]uint64 {
	mask := uint64(len(x.filter)*64 - 1)
	h1, h2 := h&0xffffffff, h>>32|1
	return [3]uint64{h1 & mask, (h1 + h2) & mask, (h1 + 2*h2) & mask}
}

// addToFilter sets the bits of h and reports whether they were all set.
func (x *seriesIndex) addToFilter(h uint64) bool {
	had := true
	for _, b := range x.filterBits(h) {
		w, bit := b/64, uint64(1)<<(b%64)
		had = had && x.filter[w]&bit != 0
		x.filter[w] |= bit
	}
	return had
}

// mayHold reports whether the filter holds h: false means no sample of
// the previous scrape has its hash.
func (x *seriesIndex) mayHold(h uint64) bool {
	for _, b := range x.filterBits(h) {
		if x.filter[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// lookup returns the index of the first sample of the previous scrape
// with the name and labels of s, -1 when it has none.
func (x *seriesIndex) lookup(s *Sample) int {
	if g := x.next; g < len(x.samples) && x.first[g] && sameSeries(x.samples[g], s) {
		x.next = g + 1
		return g
	}
	h := x.hash(s)
	if !x.mayHold(h) {
		return -1
	}
	for g := x.next + 1; g < min(x.next+lookAhead, len(x.samples)); g++ {
		if x.hashes[g] == h && x.first[g] && sameSeries(x.samples[g], s) {
			x.next = g + 1
			return g
		}
	}
	i := x.find(h, s)
	if i >= 0 {
		x.next = i + 1
	}
	return i
}

// find looks s, whose hash is h, up in the hash table, building it first
// if need be; it returns the index of the sample found, -1 when none.
func (x *seriesIndex) find(h uint64, s *Sample) int {
	if x.table.slots == nil {
		// Sized for every sample, the table never needs to grow.
		x.table = newHashIndex(len(x.samples))
		for i, hi := range x.hashes {
			if !x.first[i] {
				continue
			}
			// The first samples are distinct series: each takes the
			// first free slot from its home.
			pos := x.table.home(hi)
			for {
				if taken, _ := x.table.at(pos, hi); taken < 0 {
					break
				}
				pos = x.table.step(pos)
			}
			x.table.set(pos, hi, int32(i))
		}
	}
	for pos := x.table.home(h); ; pos = x.table.step(pos) {
		i, maybe := x.table.at(pos, h)
		if i < 0 {
			return -1
		}
		if maybe && sameSeries(x.samples[i], s) {
			return int(i)
		}
	}
}

// hash hashes the metric name and label values of s, each string on its
// own (maphash of a string is one call), mixed in order. The label names
// are left out: they seldom tell series apart, and series that differ
// only by them are told apart by sameSeries.
func (x *seriesIndex) hash(s *Sample) uint64 {
	const mix = 0x9e3779b97f4a7c15 // odd: multiplying by it loses nothing
	// Consecutive samples mostly share their name, and its string: that
	// comparison costs no more than a pointer's.
	if s.Name != x.lastName || x.lastName == "" {
		x.lastName, x.lastNameHash = s.Name, maphash.String(x.seed, s.Name)
	}
	h := x.lastNameHash
	for _, l := range s.Labels {
		h = (h ^ maphash.String(x.seed, l.Value)) * mix
	}
	// The table's slot comes from the low bits: fold the high ones in.
	return h ^ h>>32
}

// sameSeries reports whether a and b are one series: the same metric
// name and the same labels (both sorted by name).
func sameSeries(a, b *Sample) bool {
	return a.Name == b.Name && slices.Equal(a.Labels, b.Labels)
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
// moved (when judgeOrder). It marks every series it finds as seen, and as
// keyKept when keyed, the schema's match of f, judges the sample.
func compareSeries(p *pass, t *tally, r *resets, f *Family, series *seriesIndex, judgeOrder bool, keyed *schemaMatch) {
	var moved *Sample
	movedAfter, lastPos, count := -1, -1, 0
	// Consecutive samples mostly share their name (and its string), and
	// so whether the schema judges them.
	var roleName string
	var judged bool
	for _, s := range f.Samples {
		i := series.lookup(s)
		if i < 0 || series.seen[i] {
			// New, or a duplicate of a series already compared (a spec
			// finding): nothing to compare.
			continue
		}
		series.seen[i] = true
		if keyed != nil {
			if s.Name != roleName || roleName == "" {
				roleName = s.Name
				_, judged = roleOf(keyed.fs, keyed.fam, s)
			}
			series.keyKept[i] = judged
		}
		ps := series.samples[i]
		compareStart(p, f, ps, s)
		if s.Value < ps.Value {
			compareDecrease(p, t, r, f, ps, s)
		}
		if !judgeOrder {
			continue
		}
		if i < lastPos {
			if moved == nil {
				moved, movedAfter = s, lastPos
			}
			count++
			continue
		}
		lastPos = i
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
		moved.Series, series.samples[movedAfter].Series, more)
}

// compareStart judges the start time sample s carries (OpenMetrics 2.0
// st@, protobuf created_timestamp) against that of the same series in the
// previous scrape (ps): like a _created sample, it is when the series was
// created or last reset, which never goes back.
func compareStart(p *pass, f *Family, ps, s *Sample) {
	if ps.StartTimestamp == 0 || s.StartTimestamp == 0 || s.StartTimestamp >= ps.StartTimestamp || !cumulative(f, s) {
		return
	}
	// The front ends also give OpenMetrics 1.0 samples the value of their
	// _created sample, which compareDecrease judges as a sample: report
	// the start time only where no _created sample carries it.
	if p.exp.Format == FormatOpenMetrics || p.exp.Format == FormatText {
		return
	}
	p.report("scrape.created-backwards", s.Line, f.Name, s.Series,
		"the start time of %s moved backwards from %s to %s since the previous scrape: it is the time the series was created or last reset, which never goes back",
		s.Series, formatMillis(ps.StartTimestamp), formatMillis(s.StartTimestamp))
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
		return fmt.Sprintf("counter %s went from %s to %s since the previous scrape, and nothing shows a reset (no later _created or start time, no later process_start_time_seconds): "+
			"within one process a counter never decreases; if the process restarted, expose process_start_time_seconds or _created so that a restart can be told from lost counts",
			s.Series, formatValue(ps.Value), formatValue(s.Value))
	})
}

// vanished reports the series of the previous scrape that are gone: key
// label values of the schema once each, other schema series per family
// (errors), and counter-like series outside the schema per family
// (warnings).
func vanished(p *pass, series *seriesIndex) {
	prev := p.in.Previous
	schema := p.opts.Schema
	var schemaFamilies map[*Family]*schemaMatch
	var goneKeys map[string]*Sample // the first sample of each
	if schema != nil {
		matches := matchSchema(prev, schema)
		schemaFamilies = bySchemaFamily(matches)
		if schema.KeyLabel != "" {
			goneKeys = goneKeyValues(p, series, matches, schemaFamilies)
		}
		for _, key := range sortedKeys(goneKeys) {
			first := goneKeys[key]
			p.report("scrape.key-vanished", 0, first.Family.Name, first.Series,
				"%s=%q was in the previous scrape (e.g. %s) and is gone from every %s family: once seen, a %s stays for the life of the process",
				schema.KeyLabel, key, first.Series, schema.Name, schema.KeyLabel)
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
		if !series.first[i] || series.seen[i] {
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
			if v, _ := s.Label(schema.KeyLabel); goneKeys[v] != nil {
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

// goneKeyValues returns the values of the schema's key label that samples
// the schema judges had in the previous scrape (prevMatches, by family
// prevFamilies) and none has in this one, each with the first previous
// sample that had it (in the order the schema judges them); nil when none
// is gone. A series compareSeries found judged in this scrape (keyKept)
// keeps its value: only the others are read. This scrape's values come
// from the schema rules' reading of it (schemaView), which lists them.
func goneKeyValues(p *pass, series *seriesIndex, prevMatches []schemaMatch, prevFamilies map[*Family]*schemaMatch) map[string]*Sample {
	view := p.schemaView()
	label := view.schema.KeyLabel
	cur := keyLookup{values: view.keys}
	// The view lists "" for a judged sample without the key label as well
	// as for one with an empty value; only the latter has the value "".
	var emptyKnown, emptyInCur bool // found on first need: seldom
	var gone map[string]*Sample     // filled in below
	var fam *Family
	var m *schemaMatch
	for i, s := range series.samples {
		if series.keyKept[i] {
			continue
		}
		if s.Family != fam {
			fam, m = s.Family, prevFamilies[s.Family]
		}
		if m == nil {
			continue
		}
		if _, judged := roleOf(m.fs, m.fam, s); !judged {
			continue
		}
		v, ok := s.Label(label)
		if !ok {
			continue
		}
		if v == "" && !emptyKnown {
			emptyKnown, emptyInCur = true, hasEmptyKey(view)
		}
		if v == "" && emptyInCur || v != "" && cur.has(v) {
			continue
		}
		if gone == nil {
			gone = make(map[string]*Sample)
		}
		gone[v] = nil
	}
	if gone == nil {
		return nil
	}
	for i := range prevMatches {
		prevMatches[i].judged(func(s *Sample, _ sampleRole) {
			if v, ok := s.Label(label); ok {
				if first, isGone := gone[v]; isGone && first == nil {
					gone[v] = s
				}
			}
		})
	}
	return gone
}

// bySchemaFamily maps each family of an exposition that matches a schema
// family to its match.
func bySchemaFamily(matches []schemaMatch) map[*Family]*schemaMatch {
	byFamily := make(map[*Family]*schemaMatch, len(matches))
	for i := range matches {
		if m := &matches[i]; m.fam != nil {
			byFamily[m.fam] = m
		}
	}
	return byFamily
}

// hasEmptyKey reports whether a sample the schema judges has the key label
// with an empty value.
func hasEmptyKey(view *schemaView) bool {
	found := false
	for i := range view.matches {
		view.matches[i].judged(func(s *Sample, _ sampleRole) {
			if v, ok := s.Label(view.schema.KeyLabel); ok && v == "" {
				found = true
			}
		})
	}
	return found
}

// keyLookup tells whether a value is among values. Each family of a
// schema lists the same key values in the same order, so a value is looked
// for just after the last one found before the map, which is built only
// once a look-up needs it.
type keyLookup struct {
	values []string
	index  map[string]int
	last   int // the index of the last value found
}

func (k *keyLookup) has(value string) bool {
	// After the last value found, the last value itself (a key with
	// several series), the first value (the next family).
	for _, guess := range [3]int{k.last + 1, k.last, 0} {
		if guess < len(k.values) && k.values[guess] == value {
			k.last = guess
			return true
		}
	}
	if k.index == nil {
		k.index = make(map[string]int, len(k.values))
		for i, v := range k.values {
			if _, dup := k.index[v]; !dup {
				k.index[v] = i
			}
		}
	}
	i, ok := k.index[value]
	if ok {
		k.last = i
	}
	return ok
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
// resets (SPEC.md §3.2).
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
// SPEC.md §3.2 accepts: a later start time carried by the sample itself
// (OpenMetrics 2.0 st@, protobuf created_timestamp, which the front ends
// put in Sample.StartTimestamp), a later _created of the series
// (OpenMetrics 1.0, also written as a gauge family of its own in the text
// format by client_python), a later process_start_time_seconds.
func (r *resets) evidence(ps, s *Sample) string {
	if r.prevCreated == nil {
		r.prevCreated, r.curCreated = createdIndex(r.prev), createdIndex(r.cur)
	}
	before, okBefore := r.prevCreated[createdKey(ps)]
	after, okAfter := r.curCreated[createdKey(s)]
	switch {
	case okBefore && okAfter && after > before:
		return fmt.Sprintf("its _created moved forward from %s to %s", formatValue(before), formatValue(after))
	case ps.StartTimestamp != 0 && s.StartTimestamp > ps.StartTimestamp:
		return fmt.Sprintf("its start time moved forward from %s to %s", formatMillis(ps.StartTimestamp), formatMillis(s.StartTimestamp))
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

// seriesKeyOf returns a key identifying a series by its metric name and
// labels, without le and quantile (a bucket's or quantile's _created is
// its metric's), each value prefixed by its length so that no value can
// forge a separator.
func seriesKeyOf(name string, labels []Label) string {
	b := []byte(name)
	for _, l := range labels {
		if l.Name == "le" || l.Name == "quantile" {
			continue
		}
		b = append(b, 0)
		b = append(b, l.Name...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(len(l.Value)), 10)
		b = append(b, ':')
		b = append(b, l.Value...)
	}
	return string(b)
}
