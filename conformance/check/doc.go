// Package check is the deploymetrics check engine: it parses a Prometheus
// exposition with Prometheus's own parser (model/textparse) and judges it,
// in every protocol Prometheus 3 scrapes (content_negotiation.md): the text
// format 0.0.4 and 1.0.0 (UTF-8 names), OpenMetrics 0.0.1 and 1.0.0,
// protobuf (native histograms), and the OpenMetrics 2.0 release candidate
// (experimental). Each format has a front end (frontend_*.go) that builds
// one model, the Exposition; the rules judge the model.
//
// Every judgement is a Finding of a Rule. Rules have stable IDs grouped by
// what they protect (see DESIGN.md §3):
//
//	format.*     textparse rejects the exposition: the scrape would fail
//	spec.*       the format's spec forbids it, Prometheus tolerates it
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
// The Content-Type picks the parser, as it does for textparse, and says the
// protocol and escaping scheme the body is judged by; Input.Format forces a
// format (a file with no Content-Type is sniffed). A protobuf body has no
// lines: its findings name the message (Finding.MessageIndex).
//
//	report := check.Check(check.Input{Body: body, ContentType: check.ContentTypeProtobuf}, check.Options{})
//
// A command-line front end needs: ParseFormat (a --format short name),
// ParseContentType (to validate a --content-type value, then passed as
// Input.ContentType), ParseAcceptList (a --accept preset or list of
// protocol names, giving the Accept header to send; AcceptPreset and the
// AcceptPrometheus* constants are the presets), Exposition.Protocol and
// Exposition.Format (what a scrape was served as, for reports), and
// HTTPFacts.ServedProtocols (the protocols the target served in the run's
// other scrapes, so that http.negotiation-preference only warns a target
// that can serve what was preferred).
//
// The engine is plain Go: it never imports Ginkgo, and it never panics on
// hostile input. Its memory is proportional to the input it is given; bounding
// what is read from the network is the caller's job (see package scrape).
// It copies the body once (the model's names, series and label values are
// views of that copy), so the caller's buffer is free for reuse as soon as
// Check returns.
package check
