// Package contenttype holds the media types and Content-Types of the
// exposition protocols Prometheus 3 negotiates (SPEC.md §4.1), written out
// once: the reference emitter (package handler) serves them and the check
// engine (package conformance/check) parses by them. Both export their
// own names for them, defined from these.
//
//	w.Header().Set("Content-Type", contenttype.OpenMetrics)
package contenttype

// The media types of the exposition formats, and the message the protobuf
// format carries.
const (
	MediaText        = "text/plain"
	MediaOpenMetrics = "application/openmetrics-text"
	MediaProtobuf    = "application/vnd.google.protobuf"
	ProtobufMessage  = "io.prometheus.client.MetricFamily"
)

// The Content-Types of the protocols, as the reference emitter writes
// them: the media type, the version (for protobuf the message and its
// encoding) and, for the text formats, charset=utf-8. A response to a
// request naming an escaping scheme adds "; escaping=<scheme>" to the
// 1.0.0 and 2.0.0 formats (SPEC.md §4.4).
const (
	// Text is PrometheusText0.0.4, the fallback every target serves.
	Text = MediaText + "; version=0.0.4; charset=utf-8"
	// TextV1 is PrometheusText1.0.0: text with quoted UTF-8 names allowed.
	TextV1 = MediaText + "; version=1.0.0; charset=utf-8"
	// OpenMetricsV0 is OpenMetricsText0.0.1.
	OpenMetricsV0 = MediaOpenMetrics + "; version=0.0.1; charset=utf-8"
	// OpenMetrics is OpenMetricsText1.0.0.
	OpenMetrics = MediaOpenMetrics + "; version=1.0.0; charset=utf-8"
	// OpenMetricsV2 is OpenMetrics 2.0, a release candidate (SPEC.md §4.7).
	OpenMetricsV2 = MediaOpenMetrics + "; version=2.0.0; charset=utf-8"
	// Protobuf is PrometheusProto: length-delimited MetricFamily messages.
	Protobuf = MediaProtobuf + "; proto=" + ProtobufMessage + "; encoding=delimited"
)
