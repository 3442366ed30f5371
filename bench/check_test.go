package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/handler"
)

// seriesPerTargetType is how many samples one target type adds to the deploy
// families: two attempts, three failure counters, two rollbacks, one skip.
const seriesPerTargetType = 8

// checkSizes are the exposition sizes checked, in series.
var checkSizes = []struct {
	name   string
	series int
}{{"1k", 1_000}, {"10k", 10_000}, {"100k", 100_000}}

// checkFormats are the formats the engine is benchmarked in: the reference
// renderer's text and OpenMetrics, and the same exposition in text 1.0.0
// with every name quoted (the UTF-8 syntax Prometheus 3 may be answered
// in) and in protobuf (what Prometheus 3 asks for first when it scrapes
// native histograms).
var checkFormats = []string{"text", "openmetrics", "text-1.0.0", "protobuf"}

// checkInput renders an exposition of exactly series samples (a multiple of
// seriesPerTargetType) in a format of checkFormats, with the content type
// it is served with.
func checkInput(series int, format string) (body []byte, contentType string) {
	snaps := synthSnapshots(series / seriesPerTargetType)
	text := handler.AppendText(nil, ns, snaps)
	switch format {
	case "openmetrics":
		return handler.AppendOpenMetrics(nil, ns, snaps), handler.ContentTypeOpenMetrics
	case "text-1.0.0":
		return quoteNames(text), check.PrometheusText1_0_0.ContentType(check.EscapingAllowUTF8)
	case "protobuf":
		return textToProtobuf(text), check.ContentTypeProtobuf
	}
	return text, handler.ContentTypeText
}

// quoteNames rewrites a text exposition of the reference renderer in the
// quoted-name syntax of text 1.0.0: # HELP "name" ..., and
// {"name","label"="value",...} for every sample.
func quoteNames(text []byte) []byte {
	out := make([]byte, 0, len(text)+len(text)/4)
	for line := range bytes.Lines(text) {
		if rest, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			keyword, rest, _ := bytes.Cut(rest, []byte(" "))
			name, rest, _ := bytes.Cut(rest, []byte(" "))
			out = fmt.Appendf(out, "# %s %q %s", keyword, name, rest)
			continue
		}
		name, rest, _ := bytes.Cut(line, []byte("{"))
		out = fmt.Appendf(out, "{%q", name)
		// Labels: key="value" pairs, values escaped; quote each key.
		for len(rest) > 0 && rest[0] != '}' {
			key, after, _ := bytes.Cut(rest, []byte("="))
			out = fmt.Appendf(out, ",%q=", key)
			end := 1
			for end < len(after) && after[end] != '"' {
				if after[end] == '\\' {
					end++
				}
				end++
			}
			out = append(out, after[:end+1]...)
			rest = bytes.TrimPrefix(after[end+1:], []byte(","))
		}
		out = append(out, rest...)
	}
	return out
}

// textToProtobuf encodes a text exposition as protobuf, its families in
// the order the text has them.
func textToProtobuf(text []byte) []byte {
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		panic(err)
	}
	var order []string
	for line := range bytes.Lines(text) {
		if rest, ok := bytes.CutPrefix(line, []byte("# TYPE ")); ok {
			name, _, _ := bytes.Cut(rest, []byte(" "))
			order = append(order, string(name))
		}
	}
	var out bytes.Buffer
	for _, name := range order {
		if _, err := protodelim.MarshalTo(&out, families[name]); err != nil {
			panic(err)
		}
	}
	return out.Bytes()
}

// parseSeries is the bare textparse pass a Prometheus scrape makes over a
// body: every entry, and the labels of every series. It returns the number of
// series.
func parseSeries(body []byte, contentType string) (int, error) {
	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		return 0, err
	}
	var lbls labels.Labels
	n := 0
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if entry == textparse.EntrySeries {
			p.Series()
			p.Labels(&lbls)
			n++
		}
	}
}

// BenchmarkCheck compares the check engine, without a schema and with the
// deploy schema, to the bare textparse pass it is built on, on valid deploy
// expositions of growing size. ns/series shows whether the cost grows
// linearly.
func BenchmarkCheck(b *testing.B) {
	for _, size := range checkSizes {
		b.Run("series="+size.name, func(b *testing.B) {
			for _, format := range checkFormats {
				b.Run("format="+format, func(b *testing.B) {
					body, ct := checkInput(size.series, format)
					b.Run("impl=textparse", func(b *testing.B) {
						benchSeries(b, size.series, func() int {
							n, err := parseSeries(body, ct)
							if err != nil {
								b.Fatal(err)
							}
							return n
						})
					})
					b.Run("impl=check-none", func(b *testing.B) {
						benchSeries(b, size.series, func() int {
							return len(check.Check(check.Input{Body: body, ContentType: ct}, check.Options{}).Exposition.Samples)
						})
					})
					b.Run("impl=check-deploy", func(b *testing.B) {
						opts := check.NewOptions()
						benchSeries(b, size.series, func() int {
							return len(check.Check(check.Input{Body: body, ContentType: ct}, opts).Exposition.Samples)
						})
					})
				})
			}
		})
	}
}

// benchSeries runs pass, which returns how many series it saw, and reports
// the time per series beside the time per pass.
func benchSeries(b *testing.B, series int, pass func() int) {
	b.ReportAllocs()
	cpu := startCPU()
	n := 0
	for b.Loop() {
		n = pass()
	}
	cpu.report(b)
	if n != series {
		b.Fatalf("saw %d series, want %d", n, series)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
}
