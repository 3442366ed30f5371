package check

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// decodeSeries decodes the metric name and labels of a series textparse
// has accepted, exactly as textparse's Labels would: names and values
// unescaped the same way, le and quantile values normalised by the type of
// the last TYPE line, sorted by name with the same sort. It reads the
// series as written (a substring of the body), so a series without escapes
// costs no allocation; textparse's Labels copies the series and builds a
// new label string for every sample, which dominated building the model.
//
// scratch is reused between calls; the labels are appended to into, which
// must have room for them (see builder.newLabels).
func decodeSeries(series string, mtype model.MetricType, scratch []Label, into []Label) (name string, _ []Label, _ []Label) {
	rest := series
	// A bare metric name runs up to the brace or the space before it. The
	// text parser starts it before any blanks that open the line, so "  a 1"
	// is ingested with the name "  a": keep them, as Prometheus does.
	lead := skipBlanks(rest, 0)
	end := lead + nameEnd(rest[lead:], '{')
	name, rest = rest[:end], rest[end:]
	pairs := append(scratch[:0], Label{Name: model.MetricNameLabel})
	if open := strings.IndexByte(rest, '{'); open >= 0 {
		rest = rest[open+1:]
		for {
			i := 0
			for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == ',') {
				i++
			}
			rest = rest[i:]
			if rest == "" || rest[0] == '}' {
				break
			}
			var token string
			quoted := rest[0] == '"'
			if quoted {
				token, rest = cutQuoted(rest)
			} else {
				end := nameEnd(rest, '=')
				token, rest = rest[:end], rest[end:]
			}
			rest = rest[skipBlanks(rest, 0):]
			if quoted && (rest == "" || rest[0] == ',' || rest[0] == '}') {
				// A quoted string on its own is the metric name.
				name = token
				continue
			}
			rest = rest[skipBlanks(rest, min(1, len(rest))):] // past the '='
			var value string
			value, rest = cutQuoted(rest)
			labelName := unescapeLabel(token)
			pairs = append(pairs, Label{Name: labelName, Value: normalizeFloatLabel(mtype, labelName, unescapeLabel(value))})
		}
	}
	pairs[0].Value = unescapeLabel(name)
	sortByName(pairs)
	for _, l := range pairs {
		if l.Name == model.MetricNameLabel {
			name = l.Value
			continue
		}
		into = append(into, l)
	}
	return name, into, pairs
}

// sortByName sorts labels by name exactly as textparse's ScratchBuilder
// does (slices.SortFunc by strings.Compare, which is unstable, so equal
// names must end in the same order too). For 12 elements or fewer
// SortFunc is this insertion sort; written out, it skips the comparison
// closure, which was a third of decoding a series.
func sortByName(pairs []Label) {
	if len(pairs) > 12 {
		slices.SortFunc(pairs, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		return
	}
	for i := 1; i < len(pairs); i++ {
		for j := i; j > 0 && pairs[j].Name < pairs[j-1].Name; j-- {
			pairs[j], pairs[j-1] = pairs[j-1], pairs[j]
		}
	}
}

// skipBlanks returns the index of the first byte of s from i on that is
// not a space or a tab. (strings.TrimLeft builds a byte set on every call,
// which showed in the profile of a check.)
func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// nameEnd returns the length of the name s starts with: up to stop, a
// space or a tab, or the end.
func nameEnd(s string, stop byte) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == stop || c == ' ' || c == '\t' {
			return i
		}
	}
	return len(s)
}

// cutQuoted returns the content of the quoted string s starts with, raw
// (escapes kept), and what follows its closing quote.
func cutQuoted(s string) (content, rest string) {
	if s == "" || s[0] != '"' {
		return "", s
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:]
		}
	}
	return s[1:], ""
}

// unescapeLabel undoes label escaping as textparse does: \\, \" and \n are
// replaced, and any other backslash is kept as it is.
func unescapeLabel(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\', '"':
				c = s[i+1]
				i++
			case 'n':
				c = '\n'
				i++
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// normalizeFloatLabel writes the le of a histogram and the quantile of a
// summary in OpenMetrics float form, as textparse does, so that "1" and
// "1.0" name the same bucket.
func normalizeFloatLabel(mtype model.MetricType, name, value string) string {
	if (mtype == model.MetricTypeSummary && name == model.QuantileLabel) || (mtype == model.MetricTypeHistogram && name == model.BucketLabel) {
		if f, err := strconv.ParseFloat(value, 64); err == nil {
			return labels.FormatOpenMetricsFloat(f)
		}
	}
	return value
}
