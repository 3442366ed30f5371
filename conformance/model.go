package conformance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
)

// model is what the suite expects an emitter to expose: the counters per
// exported target type, kept by the suite as it drives the emitter. It
// applies the emitter's declared normalisation and cardinality cap, so a
// model key is a label value as it must appear in the exposition.
type model struct {
	rows map[string]*counters.DeploySnapshot
	// regular counts rows other than the overflow row, for the cap.
	regular  int
	maxTypes int
	overflow string
	norm     func(string) string
}

func newModel(cfg *Config) *model {
	return &model{
		rows:     make(map[string]*counters.DeploySnapshot),
		maxTypes: cfg.MaxTargetTypes,
		overflow: cfg.OverflowTargetType,
		norm:     cfg.normalize,
	}
}

// key returns the row a tick on targetType counts into, adding it if new:
// the normalised name, or the overflow row once the cap is reached.
func (m *model) key(targetType string) string {
	k := m.norm(targetType)
	if _, ok := m.rows[k]; ok {
		return k
	}
	if m.maxTypes > 0 && k != m.overflow && m.regular >= m.maxTypes {
		k = m.overflow
		if _, ok := m.rows[k]; ok {
			return k
		}
	} else if k != m.overflow {
		m.regular++
	}
	m.rows[k] = &counters.DeploySnapshot{TargetType: k}
	return k
}

// add counts n ticks of c on targetType.
func (m *model) add(targetType string, c Counter, n uint64) {
	c.Add(m.rows[m.key(targetType)], n)
}

// outcome counts one deployment that ended in o.
func (m *model) outcome(targetType string, o counters.Outcome) {
	row := m.rows[m.key(targetType)]
	for _, c := range Ticks(o) {
		c.Add(row, 1)
	}
}

// merge adds every count of other, whose keys are already final.
func (m *model) merge(other *model) {
	for _, k := range other.keys() {
		row := m.rows[m.key(k)]
		for _, c := range Counters() {
			c.Add(row, c.Of(other.rows[k]))
		}
	}
}

// keys returns the model's target types, sorted bytewise.
func (m *model) keys() []string {
	keys := make([]string, 0, len(m.rows))
	for k := range m.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// snapshot returns the model as an emitter's Snapshot should return it.
func (m *model) snapshot() []counters.DeploySnapshot {
	out := make([]counters.DeploySnapshot, 0, len(m.rows))
	for _, k := range m.keys() {
		out = append(out, *m.rows[k])
	}
	return out
}

// exposed is one value an exposition shows for a counter, and where:
// "line 12", or in protobuf, which has no lines, "message 3".
type exposed struct {
	value float64
	where string
}

// sampleWhere says where a sample is, for messages.
func sampleWhere(s *check.Sample) string {
	if s.Line == 0 && s.Family != nil && s.Family.Message() > 0 {
		return fmt.Sprintf("message %d", s.Family.Message())
	}
	return fmt.Sprintf("line %d", s.Line)
}

// exposedCounters reads the eight counters per target type out of an
// exposition of namespace ns. Samples that are not deploy counters are
// ignored (the engine judges them); of duplicated series the first counts,
// as the engine's invariant rules read them.
func exposedCounters(exp *check.Exposition, ns string) map[string]map[Counter]exposed {
	type key struct{ name, sub string }
	lookup := make(map[key]Counter, 8)
	for _, c := range Counters() {
		_, v := c.SubLabel()
		lookup[key{c.Name(ns), v}] = c
	}
	out := make(map[string]map[Counter]exposed)
	if exp == nil {
		return out
	}
	for _, s := range exp.Samples {
		tt, ok := s.Label("target_type")
		if !ok {
			continue
		}
		sub := ""
		for _, l := range s.Labels {
			if l.Name == "result" || l.Name == "outcome" {
				sub = l.Value
			}
		}
		c, ok := lookup[key{s.Name, sub}]
		if !ok {
			continue
		}
		row := out[tt]
		if row == nil {
			row = make(map[Counter]exposed, 8)
			out[tt] = row
		}
		if _, dup := row[c]; !dup {
			row[c] = exposed{value: s.Value, where: sampleWhere(s)}
		}
	}
	return out
}

// maxMismatches bounds a model failure message; the count says how many
// more there were.
const maxMismatches = 25

// diff returns what the exposition shows differently from the model, one
// line each: a counter of a modelled target type missing or with another
// value, or a target type the model never ticked exposed with a non-zero
// count (a target type registered ahead of its first tick may be exposed
// with zeros). Empty means the exposition matches.
func (m *model) diff(exp *check.Exposition, ns string) []string {
	got := exposedCounters(exp, ns)
	var out []string
	for _, k := range m.keys() {
		row := got[k]
		if row == nil {
			out = append(out, fmt.Sprintf("target_type=%s: missing from every family (model: %s)", quoteShort(k), countsText(m.rows[k])))
			continue
		}
		for _, c := range Counters() {
			want := c.Of(m.rows[k])
			e, ok := row[c]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: missing (model: %d)", seriesText(c, ns, k), want))
			case e.value != float64(want):
				out = append(out, fmt.Sprintf("%s: %s: exposed %s, model %d", e.where, seriesText(c, ns, k), formatFloat(e.value), want))
			}
		}
	}
	extra := make([]string, 0)
	for k := range got {
		if _, ok := m.rows[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		for _, c := range Counters() {
			if e, ok := got[k][c]; ok && e.value != 0 {
				out = append(out, fmt.Sprintf("%s: %s: exposed %s, but the suite never ticked a target type exported as %q",
					e.where, seriesText(c, ns, k), formatFloat(e.value), k))
			}
		}
	}
	return out
}

// diffSnapshot compares what an emitter's Snapshot returned with the
// model. The order of the entries is not judged: a copy is sorted first.
// A target type listed twice is.
func (m *model) diffSnapshot(got []counters.DeploySnapshot) []string {
	var out []string
	sorted := slices.Clone(got)
	slices.SortStableFunc(sorted, func(a, b counters.DeploySnapshot) int { return strings.Compare(a.TargetType, b.TargetType) })
	byName := make(map[string]*counters.DeploySnapshot, len(sorted))
	for i := range sorted {
		if i > 0 && sorted[i-1].TargetType == sorted[i].TargetType {
			out = append(out, fmt.Sprintf("%s: listed twice in the snapshot; each target type must have one entry", quoteShort(sorted[i].TargetType)))
			continue
		}
		byName[sorted[i].TargetType] = &sorted[i]
	}
	want := m.snapshot()
	for i := range want {
		w := &want[i]
		g := byName[w.TargetType]
		if g == nil {
			out = append(out, fmt.Sprintf("%s: missing from the snapshot", quoteShort(w.TargetType)))
			continue
		}
		for _, c := range Counters() {
			if c.Of(g) != c.Of(w) {
				out = append(out, fmt.Sprintf("%s %s: snapshot %d, model %d", quoteShort(w.TargetType), c, c.Of(g), c.Of(w)))
			}
		}
	}
	for i := range sorted {
		g := &sorted[i]
		if _, ok := m.rows[g.TargetType]; ok || byName[g.TargetType] != g {
			continue
		}
		if g.TargetType == "" {
			out = append(out, "an entry with an empty target type: the suite never ticked one exported as \"\"")
			continue
		}
		for _, c := range Counters() {
			if c.Of(g) != 0 {
				out = append(out, fmt.Sprintf("%s %s: snapshot %d, but the suite never ticked it", quoteShort(g.TargetType), c, c.Of(g)))
			}
		}
	}
	return out
}

// countsText lists the non-zero counters of a row, for messages.
func countsText(s *counters.DeploySnapshot) string {
	var parts []string
	for _, c := range Counters() {
		if v := c.Of(s); v != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, v))
		}
	}
	if len(parts) == 0 {
		return "all zero"
	}
	return strings.Join(parts, ", ")
}

// quoteShort quotes a target type for a message the Go way (readable and
// unambiguous; this is not the exposition), cut when huge.
func quoteShort(targetType string) string {
	if len(targetType) > 64 {
		return fmt.Sprintf("%q...(%d bytes)", targetType[:64], len(targetType))
	}
	return fmt.Sprintf("%q", targetType)
}

// seriesText writes a counter's series for a message.
func seriesText(c Counter, ns, targetType string) string {
	sub, v := c.SubLabel()
	if sub == "" {
		return fmt.Sprintf("%s{target_type=%s}", c.Name(ns), quoteShort(targetType))
	}
	return fmt.Sprintf("%s{target_type=%s,%s=%q}", c.Name(ns), quoteShort(targetType), sub, v)
}

// listMismatches renders lines, at most maxMismatches of them.
func listMismatches(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i == maxMismatches {
			fmt.Fprintf(&b, "  ... and %d more\n", len(lines)-i)
			break
		}
		b.WriteString("  ")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func formatFloat(v float64) string { return fmt.Sprintf("%g", v) }
