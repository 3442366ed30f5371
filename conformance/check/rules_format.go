package check

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

var formatRules = []Rule{
	{ID: "format.rejected", Severity: Error, Description: "Prometheus's parser (model/textparse) rejects the exposition: the scrape fails",
		Spec: "§7.1", Source: "SPEC.md §7.1", Quote: "An exposition textparse rejects is one Prometheus does not ingest: the scrape fails, and none of its samples is stored."},
}

// checkFormat reports textparse's verdict. It is the only source of format.*
// findings: the claim "Prometheus would reject this" is textparse's own.
func checkFormat(p *pass) {
	if pe := p.exp.ParseError; pe != nil {
		p.reportAt(Finding{Rule: "format.rejected", Line: pe.Line, Column: pe.Column, MessageIndex: pe.Message,
			Message: "textparse (" + p.exp.Format.String() + "): " + pe.Err.Error() + unquotedNameHint(p.exp, pe)})
	}
}

// unquotedNameHint explains an error at a character a legacy name cannot
// hold ("my.metric 1", "a{my.label=...}"): such a name is written quoted in
// text 1.0.0 and OpenMetrics ({"my.metric"} 1), or escaped. textparse
// stops at the character (OpenMetrics, label names) or reads the rest of
// the name as the value (a text format metric name).
func unquotedNameHint(e *Exposition, pe *ParseError) string {
	if pe.Line == 0 {
		return ""
	}
	line := e.Line(pe.Line)
	at := -1
	if c := pe.Column - 1; c >= 1 && c < len(line) && isNameChar(line[c-1]) {
		at = c
	} else {
		// The name that starts the line, and what ends it.
		i := len(line) - len(bytes.TrimLeft(line, " \t"))
		for i < len(line) && isNameChar(line[i]) {
			i++
		}
		if i > 0 && i < len(line) && isNameChar(line[i-1]) {
			at = i
		}
	}
	if at < 0 {
		return ""
	}
	switch c := line[at]; {
	case c < 0x21, c == '{', c == '}', c == '=', c == ',', c == '"', c == '#', isNameChar(c):
		return ""
	default:
		r, _ := utf8.DecodeRune(line[at:])
		return fmt.Sprintf(" (a name with %q in it is quoted, {\"my.metric\",\"my.label\"=\"v\"}, under escaping=allow-utf-8, or escaped)", r)
	}
}

// locateParseError finds the line and column of the token textparse
// failed on. textparse reports no position, only an English message, so
// the position is read from the message: each form of message it relies
// on is a parseErrorShape, pinned by TestParseErrorShapes against the
// textparse of go.mod. A message of no known shape (a textparse release
// that rewords one, or a new one) is located on the line of the entry
// textparse was reading, with no column, rather than at a guessed one.
//
// The entry starts where the previous one ended: at strong, the end of the
// line of the last slice textparse returned, or (when textparse ended an
// entry early, as its OpenMetrics parser does on a stray byte after a
// value) after weak, the end of that slice. buf is what textparse parsed:
// the body, plus the line feed the text parser adds to a body that lacks
// one. It also returns the name of the shape that located the error, ""
// for the fallback.
func locateParseError(e *Exposition, buf []byte, weak, strong int, err error) (line, col int, shape string) {
	if e.Lines() == 0 {
		// An empty body has no line to point at: the finding is about the
		// exposition as a whole.
		return 0, 0, ""
	}
	site := newErrorSite(e, buf, weak, strong, err.Error())
	for _, sh := range parseErrorShapes {
		if !sh.match(site.msg) {
			continue
		}
		if off, ok := sh.locate(site); ok {
			line, col = site.at(off)
			return line, col, sh.name
		}
	}
	line, _ = site.at(site.start)
	return line, 0, ""
}

// errorSite is what locating one parse error reads: the message and where
// in the body the failing entry starts.
type errorSite struct {
	e           *Exposition
	body, buf   []byte
	msg         string
	weak, start int
}

func newErrorSite(e *Exposition, buf []byte, weak, strong int, msg string) *errorSite {
	body := e.Body
	s := &errorSite{e: e, body: body, buf: buf, msg: msg, weak: clamp(weak, len(body)), start: clamp(strong, len(body))}
	if e.Format == FormatText {
		// The text parser skips blank lines before an entry.
		for s.start < len(body) {
			nl := bytes.IndexByte(body[s.start:], '\n')
			if nl < 0 || len(bytes.Trim(body[s.start:s.start+nl], " \t")) > 0 {
				break
			}
			s.start += nl + 1
		}
	}
	return s
}

// at returns the line and column of body offset off.
func (s *errorSite) at(off int) (line, col int) {
	off = clamp(off, len(s.body))
	line = s.e.LineAt(off)
	return line, off - s.e.lineStarts()[line-1] + 1
}

// context returns the offset in the body of the entry textparse quotes
// after marker (its `while parsing: %q`), and the quoted text.
func (s *errorSite) context(markers ...string) (off int, context []byte, ok bool) {
	for _, marker := range markers {
		context, ok = quotedAfter(s.msg, marker)
		if ok && len(context) > 0 {
			break
		}
	}
	if !ok || len(context) == 0 {
		return 0, nil, false
	}
	if off = bytes.Index(s.buf[s.start:], context); off >= 0 {
		return s.start + off, context, true
	}
	if off = bytes.Index(s.buf[s.weak:], context); off >= 0 {
		return s.weak + off, context, true
	}
	return 0, nil, false
}

// onEntryLine returns the offset of column i (0-based) of the line the
// failing entry starts on, clamped to just past its end; false when i < 0.
func (s *errorSite) onEntryLine(i func(text []byte) int) (int, bool) {
	line, _ := s.at(s.start)
	text := s.e.Line(line)
	col := i(text)
	if col < 0 {
		return 0, false
	}
	return s.e.lineStarts()[line-1] + min(col, len(text)), true
}

// A parseErrorShape is one form of textparse error message and how to find
// the failing token from it.
type parseErrorShape struct {
	name  string
	match func(msg string) bool
	// locate returns the body offset of the failing token, false when the
	// message does not lead to one.
	locate func(s *errorSite) (int, bool)
}

// contextMarkers introduce the failing entry in textparse's messages:
// "... while parsing: %q", and OpenMetrics 2.0's "while parsing
// exemplar value: %q" and the like.
var contextMarkers = []string{"while parsing: ", "while parsing exemplar value: ", "while parsing exemplar timestamp: ", "while parsing start timestamp: "}

// parseErrorShapes are the message forms of textparse (at the version in
// go.mod) that locateParseError reads, most specific first. Each is
// pinned by a case of TestParseErrorShapes.
var parseErrorShapes = []parseErrorShape{
	{
		// OpenMetrics: "data does not end with # EOF". At the last line's
		// end, not past it.
		name:  "no-eof",
		match: func(msg string) bool { return strings.Contains(msg, "does not end with # EOF") },
		locate: func(s *errorSite) (int, bool) {
			end := len(s.body)
			if s.body[end-1] == '\n' {
				end--
			}
			return end, true
		},
	},
	{
		// OpenMetrics: "unexpected data after # EOF". Just past the line
		// of # EOF, or past # EOF on its line.
		name:  "after-eof",
		match: func(msg string) bool { return strings.Contains(msg, "after # EOF") },
		locate: func(s *errorSite) (int, bool) {
			i := bytes.Index(s.body[s.start:], []byte("# EOF"))
			if i < 0 {
				return 0, false
			}
			off := s.start + i + len("# EOF")
			if off < len(s.body) && s.body[off] == '\n' {
				off++
			}
			return off, true
		},
	},
	{
		// The parsers' parseError: "expected X, got %q (%q) while
		// parsing: %q", the context running from the entry's start to one
		// byte past the failing token, which the got quotes.
		name: "got-token",
		match: func(msg string) bool {
			return strings.Contains(msg, ", got \"") && strings.Contains(msg, "while parsing: \"")
		},
		locate: func(s *errorSite) (int, bool) {
			off, context, ok := s.context(contextMarkers[0])
			got, gotOK := quotedAfter(s.msg, ", got ")
			if !ok || !gotOK || len(got) > len(context) {
				return 0, false
			}
			return off + len(context) - len(got), true
		},
	},
	{
		// "metric name already set while parsing: %q", "metric name not
		// set while parsing: %q": the entry itself.
		name: "metric-name",
		match: func(msg string) bool {
			return strings.HasPrefix(msg, "metric name") && strings.Contains(msg, "while parsing: \"")
		},
		locate: func(s *errorSite) (int, bool) {
			off, _, ok := s.context(contextMarkers[0])
			return off, ok
		},
	},
	{
		// A number that does not parse: "strconv.ParseFloat: ... while
		// parsing: %q", "unsupported character in float while parsing:
		// %q" (OpenMetrics 2.0 also "while parsing exemplar value: %q" and
		// the like): the context ends with the number, the last token,
		// which OpenMetrics 1.0 separates with a space, the other formats
		// with blanks.
		name: "number",
		match: func(msg string) bool {
			for _, m := range contextMarkers {
				if strings.Contains(msg, m+`"`) {
					return true
				}
			}
			return false
		},
		locate: func(s *errorSite) (int, bool) {
			off, context, ok := s.context(contextMarkers...)
			if !ok {
				return 0, false
			}
			blanks := " \t"
			if s.e.Format == FormatOpenMetrics {
				blanks = " "
			}
			return off + bytes.LastIndexAny(context, blanks) + 1, true
		},
	},
	{
		// "invalid UTF-8 label value: %q", "help text %q is not a valid
		// utf8 string": the first byte of the line that is not UTF-8.
		name:  "utf8",
		match: func(msg string) bool { return strings.Contains(msg, "UTF-8") || strings.Contains(msg, "utf8") },
		locate: func(s *errorSite) (int, bool) {
			return s.onEntryLine(firstInvalidUTF8)
		},
	},
	{
		// "invalid metric type %q", OpenMetrics' "unit %q not a suffix of
		// metric %q": the word after the metadata line's name.
		name: "metadata-value",
		match: func(msg string) bool {
			return strings.HasPrefix(msg, "invalid metric type") || strings.HasPrefix(msg, "unit ")
		},
		locate: func(s *errorSite) (int, bool) {
			return s.onEntryLine(func(text []byte) int {
				if i := metadataNameEnd(text); i >= 0 {
					return i + 1 // past the blank after the name
				}
				return -1
			})
		},
	},
	{
		// "expected text in HELP": where the blank and the text should be.
		name:   "metadata-text",
		match:  func(msg string) bool { return strings.HasPrefix(msg, "expected text in") },
		locate: func(s *errorSite) (int, bool) { return s.onEntryLine(metadataNameEnd) },
	},
	{
		// OpenMetrics: "invalid exemplar timestamp %f": the line's last
		// token.
		name:  "exemplar-timestamp",
		match: func(msg string) bool { return strings.HasPrefix(msg, "invalid exemplar timestamp") },
		locate: func(s *errorSite) (int, bool) {
			return s.onEntryLine(func(text []byte) int { return bytes.LastIndexByte(text, ' ') + 1 })
		},
	},
	{
		// OpenMetrics: "invalid timestamp %f": the sample's timestamp.
		name:   "timestamp",
		match:  func(msg string) bool { return strings.HasPrefix(msg, "invalid timestamp") },
		locate: func(s *errorSite) (int, bool) { return s.onEntryLine(sampleTimestampStart) },
	},
}

func clamp(off, n int) int { return min(max(off, 0), n) }

// quotedAfter returns the Go-quoted string that follows marker in msg,
// unquoted.
func quotedAfter(msg, marker string) ([]byte, bool) {
	i := strings.Index(msg, marker+`"`)
	if i < 0 {
		return nil, false
	}
	quoted, err := strconv.QuotedPrefix(msg[i+len(marker):])
	if err != nil {
		return nil, false
	}
	s, err := strconv.Unquote(quoted)
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}

// firstInvalidUTF8 returns the offset of the first byte of line that is not
// valid UTF-8, or -1.
func firstInvalidUTF8(line []byte) int {
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRune(line[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// metadataNameEnd returns the offset just past the name of a "# HELP name
// text" line (TYPE and UNIT alike), -1 when the line is not shaped so.
func metadataNameEnd(line []byte) int {
	i := 0
	blanks := func() {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
	}
	blanks()
	if i >= len(line) || line[i] != '#' {
		return -1
	}
	i++
	blanks()
	i += min(4, len(line)-i) // HELP, TYPE or UNIT
	blanks()
	if i < len(line) && line[i] == '"' {
		return skipQuoted(line, i)
	}
	for i < len(line) && isNameChar(line[i]) {
		i++
	}
	return i
}

// sampleTimestampStart returns the offset of the timestamp of a sample
// line, -1 when it has none.
func sampleTimestampStart(line []byte) int {
	i := 0
	for i < len(line) && line[i] != ' ' && line[i] != '{' {
		i++
	}
	if i < len(line) && line[i] == '{' {
		for i < len(line) && line[i] != '}' {
			if line[i] == '"' {
				i = skipQuoted(line, i)
				continue
			}
			i++
		}
	}
	if i < len(line) && line[i] == '}' {
		i++
	}
	// line[i] is the blank before the value; the timestamp follows the
	// blank after the value.
	if i >= len(line) {
		return -1
	}
	j := bytes.IndexByte(line[i+1:], ' ')
	if j < 0 {
		return -1
	}
	return i + 1 + j + 1
}

// skipQuoted returns the offset just past the quoted string starting at
// line[i] (a double quote), or len(line) when it does not close.
func skipQuoted(line []byte, i int) int {
	for i++; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(line)
}
