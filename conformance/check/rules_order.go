package check

import (
	"fmt"
	"strings"
)

// The order.* rules judge the order of schema families, of their
// metadata lines and of their series. The family and series rules compare
// neighbours only, so a single misplaced family or series is one finding,
// not one per entry after it, and the cost is linear in the number of
// samples.
//
// order.help-before-type enforces SPEC.md §1.4: each family writes its
// HELP line, then its TYPE line. Neither format requires that order: the
// text format takes HELP and TYPE "in no particular order", and OpenMetrics
// says the ordering SHOULD be TYPE, UNIT, HELP. It is therefore an order.*
// rule, judged only against a schema and only on its families, never a
// spec.* rule that would fault a generic exporter. (The client libraries
// checked here, client_golang and Python's prometheus_client, write HELP
// first in both formats.)
var orderRules = []Rule{
	{ID: "order.families", Severity: Error, Description: "schema families are written in schema order",
		Spec: "§1.6", Source: "SPEC.md §1.6", Quote: "The families appear in the order of §1.2, each as one uninterrupted group: its metadata, then all its samples, never resumed after another family."},
	{ID: "order.help-before-type", Severity: Error, Description: "a schema family writes its HELP line before its TYPE line, in every format (SPEC.md §1.4: the deploy contract's choice; neither format requires an order)",
		Spec: "§1.4", Source: "SPEC.md §1.4", Quote: "Under the deploy schema each family writes its `# HELP` line first, then its `# TYPE` line, in every format."},
	{ID: "order.series", Severity: Error, Description: "series of a schema family are sorted by the key label (bytewise ascending), then by the canonical order of the other labels",
		Spec: "§1.6", Source: "SPEC.md §1.6", Quote: "Within a family, series are sorted by `target_type`, ascending, comparing the UTF-8 bytes of the label values (so `AWSACM` < `Apache` < `NGINX` < `__overflow__` < `nginx`)."},
}

func checkOrder(p *pass) {
	if p.opts.Schema == nil {
		return
	}
	v := p.schemaView()
	checkFamilyOrder(p, v.matches)
	for i := range v.matches {
		if v.matches[i].fam != nil {
			checkHelpBeforeType(p, &v.matches[i])
			checkSeriesOrder(p, v.schema, &v.matches[i])
		}
	}
}

// checkHelpBeforeType reports a schema family whose first TYPE line comes
// before its first HELP line. A missing or repeated line is schema.help's
// and schema.type's to report; this rule judges only the order of the two
// that are there.
func checkHelpBeforeType(p *pass, m *schemaMatch) {
	declared := p.exp.Family(m.name)
	if declared == nil || declared.HelpLine == 0 || declared.TypeLine == 0 || declared.HelpLine < declared.TypeLine {
		return
	}
	p.report("order.help-before-type", declared.TypeLine, m.fs.Name, "",
		"the TYPE line of %s (line %d) comes before its HELP line (line %d): write `# HELP` first, then `# TYPE`, as SPEC.md §1.4 requires of every schema family",
		m.name, declared.TypeLine, declared.HelpLine)
}

// checkFamilyOrder reports each schema family written right after one the
// schema puts after it.
func checkFamilyOrder(p *pass, matches []schemaMatch) {
	index := make(map[*Family]int, len(matches))
	for i, m := range matches {
		if m.fam != nil {
			index[m.fam] = i
		}
	}
	prev := -1
	for _, f := range p.exp.Families {
		i, ok := index[f]
		if !ok {
			continue
		}
		if prev > i {
			p.report("order.families", familyLine(f), matches[i].fs.Name, "",
				"%s is written after %s; the %s schema orders its families %s",
				matches[i].name, matches[prev].name, p.opts.Schema.Name, familyOrder(matches))
		}
		prev = i
	}
}

func familyOrder(matches []schemaMatch) string {
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.name
	}
	return strings.Join(names, ", ")
}

// sortKey compares series of one schema family.
type sortKey struct {
	labels []string
	// rank gives the canonical position of a restricted label's values.
	rank map[string]map[string]int
}

func newSortKey(schema *Schema, fs *FamilySchema) *sortKey {
	k := &sortKey{labels: schema.sortLabels(fs), rank: make(map[string]map[string]int)}
	for label, values := range fs.Values {
		r := make(map[string]int, len(values))
		for i, v := range values {
			r[v] = i
		}
		k.rank[label] = r
	}
	return k
}

// compare orders a and b: by each sort label in turn, restricted labels by
// their canonical rank (unknown values after the known ones), the others
// bytewise.
func (k *sortKey) compare(a, b *Sample) int {
	for _, label := range k.labels {
		va, _ := a.Label(label)
		vb, _ := b.Label(label)
		if va == vb {
			continue
		}
		if r, ok := k.rank[label]; ok {
			ra, oka := r[va]
			rb, okb := r[vb]
			if !oka {
				ra = len(r)
			}
			if !okb {
				rb = len(r)
			}
			if ra != rb {
				return ra - rb
			}
		}
		return strings.Compare(va, vb)
	}
	return 0
}

// describe says in words how k sorts, for messages.
func (k *sortKey) describe(fs *FamilySchema) string {
	parts := make([]string, len(k.labels))
	for i, label := range k.labels {
		if values, ok := fs.Values[label]; ok {
			parts[i] = fmt.Sprintf("%s in the order %s", label, strings.Join(values, ", "))
		} else {
			parts[i] = label + " ascending (bytewise)"
		}
	}
	return strings.Join(parts, ", then ")
}

// checkSeriesOrder reports the first series of a family that sorts before
// its predecessor, with how many more do; schemaView.judge compared them.
func checkSeriesOrder(p *pass, schema *Schema, m *schemaMatch) {
	first, firstPrev := m.misplaced, m.misplacedAfter
	if first == nil {
		return
	}
	key := newSortKey(schema, m.fs)
	more := ""
	if m.misplacedCount > 1 {
		more = fmt.Sprintf(" (%d series of %s are out of place)", m.misplacedCount, m.name)
	}
	p.report("order.series", first.Line, m.fs.Name, first.Series,
		"%s is written after %s (line %d) but sorts before it; sort series by %s%s",
		first.Series, firstPrev.Series, firstPrev.Line, key.describe(m.fs), more)
}
