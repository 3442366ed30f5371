package check

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

var formatRules = []Rule{
	{ID: "format.rejected", Severity: Error, Description: "Prometheus's parser (model/textparse) rejects the exposition: the scrape fails"},
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
// failed on. textparse reports no position, but its errors quote the
// failing entry from its start up to one byte past the failing token
// ("... got %q (%q) while parsing: %q"), and the entry starts where the
// previous one ended: at strong, the end of the line of the last slice
// textparse returned, or (when textparse ended an entry early, as its
// OpenMetrics parser does on a stray byte after a value) after weak, the
// end of that slice. Errors that quote nothing are located from what they
// name (# EOF, a type, a timestamp) on the entry's line. buf is what
// textparse parsed: the body, plus the line feed the text parser adds to a
// body that lacks one.
func locateParseError(e *Exposition, buf []byte, weak, strong int, err error) (line, col int) {
	body := e.Body
	if e.Lines() == 0 {
		// An empty body has no line to point at: the finding is about the
		// exposition as a whole.
		return 0, 0
	}
	weak, strong = clamp(weak, len(body)), clamp(strong, len(body))
	at := func(off int) (int, int) {
		off = clamp(off, len(body))
		line := e.LineAt(off)
		return line, off - e.lineStarts()[line-1] + 1
	}
	start := strong
	if e.Format == FormatText {
		// The text parser skips blank lines before an entry.
		for start < len(body) {
			nl := bytes.IndexByte(body[start:], '\n')
			if nl < 0 || len(bytes.Trim(body[start:start+nl], " \t")) > 0 {
				break
			}
			start += nl + 1
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not end with # EOF"):
		end := len(body)
		if body[end-1] == '\n' {
			end-- // point at the last line's end, not past it
		}
		return at(end)
	case strings.Contains(msg, "after # EOF"):
		if i := bytes.Index(body[start:], []byte("# EOF")); i >= 0 {
			off := start + i + len("# EOF")
			if off < len(body) && body[off] == '\n' {
				off++
			}
			return at(off)
		}
	}
	if context, ok := quotedAfter(msg, "while parsing: "); ok && len(context) > 0 {
		off := bytes.Index(buf[start:], context)
		if off >= 0 {
			off += start
		} else if off = bytes.Index(buf[weak:], context); off >= 0 {
			off += weak
		}
		if off >= 0 {
			switch got, ok := quotedAfter(msg, ", got "); {
			case ok && len(got) <= len(context):
				// The quoted token runs to the end of the context.
				return at(off + len(context) - len(got))
			case strings.HasPrefix(msg, "metric name"):
				return at(off)
			default:
				// A number that does not parse: the last token, which
				// OpenMetrics separates with a space, the text format
				// with blanks.
				blanks := " \t"
				if e.Format == FormatOpenMetrics {
					blanks = " "
				}
				return at(off + bytes.LastIndexAny(context, blanks) + 1)
			}
		}
	}
	// The entry's line: the first token, or what the error names on it.
	line, col = at(start)
	text := e.Line(line)
	lead := len(text) - len(bytes.TrimLeft(text, " \t"))
	col = lead + 1
	switch {
	case strings.Contains(msg, "UTF-8"), strings.Contains(msg, "utf8"):
		if i := firstInvalidUTF8(text); i >= 0 {
			col = i + 1
		}
	case strings.HasPrefix(msg, "invalid metric type"), strings.HasPrefix(msg, "unit "):
		if i := metadataNameEnd(text); i >= 0 {
			col = i + 2 // past the blank after the name
		}
	case strings.HasPrefix(msg, "expected text in"):
		if i := metadataNameEnd(text); i >= 0 {
			col = i + 1 // where the blank and the text should be
		}
	case strings.HasPrefix(msg, "invalid exemplar timestamp"):
		col = bytes.LastIndexByte(text, ' ') + 2
	case strings.HasPrefix(msg, "invalid timestamp"):
		if i := sampleTimestampStart(text); i >= 0 {
			col = i + 1
		}
	}
	return line, min(col, len(text)+1)
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
