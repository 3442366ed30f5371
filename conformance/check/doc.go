// Package check is the deploymetrics check engine: it parses a Prometheus
// exposition with Prometheus's own parser (model/textparse) and judges it.
//
// Every judgement is a Finding of a Rule. Rules have stable IDs grouped by
// what they protect (see DESIGN.md §3):
//
//	format.*     textparse rejects the exposition: the scrape would fail
//	spec.*       the text-format or OpenMetrics 1.0 spec forbids it, Prometheus tolerates it
//	lint.*       naming and metadata conventions
//	schema.*     expected families, labels, label values and types
//	order.*      sort order and grouping
//	invariant.*  cross-counter invariants of the deploy outcome model
//	scrape.*     across successive scrapes of one target
//	http.*       status, content type, negotiation, encoding, size
//
// A check from a plain go test takes three lines:
//
//	report := check.Check(check.Input{Body: body, ContentType: contentType}, check.NewOptions())
//	if report.Failed() {
//		t.Fatal(report)
//	}
//
// The engine is plain Go: it never imports Ginkgo, and it never panics on
// hostile input. Its memory is proportional to the input it is given; bounding
// what is read from the network is the caller's job (see package scrape).
// It copies the body once (the model's names, series and label values are
// views of that copy), so the caller's buffer is free for reuse as soon as
// Check returns.
package check
