package check

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// TestDecodeSeriesMatchesTextparse compares the labels the model holds
// with what textparse's own Labels returns, on the series shapes whose
// decoding has corners: escapes, quoted names, blanks, le and quantile
// normalisation, duplicate names. FuzzFormatDifferential in ./fuzz does the
// same on arbitrary input.
func TestDecodeSeriesMatchesTextparse(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		body   string
	}{
		{"bare", FormatText, "a 1\n"},
		{"labels", FormatText, "a{x=\"1\",b=\"2\"} 1\n"},
		{"escapes", FormatText, "a{x=\"q\\\"b\\\\s\\nn\\tt\"} 1\n"},
		{"blanks", FormatText, "  a { x = \"1\" , y=\"2\", } 1\n"},
		{"quoted name", FormatText, "{\"a.b\",\"c.d\"=\"1\"} 1\n"},
		{"quoted name escaped", FormatText, "{\"a\\\"b\"} 1\n"},
		{"equals in value", FormatText, "a{x=\"k=v\",y=\"=\"} 1\n"},
		{"duplicate names", FormatText, "a{x=\"2\",x=\"1\"} 1\n"},
		// Around the size where textparse's sort stops being an insertion
		// sort: equal names must come out in the same order.
		{"12 labels, repeated names", FormatText, "a{k=\"1\",b=\"1\",k=\"2\",j=\"1\",b=\"2\",i=\"1\",k=\"3\",h=\"1\",b=\"3\",g=\"1\",k=\"4\"} 1\n"},
		{"13 labels, repeated names", FormatText, "a{k=\"1\",b=\"1\",k=\"2\",j=\"1\",b=\"2\",i=\"1\",k=\"3\",h=\"1\",b=\"3\",g=\"1\",k=\"4\",b=\"4\"} 1\n"},
		{"20 labels, repeated names", FormatText, "a{k=\"1\",b=\"1\",k=\"2\",j=\"1\",b=\"2\",i=\"1\",k=\"3\",h=\"1\",b=\"3\",g=\"1\",k=\"4\",b=\"4\",z=\"1\",k=\"5\",c=\"1\",k=\"6\",b=\"5\",d=\"1\",k=\"7\"} 1\n"},
		{"name label", FormatText, "a{__name__=\"b\"} 1\n"},
		{"empty value", FormatText, "a{x=\"\"} 1\n"},
		{"histogram le", FormatText, "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n"},
		{"summary quantile", FormatText, "# TYPE s summary\ns{quantile=\"0.50\"} 1\n"},
		{"le on a gauge", FormatText, "# TYPE g gauge\ng{le=\"1\"} 1\n"},
		{"om labels", FormatOpenMetrics, "# TYPE a counter\na_total{x=\"1\",b=\"\\\\\"} 1\n# EOF\n"},
		{"om histogram", FormatOpenMetrics, "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_count 0\nh_sum 0\n# EOF\n"},
		{"om quoted", FormatOpenMetrics, "# TYPE \"a.b\" gauge\n{\"a.b\",x=\"1\"} 1\n# EOF\n"},
		{"om exemplar", FormatOpenMetrics, "# TYPE a counter\na_total{x=\"1\"} 1 # {t=\"2\"} 1\n# EOF\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := textparseLabels(t, []byte(tt.body), tt.format)
			e := parse([]byte(tt.body), tt.format, false)
			if e.ParseError != nil {
				t.Fatalf("parse: %v", e.ParseError)
			}
			if len(e.Samples) != len(want) {
				t.Fatalf("%d samples, textparse read %d", len(e.Samples), len(want))
			}
			for i, s := range e.Samples {
				// The model keeps __name__ as Name (the last one, should a
				// series repeat it) and the other labels in Labels.
				var name string
				var rest []Label
				for _, l := range want[i] {
					if l.Name == "__name__" {
						name = l.Value
						continue
					}
					rest = append(rest, l)
				}
				if s.Name != name || !slices.Equal(s.Labels, rest) {
					t.Errorf("%s: name %q labels %q, textparse name %q labels %q", s.Series, s.Name, s.Labels, name, rest)
				}
			}
		})
	}
}

// textparseLabels returns the label sets textparse's Labels gives for each
// series of body, __name__ included.
func textparseLabels(t *testing.T, body []byte, format Format) [][]Label {
	t.Helper()
	p, err := textparse.New(body, format.ContentType(), labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]Label
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("textparse: %v", err)
		}
		if entry != textparse.EntrySeries {
			continue
		}
		var ls labels.Labels
		p.Labels(&ls)
		var set []Label
		ls.Range(func(l labels.Label) { set = append(set, Label{Name: l.Name, Value: l.Value}) })
		out = append(out, set)
	}
}

// TestCutQuoted checks cutQuoted, which skips eight bytes at a time, against
// a byte loop, with the closing quote and escapes at every place around the
// eight-byte boundaries.
func TestCutQuoted(t *testing.T) {
	slow := func(s string) (string, string, bool) {
		escaped := false
		for i := 1; i < len(s); i++ {
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
	for n := range 20 {
		for _, fill := range []string{"a", "é", "\x80"} {
			content := strings.Repeat(fill, n)
			inputs := []string{"\"" + content + "\"} 1", "\"" + content}
			for k := 0; k <= len(content); k++ {
				inputs = append(inputs, "\""+content[:k]+"\\\""+content[k:]+"\",x=\"1\"}", "\""+content[:k]+"\\\\"+"\""+content[k:])
			}
			for _, in := range inputs {
				c, r, e := cutQuoted(in)
				wc, wr, we := slow(in)
				if c != wc || r != wr || e != we {
					t.Fatalf("cutQuoted(%q) = %q, %q, %v; want %q, %q, %v", in, c, r, e, wc, wr, we)
				}
			}
		}
	}
}
