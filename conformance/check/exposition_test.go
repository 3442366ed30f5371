package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

func TestParseLocatesEveryEntry(t *testing.T) {
	body := []byte("# HELP a_total Help.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n\n# TYPE b gauge\nb 2\nc_total 3")
	e := parse(body, FormatText, false)
	if e.ParseError != nil {
		t.Fatalf("ParseError = %v, want nil", e.ParseError)
	}
	if got, want := len(e.Families), 3; got != want {
		t.Fatalf("families = %d, want %d", got, want)
	}
	a := e.Family("a_total")
	if a.HelpLine != 1 || a.TypeLine != 2 || a.Type != model.MetricTypeCounter || a.Help != "Help." {
		t.Errorf("a_total metadata = %+v", a)
	}
	wantLines := []int{3, 6, 7}
	for i, s := range e.Samples {
		if s.Line != wantLines[i] {
			t.Errorf("sample %q on line %d, want %d", s.Series, s.Line, wantLines[i])
		}
	}
	if v, _ := e.Samples[0].Label("x"); v != "1" {
		t.Errorf("label x = %q, want 1", v)
	}
	if string(e.Line(5)) != "# TYPE b gauge" || e.Lines() != 7 {
		t.Errorf("Line(5) = %q, Lines() = %d", e.Line(5), e.Lines())
	}
	// The last line has no newline to strip in body, and one in a body that
	// ends properly; Line never returns it.
	if got := parse([]byte("a 1\nb 2\n"), FormatText, false).Line(2); string(got) != "b 2" {
		t.Errorf("Line(2) of a body ending in a newline = %q, want %q", got, "b 2")
	}
}

func TestParseErrorLine(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		body   string
		line   int
	}{
		{"bad value", FormatText, "a 1\nb 2\nc x\nd 4\n", 3},
		{"after blank lines", FormatText, "a 1\n\n\nc x\n", 4},
		{"first line", FormatText, "{\n", 1},
		{"om missing eof", FormatOpenMetrics, "a 1\nb 2\n", 2},
		{"om data after eof", FormatOpenMetrics, "a 1\n# EOF\nb 2\n", 3},
		{"om bad type", FormatOpenMetrics, "# TYPE a counter\na_total 1\n# TYPE b bogus\n# EOF\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parse([]byte(tt.body), tt.format, false)
			if e.ParseError == nil {
				t.Fatal("ParseError = nil, want an error")
			}
			if e.ParseError.Line != tt.line {
				t.Errorf("error %q on line %d, want %d", e.ParseError, e.ParseError.Line, tt.line)
			}
		})
	}
}

func TestParseDoesNotWriteIntoCallersCapacity(t *testing.T) {
	for _, borrow := range []bool{false, true} {
		backing := make([]byte, 4, 8)
		copy(backing, "a 1\x00")
		backing = backing[:3]
		parse(backing, FormatText, borrow)
		if full := backing[:4]; full[3] != 0 {
			t.Fatalf("parse (borrow %v) wrote %q past the body", borrow, full[3])
		}
	}
}

// TestBorrowBody: with Input.BorrowBody the model is a view of the caller's
// buffer, as documented, and without it a copy.
func TestBorrowBody(t *testing.T) {
	for _, borrow := range []bool{false, true} {
		buf := []byte("# TYPE a_total counter\na_total{x=\"one\"} 1\n")
		r := Check(Input{Body: buf, ContentType: ContentTypeText, BorrowBody: borrow}, Options{})
		copy(buf, "# TYPE b_total counter\nb_total{y=\"two\"} 2\n")
		if got, want := r.Exposition.Samples[0].Series == `b_total{y="two"}`, borrow; got != want {
			t.Errorf("BorrowBody %v: the report sees the caller's later bytes: %v, want %v", borrow, got, want)
		}
	}
}

func TestCheckNamesTheFamilyOfALineFinding(t *testing.T) {
	body := []byte("# TYPE a_total counter\na_total{x=\"caf\\u00e9\"} 1\n")
	r := Check(Input{Body: body, ContentType: ContentTypeText}, Options{})
	found := r.Rule("spec.escape-go-quote")
	if len(found) == 0 {
		t.Fatalf("no spec.escape-go-quote finding in\n%s", r)
	}
	for _, f := range found {
		if f.Family != "a_total" {
			t.Errorf("finding %v: family %q, want a_total", f, f.Family)
		}
	}
}

// TestFamilySamples checks the samples each family holds when families are
// contiguous (a window of Exposition.Samples) and when one is resumed after
// another (its own slice), and that appending to a family's samples cannot
// write into the exposition's.
func TestFamilySamples(t *testing.T) {
	e := parse([]byte("d 1\nd 2\na 1\na 2\nb 1\na 3\nb 2\nc 1\n"), FormatText, false)
	if e.ParseError != nil {
		t.Fatalf("parse: %v", e.ParseError)
	}
	lines := func(samples []*Sample) string {
		var out []string
		for _, s := range samples {
			out = append(out, fmt.Sprintf("%s@%d", s.Name, s.Line))
		}
		return strings.Join(out, " ")
	}
	want := map[string]string{"d": "d@1 d@2", "a": "a@3 a@4 a@6", "b": "b@5 b@7", "c": "c@8"}
	for name, w := range want {
		f := e.Family(name)
		if f == nil {
			t.Fatalf("no family %s", name)
		}
		if got := lines(f.Samples); got != w {
			t.Errorf("family %s: samples %s, want %s", name, got, w)
		}
		for _, s := range f.Samples {
			if s.Family != f {
				t.Errorf("sample on line %d: family %v, want %s", s.Line, s.Family.Name, name)
			}
		}
	}
	const all = "d@1 d@2 a@3 a@4 b@5 a@6 b@7 c@8"
	if got := lines(e.Samples); got != all {
		t.Errorf("exposition samples %s", got)
	}
	// d's samples are a window of e.Samples followed by a's: an append to
	// them must copy rather than overwrite a@3.
	for _, name := range []string{"d", "b", "c"} {
		_ = append(e.Family(name).Samples, e.Samples[len(e.Samples)-1])
	}
	if got := lines(e.Samples); got != all {
		t.Errorf("after appending to families' samples, exposition samples %s", got)
	}
}

// TestSampleExemplars checks that a sample's exemplars are kept, with their
// labels, value and timestamp, and that a sample without any has none.
func TestSampleExemplars(t *testing.T) {
	body := "# TYPE a counter\na_total{x=\"1\"} 1 # {trace_id=\"abc\"} 0.5 123.456\na_total{x=\"2\"} 2\n# EOF\n"
	e := parse([]byte(body), FormatOpenMetrics, false)
	if e.ParseError != nil {
		t.Fatalf("parse: %v", e.ParseError)
	}
	if len(e.Samples) != 2 {
		t.Fatalf("%d samples, want 2", len(e.Samples))
	}
	ex := e.Samples[0].Exemplars()
	if len(ex) != 1 {
		t.Fatalf("first sample: %d exemplars, want 1", len(ex))
	}
	if got := fmt.Sprint(ex[0].Labels, ex[0].Value); got != "[{trace_id abc}] 0.5" || ex[0].Timestamp == nil || *ex[0].Timestamp != 123456 {
		t.Errorf("exemplar %s, timestamp %v; want [{trace_id abc}] 0.5 at 123456", got, ex[0].Timestamp)
	}
	if ex := e.Samples[1].Exemplars(); ex != nil {
		t.Errorf("second sample: exemplars %v, want none", ex)
	}
}

// TestReportOwnsItsBody reuses the caller's buffer after Check, as a scraper
// reading into one buffer does: the report of the first check, and a second
// check that takes it as Previous, must not see the new bytes.
func TestReportOwnsItsBody(t *testing.T) {
	buf := []byte("# TYPE a_total counter\na_total{x=\"one\"} 1\n")
	first := Check(Input{Body: buf, ContentType: ContentTypeText}, Options{})
	copy(buf, "# TYPE b_total counter\nb_total{y=\"two\"} 2\n")
	s := first.Exposition.Samples[0]
	if s.Name != "a_total" || s.Series != `a_total{x="one"}` || s.Labels[0] != (Label{"x", "one"}) {
		t.Fatalf("the first report changed with the caller's buffer: sample %q named %q with labels %v", s.Series, s.Name, s.Labels)
	}
	if string(first.Exposition.Body) == string(buf) {
		t.Fatalf("the report's body is the caller's buffer")
	}
	second := Check(Input{Body: buf, ContentType: ContentTypeText, Previous: first.Exposition}, Options{})
	if got := second.Rule("scrape.counter-vanished"); len(got) == 0 {
		t.Errorf("a_total vanished between the scrapes, but no scrape.counter-vanished finding:\n%s", second)
	}
}
