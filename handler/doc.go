// Package handler is the reference /metrics/prometheus handler: it serves the
// six deploy families of a counters.DeployCounters (SPEC.md §1.2) in every
// protocol of Prometheus 3's content negotiation (SPEC.md §4): the text
// format 0.0.4 and 1.0.0, OpenMetrics 0.0.1 and 1.0.0, and protobuf
// (length-delimited MetricFamily messages); OpenMetrics 2.0 too, if enabled
// with WithOpenMetrics2. Responses are gzipped when the scraper allows it.
//
//	dc := counters.NewDeployCounters()
//	h := handler.NewMetricsHandler() // namespace "certctl"
//	h.SetDeployCounters(dc)
//	http.Handle("/metrics/prometheus", h)
//
// # Negotiation
//
// The protocol is chosen as content_negotiation.md says: the supported
// protocol with the highest q in the Accept header, q=0 meaning not
// acceptable, and the text format 0.0.4 as the last resort (also without an
// Accept header, and for "*/*"). The Content-Type names the version, and
// for the 1.0.0 and 2.0.0 text formats the escaping scheme the Accept header
// asked for (underscores if it named none): the deploy names are legacy
// names, which every scheme leaves as they are. Accept-Encoding's q-values
// are honoured too ("gzip;q=0" means no gzip). Negotiate tells what a
// request would get without serving it.
//
// # Output
//
// The output is what a strict checker expects: each family is one HELP
// line, one TYPE line and its samples (one MetricFamily in protobuf), in the
// schema's order; samples are sorted by target_type, with result and
// outcome in canonical order; values are integers; label values escape
// exactly `\`, `"` and line feed, and never contain invalid UTF-8. The
// renderers are pure functions, AppendText, AppendOpenMetrics,
// AppendOpenMetrics2 and AppendProtobuf, so that tests, fuzz targets and
// benchmarks can call them without HTTP.
//
// Rendering appends into reused buffers (a handler keeps up to four idle
// sets, shared by all goroutines), so a scrape allocates nothing in steady
// state, whatever the protocol, compressed or not. The response is fully
// rendered (and compressed) before it is written, which lets it carry a
// Content-Length; the cost is one buffer of the body's size per concurrent
// scrape.
package handler
