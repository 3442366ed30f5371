package conformance

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// The matchers below are for a team's own tests of its emitter, in Ginkgo
// or with gomega.NewWithT in a plain go test:
//
//	in := scrapeMyEmitter() // a check.Input, or the body as []byte or string
//	g.Expect(in).To(conformance.HaveSeries("certctl_deploy_attempts_total",
//		map[string]string{"target_type": "NGINX", "result": "success"}, 1))
//
// Each takes a check.Input (body and Content-Type, as package scrape
// returns it), a *check.Input, or a body as []byte or string (its format
// is then sniffed). A body Prometheus's parser rejects matches nothing:
// the failure message says why. A matcher that finds nothing to judge
// fails; it never passes vacuously.

// parsed is an exposition a matcher judges.
type parsed struct {
	exp *check.Exposition
	// rejected is textparse's verdict, when it rejects the body.
	rejected *check.Report
}

// toInput takes what a matcher was given as an exposition.
func toInput(actual any) (check.Input, error) {
	switch v := actual.(type) {
	case check.Input:
		return v, nil
	case *check.Input:
		if v != nil {
			return *v, nil
		}
		return check.Input{}, fmt.Errorf("expected a scraped exposition, got a nil *check.Input")
	case []byte:
		return check.Input{Body: v}, nil
	case string:
		return check.Input{Body: []byte(v)}, nil
	}
	return check.Input{}, fmt.Errorf("expected a scraped exposition (check.Input, *check.Input, []byte or string), got %T", actual)
}

func parseActual(actual any) (parsed, error) {
	in, err := toInput(actual)
	if err != nil {
		return parsed{}, err
	}
	// Only the parse is wanted: no HTTP or cross-scrape judgement.
	in.HTTP, in.Previous = nil, nil
	r := check.Check(in, check.Options{})
	p := parsed{exp: r.Exposition}
	if p.exp == nil || p.exp.ParseError != nil {
		p.rejected = r
	}
	return p, nil
}

// rejectedMessage explains a match failure on a body the parser rejects.
func rejectedMessage(p parsed) string {
	return "the exposition does not parse, so it holds nothing to match:\n" + describeReport(p.rejected)
}

// quoteLine shows line n of the exposition as "    n | text".
func quoteLine(exp *check.Exposition, n int) string {
	return fmt.Sprintf("    %d | %s", n, showLine(exp.Line(n)))
}

// HaveFamily succeeds when the exposition has a metric family of that name:
// a HELP or TYPE line names it, or samples do. An OpenMetrics counter family
// is also found by its text-format name with _total, so one matcher works
// on both formats.
func HaveFamily(name string) types.GomegaMatcher { return &familyMatcher{name: name} }

type familyMatcher struct {
	name string
	p    parsed
	fam  *check.Family
}

func (m *familyMatcher) Match(actual any) (bool, error) {
	p, err := parseActual(actual)
	if err != nil {
		return false, err
	}
	m.p = p
	if p.rejected != nil {
		return false, nil
	}
	m.fam = p.exp.Family(m.name)
	if m.fam == nil && p.exp.Format == check.FormatOpenMetrics {
		if base, ok := strings.CutSuffix(m.name, "_total"); ok {
			m.fam = p.exp.Family(base)
		}
	}
	return m.fam != nil, nil
}

func (m *familyMatcher) FailureMessage(any) string {
	if m.p.rejected != nil {
		return fmt.Sprintf("Expected the exposition to have family %q, but %s", m.name, rejectedMessage(m.p))
	}
	names := make([]string, len(m.p.exp.Families))
	for i, f := range m.p.exp.Families {
		names[i] = f.Name
	}
	present := "none"
	if len(names) > 0 {
		present = strings.Join(names, ", ")
	}
	return fmt.Sprintf("Expected the exposition to have family %q; the families it has: %s", m.name, present)
}

func (m *familyMatcher) NegatedFailureMessage(any) string {
	line := m.fam.TypeLine
	if line == 0 {
		line = m.fam.HelpLine
	}
	if line == 0 && len(m.fam.Samples) > 0 {
		line = m.fam.Samples[0].Line
	}
	return fmt.Sprintf("Expected the exposition not to have family %q, but it has:\n%s", m.name, quoteLine(m.p.exp, line))
}

// HaveSeries succeeds when the exposition has a sample named name (suffix
// included, e.g. "certctl_deploy_attempts_total") with exactly the given
// labels (compared unescaped, as Prometheus stores them) and a value that
// matches value: a number, or a Gomega matcher such as
// BeNumerically(">", 0).
func HaveSeries(name string, labels map[string]string, value any) types.GomegaMatcher {
	return &seriesMatcher{name: name, labels: labels, value: value}
}

type seriesMatcher struct {
	name   string
	labels map[string]string
	value  any

	p       parsed
	named   []*check.Sample // samples with the name
	labeled []*check.Sample // of those, with the labels
	matched *check.Sample
}

func (m *seriesMatcher) Match(actual any) (bool, error) {
	want, isMatcher := m.value.(types.GomegaMatcher)
	var wantNum float64
	if !isMatcher {
		n, ok := toFloat(m.value)
		if !ok {
			return false, fmt.Errorf("HaveSeries: value must be a number or a Gomega matcher, got %T", m.value)
		}
		wantNum = n
	}
	p, err := parseActual(actual)
	if err != nil {
		return false, err
	}
	*m = seriesMatcher{name: m.name, labels: m.labels, value: m.value, p: p}
	if p.rejected != nil {
		return false, nil
	}
	for _, s := range p.exp.Samples {
		if s.Name != m.name {
			continue
		}
		m.named = append(m.named, s)
		if !sameLabels(s.Labels, m.labels) {
			continue
		}
		m.labeled = append(m.labeled, s)
		ok := s.Value == wantNum
		if isMatcher {
			if ok, err = want.Match(s.Value); err != nil {
				return false, err
			}
		}
		if ok && m.matched == nil {
			m.matched = s
		}
	}
	return m.matched != nil, nil
}

func sameLabels(got []check.Label, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if v, ok := want[l.Name]; !ok || v != l.Value {
			return false
		}
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// wanted writes the series the matcher looks for, labels sorted.
func (m *seriesMatcher) wanted() string {
	parts := make([]string, 0, len(m.labels))
	for _, k := range slices.Sorted(maps.Keys(m.labels)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m.labels[k]))
	}
	value := fmt.Sprint(m.value)
	if matcher, ok := m.value.(types.GomegaMatcher); ok {
		value = fmt.Sprintf("matching %T", matcher)
	}
	return fmt.Sprintf("%s{%s} with value %s", m.name, strings.Join(parts, ","), value)
}

// maxCandidates bounds how many near misses a failure message shows.
const maxCandidates = 10

func (m *seriesMatcher) FailureMessage(any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Expected the exposition to have a sample %s, ", m.wanted())
	switch {
	case m.p.rejected != nil:
		b.WriteString("but " + rejectedMessage(m.p))
		return b.String()
	case len(m.labeled) > 0:
		b.WriteString("but the series has another value:\n")
		m.writeSamples(&b, m.labeled)
		if matcher, ok := m.value.(types.GomegaMatcher); ok {
			b.WriteString(matcher.FailureMessage(m.labeled[0].Value))
		}
	case len(m.named) > 0:
		fmt.Fprintf(&b, "but no sample of that name has exactly those labels; the samples named %s:\n", m.name)
		m.writeSamples(&b, m.named)
	default:
		fmt.Fprintf(&b, "but no sample is named %s", m.name)
	}
	return b.String()
}

func (m *seriesMatcher) writeSamples(b *strings.Builder, samples []*check.Sample) {
	for i, s := range samples {
		if i == maxCandidates {
			fmt.Fprintf(b, "    ... and %d more\n", len(samples)-i)
			break
		}
		b.WriteString(quoteLine(m.p.exp, s.Line))
		b.WriteByte('\n')
	}
}

func (m *seriesMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the exposition not to have a sample %s, but it has:\n%s", m.wanted(), quoteLine(m.p.exp, m.matched.Line))
}

// BeSortedBy succeeds when, within every family, the samples carrying
// label are in ascending bytewise order of its value (equal values may
// repeat, as the sub-labels of one target type do). At least one sample
// must carry the label: an exposition with none is not "sorted", it is
// missing what the test is about.
func BeSortedBy(label string) types.GomegaMatcher { return &sortedMatcher{label: label} }

type sortedMatcher struct {
	label       string
	p           parsed
	carriers    int
	prev, first *check.Sample // the first pair out of order
}

func (m *sortedMatcher) Match(actual any) (bool, error) {
	p, err := parseActual(actual)
	if err != nil {
		return false, err
	}
	*m = sortedMatcher{label: m.label, p: p}
	if p.rejected != nil {
		return false, nil
	}
	for _, f := range p.exp.Families {
		var last *check.Sample
		var lastValue string
		for _, s := range f.Samples {
			v, ok := s.Label(m.label)
			if !ok {
				continue
			}
			m.carriers++
			if last != nil && v < lastValue && m.first == nil {
				m.prev, m.first = last, s
			}
			last, lastValue = s, v
		}
	}
	return m.carriers > 0 && m.first == nil, nil
}

func (m *sortedMatcher) FailureMessage(any) string {
	switch {
	case m.p.rejected != nil:
		return fmt.Sprintf("Expected the exposition to be sorted by %s, but %s", m.label, rejectedMessage(m.p))
	case m.carriers == 0:
		return fmt.Sprintf("Expected the exposition to be sorted by %s, but no sample has a %s label: there is nothing sorted by it", m.label, m.label)
	case m.first == nil:
		return fmt.Sprintf("Expected the exposition to be sorted by %s, and it is", m.label)
	}
	v, _ := m.first.Label(m.label)
	pv, _ := m.prev.Label(m.label)
	return fmt.Sprintf("Expected the exposition to be sorted by %s, but %s=%q comes after %s=%q in family %s:\n%s\n%s",
		m.label, m.label, v, m.label, pv, m.first.Family.Name, quoteLine(m.p.exp, m.prev.Line), quoteLine(m.p.exp, m.first.Line))
}

func (m *sortedMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the exposition not to be sorted by %s, but all %d samples with that label are", m.label, m.carriers)
}

// ConformToSchema succeeds when the exposition passes the check engine with
// the schema (check.DeploySchema(ns) for the deploy metrics, or one loaded
// with check.LoadSchema) and every other rule at its default severity.
func ConformToSchema(schema *check.Schema) types.GomegaMatcher {
	return &checkMatcher{opts: check.Options{Schema: schema}, needSchema: true}
}

// PassCheck succeeds when the check engine, run with opts, does not fail
// the exposition. Given a check.Input from package scrape, the http.* rules
// apply too.
func PassCheck(opts check.Options) types.GomegaMatcher { return &checkMatcher{opts: opts} }

type checkMatcher struct {
	opts       check.Options
	needSchema bool
	report     *check.Report
}

func (m *checkMatcher) Match(actual any) (bool, error) {
	if m.needSchema && m.opts.Schema == nil {
		return false, fmt.Errorf("ConformToSchema: the schema is nil; pass check.DeploySchema(namespace) or a loaded schema")
	}
	in, err := toInput(actual)
	if err != nil {
		return false, err
	}
	m.report = check.Check(in, m.opts)
	return !m.report.Failed(), nil
}

func (m *checkMatcher) FailureMessage(any) string {
	return "Expected the exposition to pass the check, but:\n" + describeReport(m.report)
}

func (m *checkMatcher) NegatedFailureMessage(any) string {
	return "Expected the exposition to fail the check, but it passes:\n" + m.report.String()
}
