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

// NegotiateText returns the Content-Type a response to these Accept header
// values (as http.Header.Values returns them) is served with when only the
// text protocols are offered (text 0.0.4 and 1.0.0, OpenMetrics 0.0.1 and
// 1.0.0; neither protobuf nor OpenMetrics 2.0), by the rules MetricsHandler
// negotiates with, and whether that protocol is OpenMetrics (its body is
// written as OpenMetrics 1.0, which 0.0.1 readers also take). The
// Content-Type names the escaping scheme where the protocol requires one.
// It allocates nothing.
//
//	ct, openMetrics := handler.NegotiateText(r.Header.Values("Accept"))
func NegotiateText(accept []string) (contentType string, openMetrics bool) {
	c := negotiateAmong(accept, textProtocols)
	return c.contentType()[0], protocols[c.proto].body == bodyOpenMetrics
}
