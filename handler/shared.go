package handler

// The two functions below export the handler's label escaping and content
// negotiation for the other exposers of this module (promcheck exporter's
// /probe and /metrics), so that every exposition the project writes
// escapes and negotiates one way. They add nothing to the handler itself.

// AppendLabelValue appends s escaped as a label value of the text format
// 0.0.4 or OpenMetrics 1.0 (without the surrounding quotes): `\`, `"` and
// line feed become `\\`, `\"` and `\n`, nothing else is escaped, and each
// run of invalid UTF-8 becomes one U+FFFD, because Prometheus fails the
// whole scrape on invalid UTF-8. It allocates only to grow dst.
//
//	dst = append(dst, `rule="`...)
//	dst = handler.AppendLabelValue(dst, id)
//	dst = append(dst, '"')
func AppendLabelValue(dst []byte, s string) []byte { return appendLabelValue(dst, s) }

// WantsOpenMetrics reports whether the Accept header values (as
// http.Header.Values returns them) prefer OpenMetrics 1.0.0 over the text
// format 0.0.4, by the rules MetricsHandler negotiates with: the higher q
// wins, then the more specific media range, then the one listed first; the
// text format without an Accept header or when nothing acceptable is
// offered.
func WantsOpenMetrics(accept []string) bool { return wantsOpenMetrics(accept) }
