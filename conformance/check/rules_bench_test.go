package check

import (
	"fmt"
	"testing"
)

// BenchmarkCheckStages splits a check with the deploy schema into its
// stages, on valid deploy expositions (deployBody, 8 series per target
// type) of growing size, beside the bare textparse pass a scrape makes:
//
//	go test -run=^$ -bench=CheckStages -benchmem ./conformance/check/
//
// "check-deploy" is a whole Check with NewOptions(); "parse" the
// Exposition build alone; the others run one rule group (or the three
// groups that read the schema) over an already built Exposition. Compare
// each stage with "textparse+labels" of the same run: the machine that
// runs it may be shared.
func BenchmarkCheckStages(b *testing.B) {
	for _, format := range []Format{FormatText, FormatOpenMetrics} {
		for _, n := range []int{1000, 10000, 100000} {
			targets := make([]string, n/8)
			for i := range targets {
				targets[i] = fmt.Sprintf("T%06d", i)
			}
			body := []byte(deployBody(format, DefaultNamespace, targets, 1))
			opts := NewOptions()
			stage := func(b *testing.B, name string, fn func()) {
				b.Run(name, func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					b.ReportAllocs()
					for b.Loop() {
						fn()
					}
				})
			}
			b.Run(fmt.Sprintf("%s/%dk", format, n/1000), func(b *testing.B) {
				stage(b, "textparse+labels", func() { textparsePass(b, body, format, true) })
				stage(b, "check-deploy", func() {
					if r := Check(Input{Body: body, ContentType: format.ContentType()}, opts); len(r.Findings) > 0 {
						b.Fatalf("%d findings on valid input:\n%s", len(r.Findings), r)
					}
				})
				stage(b, "parse", func() { parse(body, format, false) })
				exp := parse(body, format, false)
				run := func(name string, rules ...func(*pass)) {
					stage(b, name, func() {
						p := &pass{in: &Input{Body: body}, opts: &opts, exp: exp}
						for _, rule := range rules {
							rule(p)
						}
						if len(p.findings) > 0 {
							b.Fatalf("%d findings on valid input, the first: %v", len(p.findings), p.findings[0])
						}
					})
				}
				run("spec", checkSpec)
				run("lint", checkLint)
				run("schema+order+invariant", checkSchema, checkOrder, checkInvariants)
			})
		}
	}
}
