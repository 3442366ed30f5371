package check

import (
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
// within it, and never before a sample textparse accepted.
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
