package bench

import (
	"errors"
	"io"
	"testing"

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

// checkInput renders an exposition of exactly series samples (a multiple of
// seriesPerTargetType) with the reference renderer, in the text format or
// OpenMetrics, with the content type it is served with.
func checkInput(series int, openMetrics bool) (body []byte, contentType string) {
	snaps := synthSnapshots(series / seriesPerTargetType)
	if openMetrics {
		return handler.AppendOpenMetrics(nil, ns, snaps), handler.ContentTypeOpenMetrics
	}
	return handler.AppendText(nil, ns, snaps), handler.ContentTypeText
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
			for _, f := range formats {
				b.Run("format="+f.name, func(b *testing.B) {
					body, ct := checkInput(size.series, f.name == "openmetrics")
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
