package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
)

// The lint.* rules are naming and metadata conventions: style, never
// correctness. All are warnings, so a valid exposition passes however
// unidiomatic its names, and `--strict --disable lint` holds an exporter
// to everything but style.
//
// Ten of them are promlint's checks (client_golang's
// prometheus/testutil/promlint, which `promtool check metrics` runs),
// reimplemented here so the product does not depend on client_golang, each
// with promlint's trigger; promlint's eleventh problem, "metric not unique",
// is spec.duplicate-series. The other three are extras promlint lacks,
// marked "extra" in their descriptions. Where they differ from promlint on
// purpose is listed in the package doc (doc.go, "Lint and promlint"), and
// a differential test holds every problem promtool reports on the corpus
// of real exporters to a finding here.
//
// They judge the names Prometheus stores, so a counter written in
// OpenMetrics as family "x" with samples "x_total" is linted as "x_total",
// exactly like the same counter in the text format. As in promlint, the
// type-dependent rules skip families with no TYPE: their type is unknown,
// so any suffix may be right.
var lintRules = []Rule{
	{ID: "lint.help", Severity: Warning, Description: `every family has a HELP line with text saying what it measures; an empty HELP counts as none (promlint: "no help text"; OpenMetrics: Help SHOULD be non-empty)`,
		Spec: "§8.2", Source: "promlint", Quote: "no help text"},
	{ID: "lint.counter-total", Severity: Warning, Description: `counter names end in _total; other typed families' names do not (promlint: "counter metrics should have \"_total\" suffix")`,
		Spec: "§8.2", Source: "promlint", Quote: "counter metrics should have \"_total\" suffix"},
	{ID: "lint.base-units", Severity: Warning, Description: `the first unit in a name is a base unit (seconds, bytes, meters, ...), not milliseconds, minutes, kilobytes, ... (promlint: "use base unit")`,
		Spec: "§8.2", Source: "promlint", Quote: "use base unit"},
	{ID: "lint.type-in-name", Severity: Warning, Description: `names do not repeat the metric type (_counter, _gauge, _histogram, _summary) (promlint: "metric name should not include type")`,
		Spec: "§8.2", Source: "promlint", Quote: "metric name should not include type"},
	{ID: "lint.colon-in-name", Severity: Warning, Description: `names contain no ':', reserved for recording rules (promlint: "metric names should not contain ':'")`,
		Spec: "§8.2", Source: "promlint", Quote: "metric names should not contain ':'"},
	{ID: "lint.name-snake-case", Severity: Warning, Description: `metric names are snake_case, not camelCase: no lowercase letter followed by an uppercase one (promlint: "metric names should be written in 'snake_case' not 'camelCase'")`,
		Spec: "§8.2", Source: "promlint", Quote: "metric names should be written in 'snake_case' not 'camelCase'"},
	{ID: "lint.label-snake-case", Severity: Warning, Description: `label names are snake_case, not camelCase: no lowercase letter followed by an uppercase one (promlint: "label names should be written in 'snake_case' not 'camelCase'")`,
		Spec: "§8.2", Source: "promlint", Quote: "label names should be written in 'snake_case' not 'camelCase'"},
	{ID: "lint.unit-abbreviation", Severity: Warning, Description: `names spell units out (seconds, bytes), never ms, s, sec, kb, ... (promlint: "metric names should not contain abbreviated units")`,
		Spec: "§8.2", Source: "promlint", Quote: "metric names should not contain abbreviated units"},
	{ID: "lint.reserved-suffix", Severity: Warning, Description: `_bucket only ends histogram names, _count and _sum only histogram and summary names (promlint: "non-histogram metrics should not have \"_bucket\" suffix", ...)`,
		Spec: "§8.2", Source: "promlint", Quote: "non-histogram metrics should not have \"_bucket\" suffix"},
	{ID: "lint.reserved-label", Severity: Warning, Description: `the le label only on histograms, the quantile label only on summaries (promlint: "non-histogram metrics should not have \"le\" label", ...)`,
		Spec: "§8.2", Source: "promlint", Quote: "non-histogram metrics should not have \"le\" label"},
	{ID: "lint.empty-label-value", Severity: Warning, Description: "extra, not in promlint: no label value is empty (Prometheus drops the label, so the series loses it)",
		Spec: "§8.3", Source: "OpenMetrics 1.0, Label", Quote: "Empty label values SHOULD be treated as if the label was not present."},
	{ID: "lint.label-named-label", Severity: Warning, Description: `extra, not in promlint: no label is named "label": name it for what it distinguishes`,
		Spec: "§8.3", Source: "SPEC.md §8.3", Quote: "No label is named `label`: a label is named for what it distinguishes (`lint.label-named-label`)."},
	{ID: "lint.reserved-label-prefix", Severity: Warning, Description: "extra, not in promlint: label names do not start with __ (reserved for Prometheus's internal labels)",
		Spec: "§8.3", Source: "SPEC.md §8.3", Quote: "No label name starts with `__`: Prometheus reserves such names for its internal labels (`lint.reserved-label-prefix`)."},
}

func checkLint(p *pass) {
	for _, f := range p.exp.Families {
		lintFamily(p, f)
	}
}

// storedName returns the metric name Prometheus stores the samples of f
// under: the family name, except for OpenMetrics counters, whose samples
// add _total.
func storedName(format Format, f *Family) string {
	if format == FormatOpenMetrics && f.Type == model.MetricTypeCounter {
		return f.Name + "_total"
	}
	return f.Name
}

// familyLine returns the first line that belongs to f, 0 when none does.
func familyLine(f *Family) int {
	line := 0
	for _, l := range []int{f.HelpLine, f.TypeLine, f.UnitLine} {
		if l > 0 && (line == 0 || l < line) {
			line = l
		}
	}
	if len(f.Samples) > 0 && (line == 0 || f.Samples[0].Line < line) {
		line = f.Samples[0].Line
	}
	return line
}

func lintFamily(p *pass, f *Family) {
	name := storedName(p.exp.Format, f)
	line := familyLine(f)
	report := func(rule, format string, args ...any) {
		p.report(rule, line, f.Name, "", format, args...)
	}
	typed := f.Type != model.MetricTypeUnknown

	switch {
	case !f.HasHelp:
		report("lint.help", "%s has no HELP line: add `# HELP %s <what it measures>` before its samples", f.Name, f.Name)
	case strings.Trim(f.Help, " \t") == "":
		// promtool's parser (expfmt) reads a HELP line with no text as no
		// HELP at all, and OpenMetrics says Help SHOULD be non-empty.
		report("lint.help", "%s has an empty HELP line, which says nothing (promtool counts it as no help text): write what it measures after `# HELP %s`", f.Name, f.Name)
	}

	hasTotal := strings.HasSuffix(name, "_total")
	switch {
	case f.Type == model.MetricTypeCounter && !hasTotal:
		report("lint.counter-total", "counter %s does not end in _total: name it %s_total", name, name)
	case typed && f.Type != model.MetricTypeCounter && hasTotal:
		report("lint.counter-total", "%s %s ends in _total, which marks counters: drop the suffix or make it a counter", f.Type, name)
	}

	// promlint judges the first unit it finds in the name, and only that.
	for _, part := range strings.Split(name, "_") {
		if unit, base, ok := metricUnit(part); ok {
			if unit != base {
				report("lint.base-units", "%s uses the unit %q: record the value in %s and name it %s",
					name, unit, base, replacePart(name, part, base))
			}
			break
		}
	}

	if typed {
		lower := strings.ToLower(name)
		typeName := string(f.Type)
		if strings.Contains(lower, "_"+typeName+"_") || strings.HasSuffix(lower, "_"+typeName) {
			report("lint.type-in-name", "%s repeats its type %q in the name: the TYPE line already says it, drop it from the name", name, typeName)
		}
	}

	if strings.Contains(name, ":") {
		report("lint.colon-in-name", "%s contains ':', which by convention marks recording-rule output: use '_' in exported names", name)
	}

	if camel := camelCase(name); camel != "" {
		report("lint.name-snake-case", "%s is camelCase (%q): name it %s", name, camel, snakeCase(name))
	}

	lower := strings.ToLower(name)
	for _, abbr := range unitAbbreviations {
		if strings.Contains(lower, "_"+abbr.short+"_") || strings.HasSuffix(lower, "_"+abbr.short) {
			report("lint.unit-abbreviation", "%s abbreviates a unit as %q: spell out the base unit (%s)", name, abbr.short, abbr.base)
		}
	}

	if typed {
		histogram := f.Type == model.MetricTypeHistogram || f.Type == model.MetricTypeGaugeHistogram
		summary := f.Type == model.MetricTypeSummary
		if !histogram && strings.HasSuffix(name, "_bucket") {
			report("lint.reserved-suffix", "%s %s ends in _bucket, which Prometheus reserves for histogram buckets: rename it", f.Type, name)
		}
		for _, suffix := range []string{"_count", "_sum"} {
			if !histogram && !summary && strings.HasSuffix(name, suffix) {
				report("lint.reserved-suffix", "%s %s ends in %s, which Prometheus reserves for histograms and summaries: rename it", f.Type, name, suffix)
			}
		}
	}

	lintLabels(p, f)
}

// labelUse is how the samples of one family use one label name.
type labelUse struct {
	first      *Sample // the first sample with the label
	empty      *Sample // the first sample where its value is empty
	emptyCount int
}

// lintLabels judges the label names and values of f's samples, reporting
// each problem once per family at the first sample that shows it.
func lintLabels(p *pass, f *Family) {
	uses := make(map[string]*labelUse)
	// The samples of a family mostly share their label names, position
	// by position: byPos remembers the use found at each position, so
	// that the map is only asked when a name differs from the previous
	// sample's.
	var byPos []*labelUse
	var names []string
	for s := range p.exp.labelSamples(f) {
		for j, l := range s.Labels {
			if j == len(byPos) {
				byPos, names = append(byPos, nil), append(names, "")
			}
			u := byPos[j]
			if u == nil || names[j] != l.Name {
				u = uses[l.Name]
				if u == nil {
					u = &labelUse{first: s}
					uses[l.Name] = u
				}
				byPos[j], names[j] = u, l.Name
			}
			if l.Value == "" {
				if u.empty == nil {
					u.empty = s
				}
				u.emptyCount++
			}
		}
	}
	histogram := f.Type == model.MetricTypeHistogram || f.Type == model.MetricTypeGaugeHistogram
	summary := f.Type == model.MetricTypeSummary
	typed := f.Type != model.MetricTypeUnknown
	for _, label := range sortedKeys(uses) {
		u := uses[label]
		at := func(rule string, s *Sample, format string, args ...any) {
			p.report(rule, s.Line, f.Name, s.Series, format, args...)
		}
		if camel := camelCase(label); camel != "" {
			at("lint.label-snake-case", u.first, "label %q of %s is camelCase (%q): name it %q", label, f.Name, camel, snakeCase(label))
		}
		switch {
		case typed && label == "le" && !histogram:
			at("lint.reserved-label", u.first, "%s %s has a label \"le\", which Prometheus reserves for histogram bucket bounds: rename the label", f.Type, f.Name)
		case typed && label == "quantile" && !summary:
			at("lint.reserved-label", u.first, "%s %s has a label \"quantile\", which Prometheus reserves for summary quantiles: rename the label", f.Type, f.Name)
		}
		if label == "label" {
			at("lint.label-named-label", u.first, "%s has a label named \"label\", which says nothing: name it for what its values distinguish", f.Name)
		}
		if strings.HasPrefix(label, "__") {
			at("lint.reserved-label-prefix", u.first, "label %q of %s starts with __, which Prometheus reserves for internal labels (relabelling drops them): rename it", label, f.Name)
		}
		if u.empty != nil {
			more := ""
			if u.emptyCount > 1 {
				more = fmt.Sprintf(" (%d series of %s have it empty)", u.emptyCount, f.Name)
			}
			at("lint.empty-label-value", u.empty, "label %q is empty in %s%s: Prometheus treats an empty label as absent, so the series loses it and may clash with another; give it a value or leave the label out", label, u.empty.Series, more)
		}
	}
}

// baseUnits maps the units promlint knows to the base unit names should use.
var baseUnits = map[string]string{
	"amperes": "amperes", "bytes": "bytes", "celsius": "celsius", "grams": "grams",
	"joules": "joules", "kelvin": "kelvin", "meters": "meters", "metres": "metres",
	"seconds": "seconds", "volts": "volts",
	"minutes": "seconds", "hours": "seconds", "days": "seconds", "weeks": "seconds",
	"kelvins": "kelvin", "fahrenheit": "celsius", "rankine": "celsius",
	"inches": "meters", "yards": "meters", "miles": "meters",
	"bits":     "bytes",
	"calories": "joules",
	"pounds":   "grams", "ounces": "grams",
}

// unitPrefixes are the SI and binary prefixes promlint recognises.
var unitPrefixes = []string{
	"pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo",
	"kibi", "mega", "mebi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
}

// metricUnit reports whether one "_"-separated part of a name is a unit
// (possibly prefixed, e.g. "milliseconds"), and its base unit.
func metricUnit(part string) (unit, base string, ok bool) {
	if base, ok := baseUnits[part]; ok {
		return part, base, true
	}
	for _, prefix := range unitPrefixes {
		if rest, found := strings.CutPrefix(part, prefix); found {
			if base, ok := baseUnits[rest]; ok {
				return part, base, true
			}
		}
	}
	return "", "", false
}

// unitAbbreviations are promlint's discouraged abbreviations with the base
// unit to spell out instead.
var unitAbbreviations = []struct{ short, base string }{
	{"s", "seconds"}, {"ms", "seconds"}, {"us", "seconds"}, {"ns", "seconds"}, {"sec", "seconds"},
	{"b", "bytes"}, {"kb", "bytes"}, {"mb", "bytes"}, {"gb", "bytes"}, {"tb", "bytes"}, {"pb", "bytes"},
	{"m", "meters, or seconds for minutes"}, {"h", "seconds"}, {"d", "seconds"},
}

// replacePart replaces the "_"-separated part old of name with repl.
func replacePart(name, old, repl string) string {
	parts := strings.Split(name, "_")
	if i := slices.Index(parts, old); i >= 0 {
		parts[i] = repl
	}
	return strings.Join(parts, "_")
}

// camelCase returns the first camelCase transition of s, a lowercase
// letter followed by an uppercase one, or "" when there is none: promlint's
// test ([a-z][A-Z]), which lets Icmp_InErrors's "_I" and an all-caps
// "HTTP" pass but not "InErrors".
func camelCase(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' && 'A' <= s[i+1] && s[i+1] <= 'Z' {
			return s[i : i+2]
		}
	}
	return ""
}

// snakeCase suggests the snake_case spelling of a camelCase or mixed-case
// name: "httpRequestsTotal" -> "http_requests_total", "HTTPServer" ->
// "http_server".
func snakeCase(s string) string {
	var b strings.Builder
	isUpper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	isLowerOrDigit := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) && i > 0 && s[i-1] != '_' {
			prevLower := isLowerOrDigit(s[i-1])
			nextLower := i+1 < len(s) && 'a' <= s[i+1] && s[i+1] <= 'z'
			if prevLower || (isUpper(s[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
