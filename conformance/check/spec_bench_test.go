package check

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// benchExposition writes n series in the given format: counter families of
// 100 series each with two labels, the shape of the deploy metrics, plus
// one histogram family of 10 buckets per 1000 series.
func benchExposition(format Format, n int) []byte {
	var b strings.Builder
	om := format == FormatOpenMetrics
	written := 0
	for f := 0; written < n; f++ {
		if f%10 == 9 {
			fmt.Fprintf(&b, "# HELP bench_latency_%d_seconds Latency.\n# TYPE bench_latency_%d_seconds histogram\n", f, f)
			// The canonical OpenMetrics rendering, which the text format
			// takes too.
			for i, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "+Inf"} {
				fmt.Fprintf(&b, "bench_latency_%d_seconds_bucket{target_type=\"T%03d\",le=%q} %d\n", f, f, le, i*10)
			}
			fmt.Fprintf(&b, "bench_latency_%d_seconds_sum{target_type=\"T%03d\"} 12.5\nbench_latency_%d_seconds_count{target_type=\"T%03d\"} 90\n", f, f, f, f)
			written += 12
			continue
		}
		family := fmt.Sprintf("bench_attempts_%d", f)
		if om {
			fmt.Fprintf(&b, "# HELP %s Attempts.\n# TYPE %s counter\n", family, family)
		} else {
			fmt.Fprintf(&b, "# HELP %s_total Attempts.\n# TYPE %s_total counter\n", family, family)
		}
		for i := 0; i < 100 && written < n; i++ {
			result := "success"
			if i%2 == 1 {
				result = "failure"
			}
			fmt.Fprintf(&b, "%s_total{target_type=\"Target%05d\",result=%q} %d\n", family, i/2, result, i*7)
			written++
		}
	}
	if om {
		b.WriteString("# EOF\n")
	}
	return []byte(b.String())
}

// BenchmarkCheckVsTextparse compares a check (no schema) with a bare
// textparse pass over the same input, in both formats, at three sizes:
//
//	go test -run=^$ -bench=CheckVsTextparse -benchmem ./conformance/check/
//
// "textparse" is Next alone; "textparse+labels" adds the labels of every
// sample, as Prometheus's first scrape of a target does; "parse" is the
// engine's Exposition build alone and "spec" the spec.* rules alone over
// an already built Exposition, so the cost of a check can be told apart.
func BenchmarkCheckVsTextparse(b *testing.B) {
	for _, format := range []Format{FormatText, FormatOpenMetrics} {
		for _, n := range []int{1000, 10000, 100000} {
			body := benchExposition(format, n)
			b.Run(fmt.Sprintf("%s/%dk", format, n/1000), func(b *testing.B) {
				b.Run("textparse", func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						textparsePass(b, body, format, false)
					}
				})
				// What Prometheus's scrape loop does on a first scrape: the
				// labels of every sample too.
				b.Run("textparse+labels", func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						textparsePass(b, body, format, true)
					}
				})
				b.Run("check", func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						if r := Check(Input{Body: body, ContentType: format.ContentType()}, Options{}); r.Count(Error) > 0 {
							b.Fatalf("%d errors on valid input:\n%s", r.Count(Error), r)
						}
					}
				})
				b.Run("parse", func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						parse(body, format, false)
					}
				})
				b.Run("spec", func(b *testing.B) {
					exp := parse(body, format, false)
					opts := Options{}
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						p := &pass{in: &Input{Body: body}, opts: &opts, exp: exp}
						checkSpec(p)
						if len(p.findings) > 0 {
							b.Fatalf("%d findings on valid input, the first: %v", len(p.findings), p.findings[0])
						}
					}
				})
			})
		}
	}
}

// textparsePass is the baseline every check is measured against: a bare
// textparse pass over body to its end, with the labels of every series
// when withLabels is set (what a scrape does).
func textparsePass(b *testing.B, body []byte, format Format, withLabels bool) {
	p, err := textparse.New(body, format.ContentType(), labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var lset labels.Labels
	for {
		entry, err := p.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
			return
		}
		if withLabels && entry == textparse.EntrySeries {
			p.Labels(&lset)
		}
	}
}
