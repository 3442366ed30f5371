// Package check is the deploymetrics check engine: it parses a Prometheus
// exposition with Prometheus's own parser (model/textparse) and judges it,
// in every protocol Prometheus 3 scrapes (content_negotiation.md): the text
// format 0.0.4 and 1.0.0 (UTF-8 names), OpenMetrics 0.0.1 and 1.0.0,
// protobuf (native histograms), and the OpenMetrics 2.0 release candidate
// (experimental). Each format has a front end (frontend_*.go) that builds
// one model, the Exposition; the rules judge the model.
//
// Every judgement is a Finding of a Rule. Rules have stable IDs grouped by
// what they protect (SPEC.md §5.1; promcheck explain and docs/rules.md
// give each rule's section and source):
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
// # Style and correctness
//
// The lint.* rules are style: naming and metadata conventions, all
// warnings, which fail a check only under Options.Strict. Every other
// group is correctness. Options{Strict: true, Disabled: []string{"lint"}}
// (promcheck check --strict --disable lint) holds an exporter to
// correctness only; it passes every source of the real-world corpus
// (testdata/corpus) whose only findings are style.
//
// # Lint and promlint
//
// Ten lint rules are promlint's checks (client_golang's
// prometheus/testutil/promlint, run by promtool check metrics), each with
// promlint's trigger: lint.help, lint.counter-total, lint.base-units,
// lint.type-in-name, lint.colon-in-name, lint.name-snake-case,
// lint.label-snake-case, lint.unit-abbreviation, lint.reserved-suffix and
// lint.reserved-label. promlint's "metric not unique" is
// spec.duplicate-series, an error, since both formats forbid it. Three
// rules are extras promlint lacks: lint.empty-label-value,
// lint.label-named-label and lint.reserved-label-prefix. A differential
// test runs promtool on the corpus's text files and holds every problem it
// reports to a finding of the same family and rule, and every finding of
// those ten rules to a promtool problem, but for these deliberate
// differences:
//
//   - A family declared by HELP or TYPE lines with no samples is linted;
//     promtool's parser drops it (VictoriaMetrics declares its vmrange
//     histogram untyped with an empty HELP, its samples named _bucket,
//     _sum and _count form families of their own).
//   - OpenMetrics is linted too, by the names Prometheus stores (a
//     counter x is linted as x_total); promtool reads the text format only.
//   - A camelCase label, or le and quantile on the wrong type, is one
//     finding per family and label; promlint reports it once per sample.
//   - An empty HELP, which promtool's parser reads as none, is reported as
//     empty rather than missing; both are lint.help.
//   - The triggers are those of client_golang v1.25's promlint; Debian's
//     promtool 2.42 carries an older one, which agrees on the corpus.
//
// # Across scrapes
//
// Given Input.Previous, the scrape.* rules follow SPEC.md §3 for any
// exporter: a counter decrease is a reset (info) when the series' _created
// or start time, or process_start_time_seconds, moved forward, an error
// otherwise; within one process, a vanished counter-like series is a
// warning, an error for a series the schema lists, and the order of the
// schema's families and series is kept; a changed HELP is info, a changed
// TYPE or a UNIT changed to another an error.
//
// # Where rules come from
//
// Every Rule names the section of SPEC.md it enforces and the sentence it
// rests on (Rule.Spec, Rule.Source, Rule.Quote), and every rule has good
// and bad cases (RuleExamples) that the tests hold it to; promcheck
// explain shows both, and docs/rules.md is generated from them.
//
// The engine is plain Go: it never imports Ginkgo, and it never panics on
// hostile input. Its memory is proportional to the input it is given; bounding
// what is read from the network is the caller's job (see package scrape).
// It copies the body once (the model's names, series and label values are
// views of that copy), so the caller's buffer is free for reuse as soon as
// Check returns.
package check
