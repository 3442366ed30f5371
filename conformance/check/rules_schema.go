package check

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// The schema.* rules judge the families Options.Schema names; the world is
// open, so other families on the endpoint are never a schema finding.
// Problems that repeat across the series of a family (one wrong label on
// every series) are reported once, at the first series, with a count.
var schemaRules = []Rule{
	{ID: "schema.family-missing", Severity: Error, Description: "every family the schema requires is present",
		Spec: "§1.2", Source: "SPEC.md §1.2", Quote: "All six are present in every exposition, with their metadata (§1.4), even before any deployment has been counted: a family with no target type yet has metadata and no samples."},
	{ID: "schema.help", Severity: Error, Description: "every schema family has exactly one HELP line",
		Spec: "§1.4", Source: "SPEC.md §1.4", Quote: "Each family has exactly one `# HELP` line and exactly one `# TYPE` line (`counter`), both before its first sample, and nothing of another family between them and its samples."},
	{ID: "schema.type", Severity: Error, Description: "every schema family has exactly one TYPE line, naming the schema's type",
		Spec: "§1.4", Source: "SPEC.md §1.4", Quote: "Each family has exactly one `# HELP` line and exactly one `# TYPE` line (`counter`), both before its first sample, and nothing of another family between them and its samples."},
	{ID: "schema.labels", Severity: Error, Description: "every series of a schema family has exactly the schema's labels",
		Spec: "§1.5", Source: "SPEC.md §1.5", Quote: "A series of a deploy family has exactly the labels of §1.2: no other label, none missing."},
	{ID: "schema.label-value", Severity: Error, Description: "labels the schema restricts take only the listed values",
		Spec: "§1.5", Source: "SPEC.md §1.5", Quote: "The second label of families 1 and 5 takes only the values listed."},
	{ID: "schema.value", Severity: Error, Description: "integer families hold non-negative integers: no NaN, ±Inf, negative or fractional value",
		Spec: "§1.7", Source: "SPEC.md §1.7", Quote: "Every value is a non-negative integer: never NaN, ±Inf, negative or fractional."},
	{ID: "schema.key-label-empty", Severity: Error, Description: "the key label (target_type in the deploy schema) is never empty",
		Spec: "§1.5", Source: "SPEC.md §1.5", Quote: "The value of `target_type` is never empty."},
	{ID: "schema.key-set", Severity: Error, Description: "every schema family lists the same set of key label values (target types)",
		Spec: "§1.5", Source: "SPEC.md §1.5", Quote: "Every family lists the same set of target types: a target type that appears in one family appears, with all its series, in all six."},
	{ID: "schema.timestamp", Severity: Error, Description: "samples of schema families carry no timestamp",
		Spec: "§1.7", Source: "SPEC.md §1.7", Quote: "Samples carry no timestamp."},
}

// schemaMatch ties a schema family to the exposition family holding its
// samples.
type schemaMatch struct {
	fs *FamilySchema
	// name is the family name the exposition's format wants on the HELP and
	// TYPE lines (OpenMetrics drops a counter's _total).
	name string
	// fam holds the samples; nil when the family is absent.
	fam *Family

	// What schemaView.judge found, for the rules to report:
	// listed[k] says whether a judged sample has key keys[k], nkeys counts
	// those keys (schema.key-set);
	listed []bool
	nkeys  int
	// misplaced is the first judged sample that sorts before the one
	// written before it (misplacedAfter), misplacedCount how many do
	// (order.series).
	misplaced, misplacedAfter *Sample
	misplacedCount            int
}

// matchSchema finds the family of every schema family in e, in schema
// order. An OpenMetrics counter whose samples are right but whose metadata
// uses the text name (TYPE x_total, or none) still matches, so its samples
// are judged and only its metadata is reported.
func matchSchema(e *Exposition, s *Schema) []schemaMatch {
	out := make([]schemaMatch, len(s.Families))
	for i := range s.Families {
		fs := &s.Families[i]
		name := fs.familyName(e.Format)
		fam := e.Family(name)
		if name != fs.Name && (fam == nil || len(fam.Samples) == 0) {
			if alt := e.Family(fs.Name); alt != nil && len(alt.Samples) > 0 {
				fam = alt
			}
		}
		out[i] = schemaMatch{fs: fs, name: name, fam: fam}
	}
	return out
}

// sampleRole says how the schema judges one sample of a family.
type sampleRole struct {
	// extra is the label the type adds to this sample (le, quantile), if any.
	extra string
	// integer: the value is a count when the family is Integer.
	integer bool
}

// roleOf returns the role of sample s of family fam matched to fs, and
// false for samples the schema does not judge (OpenMetrics _created).
func roleOf(fs *FamilySchema, fam *Family, s *Sample) (sampleRole, bool) {
	suffix := strings.TrimPrefix(s.Name, fam.Name)
	switch suffix {
	case "_created":
		// A start time, not a count; OpenMetrics allows it on any counter,
		// histogram or summary.
		return sampleRole{}, false
	case "_bucket":
		return sampleRole{extra: "le", integer: true}, true
	case "_count", "_gcount":
		return sampleRole{integer: true}, true
	case "_sum", "_gsum":
		return sampleRole{}, true
	}
	if fs.Type == model.MetricTypeSummary {
		return sampleRole{extra: "quantile"}, true
	}
	return sampleRole{integer: true}, true
}

// judged calls fn for every sample of m the schema judges.
func (m *schemaMatch) judged(fn func(s *Sample, role sampleRole)) {
	if m.fam == nil {
		return
	}
	for _, s := range m.fam.Samples {
		if role, ok := roleOf(m.fs, m.fam, s); ok {
			fn(s, role)
		}
	}
}

func checkSchema(p *pass) {
	if p.opts.Schema == nil {
		return
	}
	v := p.schemaView()
	var prefixless map[string]string
	for i := range v.matches {
		m := &v.matches[i]
		if m.fam == nil {
			if prefixless == nil {
				prefixless = byPrefixlessName(p.exp)
			}
			checkMissing(p, m, prefixless)
			continue
		}
		var helpLines, typeLines []int
		if declared := p.exp.Family(m.name); declared != nil {
			helpLines, typeLines = declared.helpLines, declared.typeLines
		}
		checkMetadata(p, m, helpLines, typeLines)
	}
	v.tally.flush(p)
	checkKeySet(p, v)
}

// byPrefixlessName maps the stored name of every family of e, without its
// first "_"-separated word, to that name: acme_deploy_attempts_total is
// found as deploy_attempts_total, so that a missing certctl_deploy_attempts_total
// can point at it.
func byPrefixlessName(e *Exposition) map[string]string {
	out := make(map[string]string, len(e.Families))
	for _, f := range e.Families {
		name := storedName(e.Format, f)
		if _, rest, ok := strings.Cut(name, "_"); ok {
			if _, dup := out[rest]; !dup {
				out[rest] = name
			}
		}
	}
	return out
}

func checkMissing(p *pass, m *schemaMatch, prefixless map[string]string) {
	if m.fs.Optional {
		return
	}
	hint := ""
	if _, rest, ok := strings.Cut(m.fs.Name, "_"); ok {
		if other := prefixless[rest]; other != "" && other != m.fs.Name {
			prefix, _, _ := strings.Cut(other, "_")
			hint = fmt.Sprintf("; found %s, which differs only in its prefix: if the namespace is %s, check against the schema for it", other, prefix)
		}
	}
	if m.fs.Type == model.MetricTypeCounter {
		other := m.fs.Name
		if m.name == m.fs.Name {
			other = strings.TrimSuffix(m.fs.Name, "_total")
		}
		if f := p.exp.Family(other); f != nil {
			if p.exp.Format == FormatText {
				hint = fmt.Sprintf("; found %s, but in the text format a counter's family and samples are named with _total", other)
			} else {
				hint = fmt.Sprintf("; found %s, but in OpenMetrics a counter family is named without _total and its samples with it", other)
			}
		}
	}
	p.report("schema.family-missing", 0, m.fs.Name, "", "%s family %s is missing: the %s schema requires it, with labels %s%s",
		typeWord(p.exp.Format, m.fs.Type), m.name, p.opts.Schema.Name, labelList(m.fs.Labels), hint)
}

// checkMetadata judges the HELP and TYPE lines of a present schema family.
func checkMetadata(p *pass, m *schemaMatch, helpLines, typeLines []int) {
	line := familyLine(m.fam)
	switch len(helpLines) {
	case 0:
		p.report("schema.help", line, m.fs.Name, "", "%s has no HELP line: write `# HELP %s <what it counts>` directly before its TYPE line", m.name, m.name)
	case 1:
	default:
		p.report("schema.help", helpLines[1], m.fs.Name, "", "%s has %d HELP lines (lines %s): keep exactly one", m.name, len(helpLines), lineList(helpLines))
	}
	switch len(typeLines) {
	case 0:
		hint := ""
		if m.fam.Name != m.name {
			hint = fmt.Sprintf(" (its samples are there as %s; OpenMetrics names a counter family without _total)", m.fam.Name)
		}
		p.report("schema.type", line, m.fs.Name, "", "%s has no TYPE line: write `# TYPE %s %s` directly before its samples%s",
			m.name, m.name, typeWord(p.exp.Format, m.fs.Type), hint)
	case 1:
		if declared := p.exp.Family(m.name); declared != nil && declared.Type != m.fs.Type {
			want := typeWord(p.exp.Format, m.fs.Type)
			p.report("schema.type", typeLines[0], m.fs.Name, "", "%s is declared %s; the %s schema requires %s: write `# TYPE %s %s`",
				m.name, typeWord(p.exp.Format, declared.Type), p.opts.Schema.Name, want, m.name, want)
		}
	default:
		p.report("schema.type", typeLines[1], m.fs.Name, "", "%s has %d TYPE lines (lines %s): keep exactly one, directly before its samples", m.name, len(typeLines), lineList(typeLines))
	}
}

// labelDiff returns the labels of want (plus extra, if any) that s lacks,
// and the labels s has that are not wanted, appended to missing and unwanted.
func labelDiff(s *Sample, want []string, extra string, missing, unwanted []string) ([]string, []string) {
	for _, w := range want {
		if _, ok := s.Label(w); !ok {
			missing = append(missing, w)
		}
	}
	if extra != "" {
		if _, ok := s.Label(extra); !ok {
			missing = append(missing, extra)
		}
	}
	for _, l := range s.Labels {
		if l.Name != extra && !slices.Contains(want, l.Name) {
			unwanted = append(unwanted, l.Name)
		}
	}
	return missing, unwanted
}

func labelsMessage(s *Sample, fs *FamilySchema, role sampleRole, missing, extra []string) string {
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, plural(len(missing), "lacks the label ", "lacks the labels ")+valueList(missing))
	}
	if len(extra) > 0 {
		parts = append(parts, plural(len(extra), "has the unexpected label ", "has the unexpected labels ")+valueList(extra))
	}
	want := slices.Clone(fs.Labels)
	if role.extra != "" {
		want = append(want, role.extra)
	}
	return fmt.Sprintf("%s %s; the schema wants exactly the labels %s", s.Series, strings.Join(parts, " and "), labelList(want))
}

// countProblem says why v is not a count, or "" when it is one.
func countProblem(v float64) string {
	switch {
	case math.IsNaN(v):
		return "not a number"
	case math.IsInf(v, 0):
		return "infinite"
	case v < 0:
		return "negative"
	case v != math.Trunc(v):
		return "a fraction"
	}
	return ""
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// checkKeySet reports every present family that lacks key values another
// present family lists.
func checkKeySet(p *pass, v *schemaView) {
	schema := v.schema
	if schema.KeyLabel == "" {
		return
	}
	present := 0
	for i := range v.matches {
		if v.matches[i].fam != nil {
			present++
		}
	}
	if present < 2 {
		return
	}
	// The keys some family lists: "" stands for samples without one.
	var keys []int32
	for i, k := range v.keys {
		if k != "" {
			keys = append(keys, int32(i))
		}
	}
	slices.SortFunc(keys, func(a, b int32) int { return strings.Compare(v.keys[a], v.keys[b]) })
	for i := range v.matches {
		m := &v.matches[i]
		if m.fam == nil || m.nkeys == len(keys) {
			continue
		}
		var missing []string
		for _, k := range keys {
			if int(k) >= len(m.listed) || !m.listed[k] {
				missing = append(missing, v.keys[k])
			}
		}
		p.report("schema.key-set", familyLine(m.fam), m.fs.Name, "",
			"%s lists no series for %s %s, which other families of the %s schema list: every family lists every %s, with zero counts where nothing happened",
			m.name, schema.KeyLabel, valueList(missing), schema.Name, schema.KeyLabel)
	}
}

// tally reports a repeated problem once per family, at the first series
// that shows it, and counts the others: a label wrong on every series of a
// family is one mistake, not a thousand findings.
type tally struct {
	entries []*tallyEntry
	index   map[string]*tallyEntry
}

type tallyEntry struct {
	rule, family string
	sample       *Sample
	message      string
	count        int
}

func newTally() *tally { return &tally{index: make(map[string]*tallyEntry)} }

// add counts one occurrence of the problem key of rule in family at s;
// message is only called for the first.
func (t *tally) add(rule, family string, s *Sample, key string, message func() string) {
	key = rule + "\x00" + family + "\x00" + key
	if e := t.index[key]; e != nil {
		e.count++
		return
	}
	e := &tallyEntry{rule: rule, family: family, sample: s, message: message(), count: 1}
	t.index[key] = e
	t.entries = append(t.entries, e)
}

func (t *tally) flush(p *pass) {
	for _, e := range t.entries {
		msg := e.message
		if e.count > 1 {
			msg += fmt.Sprintf(" (%d series of %s like this one)", e.count, e.family)
		}
		p.report(e.rule, e.sample.Line, e.family, e.sample.Series, "%s", msg)
	}
}

// typeWord spells a type as a TYPE line of format writes it: the text
// format calls textparse's "unknown" "untyped".
func typeWord(format Format, t model.MetricType) string {
	if format == FormatText && t == model.MetricTypeUnknown {
		return "untyped"
	}
	return string(t)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func labelList(labels []string) string {
	if len(labels) == 0 {
		return "(none)"
	}
	return strings.Join(labels, ", ")
}

// valueList quotes values for a message, eliding the tail of a long list.
func valueList(values []string) string {
	const max = 10
	var b strings.Builder
	for i, v := range values {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(values)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

func lineList(lines []int) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = strconv.Itoa(l)
	}
	return strings.Join(parts, ", ")
}
