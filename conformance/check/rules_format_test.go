package check

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestParseErrorLocation pins the line and column of textparse's
// rejections: the token textparse failed on, found from the context its
// error quotes, or from what the error names.
func TestParseErrorLocation(t *testing.T) {
	tests := []struct {
		name      string
		format    Format
		body      string
		line, col int
	}{
		// Text format.
		{"bad value", FormatText, "a 1\nb 2\nc x\nd 4\n", 3, 3},
		{"after blank lines", FormatText, "a 1\n\n  \n\t\nc x\n", 5, 3},
		{"brace at line start", FormatText, "{\n", 1, 2},
		{"no metric name", FormatText, "a 1\n{x=\"1\"} 1\n", 2, 1},
		{"extra token", FormatText, "a{x=\"1\"} 1 2 3\n", 1, 14},
		{"timestamp out of range", FormatText, "a 1 99999999999999999999\n", 1, 5},
		{"negative timestamp", FormatText, "a 1 -5\n", 1, 5},
		{"unknown type", FormatText, "# HELP a x\n# TYPE a gaugez\na 1\n", 2, 10},
		{"help not utf8", FormatText, "# HELP a caf\xe9\n", 1, 13},
		{"label value not utf8", FormatText, "a 1\na{x=\"\xff\"} 1\n", 2, 6},
		{"indented value", FormatText, "# c\n   a b\n", 2, 6},
		{"value after a raw line feed", FormatText, "a{x=\"1\n2\"} x\n", 2, 5},
		{"missing label value", FormatText, "a{x=} 1\n", 1, 5},
		{"last line without newline", FormatText, "a 1\nb", 2, 2},
		// OpenMetrics.
		{"om missing eof", FormatOpenMetrics, "a 1\nb 2\n", 2, 4},
		{"om missing eof no newline", FormatOpenMetrics, "a 1\nb 2", 2, 4},
		{"om data after eof", FormatOpenMetrics, "a 1\n# EOF\nb 2\n", 3, 1},
		{"om data after eof same line", FormatOpenMetrics, "a 1\n# EOFblah", 2, 6},
		{"om bad type", FormatOpenMetrics, "# TYPE a counter\na_total 1\n# TYPE b bogus\n# EOF\n", 3, 10},
		{"om blank line", FormatOpenMetrics, "a 1\n\n# EOF\n", 2, 1},
		{"om double space before timestamp", FormatOpenMetrics, "a 1  Inf\n# EOF\n", 1, 5},
		{"om trailing space", FormatOpenMetrics, "a 1 \n# EOF\n", 1, 5},
		{"om quote inside value spans lines", FormatOpenMetrics, "# TYPE a histogram\na_bucket{a=\"1\",le=\"1\"} 0\na_bucket{a=\"2\",le=\"+Inf\"\"} 0\na_bucket{a=\"1\",le=\"+Inf\"} 0\n# EOF\n", 3, 25},
		{"om nan timestamp", FormatOpenMetrics, "a 1 NaN\n# EOF\n", 1, 5},
		{"om labelled nan timestamp", FormatOpenMetrics, "a{x=\"1 2\"} 1 NaN\n# EOF\n", 1, 14},
		{"om exemplar timestamp", FormatOpenMetrics, "# TYPE a counter\na_total 1 # {a=\"b\"} 0.5 NaN\n# EOF\n", 2, 25},
		{"om hex value", FormatOpenMetrics, "a 0x1p-3\n# EOF\n", 1, 3},
		{"om tab after value", FormatOpenMetrics, "a 1\t\n# EOF\n", 1, 3},
		{"om help without text", FormatOpenMetrics, "# HELP a\n# EOF\n", 1, 9},
		{"om unit not a suffix", FormatOpenMetrics, "# UNIT a_seconds bytes\n# EOF\n", 1, 18},
		{"om label value not utf8", FormatOpenMetrics, "a{x=\"\xff\"} 1\n# EOF\n", 1, 6},
		{"om help not utf8", FormatOpenMetrics, "# HELP a x\xff\n# EOF\n", 1, 11},
		{"om label name is a digit", FormatOpenMetrics, "a{1=\"1\"} 1\n# EOF\n", 1, 3},
		{"om missing comma", FormatOpenMetrics, "a 1\na{a=\"1\"b=\"2\"} 1\n# EOF\n", 2, 8},
		{"om comment", FormatOpenMetrics, "a 1\n# a comment\n# EOF\n", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parse([]byte(tt.body), tt.format, false)
			if e.ParseError == nil {
				t.Fatal("ParseError = nil, want an error")
			}
			if e.ParseError.Line != tt.line || e.ParseError.Column != tt.col {
				t.Errorf("error %q at %d:%d, want %d:%d (line %q)", e.ParseError, e.ParseError.Line, e.ParseError.Column, tt.line, tt.col, e.Line(e.ParseError.Line))
			}
			report := Check(Input{Body: []byte(tt.body), ContentType: tt.format.ContentType()}, Options{})
			got := report.Rule("format.rejected")
			if len(got) != 1 || got[0].Line != tt.line || got[0].Column != tt.col {
				t.Errorf("format.rejected findings = %v, want one at %d:%d", got, tt.line, tt.col)
			}
		})
	}
}

// TestParseErrorShapes pins each form of textparse's messages that
// locateParseError reads a position from, against the textparse of
// go.mod: one case per shape, with a body that draws a message of that
// shape and the position read from it. When a textparse upgrade rewords a
// message, its case fails here, naming the shape; the engine meanwhile
// falls back to the line alone (TestParseErrorFallback).
func TestParseErrorShapes(t *testing.T) {
	tests := []struct {
		shape     string
		format    Format
		body      string
		message   string // a fragment of textparse's message
		line, col int
	}{
		{"no-eof", FormatOpenMetrics, "a 1\nb 2\n", "data does not end with # EOF", 2, 4},
		{"after-eof", FormatOpenMetrics, "a 1\n# EOF\nb 2\n", "unexpected data after # EOF", 3, 1},
		{"got-token", FormatText, "a{x=} 1\n", `expected label value, got "}" ("INVALID") while parsing: "a{x=}"`, 1, 5},
		{"got-token", FormatOpenMetrics, "a 1 \n# EOF\n", `expected a valid start token, got "\n#"`, 1, 5},
		{"got-token", FormatOpenMetrics2, "a{x=} 1\n# EOF\n", `expected label value, got`, 1, 5},
		{"metric-name", FormatText, "a 1\n{x=\"1\"} 1\n", "metric name not set while parsing: ", 2, 1},
		{"metric-name", FormatOpenMetrics, "{\"a\",\"b\"} 1\n# EOF\n", "metric name already set while parsing: ", 1, 1},
		{"number", FormatText, "a 1\nb 2\nc x\nd 4\n", `strconv.ParseFloat: parsing "x": invalid syntax while parsing: "c x"`, 3, 3},
		{"number", FormatOpenMetrics, "a 0x1p-3\n# EOF\n", "unsupported character in float while parsing: ", 1, 3},
		{"number", FormatOpenMetrics2, "# TYPE a counter\na_total 1 # {x=\"y\"} z\n# EOF\n", "while parsing exemplar value: ", 2, 21},
		{"utf8", FormatText, "a 1\na{x=\"\xff\"} 1\n", "invalid UTF-8 label value: ", 2, 6},
		{"utf8", FormatText, "# HELP a caf\xe9\n", "is not a valid utf8 string", 1, 13},
		{"metadata-value", FormatText, "# HELP a x\n# TYPE a gaugez\na 1\n", `invalid metric type "gaugez"`, 2, 10},
		{"metadata-value", FormatOpenMetrics, "# UNIT a_seconds bytes\n# EOF\n", `unit "bytes" not a suffix of metric "a_seconds"`, 1, 18},
		{"metadata-text", FormatOpenMetrics, "# HELP a\n# EOF\n", "expected text in HELP", 1, 9},
		{"exemplar-timestamp", FormatOpenMetrics, "# TYPE a counter\na_total 1 # {a=\"b\"} 0.5 NaN\n# EOF\n", "invalid exemplar timestamp", 2, 25},
		{"timestamp", FormatOpenMetrics, "a{x=\"1 2\"} 1 NaN\n# EOF\n", "invalid timestamp", 1, 14},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.shape] = true
		t.Run(tt.shape+"/"+tt.format.String(), func(t *testing.T) {
			e := parse([]byte(tt.body), tt.format, false)
			pe := e.ParseError
			if pe == nil {
				t.Fatal("textparse accepted the body")
			}
			if !strings.Contains(pe.Err.Error(), tt.message) {
				t.Errorf("textparse's message %q no longer contains %q: the %s shape of parseErrorShapes may no longer match it", pe.Err, tt.message, tt.shape)
			}
			if pe.shape != tt.shape {
				t.Errorf("message %q located by shape %q, want %q: update parseErrorShapes for this textparse", pe.Err, pe.shape, tt.shape)
			}
			if pe.Line != tt.line || pe.Column != tt.col {
				t.Errorf("message %q located at %d:%d, want %d:%d (line %q)", pe.Err, pe.Line, pe.Column, tt.line, tt.col, e.Line(pe.Line))
			}
		})
	}
	for _, shape := range parseErrorShapes {
		if !covered[shape.name] {
			t.Errorf("shape %s has no case here: pin it", shape.name)
		}
	}
}

// TestParseErrorFallback checks that a message of no known shape, as a
// textparse release that rewords one would give, is located on the line of
// the entry being read, with no column, and that a known message whose
// context cannot be found is too.
func TestParseErrorFallback(t *testing.T) {
	body := []byte("a 1\n\nb 2\nc x\n")
	e := parse(body, FormatText, false)
	if e.ParseError == nil || e.ParseError.Line != 4 {
		t.Fatalf("ParseError = %v, want one on line 4", e.ParseError)
	}
	// The entry on line 4 starts after line 3's line feed (offset 11).
	const entry = 11
	for _, msg := range []string{
		"some new message",
		`float did not parse in "c x"`,
		`expected value, got "x" while parsing: "not in the body"`,
		"invalid timestamp", // line 4 has none
	} {
		line, col, shape := locateParseError(e, body, entry, entry, errors.New(msg))
		if line != 4 || col != 0 || shape != "" {
			t.Errorf("%q located at %d:%d by %q, want line 4, no column, no shape", msg, line, col, shape)
		}
	}
	// The Finding says as much: a line and no column.
	report := Check(Input{Body: []byte("a 1\nc x\n"), ContentType: ContentTypeText}, Options{})
	if got := report.Rule("format.rejected"); len(got) != 1 || got[0].Line != 2 || got[0].Column != 3 {
		t.Errorf("format.rejected = %v, want one at 2:3", got)
	}
}

// TestSpecRulesStopAtTheParseError checks that the spec rules judge only
// what textparse accepted: the line textparse rejected is format.rejected's
// alone, and a family cut short is not judged incomplete.
func TestSpecRulesStopAtTheParseError(t *testing.T) {
	body := "# TYPE a histogram\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\",} 0 x\n# EOF\n"
	report := Check(Input{Body: []byte(body), ContentType: ContentTypeOpenMetrics}, Options{})
	if got := report.Rule("format.rejected"); len(got) != 1 || got[0].Line != 3 {
		t.Fatalf("format.rejected = %v, want one on line 3", got)
	}
	if got := report.Rule("spec.*"); len(got) != 0 {
		t.Errorf("spec findings after a parse error: %v", got)
	}
}

// TestParseErrorLocationInvariants mangles valid expositions at random and
// checks that every rejection is located on a real line, at a column
// within it, and never before a sample textparse accepted; and that every
// message the text and OpenMetrics parsers of go.mod's textparse give is
// of a shape locateParseError knows.
func TestParseErrorLocationInvariants(t *testing.T) {
	seeds := []string{
		"# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"2\"} 1 1700000000000\n\n# comment\nb{x=\"\\\\\\n\\\"\"} 2\n",
		"# TYPE a histogram\n# HELP a A.\na_bucket{le=\"1\"} 1 # {t=\"x\"} 0.5 1.5\na_bucket{le=\"+Inf\"} 2\na_count 2\na_sum 1\n# TYPE b_s gauge\n# UNIT b_s s\nb_s 1\n# EOF\n",
	}
	alphabet := []byte("#{}=\",\\ \t\n\x00\xffa1.+-EOF")
	rng := rand.New(rand.NewPCG(3, 4))
	located := 0
	for i := 0; i < 4000; i++ {
		b := []byte(seeds[i%len(seeds)])
		for n := rng.IntN(4); n >= 0; n-- {
			pos := rng.IntN(len(b))
			if rng.IntN(2) == 0 {
				b[pos] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b = slices.Insert(b, pos, alphabet[rng.IntN(len(alphabet))])
			}
		}
		for _, format := range []Format{FormatText, FormatOpenMetrics} {
			e := parse(b, format, false)
			pe := e.ParseError
			if pe == nil {
				continue
			}
			located++
			lines := max(e.Lines(), 1)
			if pe.Line < 1 || pe.Line > lines {
				t.Fatalf("%s %q: error %q on line %d of %d", format, b, pe, pe.Line, lines)
			}
			if pe.Column < 0 || pe.Column > len(e.Line(pe.Line))+1 {
				t.Fatalf("%s %q: error %q at column %d of line %q", format, b, pe, pe.Column, e.Line(pe.Line))
			}
			if pe.shape == "" {
				t.Errorf("%s %q: textparse's message %q is of no shape parseErrorShapes knows: it is located on its line only", format, b, pe)
			}
			if n := len(e.Samples); n > 0 && pe.Line < e.Samples[n-1].Line {
				t.Fatalf("%s %q: error %q on line %d, before the accepted sample on line %d", format, b, pe, pe.Line, e.Samples[n-1].Line)
			}
		}
	}
	if located == 0 {
		t.Fatal("no mangled exposition was rejected: the test checks nothing")
	}
}

// TestUnquotedNameHint checks that a name a legacy parser cannot read
// (it needs quoting) draws format.rejected with a hint saying so, and that
// other rejections do not.
func TestUnquotedNameHint(t *testing.T) {
	tests := []struct {
		body, ct string
		hint     bool
	}{
		{"my.metric 1\n", ContentTypeText, true},
		{"my.metric 1\n# EOF\n", ContentTypeOpenMetrics, true},
		{"a{my.label=\"x\"} 1\n", ContentTypeText, true},
		{"caf\u00e9 1\n", ContentTypeText, true},
		{"a 1 x\n", ContentTypeText, false},
		{"a{b=c} 1\n", ContentTypeText, false},
		{"a 1\n", ContentTypeOpenMetrics, false},
	}
	for _, tt := range tests {
		got := Check(Input{Body: []byte(tt.body), ContentType: tt.ct}, Options{}).Rule("format.rejected")
		if len(got) != 1 || strings.Contains(got[0].Message, "is quoted") != tt.hint {
			t.Errorf("%q (%s): format.rejected %v, want one with the quoting hint: %v", tt.body, tt.ct, got, tt.hint)
		}
	}
}
