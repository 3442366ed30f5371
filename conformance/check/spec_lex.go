package check

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The strict lexer reads the raw bytes textparse has already accepted and
// holds them to the grammar of the format: the OpenMetrics 1.0 ABNF, or the
// text format 0.0.4 as its documentation describes it. textparse forgives a
// lot (trailing commas and quoted names in OpenMetrics, missing commas and
// any escape in the text format) and unescapes what it reads, so the spec
// rules that judge spelling (escapes, UTF-8, syntax) must see the bytes.
//
// It is one pass over the body, entry by entry (an entry is a line, or
// several when a quoted string holds a raw line feed, as textparse allows in
// the text format), with no allocation per line: an entry is a set of
// offsets into the body. It reports lexical findings as it goes and hands
// each entry to the semantic rules.

// entryKind classifies an entry.
type entryKind uint8

const (
	entryBlank entryKind = iota
	entryComment
	entryHelp
	entryType
	entryUnit
	entryEOF
	entrySample
	// entryBroken is a line the strict lexer could not read to its end;
	// a spec.syntax finding says why, and its spans are incomplete.
	entryBroken
)

// span is a half-open byte range of the body; start == end is empty.
type span struct{ start, end int }

// rawEntry is what the strict lexer learned about one entry. Spans are
// offsets into the body.
type rawEntry struct {
	kind entryKind
	// line is the 1-based line the entry starts on; start its offset (the
	// start of that line).
	line, start int
	// name is the metric name, without quotes when quoted.
	name span
	// text is the text of a HELP, TYPE or UNIT line.
	text span
	// value and ts are the sample's value and timestamp tokens.
	value, ts span
	hasTs     bool
	// le and quantile are the raw values (inside the quotes) of the first
	// le and quantile labels of a sample.
	le, quantile       span
	hasLe, hasQuantile bool
	// exemplar is set when the sample carries one; exRunes counts the
	// characters of its label names and values (an escape counts as one),
	// the measure the OpenMetrics 128-character limit uses.
	exemplar bool
	exRunes  int
	exStart  int
	// reported holds the lexical rules already reported for this entry, so
	// a value with a hundred bad escapes makes one finding, not a hundred.
	reported uint8
}

// Lexical findings, reported at most once per entry each.
const (
	seenEscape uint8 = 1 << iota
	seenGoQuote
	seenUndefined
	seenUTF8
	seenSyntax
	seenQuoted
	seenCR
)

// lexFinding receives the lexer's findings.
type lexFinding func(rule string, line, col int, msg string)

// rawLexer walks a body entry by entry.
type rawLexer struct {
	b []byte
	// om is OpenMetrics, 1.0 or 2.0; om2 OpenMetrics 2.0, whose samples
	// may hold a composite value, a st@ start timestamp and several
	// exemplars.
	om, om2 bool
	// quoting says whether the protocol allows quoted (UTF-8) names, and
	// why not when it does not; firstQuoted is the first quoted name.
	quoting     quotingPolicy
	firstQuoted utf8Name
	i           int // next byte to read
	line        int // line of b[i]
	lineStart   int // offset of the start of that line
	// stop is the offset no entry starts at or beyond, and no finding is
	// reported at: the start of the line textparse rejected, so the spec
	// rules never repeat a format.* error.
	stop   int
	report lexFinding
	e      *rawEntry
	// lastName is the last metric name a sample line spelled out;
	// lastLabels[k] the name of the k-th label of the last label set.
	lastName   span
	lastLabels [8]span
}

func newRawLexer(b []byte, format Format, quoting quotingPolicy, stop int, report lexFinding) *rawLexer {
	om := format == FormatOpenMetrics || format == FormatOpenMetrics2
	return &rawLexer{b: b, om: om, om2: format == FormatOpenMetrics2, quoting: quoting, line: 1, stop: min(stop, len(b)), report: report}
}

// next lexes the next entry into e; it returns false at the end (or at
// the stop offset).
func (l *rawLexer) next(e *rawEntry) bool {
	if l.i >= l.stop {
		return false
	}
	*e = rawEntry{line: l.line, start: l.i}
	l.e = e
	if l.om {
		l.omEntry(e)
	} else {
		l.textEntry(e)
	}
	// Every entry function stops at the line feed that ends the entry, or
	// at the end of the body; step over the line feed.
	if l.i < len(l.b) && l.b[l.i] == '\n' {
		l.i++
		l.line++
		l.lineStart = l.i
	}
	return true
}

// finding reports rule at offset off of the current line, once per entry
// for the lexical rules that have a seen bit.
func (l *rawLexer) finding(rule string, seen uint8, off int, format string, args ...any) {
	if off >= l.stop {
		return
	}
	if seen != 0 {
		if l.e.reported&seen != 0 {
			return
		}
		l.e.reported |= seen
	}
	// A finding about a token read before a raw line feed inside a quoted
	// string lies on an earlier line; its column is then unknown.
	col := max(off-l.lineStart+1, 0)
	l.report(rule, l.line, col, fmt.Sprintf(format, args...))
}

// syntax reports a spec.syntax finding and marks the entry broken; the
// caller then skips to the end of the line.
func (l *rawLexer) syntax(off int, format string, args ...any) {
	l.finding("spec.syntax", seenSyntax, off, format, args...)
	l.e.kind = entryBroken
}

// skipLine moves to the line feed that ends the current line (or the end).
func (l *rawLexer) skipLine() {
	if j := bytes.IndexByte(l.b[l.i:], '\n'); j >= 0 {
		l.i += j
	} else {
		l.i = len(l.b)
	}
}

// newline steps over a line feed inside an entry (in a quoted string).
func (l *rawLexer) newline() {
	l.i++
	l.line++
	l.lineStart = l.i
}

func (l *rawLexer) at(c byte) bool { return l.i < len(l.b) && l.b[l.i] == c }

// atEOL reports whether the lexer is at a line feed or the end of the body.
func (l *rawLexer) atEOL() bool { return l.i >= len(l.b) || l.b[l.i] == '\n' }

// describe renders the byte at i for a message.
func (l *rawLexer) describe(i int) string {
	switch {
	case i >= len(l.b):
		return "the end of the exposition"
	case l.b[i] == '\n':
		return "the end of the line"
	}
	r, _ := utf8.DecodeRune(l.b[i:])
	return fmt.Sprintf("%q", r)
}

// Character classes of names, a table so the lexer's hottest loop is one
// load per byte.
const (
	classLabelStart uint8 = 1 << iota // [a-zA-Z_]
	classNameStart                    // [a-zA-Z_:]
	classLabelChar                    // [a-zA-Z0-9_]
	classNameChar                     // [a-zA-Z0-9_:]
	classPlain                        // ASCII that needs no second look in a string
)

var charClass = func() (t [256]uint8) {
	for c := range utf8.RuneSelf {
		switch c {
		case '"', '\\', '\n', '\r':
		default:
			t[c] = classPlain
		}
	}
	for c := range t {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			t[c] |= classLabelStart | classNameStart | classLabelChar | classNameChar
		case c == ':':
			t[c] |= classNameStart | classNameChar
		case c >= '0' && c <= '9':
			t[c] |= classLabelChar | classNameChar
		}
	}
	return t
}()

// Eight-byte scans: a word holds eight bytes read little-endian, and a mask
// flags bytes in their high bit.
const (
	eachByte = 0x0101010101010101
	highBits = 0x8080808080808080
)

// bytesEqual flags the bytes of x equal to c. The lowest flag is exact (the
// zero-byte test it makes can only flag falsely above a true match), so
// the first matching byte is the lowest flagged one.
func bytesEqual(x uint64, c byte) uint64 {
	v := x ^ uint64(c)*eachByte
	return (v - eachByte) &^ v & highBits
}

// notPlain8 flags the bytes of x that are not classPlain: non-ASCII bytes,
// and ", \, line feed and carriage return; the lowest flag is exact.
func notPlain8(x uint64) uint64 {
	return x&highBits | bytesEqual(x, '"') | bytesEqual(x, '\\') | bytesEqual(x, '\n') | bytesEqual(x, '\r')
}

func isNameChar(c byte) bool { return charClass[c]&classNameChar != 0 }

func isLabelStart(c byte) bool { return charClass[c]&classLabelStart != 0 }

// scanName scans a metric name (or label name when label is set) at l.i
// and returns its span, empty when there is none.
func (l *rawLexer) scanName(label bool) span {
	start, first, rest := l.i, classNameStart, classNameChar
	if label {
		first, rest = classLabelStart, classLabelChar
	}
	if l.i < len(l.b) && charClass[l.b[l.i]]&first != 0 {
		l.i++
		for l.i < len(l.b) && charClass[l.b[l.i]]&rest != 0 {
			l.i++
		}
	}
	return span{start, l.i}
}

// sampleName scans the metric name of a sample line. Consecutive samples
// mostly repeat a name, so the last one is compared first, in one memory
// comparison instead of a class lookup per byte.
func (l *rawLexer) sampleName() span {
	if n := l.lastName.end - l.lastName.start; n > 0 && l.i+n <= len(l.b) &&
		string(l.b[l.i:l.i+n]) == string(l.b[l.lastName.start:l.lastName.end]) &&
		(l.i+n == len(l.b) || !isNameChar(l.b[l.i+n])) {
		l.i += n
		return span{l.i - n, l.i}
	}
	name := l.scanName(false)
	l.lastName = name
	return name
}

// labelNameAt scans the name of the ordinal-th label of a label set. Label
// sets mostly repeat the names of the last one, in the same order, so its
// name at that place is compared first, in one memory comparison.
func (l *rawLexer) labelNameAt(ordinal int) span {
	if ordinal >= len(l.lastLabels) {
		return l.scanName(true)
	}
	last := l.lastLabels[ordinal]
	if n := last.end - last.start; n > 0 && l.i+n < len(l.b) &&
		string(l.b[l.i:l.i+n]) == string(l.b[last.start:last.end]) &&
		charClass[l.b[l.i+n]]&classLabelChar == 0 {
		l.i += n
		return span{l.i - n, l.i}
	}
	name := l.scanName(true)
	l.lastLabels[ordinal] = name
	return name
}

// quotedName scans a quoted name (the UTF-8 name syntax of text 1.0.0 and
// OpenMetrics with escaping=allow-utf-8) at l.i, reporting it where the
// protocol does not allow it, and returns the span inside the quotes.
func (l *rawLexer) quotedName() (span, bool) {
	if !l.quoting.allowed {
		l.finding("spec.quoted-name", seenQuoted, l.i, "quoted name: %s", l.quoting.why)
	}
	l.i++
	start, line := l.i, l.line
	if _, ok := l.scanString(strName); !ok {
		return span{}, false
	}
	if l.firstQuoted.name == "" && start < l.stop {
		l.firstQuoted = utf8Name{name: string(l.b[start : l.i-1]), line: line}
	}
	return span{start, l.i - 1}, true
}

// String contexts: what a string is, for the escape rules.
type strContext uint8

const (
	strLabelValue strContext = iota
	strHelp
	strName // a quoted metric or label name
)

// scanString scans an escaped string from l.i: a quoted one (label value,
// name) up to and past its closing quote, a HELP text up to the end of the
// line. A raw double quote in an OpenMetrics HELP text passes: the ABNF's
// normal-char excludes it, but the OpenMetrics suite's own help_escaping
// case, which must parse, has one (# HELP a9 \\"), and no parser rejects it. It judges escapes and UTF-8 on the way and returns the number of
// characters the string holds once unescaped, and false when a quoted
// string never closes.
func (l *rawLexer) scanString(ctx strContext) (runes int, ok bool) {
	b := l.b
	quoted := ctx != strHelp
	for l.i < len(b) {
		// Eight bytes at a time up to the first that needs a second look.
		if l.i+8 <= len(b) {
			m := notPlain8(binary.LittleEndian.Uint64(b[l.i:]))
			if m == 0 {
				l.i += 8
				runes += 8
				continue
			}
			k := bits.TrailingZeros64(m) / 8
			l.i += k
			runes += k
		}
		c := b[l.i]
		if charClass[c]&classPlain != 0 {
			l.i++
			runes++
			continue
		}
		switch {
		case c == '"' && quoted:
			l.i++
			return runes, true
		case c == '\n':
			if !quoted {
				return runes, true
			}
			l.finding("spec.escape", seenEscape, l.i, "raw line feed inside a %s: write it as \\n", ctxName(ctx))
			l.newline()
			runes++
		case c == '\\':
			if l.i+1 >= len(b) || b[l.i+1] == '\n' {
				l.finding("spec.escape", seenEscape, l.i, "lone backslash at the end of the %s: write a backslash as \\\\", ctxName(ctx))
				l.i++
				runes++
				continue
			}
			l.escape(ctx, l.i)
			l.i++ // the backslash; the escaped character is read below
			if b[l.i] >= utf8.RuneSelf {
				l.i += l.rune()
			} else {
				l.i++
			}
			runes++
		case c == '\r' && !quoted && l.om && (l.i+1 == len(b) || b[l.i+1] == '\n'):
			l.finding("spec.syntax", seenCR, l.i, "carriage return at the end of the line: OpenMetrics lines end with a line feed alone")
			l.i++
			runes++
		case c >= utf8.RuneSelf:
			l.i += l.rune()
			runes++
		default:
			l.i++
			runes++
		}
	}
	if quoted {
		l.syntax(l.i, "quoted string never closes")
		return runes, false
	}
	return runes, true
}

// rune steps over the UTF-8 sequence at l.i, reporting it when invalid,
// and returns its length.
func (l *rawLexer) rune() int {
	r, size := utf8.DecodeRune(l.b[l.i:])
	if r == utf8.RuneError && size == 1 {
		l.finding("spec.utf8", seenUTF8, l.i, "invalid UTF-8 (byte 0x%02x): expositions are UTF-8", l.b[l.i])
	}
	return size
}

func ctxName(ctx strContext) string {
	switch ctx {
	case strHelp:
		return "HELP text"
	case strName:
		return "quoted name"
	}
	return "label value"
}

// goQuoteEscapes are the escapes Go's %q (strconv.Quote) writes that
// Prometheus escaping does not have: \a \b \f \r \t \v, \xHH for bytes,
// \uHHHH and \UHHHHHHHH for runes.
func isGoQuoteEscape(c byte) bool {
	switch c {
	case 'a', 'b', 'f', 'r', 't', 'v', 'x', 'u', 'U':
		return true
	}
	return false
}

// escapeText renders the escape sequence at off for a message: two bytes,
// or the whole \xHH, \uHHHH, \UHHHHHHHH.
func (l *rawLexer) escapeText(off int) string {
	n := 2
	switch l.b[off+1] {
	case 'x':
		n = 4
	case 'u':
		n = 6
	case 'U':
		n = 10
	}
	end := off + 2
	for end < off+n && end < len(l.b) && isHex(l.b[end]) {
		end++
	}
	if end < off+n {
		end = off + 2
	}
	if l.b[off+1] >= utf8.RuneSelf {
		_, size := utf8.DecodeRune(l.b[off+1:])
		end = off + 1 + size
	}
	return string(l.b[off:end])
}

// showBytes renders a short raw sequence for a message: as written when it
// is printable, else Go-quoted.
func showBytes(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '`' {
			return strconv.Quote(s)
		}
	}
	return "`" + s + "`"
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// escape judges the escape sequence at off (a backslash and the byte
// after it, which is not a line feed).
func (l *rawLexer) escape(ctx strContext, off int) {
	d := l.b[off+1]
	switch {
	case d == '\\' || d == 'n':
		return
	case d == '"' && (l.om || ctx != strHelp):
		return
	}
	seq := l.escapeText(off)
	if l.om {
		// The ABNF allows a backslash before any character (BS
		// normal-char): only a SHOULD NOT, and it reads as a literal
		// backslash, so this is a warning.
		hint := ""
		if isGoQuoteEscape(d) {
			hint = "; this looks like Go's %q quoting, which is not OpenMetrics escaping"
		}
		l.finding("spec.escape-undefined", seenUndefined, off, "undefined escape %s in a %s: OpenMetrics reads it as a literal backslash followed by %s; escape only \\\\, \\\" and \\n%s", showBytes(seq), ctxName(ctx), showBytes(seq[1:]), hint)
		return
	}
	allowed := `\\, \" and \n`
	if ctx == strHelp {
		allowed = `\\ and \n`
	}
	if isGoQuoteEscape(d) {
		l.finding("spec.escape-go-quote", seenGoQuote, off, "escape %s in a %s is Go's %%q quoting, not Prometheus escaping: the text format allows only %s; Prometheus stores the backslash literally (the value is silently wrong) and stricter parsers such as expfmt reject the scrape", showBytes(seq), ctxName(ctx), allowed)
		return
	}
	l.finding("spec.escape", seenEscape, off, "invalid escape %s in a %s: the text format allows only %s", showBytes(seq), ctxName(ctx), allowed)
}

// labels scans a label set from the opening brace at l.i; exemplar says
// whether it is an exemplar's. It returns false when the line is broken.
func (l *rawLexer) labels(e *rawEntry, exemplar bool) bool {
	b := l.b
	l.i++ // {
	l.textBlanks()
	if l.at('}') {
		l.i++
		return true
	}
	for ordinal := 0; ; ordinal++ {
		l.textBlanks()
		var name span
		quoted := false
		if l.at('"') {
			quoted = true
			var ok bool
			if name, ok = l.quotedName(); !ok {
				return false
			}
		} else {
			name = l.labelNameAt(ordinal)
			if name.start == name.end {
				l.syntax(l.i, "expected a label name, found %s", l.describe(l.i))
				return false
			}
		}
		l.textBlanks()
		if quoted && !exemplar && (l.at(',') || l.at('}')) {
			// {"name", ...}: the metric name inside the braces, which
			// the grammars put first (text 1.0.0: "{" quoted_metric_name
			// [ "," labels ] "}"); textparse takes it anywhere.
			switch {
			case e.name.start != e.name.end:
				l.finding("spec.syntax", seenSyntax, name.start-1, "the metric name is given twice, before the braces and quoted inside them: give it once")
			case ordinal > 0:
				l.finding("spec.syntax", seenSyntax, name.start-1, "the quoted metric name comes after a label: it comes first inside the braces")
			}
			if e.name.start == e.name.end {
				e.name = name
			}
		} else {
			l.labelName(e, name, exemplar)
			if !l.at('=') {
				l.syntax(l.i, "expected = after label name %q, found %s", b[name.start:name.end], l.describe(l.i))
				return false
			}
			l.i++
			l.textBlanks()
			if !l.at('"') {
				l.syntax(l.i, "expected a quoted label value, found %s", l.describe(l.i))
				return false
			}
			l.i++
			valStart := l.i
			runes, ok := l.scanString(strLabelValue)
			if !ok {
				return false
			}
			val := span{valStart, l.i - 1}
			l.labelFacts(e, exemplar, name, val, runes)
		}
		l.textBlanks()
		switch {
		case l.at(','):
			l.i++
			l.textBlanks()
			if l.at('}') {
				if l.om {
					l.finding("spec.syntax", seenSyntax, l.i-1, "trailing comma before }: OpenMetrics separates labels with commas and allows none after the last")
				}
				l.i++
				return true
			}
		case l.at('}'):
			l.i++
			return true
		case !l.om && l.i < len(b) && (isLabelStart(b[l.i]) || b[l.i] == '"'):
			// textparse reads on without the comma; the format and
			// stricter parsers do not.
			l.finding("spec.syntax", seenSyntax, l.i, "missing comma between labels")
		default:
			l.syntax(l.i, "expected , or } after a label, found %s", l.describe(l.i))
			return false
		}
	}
}

// labelName judges a label name, right after it is read (so a finding
// lands on the right line).
func (l *rawLexer) labelName(e *rawEntry, name span, exemplar bool) {
	n := l.b[name.start:name.end]
	if !exemplar && string(n) == "__name__" && e.name.start != e.name.end {
		l.finding("spec.duplicate-label", 0, name.start, "label __name__ repeats the metric name: textparse keeps only one of the two")
	}
	if l.om && len(n) > 0 && n[0] == '_' {
		l.finding("spec.reserved-name", 0, name.start, "label name %q starts with an underscore: OpenMetrics reserves those names", n)
	}
}

// labelFacts records what the rules need to know of one label.
func (l *rawLexer) labelFacts(e *rawEntry, exemplar bool, name, val span, runes int) {
	n := l.b[name.start:name.end]
	if exemplar {
		e.exRunes += utf8.RuneCount(n) + runes
		return
	}
	switch string(n) {
	case "le":
		if !e.hasLe {
			e.le, e.hasLe = val, true
		}
	case "quantile":
		if !e.hasQuantile {
			e.quantile, e.hasQuantile = val, true
		}
	}
}

// textBlanks skips the blanks and tabs the text format allows between
// tokens; OpenMetrics allows none.
func (l *rawLexer) textBlanks() {
	if l.om {
		return
	}
	for l.i < len(l.b) && (l.b[l.i] == ' ' || l.b[l.i] == '\t') {
		l.i++
	}
}

// ---- OpenMetrics ----

func (l *rawLexer) omEntry(e *rawEntry) {
	switch l.b[l.i] {
	case '\n':
		e.kind = entryBlank
		l.syntax(l.i, "blank line: OpenMetrics has no empty lines")
	case '#':
		l.omMetadata(e)
	default:
		l.omSample(e)
	}
	if e.kind == entryBroken {
		l.skipLine()
	}
}

var omMetaKeywords = []struct {
	word string
	kind entryKind
}{{"HELP ", entryHelp}, {"TYPE ", entryType}, {"UNIT ", entryUnit}}

// omTypes are the OpenMetrics 1.0 metric types.
var omTypes = []string{"counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown"}

func (l *rawLexer) omMetadata(e *rawEntry) {
	b := l.b
	rest := b[l.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("# EOF")) && (len(rest) == 5 || rest[5] == '\n'):
		e.kind = entryEOF
		l.i += 5
		return
	case !bytes.HasPrefix(rest, []byte("# ")):
		l.syntax(l.i, "a line starting with # must be # HELP, # TYPE, # UNIT or # EOF")
		return
	}
	e.kind = entryBroken
	for _, k := range omMetaKeywords {
		if bytes.HasPrefix(rest[2:], []byte(k.word)) {
			e.kind = k.kind
		}
	}
	if e.kind == entryBroken {
		l.syntax(l.i, "a line starting with # must be # HELP, # TYPE, # UNIT or # EOF")
		return
	}
	l.i += 7
	if !l.metadataName(e) {
		return
	}
	if !l.at(' ') {
		l.syntax(l.i, "expected a space after the metric name, found %s", l.describe(l.i))
		return
	}
	l.i++
	e.text.start = l.i
	switch e.kind {
	case entryHelp:
		l.scanString(strHelp)
	case entryType:
		l.skipLine()
		typ := b[e.text.start:l.i]
		known := false
		for _, t := range omTypes {
			known = known || string(typ) == t
		}
		if !known {
			l.syntax(e.text.start, "unknown metric type %q", typ)
			return
		}
	case entryUnit:
		for l.i < len(b) && isNameChar(b[l.i]) {
			l.i++
		}
		if !l.atEOL() {
			l.syntax(l.i, "a unit is made of metric-name characters [a-zA-Z0-9_:], found %s", l.describe(l.i))
			return
		}
	}
	e.text.end = l.i
}

// metadataName scans the metric name of a HELP, TYPE or UNIT line.
func (l *rawLexer) metadataName(e *rawEntry) bool {
	if l.at('"') {
		name, ok := l.quotedName()
		e.name = name
		if !ok {
			return false
		}
	} else {
		e.name = l.scanName(false)
		if e.name.start == e.name.end {
			l.syntax(l.i, "expected a metric name, found %s", l.describe(l.i))
			return false
		}
	}
	l.reservedMetricName(e.name)
	return true
}

// reservedMetricName reports an OpenMetrics metric name starting with an
// underscore.
func (l *rawLexer) reservedMetricName(name span) {
	if l.om && name.end > name.start && l.b[name.start] == '_' {
		l.finding("spec.reserved-name", 0, name.start, "metric name %q starts with an underscore: OpenMetrics reserves those names", l.b[name.start:name.end])
	}
}

func (l *rawLexer) omSample(e *rawEntry) {
	b := l.b
	e.kind = entrySample
	start := l.i
	if !l.at('{') {
		e.name = l.sampleName()
		if e.name.start == e.name.end {
			l.syntax(l.i, "expected a metric name, found %s", l.describe(l.i))
			return
		}
	}
	if l.at('{') && !l.labels(e, false) {
		return
	}
	if e.name.start == e.name.end {
		l.syntax(start, "sample has no metric name")
		return
	}
	l.reservedMetricName(e.name)
	if !l.at(' ') {
		l.syntax(l.i, "expected a space before the value, found %s", l.describe(l.i))
		return
	}
	l.i++
	if l.om2 && l.at('{') {
		if !l.composite(e) {
			return
		}
	} else {
		e.value = l.token()
		if !omNumber(b[e.value.start:e.value.end]) {
			l.syntax(e.value.start, "value %q is not an OpenMetrics number", b[e.value.start:e.value.end])
			return
		}
	}
	if l.at(' ') && l.i+1 < len(b) && b[l.i+1] != '#' && !l.atStart() {
		l.i++
		e.ts, e.hasTs = l.token(), true
		if !realNumber(b[e.ts.start:e.ts.end]) {
			l.syntax(e.ts.start, "timestamp %q is not an OpenMetrics real number", b[e.ts.start:e.ts.end])
			return
		}
	}
	if l.om2 && l.atStart() {
		l.i += len(" st@")
		st := l.token()
		if !realNumber(b[st.start:st.end]) {
			l.syntax(st.start, "start timestamp %q is not an OpenMetrics real number", b[st.start:st.end])
			return
		}
	}
	for l.at(' ') {
		l.i++
		if !bytes.HasPrefix(b[l.i:], []byte("# {")) {
			l.syntax(l.i, `expected an exemplar (" # {...} value"), found %s`, l.describe(l.i))
			return
		}
		e.exemplar, e.exStart = true, l.i
		l.i += 2
		if !l.labels(e, true) {
			return
		}
		if !l.at(' ') {
			l.syntax(l.i, "expected a space before the exemplar value, found %s", l.describe(l.i))
			return
		}
		l.i++
		v := l.token()
		if !omNumber(b[v.start:v.end]) {
			l.syntax(v.start, "exemplar value %q is not an OpenMetrics number", b[v.start:v.end])
			return
		}
		if l.at(' ') && !bytes.HasPrefix(b[l.i:], []byte(" # {")) {
			l.i++
			ts := l.token()
			if !realNumber(b[ts.start:ts.end]) {
				l.syntax(ts.start, "exemplar timestamp %q is not an OpenMetrics real number", b[ts.start:ts.end])
				return
			}
		}
		if !l.om2 {
			// OpenMetrics 1.0 has at most one exemplar a sample.
			break
		}
	}
	if !l.atEOL() {
		l.syntax(l.i, "unexpected %s after the sample", l.describe(l.i))
	}
}

// atStart reports whether an OpenMetrics 2.0 start timestamp (" st@")
// follows.
func (l *rawLexer) atStart() bool {
	return l.om2 && bytes.HasPrefix(l.b[l.i:], []byte(" st@"))
}

// composite steps over an OpenMetrics 2.0 composite value, "{" to "}" on
// the line. textparse has parsed its fields (and rejects a composite that
// does not close), so only its extent matters here.
func (l *rawLexer) composite(e *rawEntry) bool {
	start := l.i
	end := bytes.IndexByte(l.b[start:], '}')
	if nl := bytes.IndexByte(l.b[start:], '\n'); end < 0 || nl >= 0 && nl < end {
		l.syntax(start, "composite value never closes on its line")
		return false
	}
	end += start + 1
	e.value = span{start, end}
	l.i = end
	return true
}

// token scans up to the next space or line feed.
func (l *rawLexer) token() span {
	start := l.i
	for l.i < len(l.b) && l.b[l.i] != ' ' && l.b[l.i] != '\n' {
		l.i++
	}
	return span{start, l.i}
}

// omNumber reports whether s is an OpenMetrics number: a real number, an
// optionally signed inf or infinity, or nan, case-insensitively.
func omNumber(s []byte) bool {
	if realNumber(s) {
		return true
	}
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
		return equalFold(s, "inf") || equalFold(s, "infinity")
	}
	return equalFold(s, "inf") || equalFold(s, "infinity") || equalFold(s, "nan")
}

func equalFold(s []byte, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := range s {
		if s[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// realNumber reports whether s is an ABNF realnumber: [sign] digits with
// an optional fraction and exponent, at least one digit in the mantissa.
func realNumber(s []byte) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// ---- text format 0.0.4 ----

func (l *rawLexer) textEntry(e *rawEntry) {
	b := l.b
	l.textBlanksAlways()
	switch {
	case l.atEOL():
		e.kind = entryBlank
	case b[l.i] == '#':
		l.textComment(e)
	case b[l.i] == 0:
		// textparse's lexer takes a NUL where a line starts for the end
		// of the input: everything from here on is silently dropped.
		l.syntax(l.i, "NUL byte where a line starts: Prometheus stops reading here and silently drops the rest of the exposition (%d more bytes)", len(b)-l.i)
		l.i = len(b)
		l.stop = len(b)
		return
	default:
		l.textSample(e)
	}
	if e.kind == entryBroken {
		l.skipLine()
	}
}

func (l *rawLexer) textBlanksAlways() {
	for l.i < len(l.b) && (l.b[l.i] == ' ' || l.b[l.i] == '\t') {
		l.i++
	}
}

func (l *rawLexer) textComment(e *rawEntry) {
	b := l.b
	l.i++ // #
	e.kind = entryComment
	if l.at(' ') || l.at('\t') {
		l.textBlanksAlways()
		rest := b[l.i:]
		for _, k := range [...]struct {
			word string
			kind entryKind
		}{{"HELP", entryHelp}, {"TYPE", entryType}} {
			if bytes.HasPrefix(rest, []byte(k.word)) && len(rest) > 4 && (rest[4] == ' ' || rest[4] == '\t') {
				e.kind = k.kind
			}
		}
	}
	if e.kind == entryComment {
		l.commentText()
		return
	}
	l.i += 4
	l.textBlanksAlways()
	if !l.metadataName(e) {
		return
	}
	// textparse takes the rest of the line for the text, minus the one
	// blank that separates it from the name.
	switch {
	case l.atEOL():
	case l.at(' ') || l.at('\t'):
		l.i++
	default:
		l.syntax(l.i, "expected a blank after the metric name, found %s", l.describe(l.i))
		return
	}
	e.text.start = l.i
	if e.kind == entryHelp {
		l.scanString(strHelp)
	} else {
		l.skipLine()
	}
	e.text.end = l.i
}

// commentText steps over a comment, judging only its UTF-8.
func (l *rawLexer) commentText() {
	b := l.b
	for l.i < len(b) && b[l.i] != '\n' {
		if b[l.i] >= utf8.RuneSelf {
			l.i += l.rune()
		} else {
			l.i++
		}
	}
}

func (l *rawLexer) textSample(e *rawEntry) {
	b := l.b
	e.kind = entrySample
	start := l.i
	if !l.at('{') {
		e.name = l.sampleName()
		if e.name.start == e.name.end {
			l.syntax(l.i, "expected a metric name, found %s", l.describe(l.i))
			return
		}
		l.textBlanksAlways()
	}
	if l.at('{') {
		if !l.labels(e, false) {
			return
		}
		l.textBlanksAlways()
	}
	if e.name.start == e.name.end {
		l.syntax(start, "sample has no metric name")
		return
	}
	// The value is whatever textparse's lexer takes for one (it has
	// parsed it with strconv.ParseFloat, which is what the format asks).
	e.value.start = l.i
	for l.i < len(b) && b[l.i] != ' ' && b[l.i] != '\t' && b[l.i] != '\n' && b[l.i] != '{' {
		l.i++
	}
	e.value.end = l.i
	if e.value.start == e.value.end {
		l.syntax(l.i, "expected a value, found %s", l.describe(l.i))
		return
	}
	l.textBlanksAlways()
	if l.i < len(b) && b[l.i] >= '0' && b[l.i] <= '9' {
		e.ts.start = l.i
		for l.i < len(b) && b[l.i] >= '0' && b[l.i] <= '9' {
			l.i++
		}
		e.ts.end, e.hasTs = l.i, true
		l.textBlanksAlways()
	}
	if !l.atEOL() {
		l.syntax(l.i, "unexpected %s after the sample", l.describe(l.i))
	}
}
