package check

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestOpenMetrics2CompositeLine pins the textparse behaviour the OpenMetrics
// 2.0 front end locates exploded samples by: while the parser serves the
// series it exploded a composite value into, Histogram returns the series
// of the composite's line, as written.
func TestOpenMetrics2CompositeLine(t *testing.T) {
	body := []byte("# TYPE a histogram\na{x=\"1\"} {count:2,sum:3,bucket:[1:1,+Inf:2]}\n# TYPE s summary\ns {count:1,sum:1,quantile:[0.5:1]}\n# EOF\n")
	p := textparse.NewOpenMetrics2Parser(body, labels.NewSymbolTable(), textparse.ParserOptions{EnableOpenMetrics2: true})
	var lines []string
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if entry == textparse.EntrySeries {
			series, _, _, _ := p.Histogram()
			lines = append(lines, string(series))
		}
	}
	want := []string{`a{x="1"}`, `a{x="1"}`, `a{x="1"}`, `a{x="1"}`, `s`, `s`, `s`}
	if !slices.Equal(lines, want) {
		t.Fatalf("Histogram's series while serving exploded samples = %q, want %q: the OpenMetrics 2.0 front end can no longer tell their line", lines, want)
	}
}

func TestOpenMetrics2Model(t *testing.T) {
	body := "# TYPE h histogram\nh{x=\"1\"} {count:2,sum:3,schema:0,zero_threshold:1e-4,zero_count:0,positive_spans:[0:1],positive_buckets:[2],bucket:[1:1,+Inf:2]} st@1600000000.5\n# TYPE c_total counter\nc_total 5 st@1600000001\n# EOF\n"
	e := Check(Input{Body: []byte(body), ContentType: ContentTypeOpenMetrics2}, Options{}).Exposition
	if e.ParseError != nil {
		t.Fatal(e.ParseError)
	}
	var got []string
	for _, s := range e.Samples {
		got = append(got, s.Series)
		if s.Line != 2 && s.Family.Name == "h" || s.Line != 4 && s.Family.Name == "c_total" {
			t.Errorf("%s is on line %d", s.Series, s.Line)
		}
	}
	want := []string{`h{x="1"}`, `h_count{x="1"}`, `h_sum{x="1"}`, `h_bucket{le="1.0",x="1"}`, `h_bucket{le="+Inf",x="1"}`, "c_total"}
	if !slices.Equal(got, want) {
		t.Fatalf("samples %q, want %q", got, want)
	}
	if h := e.Samples[0].Histogram(); h == nil || h.Count != 2 || e.Samples[0].Value != 2 || e.Samples[1].Histogram() != nil {
		t.Errorf("native histogram not kept beside the classic series: %v", h)
	}
	if st := e.Samples[0].StartTimestamp; st != 1600000000500 {
		t.Errorf("st@ of the histogram = %d, want 1600000000500", st)
	}
	if st := e.Samples[5].StartTimestamp; st != 1600000001000 {
		t.Errorf("st@ of the counter = %d, want 1600000001000", st)
	}
	if len(e.Families) != 2 || len(e.Family("h").Samples) != 5 {
		t.Errorf("families %d, h has %d samples: the exploded series must stay in their family", len(e.Families), len(e.Family("h").Samples))
	}
}

func TestOpenMetricsCreatedIsStartTimestamp(t *testing.T) {
	body := "# TYPE a counter\na_total{x=\"1\"} 1\na_created{x=\"1\"} 1600000000.25\na_total{x=\"2\"} 1\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\nh_created 1600000002\n# EOF\n"
	e := Check(Input{Body: []byte(body), ContentType: ContentTypeOpenMetrics}, Options{}).Exposition
	want := map[string]int64{`a_total{x="1"}`: 1600000000250, `a_created{x="1"}`: 1600000000250, `a_total{x="2"}`: 0,
		`h_bucket{le="+Inf"}`: 1600000002000, "h_count": 1600000002000, "h_sum": 1600000002000, "h_created": 1600000002000}
	for _, s := range e.Samples {
		if s.StartTimestamp != want[s.Series] {
			t.Errorf("%s: StartTimestamp %d, want %d", s.Series, s.StartTimestamp, want[s.Series])
		}
	}
}

func TestProtobufModel(t *testing.T) {
	created := timestamppb.New(timeAt(1_700_000_000))
	body := delimited(
		&dto.MetricFamily{Name: str("c_total"), Help: str("Help."), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
			{Label: labelPairs("path", `a"b`), Counter: &dto.Counter{Value: f64(3), CreatedTimestamp: created,
				Exemplar: &dto.Exemplar{Label: labelPairs("trace_id", "t1"), Value: f64(1)}}},
		}},
		&dto.MetricFamily{Name: str("empty"), Type: dto.MetricType_GAUGE.Enum()},
		&dto.MetricFamily{Name: str("my.gauge"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
			{Label: labelPairs("my.label", "x"), Gauge: &dto.Gauge{Value: f64(1)}, TimestampMs: i64(5)},
		}},
	)
	r := Check(Input{Body: body, ContentType: ContentTypeProtobuf}, Options{})
	e := r.Exposition
	if e.ParseError != nil || e.Lines() != 0 {
		t.Fatalf("ParseError %v, %d lines", e.ParseError, e.Lines())
	}
	var got []string
	for _, s := range e.Samples {
		got = append(got, s.Series)
	}
	if want := []string{`c_total{path="a\"b"}`, `{"my.gauge","my.label"="x"}`}; !slices.Equal(got, want) {
		t.Errorf("series %q, want %q", got, want)
	}
	c := e.Family("c_total")
	if c.Message() != 1 || !c.HasHelp || c.Help != "Help." || e.Samples[0].StartTimestamp != 1_700_000_000_000 || len(e.Samples[0].Exemplars()) != 1 {
		t.Errorf("c_total: message %d, help %q, start %d, exemplars %v", c.Message(), c.Help, e.Samples[0].StartTimestamp, e.Samples[0].Exemplars())
	}
	// textparse skips the empty family, but it is a message all the same.
	if g := e.Family("my.gauge"); g == nil || g.Message() != 3 || g.HasHelp || *e.Samples[1].Timestamp != 5 {
		t.Errorf("my.gauge: %+v", g)
	}
	// The lint finding about my.gauge's missing HELP points at its message.
	for _, f := range r.Findings {
		if f.Family == "my.gauge" && f.MessageIndex != 3 {
			t.Errorf("finding about my.gauge points at message %d: %s", f.MessageIndex, f)
		}
	}
}

// TestProtobufFailingMessage checks that format.rejected names the message
// textparse failed on.
func TestProtobufFailingMessage(t *testing.T) {
	good := delimited(counterFamily("a_total", 1), counterFamily("b_total", 1))
	tests := []struct {
		name    string
		body    []byte
		message int
	}{
		{"bad label value in the third", append(bytes.Clone(good), delimited(&dto.MetricFamily{Name: str("c"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
			{Label: labelPairs("x", "\xff"), Gauge: &dto.Gauge{Value: f64(1)}}}})...), 3},
		{"cut in the second", good[:len(good)-3], 2},
		{"unknown type in the first", delimited(&dto.MetricFamily{Name: str("c"), Type: dto.MetricType(42).Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: f64(1)}}}}), 1},
	}
	for _, tt := range tests {
		r := Check(Input{Body: tt.body, ContentType: ContentTypeProtobuf}, Options{})
		got := r.Rule("format.rejected")
		if len(got) != 1 || got[0].MessageIndex != tt.message {
			t.Errorf("%s: format.rejected %v, want one at message %d", tt.name, got, tt.message)
		}
	}
}
