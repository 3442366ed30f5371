// Package handler is the reference /metrics/prometheus handler: it serves the
// six deploy families of a counters.DeployCounters (DESIGN §1) in the
// Prometheus text format 0.0.4 or OpenMetrics 1.0.0, optionally gzipped.
//
//	dc := counters.NewDeployCounters()
//	h := handler.NewMetricsHandler() // namespace "certctl"
//	h.SetDeployCounters(dc)
//	http.Handle("/metrics/prometheus", h)
//
// The output is what a strict checker expects: each family is one HELP line,
// one TYPE line and its samples, in the schema's order; samples are sorted by
// target_type, with result and outcome in canonical order; values are
// integers; label values escape exactly `\`, `"` and line feed, and never
// contain invalid UTF-8. The renderers are pure functions, AppendText and
// AppendOpenMetrics, so that tests, fuzz targets and benchmarks can call them
// without HTTP.
//
// Rendering appends into reused buffers (a handler keeps up to four idle
// sets, shared by all goroutines), so a scrape allocates nothing in steady
// state, compressed or not. The response is fully rendered (and compressed)
// before it is written, which lets it carry a Content-Length; the cost is
// one buffer of the body's size per concurrent scrape.
package handler
