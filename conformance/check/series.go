package check

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// A seriesDecoder decodes series; it keeps what one series can lend the
// next.
type seriesDecoder struct {
	pairs    []Label // the labels of the last series, reused
	lastName string  // the unquoted name of the last series, blanks before it cut
	// lastLabels[k] is the unquoted name of the k-th label of the last
	// series, as written.
	lastLabels [8]string
}

// decode decodes the metric name and labels of a series textparse
// has accepted, exactly as textparse's Labels would: names and values
// unescaped the same way, le and quantile values normalised by the type of
// the last TYPE line, sorted by name with the same sort. It reads the
// series as written (a substring of the body), so a series without escapes
// costs no allocation; textparse's Labels copies the series and builds a
// new label string for every sample, which dominated building the model.
//
// The labels, __name__ included, are decoded into d.pairs, which is reused
// between calls; name is the value of the last __name__ among them.
func (d *seriesDecoder) decode(series string, mtype model.MetricType) (name string, pairs []Label) {
	rest := series
	// A bare metric name runs up to the brace or the space before it. The
	// text parser starts it before any blanks that open the line, so "  a 1"
	// is ingested with the name "  a": keep them, as Prometheus does.
	// Consecutive series mostly repeat a name, so the last one is tried
	// first, in one memory comparison.
	// Unquoted names and label names cannot hold a backslash, so only
	// quoted ones and values are unescaped, and only when they hold one.
	// A name found that way is the last one's string itself, so that
	// comparing the two later is a pointer comparison.
	lead := skipBlanks(rest, 0)
	if n := len(d.lastName); n > 0 && strings.HasPrefix(rest[lead:], d.lastName) &&
		(lead+n == len(rest) || rest[lead+n] == '{' || rest[lead+n] == ' ' || rest[lead+n] == '\t') {
		name, rest = rest[:lead+n], rest[lead+n:]
		if lead == 0 {
			name = d.lastName
		}
	} else {
		end := lead + nameEnd(rest[lead:], '{')
		d.lastName = rest[lead:end]
		name, rest = rest[:end], rest[end:]
	}
	pairs = append(d.pairs[:0], Label{Name: model.MetricNameLabel})
	open := skipBlanks(rest, 0)
	if open == len(rest) || rest[open] != '{' {
		open = strings.IndexByte(rest, '{')
	}
	if open >= 0 {
		rest = rest[open+1:]
		for ordinal := 0; ; ordinal++ {
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
				var escaped bool
				token, rest, escaped = cutQuoted(rest)
				if escaped {
					token = unescapeLabel(token)
				}
			} else {
				token, rest = d.labelName(rest, ordinal)
			}
			rest = rest[skipBlanks(rest, 0):]
			if quoted && (rest == "" || rest[0] == ',' || rest[0] == '}') {
				// A quoted string on its own is the metric name.
				name = token
				continue
			}
			rest = rest[skipBlanks(rest, min(1, len(rest))):] // past the '='
			value, after, escaped := cutQuoted(rest)
			rest = after
			if escaped {
				value = unescapeLabel(value)
			}
			if token == model.BucketLabel || token == model.QuantileLabel {
				value = normalizeFloatLabel(mtype, token, value)
			}
			pairs = append(pairs, Label{Name: token, Value: value})
		}
	}
	pairs[0].Value = name
	if len(pairs) > 1 {
		sortByName(pairs)
		for _, l := range pairs {
			if l.Name == model.MetricNameLabel {
				name = l.Value
			}
		}
	}
	d.pairs = pairs
	return name, pairs
}

// labelName cuts the unquoted label name rest starts with, the
// ordinal-th of its series. Series mostly repeat the label names of the
// last one, in the same order, so its name at that place is tried first;
// the name returned is then that string itself, as for metric names.
func (d *seriesDecoder) labelName(rest string, ordinal int) (name, after string) {
	if ordinal < len(d.lastLabels) {
		if last := d.lastLabels[ordinal]; last != "" && strings.HasPrefix(rest, last) &&
			len(rest) > len(last) && (rest[len(last)] == '=' || rest[len(last)] == ' ' || rest[len(last)] == '\t') {
			return last, rest[len(last):]
		}
	}
	end := nameEnd(rest, '=')
	if ordinal < len(d.lastLabels) {
		d.lastLabels[ordinal] = rest[:end]
	}
	return rest[:end], rest[end:]
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
// (escapes kept), what follows its closing quote, and whether the content
// holds a backslash.
func cutQuoted(s string) (content, rest string, escaped bool) {
	if s == "" || s[0] != '"' {
		return "", s, false
	}
	i := 1
	// Eight bytes at a time up to the first quote or backslash.
	for ; i+8 <= len(s); i += 8 {
		if m := quoteOrBackslash8(load64(s, i)); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			break
		}
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return s[1:i], s[i+1:], escaped
		}
	}
	return s[1:], "", escaped
}

// load64 reads the eight bytes of s from i on as a little-endian word (one
// load: the compiler combines the shifts).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// quoteOrBackslash8 flags the bytes of x that are " or \ (see
// bytesEqual); the lowest flag is exact.
func quoteOrBackslash8(x uint64) uint64 {
	return bytesEqual(x, '"') | bytesEqual(x, '\\')
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
