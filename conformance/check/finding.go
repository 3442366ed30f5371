package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// A Finding is one judgement of one rule about one place in an exposition.
type Finding struct {
	// Rule is the stable ID of the rule, e.g. "spec.duplicate-series".
	Rule string `json:"rule"`
	// Severity is the rule's severity after Options overrides.
	Severity Severity `json:"severity"`
	// Family is the metric family the finding is about, if any.
	Family string `json:"family,omitempty"`
	// Series is the series as written in the exposition, if the finding is
	// about one sample.
	Series string `json:"series,omitempty"`
	// Line is the 1-based line of the exposition the finding points at; 0
	// when it is about the exposition or the HTTP response as a whole.
	Line int `json:"line,omitempty"`
	// Column is the 1-based byte column within Line, 0 when not known.
	Column int `json:"column,omitempty"`
	// MessageIndex is, in protobuf, which has no lines, the 1-based index
	// of the length-delimited MetricFamily message the finding is about;
	// 0 in the text formats and for the exposition as a whole.
	MessageIndex int `json:"message_index,omitempty"`
	// Message says what is wrong, in a sentence a user can act on.
	Message string `json:"message"`
}

// String formats the finding as "line 12:5: error spec.duplicate-series:
// message" ("message 3: ..." in protobuf).
func (f Finding) String() string {
	var b strings.Builder
	switch {
	case f.Line > 0 && f.Column > 0:
		fmt.Fprintf(&b, "line %d:%d: ", f.Line, f.Column)
	case f.Line > 0:
		fmt.Fprintf(&b, "line %d: ", f.Line)
	case f.MessageIndex > 0:
		fmt.Fprintf(&b, "message %d: ", f.MessageIndex)
	}
	fmt.Fprintf(&b, "%s %s: %s", f.Severity, f.Rule, f.Message)
	return b.String()
}

// compareFindings orders findings by line, column, message, rule, then the
// rest, so that a report reads top to bottom and is the same on every run.
func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.MessageIndex, b.MessageIndex),
		strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.Family, b.Family),
		strings.Compare(a.Series, b.Series),
		strings.Compare(a.Message, b.Message),
	)
}

// A Report is the result of one Check.
type Report struct {
	// Findings, sorted by line, then column, then message, then rule.
	Findings []Finding `json:"findings"`
	// Exposition is the parsed input; later checks of the same target take it
	// as Input.Previous for the scrape.* rules. Nil when there was no body.
	Exposition *Exposition `json:"-"`
	// Strict is Options.Strict of the check that made the report.
	Strict bool `json:"strict"`
	// Omitted counts the findings left out of Findings by
	// Options.MaxFindingsPerRule, one entry per rule, sorted by rule ID;
	// nil when none were.
	Omitted []Omission `json:"omitted,omitempty"`
}

// An Omission is the findings of one rule past Options.MaxFindingsPerRule:
// counted, not kept.
type Omission struct {
	// Rule is the rule ID.
	Rule string `json:"rule"`
	// Severity is the rule's severity in the check.
	Severity Severity `json:"severity"`
	// Count is how many findings were left out.
	Count int `json:"count"`
}

// Failed reports whether the exposition fails the check: any error, or any
// warning under Options.Strict.
func (r *Report) Failed() bool {
	return r.Count(Error) > 0 || (r.Strict && r.Count(Warning) > 0)
}

// Count returns how many findings have severity s, those in Omitted
// included.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	for _, o := range r.Omitted {
		if o.Severity == s {
			n += o.Count
		}
	}
	return n
}

// Rule returns the findings of one rule ID, or of a group when id ends in
// ".*" (e.g. "format.*").
func (r *Report) Rule(id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if matchRule(id, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

// String renders every finding on its own line, then a summary line.
func (r *Report) String() string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	for _, o := range r.Omitted {
		fmt.Fprintf(&b, "and %d more %s %s findings (past Options.MaxFindingsPerRule)\n", o.Count, o.Severity, o.Rule)
	}
	verdict := "conforms"
	if r.Failed() {
		verdict = "FAILS"
	}
	fmt.Fprintf(&b, "%s: %d errors, %d warnings, %d info", verdict, r.Count(Error), r.Count(Warning), r.Count(Info))
	return b.String()
}

func (r *Report) sort() { slices.SortFunc(r.Findings, compareFindings) }

// matchRule reports whether pattern names rule: an exact ID, a group
// wildcard such as "lint.*", or a bare group name such as "lint".
func matchRule(pattern, rule string) bool {
	if pattern == rule {
		return true
	}
	group := strings.TrimSuffix(pattern, ".*")
	return !strings.Contains(group, ".") && strings.HasPrefix(rule, group+".")
}
